"""Fixtures shared by the pii tests."""

import pytest
import torch

from pii.synth import make_sample


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("pii") / "sample", n_train=400, n_test=40, seed=0)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
