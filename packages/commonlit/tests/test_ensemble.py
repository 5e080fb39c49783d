"""Blend weights: non-negative, summing to one, recovering a known mixture; the cross-fitted CV never
scores a fold with weights fitted on it."""

import numpy as np
import pytest

from commonlit.ensemble import blend, cross_fitted, fit_weights, seed_average


def test_fit_weights_recovers_a_known_mixture():
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(200, 2)) for _ in range(3))
    target = 0.7 * a + 0.3 * b  # c is noise: its weight must be ~0
    w = fit_weights([a, b, c], target)
    assert w.shape == (3, 2)
    np.testing.assert_allclose(w.sum(axis=0), 1.0, atol=1e-6)
    assert (w >= 0).all()
    np.testing.assert_allclose(w, [[0.7, 0.7], [0.3, 0.3], [0, 0]], atol=1e-3)
    np.testing.assert_allclose(blend([a, b, c], w), target, atol=1e-3)


def test_weights_are_per_target():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
    target = np.stack([a[:, 0], b[:, 1]], axis=1)  # content from a, wording from b
    np.testing.assert_allclose(fit_weights([a, b], target), [[1, 0], [0, 1]], atol=1e-3)


def test_cross_fitted_weights_come_from_the_other_folds():
    # fold 0: member a is perfect; fold 1: member b is. Fitted on the other fold, each fold's blend picks the
    # wrong member, so the cross-fitted OOF is far worse than the in-sample blend.
    rng = np.random.default_rng(2)
    target = rng.normal(size=(100, 2))
    fold = np.repeat([0, 1], 50)
    noise = rng.normal(size=(100, 2))
    a = np.where(fold[:, None] == 0, target, noise)
    b = np.where(fold[:, None] == 1, target, noise)
    oof, _ = cross_fitted([a, b], target, fold)
    np.testing.assert_allclose(
        oof[fold == 0],
        blend([a[fold == 0], b[fold == 0]], fit_weights([a[fold == 1], b[fold == 1]], target[fold == 1])),
    )
    assert np.abs(oof - target).mean() > 0.3


def test_seed_average():
    np.testing.assert_allclose(seed_average([np.ones((2, 2)), 3 * np.ones((2, 2))]), 2 * np.ones((2, 2)))
    with pytest.raises(ValueError):
        seed_average([])
