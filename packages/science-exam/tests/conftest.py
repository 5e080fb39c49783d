"""Fixtures shared by the science-exam tests."""

import pytest

from science_exam.sample.synth import make_sample
from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A small generated sample (well under a second): 300 entities, 60 train, 30 test and 60 extra
    questions; the corpus has about 550 articles."""
    return make_sample(
        tmp_path_factory.mktemp("science-exam") / "sample", n_entities=300, n_train=60, n_test=30, n_extra=60,
        seed=0,
    )  # fmt: skip
