"""What every rung of the ladder shares: the clips of each split (:class:`bengali_asr.clips.Clips`), the scoring of transcripts, and
the emissions in the shape the LM decoder reads.

Two WERs are reported, both the competition's per-clip mean (``shared.metrics.mean_wer``) after
:func:`bengali_asr.normalize.normalize` on both sides: ``wer`` with the punctuation marks attached to their
words (how the competition scored: a missing "।" costs the sentence's last word) and ``wer_plain`` without
them (what the acoustic model and the LM are responsible for).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bengali_asr.clips import Clips, read_clips
from bengali_asr.data import Competition
from bengali_asr.normalize import normalize, strip_punctuation
from shared.metrics import sample_wers


@dataclass
class Split:
    """One split's clips: ``references`` is None where the transcripts are unknown (Kaggle's test)."""

    name: str
    ids: list[str]
    waves: Clips
    references: list[str] | None

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray, name: str | None = None) -> Split:
        index = np.flatnonzero(keep)
        references = None if self.references is None else [self.references[i] for i in index]
        return Split(name or self.name, [self.ids[i] for i in index], self.waves.take(index), references)


def read_split(name: str, frame: pd.DataFrame, references: Sequence[str] | None,
               memory_bytes: int | None = None) -> Split:  # fmt: skip
    """The clips of ``frame`` (``id``, ``path``; its index: the 0-based data rows of the table that lists them) in
    its order: decoded at 16 kHz and kept when they fit in ``memory_bytes`` (default
    :data:`bengali_asr.clips.MEMORY_BYTES`), else read from disk when used
    (:func:`bengali_asr.clips.read_clips`)."""
    rows = [int(i) + 1 for i in frame.index]
    waves = read_clips(frame["path"].tolist(), desc=name, rows=rows, memory_bytes=memory_bytes)
    return Split(
        name, frame["id"].astype(str).tolist(), waves, None if references is None else list(references)
    )


def read_splits(comp: Competition) -> dict[str, Split]:
    """``train`` (the noisy split), ``valid`` (the clean one) and ``test`` (with the sample's known transcripts)."""
    splits = {}
    for name in ("train", "valid"):
        frame = comp.train[comp.train["split"] == name]  # the index: train.csv's rows, for error messages
        splits[name] = read_split(name, frame, frame["sentence"].tolist())
    test_refs = None
    if comp.test_labels is not None:
        test_refs = comp.test_labels.set_index("id").loc[comp.test["id"], "sentence"].tolist()
    splits["test"] = read_split("test", comp.test, test_refs)
    return splits


def clip_wers(references: Sequence[str], hypotheses: Sequence[str], punctuation: bool = True) -> np.ndarray:
    """Each clip's WER after the shared normalisation, with or without the punctuation marks."""
    if punctuation:
        return sample_wers([normalize(r) for r in references], [normalize(h) for h in hypotheses])
    return sample_wers([strip_punctuation(r) for r in references], [strip_punctuation(h) for h in hypotheses])


def halves(n: int, seed: int) -> np.ndarray:
    """A fixed random split of ``n`` clips into two halves (0/1), for cross-fitted tuning on the valid split:
    settings tuned on one half score the other, so the reported valid WER is not the tuned-on WER."""
    part = np.zeros(n, dtype=int)
    part[np.random.default_rng(seed).permutation(n)[: n // 2]] = 1
    return part
