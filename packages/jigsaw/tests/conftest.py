"""A small generated sample shared by the jigsaw tests (made once per session)."""

import pytest

from jigsaw.synth import make_sample


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("jigsaw") / "sample", n_train=3000, n_test=600, seed=0)
