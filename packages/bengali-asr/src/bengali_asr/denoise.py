"""Denoising before recognition, and the rule that keeps the original audio when denoising hurts.

The competition's test audio is out of domain (street noise, rooms, phone microphones); the winners ran a
source separator (demucs) over it to pull the voice out before recognition. demucs is not in this
workspace's lock (``demucs_available()``), so the fallback is spectral gating: estimate the noise's power
per frequency from the quietest frames of the clip (where nobody speaks), and attenuate each time-frequency
cell by a Wiener gain from its estimated SNR. It helps when the noise is stationary and there are pauses to
learn it from (espeak-ng Bengali speech at 5 dB SNR: +7.0 dB for white noise, +6.7 hum, +2.4 pink); it
barely touches babble (+1.2 dB: the noise is speech too), and it hurts speech that had no noise and no
pauses, where the quietest frames are soft speech taken for noise (the same speech with its pauses cut out
comes back at 29.5 dB SNR against itself; a 40 dB noisy copy comes back at 29.4). Hence ``choose``: run the
acoustic model on both versions and keep the denoised one only where the model is more confident on it.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import torch
import torch.nn.functional as F

from bengali_asr.augment import as_wave

SAMPLE_RATE = 16000


def demucs_available() -> bool:
    """Whether ``demucs`` can be imported (False in this workspace: it is not in the lock)."""
    return importlib.util.find_spec("demucs") is not None


def _quietest(energy: torch.Tensor, quantile: float) -> torch.Tensor:
    """Indices of the ``quantile`` share of lowest values (at least one)."""
    k = max(1, math.ceil(quantile * energy.numel()))
    return torch.argsort(energy)[:k]


def spectral_gate(
    wave,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = 512,
    hop: int = 128,
    noise_quantile: float = 0.1,
    strength: float = 1.0,
    floor_db: float = -20.0,
    smooth: tuple[int, int] = (3, 5),
) -> np.ndarray:
    """The clip with stationary noise attenuated (float32, same length).

    1. STFT (Hann window ``n_fft``, hop ``hop``) and power ``P[f, t]``.
    2. Noise power per frequency ``N[f]``: the mean of ``P[f, t]`` over the ``noise_quantile`` share of
       frames with the least total energy.
    3. Wiener gain ``G = xi / (1 + xi)`` with ``xi = max(P_s / (strength * N) - 1, 0)``, where ``P_s`` is
       ``P`` averaged over ``smooth`` = (frequency bins, frames) neighbours (the raw cell-by-cell gain
       leaves "musical noise": isolated noise peaks that survive as chirps). ``strength > 1`` subtracts more.
    4. ``G`` floored at ``floor_db`` (a residue of noise sounds more natural to a recogniser than holes) and
       smoothed over the same neighbourhood, then the inverse STFT of ``G * X``.
    Clips shorter than ``n_fft`` are returned unchanged; so is a clip whose quiet frames are digital silence
    (no noise to remove). ``sample_rate`` is unused by the gate itself (kept for the shared signature).
    """
    del sample_rate
    w = as_wave(wave)
    if w.size < n_fft:
        return w.copy()
    x = torch.from_numpy(w.astype(np.float64))
    window = torch.hann_window(n_fft, dtype=torch.float64)
    spec = torch.stft(x, n_fft, hop, window=window, center=True, return_complex=True)
    p = spec.abs() ** 2  # [F, T]
    noise = p[:, _quietest(p.sum(0), noise_quantile)].mean(1, keepdim=True)
    if float(noise.sum()) <= 1e-12 * float(p.sum(0).max()):
        return w.copy()
    kernel = (smooth[0] | 1, smooth[1] | 1)  # odd, so the smoothing is centred
    pad = (kernel[1] // 2, kernel[1] // 2, kernel[0] // 2, kernel[0] // 2)

    def blur(a: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(F.pad(a[None, None], pad, mode="replicate"), kernel, stride=1)[0, 0]

    xi = (blur(p) / (strength * noise + 1e-20) - 1).clamp(min=0)
    gain = blur((xi / (1 + xi)).clamp(min=10 ** (floor_db / 20)))
    out = torch.istft(spec * gain, n_fft, hop, window=window, center=True, length=w.size)
    return out.numpy().astype(np.float32)


def estimate_snr(
    wave, sample_rate: int = SAMPLE_RATE, frame_seconds: float = 0.025, quantile: float = 0.1
) -> float:
    """A blind SNR in dB: the noise power is the mean energy of the quietest ``quantile`` of 25 ms frames
    (pauses), the speech power the whole clip's mean minus it, ``10 log10(speech / noise)`` — the same
    whole-clip definition as ``augment.add_noise`` when the pauses hold only noise. Capped to [-20, 100]."""
    w = as_wave(wave).astype(np.float64)
    size = max(1, int(frame_seconds * sample_rate))
    n = w.size // size
    if n == 0:
        raise ValueError(f"estimate_snr: a clip of {w.size} samples is shorter than one {size}-sample frame")
    energy = np.mean(w[: n * size].reshape(n, size) ** 2, axis=1)
    k = max(1, math.ceil(quantile * n))
    noise = float(np.mean(np.sort(energy)[:k]))
    speech = max(float(np.mean(energy)) - noise, 0.0)
    if speech <= 0.0:
        return -20.0
    if noise <= 0.0:
        return 100.0
    return float(np.clip(10 * np.log10(speech / noise), -20.0, 100.0))


def confidence(log_probs, length: int | None = None) -> float:
    """The acoustic model's confidence on one clip: the mean over its first ``length`` frames of the
    highest log-probability per frame (``log_probs`` [T, V], log-softmax outputs; higher is better)."""
    lp = torch.as_tensor(log_probs)
    if lp.ndim != 2:
        raise ValueError(f"confidence: expected log-probs of shape [T, V], got {tuple(lp.shape)}")
    t = lp.shape[0] if length is None else int(length)
    if not 1 <= t <= lp.shape[0]:
        raise ValueError(f"confidence: length {t} outside 1..{lp.shape[0]}")
    return float(lp[:t].max(dim=1).values.double().mean())


def choose(original_scores, denoised_scores, margin: float = 0.0) -> np.ndarray:
    """Per clip, True where the denoised version is kept: its confidence beats the original's by more than
    ``margin``. Ties keep the original (denoising must earn its place)."""
    a = np.asarray(original_scores, dtype=np.float64)
    b = np.asarray(denoised_scores, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"choose: original_scores {a.shape} and denoised_scores {b.shape} must be equal 1-D")
    return b > a + margin
