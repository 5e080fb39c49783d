"""Seed averaging, weighted model ensembles and the seed-spread plot (§7.7.5–7.7.7).

Top CommonLit teams averaged several seeds of each model and blended a handful of models; their
write-ups (and §7.7) warn that one seed's CV moves by about as much as the gap between two recipes. The
blend's weights are non-negative and sum to one per target; they are fitted by least squares on out-of-fold
predictions. Fitted and scored on the same rows, a blend flatters itself, so its CV is *cross-fitted*: each
fold is blended with weights fitted on the other folds, and only the test blend uses weights from all of
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from commonlit.data import TARGETS


def seed_average(predictions: Sequence[np.ndarray]) -> np.ndarray:
    """The mean of several seeds' predictions of the same rows."""
    if not predictions:
        raise ValueError("seed_average: no predictions")
    return np.mean(np.stack(predictions), axis=0)


def fit_weights(members: Sequence[np.ndarray], targets: np.ndarray) -> np.ndarray:
    """(n_members, n_targets) blend weights, each column non-negative and summing to 1, minimising the
    squared error of ``sum_m w_m * members[m]`` per target.

    The sum-to-one constraint enters as one heavily weighted extra row of the non-negative least squares
    (the classic trick), so no general-purpose optimiser is needed."""
    stack = np.stack(members)  # (m, n, t)
    weights = np.zeros((len(members), targets.shape[1]))
    penalty = 1e3 * np.sqrt(len(targets))
    for j in range(targets.shape[1]):
        a = np.vstack([stack[:, :, j].T, np.full((1, len(members)), penalty)])
        b = np.concatenate([targets[:, j], [penalty]])
        w, _ = nnls(a, b)
        weights[:, j] = w / w.sum() if w.sum() > 0 else 1 / len(members)
    return weights


def blend(members: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """``sum_m weights[m] * members[m]``, per target column."""
    return np.einsum("mnt,mt->nt", np.stack(members), weights)


def cross_fitted(members: Sequence[np.ndarray], targets: np.ndarray, fold: np.ndarray):
    """(out-of-fold blend with each fold's weights fitted on the other folds, weights fitted on all rows)."""
    oof = np.zeros_like(targets, dtype=float)
    for k in np.unique(fold):
        held = fold == k
        weights = fit_weights([m[~held] for m in members], targets[~held])
        oof[held] = blend([m[held] for m in members], weights)
    return oof, fit_weights(members, targets)


def plot_seed_spread(by_seed: dict[str, list[float]], averaged: dict[str, float], path: Path) -> None:
    """One column per experiment: each seed's CV MCRMSE as a dot, the seed-averaged model's as a bar tick,
    so the gap between two recipes can be read against the spread of one recipe over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(by_seed)
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(names), 3.6))
    for x, name in enumerate(names):
        scores = by_seed[name]
        ax.scatter(
            [x] * len(scores), scores, color="tab:blue", zorder=3, label="one seed" if x == 0 else None
        )
        if name in averaged:
            ax.hlines(averaged[name], x - 0.25, x + 0.25, color="tab:red",
                      label="seed average" if x == 0 else None)  # fmt: skip
    ax.set_xticks(range(len(names)), names, rotation=15)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("CV MCRMSE (lower is better)")
    ax.set_title("CV over seeds")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def member_table(names: Sequence[str], weights: np.ndarray) -> list[dict]:
    """The blend's weights, one row per member, for the report and ``models/manifest.json``."""
    return [{"member": n, **{t: float(w) for t, w in zip(TARGETS, row, strict=True)}}
            for n, row in zip(names, weights, strict=True)]  # fmt: skip
