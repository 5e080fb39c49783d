"""Rankings and ranking metrics over score matrices.

Every retriever and reranker of the chapter gives ``scores`` of shape (n_rows, n_misconceptions), higher =
better, columns in the misconception file's order; a row's ranking is its columns in descending score,
ties broken by the lower column index (a stable sort), so that a ranking never depends on how a library
orders equal scores. ``truth_col`` holds each row's true column. MAP@25 scores a row ``1 / rank`` of its
truth when the rank is at most 25, else 0 — one correct label per row, so this is Kaggle's MAP@25
(:func:`shared.metrics.map_at_k` on the top 25 ids). The metrics count, per row, the columns that beat the
truth instead of sorting: O(n m) and no sort for n = 5000 rows x 2600 misconceptions.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _scores(scores) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(
            f"scores: expected a (rows, columns) matrix with at least one column, got {scores.shape}"
        )
    bad = np.isnan(scores).any(axis=1)
    if bad.any():
        raise ValueError(f"scores: NaN in row {int(np.flatnonzero(bad)[0])}")
    return scores


def _truth(truth_col, scores: np.ndarray) -> np.ndarray:
    truth = np.asarray(truth_col)
    if truth.shape != (len(scores),):
        raise ValueError(f"truth_col: expected {len(scores)} column indices, got shape {truth.shape}")
    if not np.issubdtype(truth.dtype, np.integer):
        raise ValueError(f"truth_col: expected integer column indices, got {truth.dtype}")
    bad = (truth < 0) | (truth >= scores.shape[1])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"truth_col: row {row} is {truth[row]}, outside 0..{scores.shape[1] - 1}")
    return truth.astype(np.int64)


def top_k(scores, k: int) -> np.ndarray:
    """(n, min(k, m)) column indices, best first, ties by the lower column (= the first k of a stable
    descending sort). A partition finds the k best; only rows with a tie across the k-th place are sorted
    in full."""
    scores = _scores(scores)
    m = scores.shape[1]
    k = min(int(k), m)
    if k < 1:
        raise ValueError(f"k: expected a positive integer, got {k}")
    neg = -scores
    picked = np.argpartition(neg, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(neg, picked, axis=1).max(axis=1, keepdims=True)
    # argpartition picks any of the columns tied at the k-th score; redo the rows where the tie crosses it
    tied = (neg == kth).sum(axis=1) != (np.take_along_axis(neg, picked, axis=1) == kth).sum(axis=1)
    if tied.any():
        picked[tied] = np.argsort(neg[tied], axis=1, kind="stable")[:, :k]
    picked.sort(axis=1)  # by column, so that the stable sort below breaks ties by the lower column
    order = np.argsort(np.take_along_axis(neg, picked, axis=1), axis=1, kind="stable")
    return np.take_along_axis(picked, order, axis=1)


def ranks(scores, truth_col) -> np.ndarray:
    """(n,) 1-based rank of each row's truth column in the row's ranking."""
    scores = _scores(scores)
    truth = _truth(truth_col, scores)
    true_score = scores[np.arange(len(scores)), truth][:, None]
    before = np.arange(scores.shape[1])[None, :] < truth[:, None]
    return 1 + (scores > true_score).sum(axis=1) + ((scores == true_score) & before).sum(axis=1)


def average_precision(scores, truth_col, k: int = 25) -> np.ndarray:
    """(n,) per-row term of MAP@k: 1 / rank when the truth ranks within k, else 0."""
    rank = ranks(scores, truth_col)
    return np.where(rank <= k, 1.0 / rank, 0.0)


def map_at_k(scores, truth_col, k: int = 25) -> float:
    """MAP@k (the competition's metric at k = 25)."""
    return float(average_precision(scores, truth_col, k).mean())


def recall_at_k(scores, truth_col, ks: Iterable[int]) -> dict[int, float]:
    """Share of rows whose truth ranks within k, for each k (how many candidates a reranker needs)."""
    rank = ranks(scores, truth_col)
    return {int(k): float((rank <= k).mean()) for k in ks}
