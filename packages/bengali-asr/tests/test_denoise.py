"""Denoising: the spectral gate raises the SNR of noisy signals that have pauses, leaves digital silence
and clean clips with pauses alone, but costs SNR on a clean signal without pauses (why ``choose`` exists);
the blind SNR estimate ranks noisier copies lower; confidence and choice on hand-made log-probs."""

import importlib.util
import math

import numpy as np
import pytest
import torch

from bengali_asr import denoise
from bengali_asr.augment import add_noise, snr_db
from bengali_asr.denoise import choose, confidence, demucs_available, estimate_snr, spectral_gate

SR = 16000
T = np.arange(2 * SR) / SR
SPEAKING = (T > 0.5) & (T < 1.5)  # one second of signal inside two of noise


def burst() -> np.ndarray:
    return np.where(SPEAKING, 0.5 * np.sin(2 * np.pi * 440 * T), 0.0).astype(np.float32)


def chirp() -> np.ndarray:
    """200 Hz rising to 1000 Hz over the second."""
    return np.where(SPEAKING, 0.5 * np.sin(2 * np.pi * (200 * T + 400 * (T - 0.5) ** 2)), 0.0).astype(
        np.float32
    )


@pytest.mark.parametrize(("signal", "kind", "gain"), [
    (burst, "white", 7.0), (chirp, "white", 7.0), (chirp, "hum", 5.0), (chirp, "pink", 2.0),
])  # fmt: skip
def test_spectral_gate_raises_the_snr_of_noisy_signals(signal, kind, gain):
    clean = signal()
    noisy = add_noise(clean, 5.0, np.random.default_rng(0), kind)
    out = spectral_gate(noisy)
    assert out.dtype == np.float32 and out.shape == noisy.shape
    assert snr_db(clean, out) > snr_db(clean, noisy) + gain  # measured: 10.0, 9.9, 7.8, 3.7 dB


def test_spectral_gate_on_clean_signals():
    clean = chirp()
    np.testing.assert_array_equal(spectral_gate(clean), clean)  # pauses of digital silence: no noise to learn
    faint = add_noise(clean, 40.0, np.random.default_rng(0))  # a 40 dB noise floor: the gate only helps
    assert snr_db(clean, spectral_gate(faint)) > 40.0
    # no pauses: the quietest frames are soft speech, taken for noise and gated away (measured 24 dB)
    envelope = 0.05 + 0.95 * np.abs(np.sin(2 * np.pi * 3 * T))
    continuous = (0.3 * envelope * np.sin(2 * np.pi * 300 * T)).astype(np.float32)
    assert 10.0 < snr_db(continuous, spectral_gate(continuous)) < 35.0
    short = np.ones(100, np.float32)
    np.testing.assert_array_equal(spectral_gate(short), short)


def test_strength_subtracts_more():
    clean = chirp()
    noisy = add_noise(clean, 5.0, np.random.default_rng(0))
    residue = [np.sum(spectral_gate(noisy, strength=s)[~SPEAKING] ** 2) for s in (0.5, 1.0, 2.0)]
    assert residue[0] > residue[1] > residue[2]


@pytest.mark.parametrize("kind", ["white", "pink", "hum"])
def test_estimate_snr_ranks_noisier_copies_lower(kind):
    clean = chirp()
    estimates = [estimate_snr(add_noise(clean, s, np.random.default_rng(0), kind)) for s in (0.0, 10.0, 20.0)]
    assert estimates[0] < estimates[1] < estimates[2]
    if kind == "white":  # pauses of pure noise: the estimate is the whole-clip SNR
        np.testing.assert_allclose(estimates, [0.0, 10.0, 20.0], atol=1.5)
    assert estimate_snr(clean) == 100.0  # digital silence in the pauses
    with pytest.raises(ValueError, match="shorter than one 400-sample frame"):
        estimate_snr(np.ones(10, np.float32))


def test_confidence_is_the_mean_of_the_frame_maxima():
    probs = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    log_probs = probs.log()
    assert confidence(log_probs) == pytest.approx((math.log(0.5) + math.log(0.8) + math.log(0.6)) / 3)
    assert confidence(log_probs, length=2) == pytest.approx((math.log(0.5) + math.log(0.8)) / 2)
    assert confidence(log_probs.numpy(), 1) == pytest.approx(math.log(0.5))
    with pytest.raises(ValueError, match=r"length 4 outside 1\.\.3"):
        confidence(log_probs, 4)
    with pytest.raises(ValueError, match=r"shape \[T, V\], got \(1, 3, 3\)"):
        confidence(log_probs[None])


def test_choose_keeps_the_denoised_clip_only_when_it_scores_better():
    flat = torch.full((4, 5), 0.2).log()  # the model hesitates on the original
    peaky = torch.log_softmax(torch.eye(5)[:4] * 6, dim=1)  # and is sure on the denoised clip
    original, denoised = [confidence(flat), confidence(peaky)], [confidence(peaky), confidence(flat)]
    np.testing.assert_array_equal(choose(original, denoised), [True, False])
    np.testing.assert_array_equal(choose([-0.5, -0.3, -0.2], [-0.4, -0.3, -0.5]), [True, False, False])
    np.testing.assert_array_equal(choose([-0.5], [-0.4], margin=0.2), [False])  # must win by the margin
    with pytest.raises(ValueError, match="must be equal 1-D"):
        choose([0.1, 0.2], [0.1])


def test_demucs_available_reports_importability(monkeypatch):
    assert demucs_available() == (importlib.util.find_spec("demucs") is not None)
    monkeypatch.setattr(
        denoise.importlib.util, "find_spec", lambda name: object() if name == "demucs" else None
    )
    assert demucs_available()
