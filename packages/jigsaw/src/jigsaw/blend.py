"""Blending the experiments' out-of-fold predictions, as the top teams finished their solutions.

- ``mean``: the average probability; ``rank``: the average of rank-normalised predictions (scale-free,
  safe when models are calibrated differently); ``power``: the average of ``p ** power`` (2nd place blended
  with power 3.5, which lets confident models dominate);
- ``optuna``: weights of the average found by Optuna's TPE sampler maximising the competition metric on
  the out-of-fold predictions (3rd place).

Weights fitted on the same OOF rows they are scored on would flatter the blend, so its CV is
cross-fitted: the weights for fold k are found on the other folds. The weights applied to the test
predictions are then fitted on all out-of-fold rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import optuna
from scipy.stats import rankdata

METHODS = ("mean", "rank", "power", "optuna")


def combine(
    preds: np.ndarray, weights: np.ndarray | None = None, method: str = "mean", power: float = 3.5
) -> np.ndarray:
    """Blend the columns of ``preds`` (n rows x m models) into one prediction in [0, 1]."""
    if method not in METHODS:
        raise ValueError(f"method: {method!r} is not one of {METHODS}")
    preds = np.asarray(preds, dtype=np.float64)
    weights = (
        np.full(preds.shape[1], 1.0 / preds.shape[1])
        if weights is None
        else np.asarray(weights, dtype=np.float64)
    )
    if method == "rank":
        preds = np.column_stack([rankdata(col) / len(col) for col in preds.T])
    elif method == "power":
        preds = preds**power
    return preds @ (weights / weights.sum())


def optimize_weights(
    preds: np.ndarray, score: Callable[[np.ndarray], float], n_trials: int = 100, seed: int = 42
) -> np.ndarray:
    """Weights (summing to 1) of the mean blend that maximise ``score(blend)``; TPE, deterministic under ``seed``."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    m = preds.shape[1]

    def objective(trial: optuna.Trial) -> float:
        weights = np.array([trial.suggest_float(f"w{j}", 0.0, 1.0) for j in range(m)])
        return score(combine(preds, weights + 1e-12))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial({f"w{j}": 1.0 for j in range(m)})  # start from the plain mean ...
    best = int(np.argmax([score(preds[:, j]) for j in range(m)]))
    study.enqueue_trial({f"w{j}": float(j == best) for j in range(m)})  # ... and from the best single model
    study.optimize(objective, n_trials=n_trials)
    weights = np.array([study.best_params[f"w{j}"] for j in range(m)]) + 1e-12
    return weights / weights.sum()


def cross_fitted(
    preds: np.ndarray,
    folds: np.ndarray,
    score: Callable[[np.ndarray, np.ndarray], float],
    n_trials: int,
    seed: int,
) -> np.ndarray:
    """Out-of-fold Optuna blend: rows of fold k blended with weights fitted on the other folds.
    ``score(rows, blended)`` scores a blend of the rows selected by the boolean mask ``rows``."""
    blended = np.zeros(len(preds))
    for k in np.unique(folds):
        fit = folds != k
        weights = optimize_weights(preds[fit], lambda b, fit=fit: score(fit, b), n_trials, seed)
        blended[~fit] = combine(preds[~fit], weights)
    return blended
