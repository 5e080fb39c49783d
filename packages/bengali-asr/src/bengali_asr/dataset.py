"""Training clips as model inputs, for both acoustic systems (the CTC model's ``Trainer`` and Whisper's
``Seq2SeqTrainer``): augmentation drawn repeatably per read, features kept in memory when they fit.

Why keep them: without augmentation a clip's features are the same at every epoch, and on the CPU sample the
filterbank or log-mel extraction would otherwise cost about a quarter of each training step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from bengali_asr.augment import Augmenter
from bengali_asr.clips import Clips

CACHE_BYTES = 2**30  # features kept in memory up to about this size (float32)


class ClipDataset(torch.utils.data.Dataset):
    """Each item is ``featurize(wave)`` (a dict of one clip's model inputs) plus its ``labels``.

    With an augmenter each read of a clip draws from a generator seeded by (seed, clip, how many times it was
    read), so a run is repeatable whatever the batch order. Without one, each clip's inputs are kept after their
    first read when ``bytes_per_clip`` times the clips fit in :data:`CACHE_BYTES`; a full-size corpus is extracted
    at every read instead, its waves read from disk (:class:`~bengali_asr.clips.Clips`), so the dataset holds no
    audio of its own."""

    def __init__(self, waves: Sequence[np.ndarray], labels: Sequence[list[int]],
                 featurize: Callable[[np.ndarray], dict], augmenter: Augmenter | None, seed: int,
                 bytes_per_clip: float) -> None:  # fmt: skip
        self.waves, self.labels, self.featurize = Clips.of(waves), list(labels), featurize
        self.augmenter, self.seed = augmenter, seed
        self.reads = [0] * len(self.waves)
        fits = len(self.waves) * bytes_per_clip <= CACHE_BYTES
        self.cache: dict[int, dict] | None = {} if augmenter is None and fits else None

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, i: int) -> dict:
        if self.augmenter is not None:
            wave = self.augmenter(self.waves[i], np.random.default_rng((self.seed, i, self.reads[i])))
            self.reads[i] += 1
            inputs = self.featurize(wave)
        elif self.cache is None:
            inputs = self.featurize(self.waves[i])
        else:
            if i not in self.cache:
                self.cache[i] = self.featurize(self.waves[i])
            inputs = self.cache[i]
        return inputs | {"labels": self.labels[i]}


def pad_labels(rows: list[dict]) -> torch.Tensor:
    """The rows' label ids as one ``[batch, longest]`` tensor padded with -100 (ignored by both losses)."""
    width = max(len(r["labels"]) for r in rows)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for j, r in enumerate(rows):
        labels[j, : len(r["labels"])] = torch.tensor(r["labels"], dtype=torch.long)
    return labels
