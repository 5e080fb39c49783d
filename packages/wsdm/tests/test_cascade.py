"""The cascade: routing picks the lowest-margin rows (ties to the earlier row), and the big model's
probabilities replace those rows only."""

import numpy as np
import pytest

from wsdm.cascade import apply, route


def test_route_picks_the_lowest_margins():
    p = np.array([0.9, 0.55, 0.375, 0.45, 0.1, 0.625])  # margins .4, .05, .125, .05, .4, .125
    assert route(p, 0.0).tolist() == [False] * 6
    assert np.flatnonzero(route(p, 2 / 6)).tolist() == [1, 3]
    assert np.flatnonzero(route(p, 0.5)).tolist() == [1, 2, 3]  # row 2 before row 5: same margin, earlier
    assert np.flatnonzero(route(p, 4 / 6)).tolist() == [1, 2, 3, 5]
    assert route(p, 1.0).all()
    ties = np.array([0.6, 0.4, 0.6, 0.4])
    assert np.flatnonzero(route(ties, 0.5)).tolist() == [0, 1]  # equal margins: the earlier rows
    with pytest.raises(ValueError, match=r"share 1\.5"):
        route(p, 1.5)


def test_apply_replaces_only_the_routed_rows():
    small = np.array([0.9, 0.55, 0.4, 0.45])
    mask = route(small, 0.5)
    full = np.array([0.0, 0.1, 0.2, 0.3])
    np.testing.assert_array_equal(apply(small, full, mask), [0.9, 0.1, 0.4, 0.3])
    np.testing.assert_array_equal(apply(small, [0.1, 0.3], mask), [0.9, 0.1, 0.4, 0.3])  # routed rows only
    with pytest.raises(ValueError, match="p_big has 3 rows; expected 4 \\(all\\) or 2 \\(routed\\)"):
        apply(small, [0.1, 0.2, 0.3], mask)
    with pytest.raises(ValueError, match="mask"):
        apply(small, full, [1, 0, 1, 0])
