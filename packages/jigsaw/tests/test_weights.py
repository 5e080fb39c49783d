"""Metric-aligned weights against a hand-computed frame."""

import numpy as np
import pandas as pd
import pytest

from jigsaw.weights import identity_membership, metric_aligned_weights


def test_weights_hand_computed():
    # rows: toxic background, civil background, toxic member, civil member, civil (NaN identities = background)
    target = [0.9, 0.1, 0.5, 0.4, 0.0]
    identities = pd.DataFrame(
        {"muslim": [0.0, 0.0, 1.0, 0.6, np.nan], "female": [0.2, np.nan, 0.0, 0.0, np.nan]}
    )
    raw = np.array([1 + 1, 1, 1 + 1, 1 + 1 + 1, 1], dtype=float)  # background + subgroup + BP + SN terms
    assert metric_aligned_weights(target, identities) == pytest.approx(raw / raw.mean())
    custom = metric_aligned_weights(
        target, identities, background=1, subgroup=0, background_positive=2, subgroup_negative=4
    )
    raw = np.array([3, 1, 1, 5, 1], dtype=float)
    assert custom == pytest.approx(raw / raw.mean())


def test_membership_uses_half_and_nan_as_not_member():
    identities = pd.DataFrame({"a": [0.5, 0.49, np.nan], "b": [np.nan, 0.7, np.nan]})
    assert identity_membership(identities).tolist() == [True, True, False]


def test_weights_refuse_bad_input():
    with pytest.raises(ValueError, match="rows"):
        metric_aligned_weights([0.1, 0.2], pd.DataFrame({"a": [1.0]}))
    with pytest.raises(ValueError, match="positive"):
        metric_aligned_weights([0.1], pd.DataFrame({"a": [0.0]}), background=0)
