"""Fixtures shared by the aimo2 tests."""

import pytest
import torch

from aimo2.synth import make_sample


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """One reference problem and four training problems: enough for the training tests."""
    return make_sample(tmp_path_factory.mktemp("aimo2") / "sample", n_reference=1, n_test=1, n_train=4)
