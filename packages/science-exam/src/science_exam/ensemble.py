"""Ensembles of readers (§8.7): a weighted mean of their option probabilities.

MAP@3 is a ranking metric with no gradient, and two to four readers make a small simplex, so the weights are
searched on a grid (step 0.1) for the best MAP@3 of the out-of-fold probabilities. Fitted and scored on the
same questions a blend flatters itself, so its CV is *cross-fitted*: each fold is blended with weights
fitted on the other folds; only the test blend uses weights fitted on all of them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from science_exam.scoring import map_at_3

STEP = 0.1


def simplex(n: int, step: float = STEP) -> np.ndarray:
    """Every weight vector of ``n`` non-negative multiples of ``step`` summing to one, equal weights first."""
    units = round(1 / step)
    grid = [c for c in itertools.product(range(units + 1), repeat=n) if sum(c) == units]
    weights = np.asarray(grid, dtype=float) / units
    equal = np.full(n, 1.0 / n)
    return np.vstack([equal, weights])


def blend(members: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """``sum_m weights[m] * members[m]`` over (n, 5) probability arrays."""
    return np.einsum("mnk,m->nk", np.stack(members), np.asarray(weights, dtype=float))


def fit_weights(members: Sequence[np.ndarray], answers: np.ndarray, step: float = STEP) -> np.ndarray:
    """The grid weights with the best MAP@3 (the first such, so equal weights win ties)."""
    if not members:
        raise ValueError("fit_weights: no members")
    best, best_score = None, -np.inf
    for weights in simplex(len(members), step):
        score = map_at_3(blend(members, weights), answers)
        if score > best_score + 1e-12:
            best, best_score = weights, score
    return best


def cross_fitted(members: Sequence[np.ndarray], answers: np.ndarray, fold: np.ndarray):
    """(out-of-fold blend, each fold's weights fitted on the other folds; weights fitted on all questions)."""
    oof = np.zeros_like(members[0], dtype=float)
    for k in np.unique(fold):
        held = fold == k
        weights = fit_weights([m[~held] for m in members], answers[~held])
        oof[held] = blend([m[held] for m in members], weights)
    return oof, fit_weights(members, answers)
