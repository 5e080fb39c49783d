"""Sample weights aligned with the bias metric (book §6.5.1).

The final metric averages the overall AUC with three identity AUCs. A model trained on the raw data is
hurt most on BPSN AUC (civil comments that mention an identity ranked above toxic ones that do not),
because those civil identity comments are rare. Giving each comment weight for every part of the metric
it appears in - the background (all comments), the identity subgroups, the background positives and the
subgroup negatives - spends the loss where the metric is decided. The popular competition kernel used
``1 + [subgroup] + [toxic] + [civil & subgroup]`` (its "background positive" test was satisfied by nearly
every toxic comment); here the background-positive term is literally toxic comments outside every
subgroup, and each coefficient is a parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def identity_membership(identities: pd.DataFrame) -> np.ndarray:
    """True where a row belongs to any identity subgroup (>= 0.5; NaN = not a member), as the metric does."""
    values = identities.to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        return (values >= 0.5).any(axis=1)


def metric_aligned_weights(
    target,
    identities: pd.DataFrame,
    *,
    background: float = 1.0,
    subgroup: float = 1.0,
    background_positive: float = 1.0,
    subgroup_negative: float = 1.0,
) -> np.ndarray:
    """``w = background + subgroup*[member] + background_positive*[toxic & ~member]
    + subgroup_negative*[civil & member]``, rescaled to mean 1 so the learning rate keeps its meaning.

    ``target`` is toxic when >= 0.5; ``identities`` holds the identity columns to weigh (NaN allowed).
    """
    toxic = np.asarray(target, dtype=np.float64) >= 0.5
    member = identity_membership(identities)
    if len(toxic) != len(member):
        raise ValueError(f"target has {len(toxic)} rows, identities {len(member)}")
    weights = (
        background
        + subgroup * member
        + background_positive * (toxic & ~member)
        + subgroup_negative * (~toxic & member)
    ).astype(np.float64)
    if weights.min() <= 0:
        raise ValueError("weights must stay positive: check the coefficients")
    return weights / weights.mean()
