"""Filtering noisy transcripts by WER (the 3rd place, §9.6): a first model transcribes its own training clips,
and the clips whose transcript it cannot reproduce — WER above a threshold — are dropped before a second model is
trained. The train split of the competition was crowd-sourced and partly wrong; a clip whose label is another
sentence, or misses words, costs the model more than it teaches it.

The first model has seen these clips, so its WER on them is optimistic: a clean clip scores low; a clip whose label
the model could not fit (because the audio says something else) stands out. The threshold is a field; the report
counts what was dropped and, when the corrupted clips are known (the sample's card.json), how many were caught.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bengali_asr.experiment import clip_wers


@dataclass(frozen=True)
class FilterResult:
    """``keep[i]``: clip ``i`` stays; ``wers[i]``: its WER under the first model."""

    keep: np.ndarray
    wers: np.ndarray
    threshold: float

    @property
    def floored(self) -> bool:
        """True when the threshold would have kept fewer than the floor, so the best share was kept instead."""
        return int(self.keep.sum()) > int((self.wers <= self.threshold).sum())

    @property
    def dropped(self) -> int:
        return int((~self.keep).sum())

    def caught(self, corrupted: np.ndarray) -> dict:
        """How the drop matches the known corrupted clips (a boolean mask): recall, precision and counts."""
        corrupted = np.asarray(corrupted, dtype=bool)
        hits = int((~self.keep & corrupted).sum())
        return {
            "floored": self.floored,
            "corrupted": int(corrupted.sum()),
            "dropped": self.dropped,
            "caught": hits,
            "recall": hits / max(1, int(corrupted.sum())),
            "precision": hits / max(1, self.dropped),
        }


def filter_by_wer(references: Sequence[str], hypotheses: Sequence[str], threshold: float,
                  min_keep: float = 0.5) -> FilterResult:  # fmt: skip
    """Keep the clips whose WER (labels and hypotheses without punctuation) is at most ``threshold``, but never
    fewer than ``min_keep`` of them: when the threshold would drop more (a first model too weak to judge the
    labels), the ``min_keep`` share with the lowest WER is kept instead (ties: the earlier clip), as the 4th place
    kept its best 70 % by rank."""
    if not threshold >= 0:
        raise ValueError(f"threshold: {threshold} must be >= 0")
    if not 0 < min_keep <= 1:
        raise ValueError(f"min_keep: {min_keep} must be in (0, 1]")
    wers = clip_wers(references, hypotheses, punctuation=False)
    keep = wers <= threshold
    floor = math.ceil(min_keep * len(wers))
    if keep.sum() < floor:
        keep = np.zeros(len(wers), dtype=bool)
        keep[np.argsort(wers, kind="stable")[:floor]] = True
    return FilterResult(keep, wers, threshold)
