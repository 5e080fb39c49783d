"""Fusing the score matrices of several retrievers (TF-IDF, pretrained and fine-tuned embedders).

Scores of different retrievers live on different scales (TF-IDF cosines near 0, embedder cosines near
0.5), so each row is normalised before a weighted sum: ``zscore`` (minus the row's mean, over its standard
deviation) or ``minmax`` (onto [0, 1]); a constant row normalises to zeros. Reciprocal rank fusion needs no
scale at all: ``sum over retrievers of 1 / (k + rank)`` (Cormack et al., 2009).

The weights are tuned on a grid over the simplex (non-negative, summing to 1) for MAP@25. Tuned and
scored on the same rows, the MAP would be optimistic, so :func:`cross_fitted` fuses each fold's rows with
weights tuned on the other folds only; the weights tuned on every row are the ones for the test set.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from eedi.ranking import map_at_k

NORMS = ("zscore", "minmax")


def _stack(score_list: Sequence[np.ndarray]) -> list[np.ndarray]:
    if not score_list:
        raise ValueError("fusion: no score matrices to fuse")
    matrices = [np.asarray(s, dtype=np.float32) for s in score_list]
    shapes = {m.shape for m in matrices}
    if len(shapes) != 1 or matrices[0].ndim != 2:
        raise ValueError(f"fusion: score matrices must share one (rows, columns) shape, got {sorted(shapes)}")
    return matrices


def normalise(scores: np.ndarray, norm: str = "zscore") -> np.ndarray:
    """Each row on a common scale: ``zscore`` (mean 0, standard deviation 1) or ``minmax`` ([0, 1])."""
    scores = np.asarray(scores, dtype=np.float32)
    if norm == "zscore":
        centred = scores - scores.mean(axis=1, keepdims=True)
        spread = scores.std(axis=1, keepdims=True)
    elif norm == "minmax":
        low = scores.min(axis=1, keepdims=True)
        centred, spread = scores - low, scores.max(axis=1, keepdims=True) - low
    else:
        raise ValueError(f"fusion norm {norm!r}: expected one of {', '.join(NORMS)}")
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)


def fuse(score_list: Sequence[np.ndarray], weights: Sequence[float], norm: str = "zscore") -> np.ndarray:
    """``sum_i weights[i] * normalise(score_list[i])``, float32."""
    matrices = _stack(score_list)
    if len(weights) != len(matrices):
        raise ValueError(f"fusion: {len(matrices)} score matrices but {len(weights)} weights")
    return _weighted([normalise(m, norm) for m in matrices], weights)


def _weighted(normalised: list[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    fused = np.zeros_like(normalised[0])
    for matrix, weight in zip(normalised, weights, strict=True):
        if weight:
            fused += np.float32(weight) * matrix
    return fused


def rrf(score_list: Sequence[np.ndarray], k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion: each column scores ``sum_i 1 / (k + rank_i)`` with ``rank_i`` its 1-based
    place in retriever i's ranking (ties by the lower column)."""
    fused = None
    for matrix in _stack(score_list):
        order = np.argsort(-matrix, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(1, matrix.shape[1] + 1)[None, :], axis=1)
        part = 1.0 / (k + rank)
        fused = part if fused is None else fused + part
    return fused.astype(np.float32)


def simplex_grid(n: int, step: float) -> Iterator[np.ndarray]:
    """Weight vectors of length ``n`` on the simplex with entries multiples of ``step``, the first weight
    largest first: (1, 0, ...), (1 - step, step, 0, ...), ..."""
    units = round(1 / step)
    if units < 1 or abs(units * step - 1) > 1e-9:
        raise ValueError(f"fusion grid step {step}: 1 / step must be a whole number")

    def compositions(left: int, parts: int):
        if parts == 1:
            yield (left,)
            return
        for first in range(left, -1, -1):
            for rest in compositions(left - first, parts - 1):
                yield (first, *rest)

    for units_each in compositions(units, n):
        yield np.array(units_each, dtype=np.float64) / units


def tune_weights(
    score_list: Sequence[np.ndarray], truth_col: np.ndarray, grid_step: float = 0.1, norm: str = "zscore",
    k: int = 25,
) -> np.ndarray:  # fmt: skip
    """The simplex-grid weights with the best MAP@k of the fused scores (the first in grid order on ties)."""
    normalised = [normalise(m, norm) for m in _stack(score_list)]
    best, best_map = None, -1.0
    for weights in simplex_grid(len(normalised), grid_step):
        score = map_at_k(_weighted(normalised, weights), truth_col, k)
        if score > best_map:
            best, best_map = weights, score
    return best


def cross_fitted(
    score_list: Sequence[np.ndarray], truth_col: np.ndarray, fold: np.ndarray, grid_step: float = 0.1,
    norm: str = "zscore", k: int = 25,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(out-of-fold fused scores, weights tuned on all rows): each fold's rows fused with the weights
    :func:`tune_weights` finds on the other folds' rows, so no row's fused scores saw its own truth."""
    matrices = _stack(score_list)
    truth, fold = np.asarray(truth_col), np.asarray(fold)
    if truth.shape != (len(matrices[0]),) or fold.shape != truth.shape:
        raise ValueError(
            f"fusion: {len(matrices[0])} rows, but truth_col {truth.shape} and fold {fold.shape}"
        )
    folds = np.unique(fold)
    if len(folds) < 2:
        raise ValueError("fusion: cross-fitting needs at least two folds")
    fused = np.empty_like(matrices[0])
    for f in folds:
        inside = fold == f
        weights = tune_weights([m[~inside] for m in matrices], truth[~inside], grid_step, norm, k)
        fused[inside] = fuse([m[inside] for m in matrices], weights, norm)
    return fused, tune_weights(matrices, truth, grid_step, norm, k)
