"""Workspace-wide pytest setup.

pytest's importlib mode names ``shared/tests/test_x.py`` ``shared.tests.test_x`` and, if ``shared`` is
not imported yet, registers the ``shared/`` folder itself as a namespace package under that name,
hiding the installed ``shared`` package. Importing the real package first prevents that.

The root pyproject runs the tests on ``-n auto`` pytest-xdist workers (one per core), a file whole on one
worker; the hooks below keep that from slowing a run down.
"""

import os
from pathlib import Path

import pytest

import shared  # noqa: F401  (imported for its side effect on sys.modules)
from shared.testing import gpu  # noqa: F401  (the GPU checks' device fixture, for every chapter's tests)


def pytest_xdist_auto_num_workers(config):
    """No workers for a run of one file or of tests in one file (``pytest path::test``): ``--dist loadfile``
    keeps a file on one worker anyway, so they would only add their start-up. ``-n N`` on the command line,
    or PYTEST_XDIST_AUTO_NUM_WORKERS, decides instead."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    files = {arg.split("::")[0] for arg in config.args}
    if len(files) == 1 and Path(config.invocation_params.dir, *files).is_file():
        return 0
    return None


def pytest_configure(config):
    """On an xdist worker, torch gets its share of the cores: the workers keep every core busy, and torch's
    threads spin-wait on a busy core (a tiny model's training runs several times slower on 2 threads than
    on 1 when another worker shares the 2 cores). Tests that pin their own thread count still do."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0)
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu``-marked tests when no CUDA device is visible (and no dry-run device is named:
    ``shared.testing.gpu_checks_device``)."""
    from shared.testing import gpu_skip_reason

    reason = gpu_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
