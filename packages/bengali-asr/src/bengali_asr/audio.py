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
from torchcodec.decoders import AudioDecoder

SAMPLE_RATE = 16000
MP3_BIT_RATE = 32000  # bits per second: plenty for 16 kHz mono speech, ~4 kB per second of audio


_SOURCE_LOCATION = re.compile(r"^.*\.cpp:\d+,\s*")


class AudioError(ValueError):
    """A clip is missing, empty or unreadable; the one-line message names the file (and the row)."""


def _row(row: int | None) -> str:
    return f" (row {row})" if row is not None else ""


def _check_file(path: Path, row: int | None) -> None:
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found{_row(row)}")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: audio file is empty (0 bytes){_row(row)}")


def _decoder_error(path: Path, err: Exception, row: int | None) -> AudioError:
    """FFmpeg's multi-line text (``... SingleStreamDecoder.cpp:41, Could not open ...``) as one line."""
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if "No audio frames were decoded" in first:
        return AudioError(f"{path}: audio decodes to 0 samples{_row(row)}")
    return AudioError(f"{path}: cannot be decoded as audio ({_SOURCE_LOCATION.sub('', first)}){_row(row)}")


def load_audio(path: str | Path, row: int | None = None) -> np.ndarray:
    """The clip at ``path`` as float32 mono samples at 16 kHz (channels averaged, resampled when the file
    has another rate). ``row`` (the data row of the table that names this file, from 1) is added to the
    error message."""
    path = Path(path)
    _check_file(path, row)
    try:
        wave, rate = torchaudio.load(str(path))
    except Exception as err:  # TorchCodec raises RuntimeError/ValueError
        raise _decoder_error(path, err, row) from None
    if wave.numel() == 0:
        raise AudioError(f"{path}: audio decodes to 0 samples{_row(row)}")
    wave = wave.to(torch.float32).mean(dim=0)
    if rate != SAMPLE_RATE:
        wave = torchaudio.functional.resample(wave, int(rate), SAMPLE_RATE)
    return wave.numpy().astype(np.float32, copy=False)


def header_samples(path: str | Path, row: int | None = None) -> int:
    """The clip's length in samples at 16 kHz as its header states it, without decoding (about 0.5 ms a file; an
    mp3's header counts the encoder's padding, up to ~0.1 s more than :func:`load_audio` returns). A file whose
    header states no duration is decoded instead."""
    path = Path(path)
    _check_file(path, row)
    try:
        metadata = AudioDecoder(str(path)).metadata
    except Exception as err:
        raise _decoder_error(path, err, row) from None
    seconds = metadata.duration_seconds_from_header
    if seconds is None:
        return len(load_audio(path, row))
    if seconds <= 0:
        raise AudioError(f"{path}: audio header states 0 s{_row(row)}")
    return round(seconds * SAMPLE_RATE)


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
