"""Fixtures shared by the aimo2 tests."""

import pytest

from aimo2.synth import make_sample
from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """One reference problem and four training problems: enough for the training tests."""
    return make_sample(tmp_path_factory.mktemp("aimo2") / "sample", n_reference=1, n_test=1, n_train=4)
