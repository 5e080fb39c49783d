"""Fixtures shared by the eedi tests."""

import pytest
import torch


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A small generated sample: 120 misconceptions, 60 train and 30 test questions (well under a second)."""
    from eedi.sample.synth import make_sample

    return make_sample(tmp_path_factory.mktemp("eedi") / "sample", n_misconceptions=120, n_train=60, n_test=30, seed=0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
