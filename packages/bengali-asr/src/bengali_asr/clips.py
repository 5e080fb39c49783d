"""A split's audio at any scale: in memory when it fits (the sample), else decoded from disk at each read.

The competition's 963,636 clips are about 300 GB as float32 waves, so no step may hold them all. What must know a
clip's length before decoding it — length-grouped training batches, the training-length cut, the order and size of
inference blocks, the memory budget itself — reads it from the mp3's header (:func:`bengali_asr.audio.header_samples`,
about 0.5 ms a file). Inference (:func:`windowed`) decodes one block of clips at a time, longest first, so at most
:data:`BLOCK_SAMPLES` samples of audio (and their windows) are in memory, whatever the split's size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from bengali_asr.audio import chunks, header_samples, load_audio
from shared.console import progress

MEMORY_BYTES = 2**31  # a split whose float32 waves fit in this is decoded once and kept in memory
BLOCK_SAMPLES = 2**26  # audio decoded at once by windowed(): ~70 min at 16 kHz, 256 MiB as float32


class Clips(Sequence[np.ndarray]):
    """Clips as 16 kHz float32 waves: ``waves`` in memory, or the ``paths`` decoded at each read (``rows``: each
    path's data row in its table, for error messages); ``transform`` applied at each read. ``lengths``: samples per
    clip, exact when the waves are in memory, else from the headers (an mp3's is up to ~0.1 s longer than decoded)."""

    def __init__(self, lengths: Sequence[int], waves: Sequence[np.ndarray] | None = None,
                 paths: Sequence[str] | None = None, rows: Sequence[int] | None = None,
                 transform: Callable[[np.ndarray], np.ndarray] | None = None) -> None:  # fmt: skip
        if (waves is None) == (paths is None):
            raise ValueError("Clips: give exactly one of the waves or their paths")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.waves = None if waves is None else list(waves)
        self.paths = None if paths is None else list(paths)
        self.rows = list(rows) if rows is not None else list(range(1, len(self.lengths) + 1))
        self.transform = transform

    @classmethod
    def of(cls, waves: Sequence[np.ndarray]) -> Clips:
        """``waves`` as Clips (themselves when they already are)."""
        return waves if isinstance(waves, Clips) else cls([len(w) for w in waves], waves=waves)

    @property
    def in_memory(self) -> bool:
        return self.waves is not None

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, i: int) -> np.ndarray:  # type: ignore[override]
        wave = self.waves[i] if self.waves is not None else load_audio(self.paths[i], row=self.rows[i])
        return wave if self.transform is None else self.transform(wave)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self[i] for i in range(len(self)))

    def take(self, index: Sequence[int]) -> Clips:
        """The clips at ``index``, in that order (no audio is read)."""
        index = [int(i) for i in index]
        return Clips(self.lengths[index], None if self.waves is None else [self.waves[i] for i in index],
                     None if self.paths is None else [self.paths[i] for i in index], [self.rows[i] for i in index],
                     self.transform)  # fmt: skip

    def map(self, transform: Callable[[np.ndarray], np.ndarray]) -> Clips:
        """The same clips with ``transform`` applied after the current one at each read; it must keep the length."""
        inner = self.transform
        composed = transform if inner is None else (lambda w: transform(inner(w)))
        return Clips(self.lengths, self.waves, self.paths, self.rows, composed)


def read_clips(paths: Sequence[str], desc: str, rows: Sequence[int] | None = None,
               memory_bytes: int | None = None) -> Clips:  # fmt: skip
    """The clips at ``paths`` (``rows``: their data rows in the table that lists them, default 1, 2, ...): every
    header read (a file that cannot be opened stops here, named with its row), then every wave decoded and kept
    when the split's float32 samples fit in ``memory_bytes`` (default :data:`MEMORY_BYTES`); otherwise they are
    decoded at each read."""
    memory_bytes = MEMORY_BYTES if memory_bytes is None else memory_bytes
    paths = [str(p) for p in paths]
    rows = list(rows) if rows is not None else list(range(1, len(paths) + 1))
    bar = progress(zip(paths, rows, strict=True), desc=f"{desc} headers", total=len(paths), unit="clip")
    lengths = [header_samples(p, row=r) for p, r in bar]
    if 4 * sum(lengths) > memory_bytes:
        return Clips(lengths, paths=paths, rows=rows)
    bar = progress(zip(paths, rows, strict=True), desc=f"audio {desc}", total=len(paths), unit="clip")
    waves = [load_audio(p, row=r) for p, r in bar]
    return Clips([len(w) for w in waves], waves=waves, rows=rows)


def lengths_of(waves: Sequence[np.ndarray]) -> np.ndarray:
    """Samples per clip, without decoding what is on disk."""
    return Clips.of(waves).lengths


def blocks(lengths: Sequence[int], max_samples: int = BLOCK_SAMPLES) -> list[np.ndarray]:
    """The clips, longest first, cut into consecutive blocks of at most ``max_samples`` samples (a longer clip is a
    block alone); each block's indices in ascending order. A split within the budget is one block, in its order."""
    lengths = np.asarray(lengths, dtype=np.int64)
    out, block, total = [], [], 0
    for i in np.argsort(-lengths, kind="stable"):
        if block and total + lengths[i] > max_samples:
            out.append(np.sort(block))
            block, total = [], 0
        block.append(int(i))
        total += int(lengths[i])
    if block:
        out.append(np.sort(block))
    return out


def windowed(waves: Sequence[np.ndarray], run: Callable[[list[np.ndarray]], Sequence[Any]], seconds: float,
             overlap: float, batch_size: int, desc: str,
             max_samples: int = BLOCK_SAMPLES) -> Iterator[tuple[int, list[Any]]]:  # fmt: skip
    """``(clip, [run's output for each of its windows, in order])`` for every clip, block by block (:func:`blocks`):
    each block's clips decoded, cut into windows of ``seconds`` overlapping by ``overlap``
    (:func:`bengali_asr.audio.chunks`), the windows batched ``batch_size`` at a time longest first (little padding)
    and given to ``run`` (a list of windows in, one output per window out). One bar counts the finished clips."""
    clips = Clips.of(waves)
    bar = progress(desc=desc, total=len(clips), unit="clip")
    for block in blocks(clips.lengths, max_samples):
        pieces, owner = [], []
        for i in block:
            parts = chunks(clips[int(i)], seconds=seconds, overlap=overlap)
            pieces += parts
            owner += [int(i)] * len(parts)
        out: list[Any] = [None] * len(pieces)
        left = Counter(owner)
        order = np.argsort([-len(p) for p in pieces], kind="stable")
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            for j, result in zip(index, run([pieces[j] for j in index]), strict=True):
                out[j] = result
                left[owner[j]] -= 1
                bar.update(int(left[owner[j]] == 0))
        grouped: dict[int, list[Any]] = {int(i): [] for i in block}
        for result, i in zip(out, owner, strict=True):
            grouped[i].append(result)
        yield from grouped.items()
    bar.close()
