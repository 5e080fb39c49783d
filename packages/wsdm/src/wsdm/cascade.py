"""A two-stage cascade: a small model scores every pair, a big one only the pairs the small one is least
sure of.

Kaggle's inference limit (a few GPU hours for the hidden test set) does not allow a large judge on every
row. Accuracy is decided near p = 0.5: a pair the small model scores 0.95 is rarely flipped by a bigger
model, one it scores 0.52 often is. So the ``share`` of rows with the smallest margin ``|p - 0.5|`` go to
the big model, whose probabilities replace the small model's there; the cost is the small model on every
row plus the big one on ``share`` of them.
"""

from __future__ import annotations

import numpy as np

from wsdm.tta import probabilities


def route(p_small, share: float) -> np.ndarray:
    """Boolean mask of the ``round(share * n)`` rows with the smallest margin ``|p_small - 0.5|``, ties to
    the earlier row.

    >>> route([0.9, 0.55, 0.4, 0.45, 0.1], 0.4).tolist()
    [False, True, False, True, False]
    """
    p = probabilities("p_small", p_small)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"cascade share {share}: must be in [0, 1]")
    mask = np.zeros(len(p), dtype=bool)
    mask[np.argsort(np.abs(p - 0.5), kind="stable")[: round(share * len(p))]] = True
    return mask


def apply(p_small, p_big, mask) -> np.ndarray:
    """``p_small`` with the routed rows (``mask``) replaced by the big model's probabilities: ``p_big`` holds
    either one value per row (only the routed ones are used) or one per routed row, in row order."""
    p_small = probabilities("p_small", p_small)
    p_big = probabilities("p_big", p_big)
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
