"""A two-stage cascade: a small model scores every pair, a big one only the pairs the small one is least
sure of.

Kaggle's inference limit (a few GPU hours for the hidden test set) does not allow a large judge on every
row. Accuracy is decided near p = 0.5: a pair the small model scores 0.95 is rarely flipped by a bigger
model, one it scores 0.52 often is. So the ``share`` of rows with the smallest margin ``|p - 0.5|`` go to
the big model, whose probabilities replace the small model's there; the cost is the small model on every
row plus the big one on ``share`` of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SHARES = tuple(round(0.1 * i, 1) for i in range(11))


def _probs(name: str, p) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"{name}: expected a vector of probabilities in [0, 1], got shape {p.shape}")
    return p


def route(p_small, share: float) -> np.ndarray:
    """Boolean mask of the ``round(share * n)`` rows with the smallest margin ``|p_small - 0.5|``, ties to
    the earlier row.

    >>> route([0.9, 0.55, 0.4, 0.45, 0.1], 0.4).tolist()
    [False, True, False, True, False]
    """
    p = _probs("p_small", p_small)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"cascade share {share}: must be in [0, 1]")
    mask = np.zeros(len(p), dtype=bool)
    mask[np.argsort(np.abs(p - 0.5), kind="stable")[: round(share * len(p))]] = True
    return mask


def apply(p_small, p_big, mask) -> np.ndarray:
    """``p_small`` with the routed rows (``mask``) replaced by the big model's probabilities: ``p_big`` holds
    either one value per row (only the routed ones are used) or one per routed row, in row order."""
    p_small = _probs("p_small", p_small)
    p_big = _probs("p_big", p_big)
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != p_small.shape:
        raise ValueError(f"cascade mask: expected {len(p_small)} booleans, got {mask.dtype} {mask.shape}")
    out = p_small.copy()
    if len(p_big) == len(p_small):
        out[mask] = p_big[mask]
    elif len(p_big) == int(mask.sum()):
        out[mask] = p_big
    else:
        raise ValueError(
            f"cascade: p_big has {len(p_big)} rows; expected {len(p_small)} (all) or {int(mask.sum())} (routed)"
        )
    return out


def tune_share(p_small, p_big, y, shares: Sequence[float] = SHARES, tolerance: float = 0.0
               ) -> tuple[float, dict[float, float]]:  # fmt: skip
    """(the smallest share whose cascade accuracy is within ``tolerance`` of the best, accuracy per share)
    on rows where both models were scored (``y`` 1 when A wins). Tuned on out-of-fold predictions; the
    accuracy at the chosen share is slightly optimistic, being the best of a handful."""
    p_small, p_big = _probs("p_small", p_small), _probs("p_big", p_big)
    y = np.asarray(y)
    if not (p_small.shape == p_big.shape == y.shape):
        raise ValueError(f"cascade: p_small {p_small.shape}, p_big {p_big.shape} and y {y.shape} must match")
    if not shares:
        raise ValueError("cascade: no shares to try")
    accuracy = {float(s): float(np.mean((apply(p_small, p_big, route(p_small, s)) > 0.5) == (y == 1)))
                for s in shares}  # fmt: skip
    best = max(accuracy.values())
    return min(s for s, a in accuracy.items() if a >= best - tolerance), accuracy
