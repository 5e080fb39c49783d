"""A small generated sample shared by the pii tests (made once per session)."""

import pytest

from pii.synth import make_sample


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("pii") / "sample", n_train=400, n_test=40, seed=0)
