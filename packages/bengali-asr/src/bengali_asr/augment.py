"""Audio augmentation: additive noise at a set SNR, room reverberation, and speed perturbation.

The sample's test split is made out of domain with these three (noise, a room, a different speaking rate),
and training draws them at random (``Augmenter``) so the acoustic model has seen such audio before. Every
function is a pure function of its inputs and the ``numpy.random.Generator`` it is given: the same generator
state gives the same samples, so a seeded sample or training run is reproducible.

Scaling, so that nothing is clipped behind the caller's back:
- ``add_noise`` returns ``wave + noise`` with the noise scaled so that ``10 log10(P(wave) / P(noise)) ==
  snr_db`` exactly (mean-square power over the whole clip); the speech is not rescaled, so the sum may peak
  above 1.0. Nothing is clipped here: call ``fit_peak`` before writing a file.
- ``reverberate`` convolves with an impulse response of unit energy (a direct path plus a decaying tail), so
  the output has roughly the input's power; the tail beyond the input's length is cut off.
- ``change_speed`` resamples (a band-limited sinc, ``torchaudio.functional.resample``): amplitude unchanged.
All take and return float32 1-D arrays; the input is never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF

SAMPLE_RATE = 16000
NOISE_KINDS = ("white", "pink", "babble", "hum")
HUM_HZ = 50.0  # mains hum (Bangladesh and India: 50 Hz)


def as_wave(wave) -> np.ndarray:
    """``wave`` as a float32 1-D array (a copy when it had to be converted); ``ValueError`` otherwise."""
    w = np.asarray(wave, dtype=np.float32)
    if w.ndim != 1:
        raise ValueError(f"expected a mono 1-D wave, got shape {w.shape}")
    return w


def power(wave) -> float:
    """Mean-square power (float64)."""
    w = np.asarray(wave, dtype=np.float64)
    return float(np.mean(w * w)) if w.size else 0.0


def snr_db(clean, noisy) -> float:
    """``10 log10(P(clean) / P(noisy - clean))``: the SNR of a noisy copy against its clean signal."""
    clean, noisy = np.asarray(clean, dtype=np.float64), np.asarray(noisy, dtype=np.float64)
    if clean.shape != noisy.shape:
        raise ValueError(f"snr_db: clean has {clean.size} samples but noisy {noisy.size}")
    return float(10 * np.log10(power(clean) / max(power(noisy - clean), 1e-20)))


def fit_peak(wave, peak: float = 0.99) -> np.ndarray:
    """Scale down (never up) so that ``max |wave| <= peak``: what to call before saving a noisy mix."""
    w = as_wave(wave)
    m = float(np.max(np.abs(w))) if w.size else 0.0
    return (w * np.float32(peak / m)).astype(np.float32) if m > peak else w.copy()


def noise(
    kind: str, n: int, rng: np.random.Generator, wave=None, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """``n`` samples of unscaled noise of one of ``NOISE_KINDS`` (float64, zero mean).

    white: Gaussian. pink: white shaped to a 1/f power spectrum in the frequency domain. babble: the sum of
    five circularly shifted copies of ``wave`` itself with random gains (a crowd of the same voice, the
    hardest noise for a recogniser since it is speech-like). hum: 50 Hz and its first seven harmonics with
    1/k amplitudes and random phases, plus a little white noise.
    """
    if kind == "white":
        return rng.standard_normal(n)
    if kind == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(n))
        f = np.fft.rfftfreq(n)
        spectrum[1:] /= np.sqrt(f[1:] / f[1])
        spectrum[0] = 0.0
        return np.fft.irfft(spectrum, n)
    if kind == "babble":
        if wave is None:
            raise ValueError("babble noise needs the wave it is made of")
        w = np.asarray(wave, dtype=np.float64)
        shifts = rng.integers(n // 8 + 1, max(n - n // 8, n // 8 + 2), size=5)
        gains = rng.uniform(0.5, 1.0, size=5)
        out = sum(g * np.roll(w, int(s)) for g, s in zip(gains, shifts, strict=True))
        return out - out.mean()
    if kind == "hum":
        t = np.arange(n) / sample_rate
        phases = rng.uniform(0, 2 * np.pi, size=8)
        out = sum(np.sin(2 * np.pi * HUM_HZ * k * t + phases[k - 1]) / k for k in range(1, 9))
        return out + 0.05 * rng.standard_normal(n)
    raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(NOISE_KINDS)}")


def add_noise(
    wave, snr_db: float, rng: np.random.Generator, kind: str = "white", sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """``wave + noise`` at exactly ``snr_db`` (whole-clip power; module docstring on scaling). A silent
    wave has no SNR to reach: it is returned unchanged."""
    w = as_wave(wave)
    n = noise(kind, w.size, rng, wave=w, sample_rate=sample_rate)
    p_signal, p_noise = power(w), power(n)
    if p_signal == 0.0 or p_noise == 0.0:
        return w.copy()
    scale = np.sqrt(p_signal / (p_noise * 10 ** (snr_db / 10)))
    return (w.astype(np.float64) + scale * n).astype(np.float32)


def impulse_response(rng: np.random.Generator, rt60: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A synthetic room: a direct path (1.0) followed, after 2 ms, by Gaussian noise under an exponential
    envelope that falls 60 dB in ``rt60`` seconds, the tail as energetic as the direct path (0 dB
    direct-to-reverberant ratio, a speaker a few metres away); scaled to unit energy, ``rt60`` s long."""
    length = max(int(rt60 * sample_rate), 2)
    t = np.arange(length) / sample_rate
    tail = rng.standard_normal(length) * np.exp(-np.log(1000.0) * t / rt60)
    tail[: int(0.002 * sample_rate) + 1] = 0.0
    tail /= np.sqrt(np.sum(tail**2)) or 1.0
    h = tail
    h[0] = 1.0
    return h / np.sqrt(np.sum(h**2))


def reverberate(
    wave, rng: np.random.Generator, rt60: float = 0.4, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """``wave`` convolved with ``impulse_response(rng, rt60)``, cut to the input's length (``rt60 <= 0``:
    an unchanged copy)."""
    w = as_wave(wave)
    if rt60 <= 0 or w.size == 0:
        return w.copy()
    h = impulse_response(rng, rt60, sample_rate)
    n = w.size + h.size - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(w.astype(np.float64), size) * np.fft.rfft(h, size), size)[: w.size]
    return out.astype(np.float32)


def change_speed(wave, factor: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Speed perturbation as in Kaldi/sox ``speed``: play the clip ``factor`` times faster, tempo and pitch
    together (``factor > 1``: shorter and higher), by resampling from ``factor * sample_rate`` to
    ``sample_rate``. The factor is rounded to 0.01 (so the resampler's rational ratio, and its kernel,
    stay small); the output has ``ceil(len / factor)`` samples."""
    if factor <= 0:
        raise ValueError(f"speed factor must be positive, got {factor}")
    w = as_wave(wave)
    step = 100
    orig = round(factor * step) * (sample_rate // step)
    if orig == sample_rate or w.size == 0:
        return w.copy()
    out = AF.resample(torch.from_numpy(w.copy()), orig_freq=orig, new_freq=sample_rate)
    return out.numpy().astype(np.float32)


@dataclass
class Augmenter:
    """Training-time augmentation: with probability ``p_speed`` a speed change drawn from ``speeds``, then
    with ``p_reverb`` a room with RT60 drawn from ``rt60``, then with ``p_noise`` one of ``kinds`` at an SNR
    drawn from ``snr_db`` (reverberation before noise: the room colours the voice, the noise is added at the
    microphone). Deterministic given the generator; all probabilities 0 is the identity."""

    p_speed: float = 0.5
    speeds: tuple[float, float] = (0.9, 1.1)
    p_noise: float = 0.5
    snr_db: tuple[float, float] = (5, 25)
    p_reverb: float = 0.2
    rt60: tuple[float, float] = (0.2, 0.6)
    kinds: tuple[str, ...] = ("white", "pink", "babble", "hum")
    sample_rate: int = SAMPLE_RATE

    def __call__(self, wave, rng: np.random.Generator) -> np.ndarray:
        w = as_wave(wave).copy()
        if rng.random() < self.p_speed:
            w = change_speed(w, float(rng.uniform(*self.speeds)), self.sample_rate)
        if rng.random() < self.p_reverb:
            w = reverberate(w, rng, float(rng.uniform(*self.rt60)), self.sample_rate)
        if rng.random() < self.p_noise:
            kind = self.kinds[int(rng.integers(len(self.kinds)))]
            w = add_noise(w, float(rng.uniform(*self.snr_db)), rng, kind, self.sample_rate)
        return w
