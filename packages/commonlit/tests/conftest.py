"""Fixtures shared by the commonlit tests."""

import pytest

from commonlit.sample.synth import make_sample
from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A small generated sample: 8 training prompts x 60 summaries, 2 unseen test prompts x 20."""
    return make_sample(
        tmp_path_factory.mktemp("commonlit") / "sample", per_prompt=60, per_test_prompt=20, seed=0
    )
