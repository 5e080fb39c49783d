"""Fixtures shared by the bengali-asr tests."""

import numpy as np
import pytest

from bengali_asr.sample.synth import make_sample
from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """A small generated sample (30 train, 10 valid, 8 test clips) for the end-to-end tests."""
    folder = tmp_path_factory.mktemp("bengali-asr") / "sample"
    make_sample(folder, seed=1, n_train=30, n_valid=10, n_test=8, n_examples=1, n_extra=60)
    return folder


def tone_clips(n: int) -> tuple[list[np.ndarray], list[str]]:
    """Sentences of the words "ক" and "খ", each word a 0.3 s tone (440 or 880 Hz) followed by silence."""
    rng = np.random.default_rng(0)
    t = np.arange(4800) / 16000
    tone = {"ক": np.sin(2 * np.pi * 440 * t), "খ": np.sin(2 * np.pi * 880 * t)}
    waves, sentences = [], []
    for _ in range(n):
        words = list(rng.choice(["ক", "খ"], size=3))
        waves.append(
            np.concatenate([np.concatenate([tone[w], np.zeros(1600)]) for w in words]).astype(np.float32)
        )
        sentences.append(" ".join(words))
    return waves, sentences


@pytest.fixture(scope="session")
def planted():
    """:func:`tone_clips`, for tests (a test module cannot import conftest; the distributed worker can)."""
    return tone_clips
