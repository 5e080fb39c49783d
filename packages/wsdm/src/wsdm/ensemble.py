"""Blending several models' p(A wins): a weighted mean of log-odds, the weights tuned out of fold.

Averaging log-odds rather than probabilities lets a confident model outvote a hesitant one in proportion
to its confidence, and it is what a logistic stacker with no intercept would learn. Probabilities are
clipped to ``[EPS, 1 - EPS]`` first so that a 0 or a 1 cannot dominate (or make ``inf - inf``).

The weights are chosen on a grid over the simplex (non-negative, summing to 1) for accuracy, the
competition metric; accuracy is a step function with many ties, so ties go to the lower log loss, then to
the first weights in grid order. Tuned and scored on the same rows the blend would look better than it
is, so :func:`tune_weights` scores each fold's rows with weights tuned on the other folds only
(cross-fitting); the weights tuned on every row are the ones for the test set.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

EPS = 1e-6


def _stack(probs: Sequence) -> np.ndarray:
    if not len(probs):
        raise ValueError("ensemble: no predictions to blend")
    arrays = [np.asarray(p, dtype=np.float64) for p in probs]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 1:
        raise ValueError(f"ensemble: predictions must be vectors of one length, got shapes {sorted(shapes)}")
    stacked = np.stack(arrays)
    if not np.all((stacked >= 0) & (stacked <= 1)):
        raise ValueError("ensemble: probabilities must lie in [0, 1]")
    return stacked


def _logits(stacked: np.ndarray) -> np.ndarray:
    p = np.clip(stacked, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _blend_logits(logits: np.ndarray, weights) -> np.ndarray:
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(logits),):
        raise ValueError(f"ensemble: {len(logits)} predictions but {weights.size} weights")
    if np.any(weights < 0) or not weights.sum() > 0:
        raise ValueError(f"ensemble weights {weights.tolist()}: must be >= 0 with a positive sum")
    return 1.0 / (1.0 + np.exp(-(weights @ logits) / weights.sum()))


def blend(probs: Sequence, weights) -> np.ndarray:
    """``sigmoid(sum_i w_i logit(p_i) / sum_i w_i)`` with each ``p_i`` clipped to ``[EPS, 1 - EPS]``.

    >>> blend([[0.9, 0.5], [0.5, 0.2]], [0.5, 0.5]).round(4).tolist()
    [0.75, 0.3333]
    """
    return _blend_logits(_logits(_stack(probs)), weights)


def simplex_grid(n: int, step: float) -> Iterator[np.ndarray]:
    """Weight vectors of length ``n`` on the simplex with entries multiples of ``step``, the first weight
    largest first: (1, 0, ...), (1 - step, step, 0, ...), ..."""
    units = round(1 / step)
    if units < 1 or abs(units * step - 1) > 1e-9:
        raise ValueError(f"ensemble grid step {step}: 1 / step must be a whole number")

    def compositions(left: int, parts: int):
        if parts == 1:
            yield (left,)
            return
        for first in range(left, -1, -1):
            for rest in compositions(left - first, parts - 1):
                yield (first, *rest)

    for units_each in compositions(units, n):
        yield np.array(units_each, dtype=np.float64) / units


def _best(logits: np.ndarray, y: np.ndarray, step: float) -> np.ndarray:
    """The grid weights with the highest accuracy on ``y``, ties to the lower log loss, then grid order."""
    best, best_key = None, None
    for weights in simplex_grid(len(logits), step):
        p = np.clip(_blend_logits(logits, weights), EPS, 1 - EPS)
        accuracy = np.mean((p > 0.5) == y)
        log_loss = -np.mean(np.where(y, np.log(p), np.log1p(-p)))
        key = (accuracy, -log_loss)
        if best_key is None or key > best_key:
            best, best_key = weights, key
    return best


def tune_weights(oof_probs: Sequence, y, fold, step: float = 0.1
                 ) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray]:  # fmt: skip
    """(weights per fold, final weights, out-of-fold blend): each fold's rows are blended with the weights
    tuned on the other folds' rows, so no row's blended prediction saw its own label; the final weights are
    tuned on every row. ``y`` is 1 (or True) when A wins; ``fold`` one fold id per row."""
    logits = _logits(_stack(oof_probs))
    y, fold = np.asarray(y), np.asarray(fold)
    if y.shape != (logits.shape[1],) or fold.shape != y.shape:
        raise ValueError(f"ensemble: {logits.shape[1]} rows, but y {y.shape} and fold {fold.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("ensemble: y must hold 0/1 (1 = A wins)")
    y = y.astype(bool)
    folds = np.unique(fold)
    if len(folds) < 2:
        raise ValueError("ensemble: cross-fitting needs at least two folds")
    per_fold, oof = {}, np.empty(logits.shape[1])
    for f in folds:
        inside = fold == f
        per_fold[f.item()] = _best(logits[:, ~inside], y[~inside], step)
        oof[inside] = _blend_logits(logits[:, inside], per_fold[f.item()])
    return per_fold, _best(logits, y, step), oof
