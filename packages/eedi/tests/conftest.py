"""Fixtures shared by the eedi tests."""

import pytest

from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A small generated sample: 120 misconceptions, 60 train and 30 test questions (well under a second)."""
    from eedi.sample.synth import make_sample

    return make_sample(
        tmp_path_factory.mktemp("eedi") / "sample", n_misconceptions=120, n_train=60, n_test=30, seed=0
    )
