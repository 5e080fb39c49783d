"""Audio in and out: decode any clip to 16 kHz mono float32, write mono mp3, cut long clips into windows.

Decoding goes through ``torchaudio.load`` (TorchCodec over the system FFmpeg, the Debian ``ffmpeg``
package), a mixdown to mono and ``torchaudio.functional.resample`` to :data:`SAMPLE_RATE`: the competition's
mp3s are 32 kHz, the sample's 16 kHz, and every model here (wav2vec2, Whisper's feature extractor) wants
16 kHz. A clip that cannot be used stops with one :class:`AudioError` line naming the file (and the row of
the table that points at it, when the caller knows it): missing, 0 bytes, not decodable, or decoded to no
samples. Decoder chatter is cut to its first line.

Long clips are cut into overlapping windows (:func:`chunks`) because a CTC model's memory grows with the
clip and Whisper's encoder sees at most 30 s; the overlap lets a word cut at a window edge be heard whole
in the next window, and the stitching (Whisper: drop the repeated words) happens where the texts meet.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import torch
import torchaudio

SAMPLE_RATE = 16000
MP3_BIT_RATE = 32000  # bits per second: plenty for 16 kHz mono speech, ~4 kB per second of audio


_SOURCE_LOCATION = re.compile(r"^.*\.cpp:\d+,\s*")


class AudioError(ValueError):
    """A clip is missing, empty or unreadable; the one-line message names the file (and the row)."""


def _row(row: int | None) -> str:
    return f" (row {row})" if row is not None else ""


def load_audio(path: str | Path, row: int | None = None) -> np.ndarray:
    """The clip at ``path`` as float32 mono samples at 16 kHz (channels averaged, resampled when the file
    has another rate). ``row`` (the data row of the table that names this file, from 1) is added to the
    error message."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found{_row(row)}")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: audio file is empty (0 bytes){_row(row)}")
    try:
        wave, rate = torchaudio.load(str(path))
    except Exception as err:  # TorchCodec raises RuntimeError/ValueError with FFmpeg's multi-line text
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        if "No audio frames were decoded" in first:
            raise AudioError(f"{path}: audio decodes to 0 samples{_row(row)}") from None
        detail = _SOURCE_LOCATION.sub("", first)  # "... SingleStreamDecoder.cpp:41, Could not open ..."
        raise AudioError(f"{path}: cannot be decoded as audio ({detail}){_row(row)}") from None
    if wave.numel() == 0:
        raise AudioError(f"{path}: audio decodes to 0 samples{_row(row)}")
    wave = wave.to(torch.float32).mean(dim=0)
    if rate != SAMPLE_RATE:
        wave = torchaudio.functional.resample(wave, int(rate), SAMPLE_RATE)
    return wave.numpy().astype(np.float32, copy=False)


def save_mp3(path: str | Path, wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write ``wave`` (1-D float samples; clipped to [-1, 1]) as a mono mp3 at :data:`MP3_BIT_RATE`. The
    bytes depend only on the samples (no date or tool version in the file beyond the encoder's tag), so a
    seeded sample is byte-identical when rewritten."""
    samples = np.asarray(wave, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError(f"{path}: expected a non-empty mono 1-D wave, got shape {samples.shape}")
    tensor = torch.from_numpy(np.clip(samples, -1.0, 1.0))[None]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torchaudio.save(str(path), tensor, sample_rate, compression=MP3_BIT_RATE)


def duration(wave: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Seconds of audio in ``wave``."""
    return len(wave) / sample_rate


def chunks(
    wave: np.ndarray, seconds: float = 15.0, overlap: float = 1.0, sample_rate: int = SAMPLE_RATE
) -> list[np.ndarray]:
    """Consecutive windows of ``seconds`` (the last one shorter), each starting ``seconds - overlap`` after
    the previous one, so neighbours share ``overlap`` seconds; a clip no longer than one window is one chunk
    (itself). Windows are views into ``wave``."""
    if seconds <= 0 or not 0 <= overlap < seconds:
        raise ValueError(f"chunks: need seconds > 0 and 0 <= overlap < seconds, got {seconds} and {overlap}")
    size = round(seconds * sample_rate)
    step = size - round(overlap * sample_rate)
    if len(wave) <= size:
        return [wave]
    count = 1 + math.ceil((len(wave) - size) / step)
    return [wave[i * step : i * step + size] for i in range(count)]
