"""Workspace-wide pytest setup.

pytest's importlib mode names ``shared/tests/test_x.py`` ``shared.tests.test_x`` and, if ``shared`` is
not imported yet, registers the ``shared/`` folder itself as a namespace package under that name,
hiding the installed ``shared`` package. Importing the real package first prevents that.
"""

import pytest

import shared  # noqa: F401  (imported for its side effect on sys.modules)


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu``-marked tests when no CUDA device is visible."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
