"""Fixtures shared by the pii tests."""

import pytest

from pii.synth import make_sample
from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("pii") / "sample", n_train=400, n_test=40, seed=0)
