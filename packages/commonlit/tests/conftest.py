"""Fixtures shared by the commonlit tests."""

import pytest
import torch

from commonlit.sample.synth import make_sample


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A small generated sample: 8 training prompts x 60 summaries, 2 unseen test prompts x 20."""
    return make_sample(
        tmp_path_factory.mktemp("commonlit") / "sample", per_prompt=60, per_test_prompt=20, seed=0
    )


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
