"""Fixtures shared by the science-exam tests."""

import pytest
import torch

from science_exam.sample.synth import make_sample


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A small generated sample (well under a second): 300 entities, 60 train, 30 test and 60 extra
    questions; the corpus has about 550 articles."""
    return make_sample(
        tmp_path_factory.mktemp("science-exam") / "sample", n_entities=300, n_train=60, n_test=30, n_extra=60,
        seed=0,
    )  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
