"""A stage's output: each row's best misconceptions in order, and the scores the last stage gave its head.

Retrieval scores every misconception (a full matrix); a reranker rescores only the first K candidates of
the stage before it, and the rest keep that stage's order. :class:`Ranked` holds what the later steps
need: ``cols`` (n, R) column indices best first, at least the 25 the submission ranks, and ``scores`` of the
first ``head`` of them in the scoring stage's own units (log-probabilities for the LLM rerankers, fused
similarity for retrieval). The unseen boost and the next reranker act on the head only: an order after it
came from an earlier stage whose scores are not comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eedi.configs import TOP
from eedi.ranking import top_k


@dataclass
class Ranked:
    cols: np.ndarray  # (n, R) int64 column indices, best first
    scores: np.ndarray  # (n, head) float64 scores of cols[:, :head]
    head: int

    def __post_init__(self):
        if self.scores.shape != (len(self.cols), self.head):
            raise ValueError(f"scores: shape {self.scores.shape}, expected ({len(self.cols)}, {self.head})")

    def __len__(self) -> int:
        return len(self.cols)

    def average_precision(self, truth: np.ndarray, k: int = TOP) -> np.ndarray:
        """(n,) each row's MAP@k term: 1 / rank of its truth column within the first k, else 0."""
        hit = self.cols[:, :k] == np.asarray(truth)[:, None]
        rank = hit.argmax(1) + 1
        return np.where(hit.any(1), 1.0 / rank, 0.0)

    def recall(self, truth: np.ndarray, k: int) -> np.ndarray:
        """(n,) whether each row's truth is among its first k columns."""
        return (self.cols[:, :k] == np.asarray(truth)[:, None]).any(1)

    def subset(self, rows: np.ndarray) -> Ranked:
        return Ranked(self.cols[rows], self.scores[rows], self.head)


def from_scores(scores: np.ndarray, depth: int) -> Ranked:
    """The first ``depth`` columns of a full score matrix (ties: the lower column), all of them the head,
    scored in standard deviations above the row's mean over every misconception: cosine, TF-IDF and fused
    scores then share one unit, so one boost grid serves them all."""
    scores = np.asarray(scores, dtype=np.float64)
    cols = top_k(scores, depth).astype(np.int64)
    spread = scores.std(axis=1, keepdims=True)
    z = (scores - scores.mean(axis=1, keepdims=True)) / np.where(spread > 0, spread, 1.0)
    return Ranked(cols, np.take_along_axis(z, cols, 1), cols.shape[1])


def rescored(previous: Ranked, head_scores: np.ndarray) -> Ranked:
    """``previous`` with its first ``K = head_scores.shape[1]`` columns reordered by ``head_scores`` (scores of
    ``previous.cols[:, :K]``, descending; ties keep the previous order); the columns after them unchanged."""
    head_scores = np.asarray(head_scores, dtype=np.float64)
    k = head_scores.shape[1]
    if k > previous.cols.shape[1] or len(head_scores) != len(previous):
        raise ValueError(f"head_scores: shape {head_scores.shape} for {previous.cols.shape} ranked columns")
    order = np.argsort(-head_scores, axis=1, kind="stable")
    cols = previous.cols.copy()
    cols[:, :k] = np.take_along_axis(previous.cols[:, :k], order, 1)
    return Ranked(cols, np.take_along_axis(head_scores, order, 1), k)
