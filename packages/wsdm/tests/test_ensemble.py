"""Blending: the log-odds mean by hand, weights chosen on the simplex for accuracy (ties by log loss), and
cross-fitting whose fold weights never depend on that fold's own rows."""

import numpy as np
import pytest

from wsdm.ensemble import EPS, blend, simplex_grid, tune_weights


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_blend_is_the_weighted_mean_of_log_odds():
    np.testing.assert_allclose(blend([[0.9, 0.5], [0.5, 0.2]], [0.5, 0.5]), [0.75, 1 / 3])
    np.testing.assert_allclose(blend([[0.9, 0.5], [0.5, 0.2]], [2, 2]), [0.75, 1 / 3])  # scale-free
    np.testing.assert_allclose(blend([[0.7, 0.1], [0.2, 0.6]], [1.0, 0.0]), [0.7, 0.1])
    # a certain model is clipped, not infinite: 1.0 and 0.0 cancel to 0.5
    np.testing.assert_allclose(blend([[1.0], [0.0]], [0.5, 0.5]), [0.5])
    assert blend([[1.0]], [1.0])[0] == pytest.approx(1 - EPS)
    with pytest.raises(ValueError, match="2 predictions but 3 weights"):
        blend([[0.5], [0.5]], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="one length"):
        blend([[0.5, 0.5], [0.5]], [0.5, 0.5])
    with pytest.raises(ValueError, match="positive sum"):
        blend([[0.5], [0.5]], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        blend([[1.5]], [1.0])


def test_simplex_grid():
    assert [tuple(w) for w in simplex_grid(2, 0.5)] == [(1, 0), (0.5, 0.5), (0, 1)]
    assert len(list(simplex_grid(3, 0.1))) == 66  # C(12, 2)
    with pytest.raises(ValueError, match="whole number"):
        list(simplex_grid(2, 0.3))


def test_weights_hand_case():
    # model 0 gets row 3 wrong, model 1 row 0; each is 3/4 right, the 50/50 blend 4/4 (the only grid point
    # that is: half of model 0's log-odds still gets row 3 wrong)
    y = np.array([1, 0, 1, 0])
    m0 = np.array([0.9, 0.2, 0.6, 0.6])
    m1 = np.array([0.4, 0.45, 0.7, 0.1])
    _, weights, _ = tune_weights([m0, m1, np.full(4, 0.5)], y, fold=np.array([0, 0, 1, 1]), step=0.5)
    np.testing.assert_array_equal(weights, [0.5, 0.5, 0.0])
    assert np.mean((blend([m0, m1], [0.5, 0.5]) > 0.5) == y) == 1.0
    # every blend of these two is right on both rows: the tie goes to the lower log loss, not the grid order
    _, weights, _ = tune_weights([[0.6, 0.4], [0.9, 0.1]], [1, 0], fold=[0, 1], step=0.5)
    np.testing.assert_array_equal(weights, [0.0, 1.0])


def models(n: int, seed: int):
    """Three simulated models of a latent preference: a good one, a noisier one, and noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, n)
    y = (rng.random(n) < sigmoid(z)).astype(int)
    good = sigmoid(z + rng.normal(0, 1, n))
    other = sigmoid(z + rng.normal(0, 1.5, n))
    noise = sigmoid(rng.normal(0, 2, n))
    return [noise, good, other], y


def test_tuning_drops_the_noise_and_mixing_helps():
    probs, y = models(6000, seed=0)
    fold = np.arange(len(y)) % 5
    per_fold, weights, oof = tune_weights(probs, y, fold)
    assert weights[0] <= 0.1 and weights[1] > weights[2] > 0
    assert sorted(per_fold) == [0, 1, 2, 3, 4]
    accuracy = lambda p: np.mean((p > 0.5) == y)  # noqa: E731
    assert accuracy(oof) >= accuracy(probs[1]) - 0.005 and accuracy(oof) > accuracy(probs[2])
    for f, w in per_fold.items():  # each fold's rows use that fold's weights
        inside = fold == f
        np.testing.assert_allclose(oof[inside], blend([p[inside] for p in probs], w))


def test_fold_weights_do_not_depend_on_that_folds_rows():
    probs, y = models(1500, seed=3)
    fold = np.arange(len(y)) % 3
    per_fold, weights, _ = tune_weights(probs, y, fold)
    rng = np.random.default_rng(9)
    moved = []
    for f in (0, 1, 2):
        inside = fold == f
        scrambled = [p.copy() for p in probs]
        for p in scrambled:  # rows of fold f: noise for every model, labels flipped
            p[inside] = rng.random(inside.sum())
        y_scrambled = np.where(inside, 1 - y, y)
        again, weights_again, _ = tune_weights(scrambled, y_scrambled, fold)
        np.testing.assert_array_equal(again[f], per_fold[f])
        moved.append(not np.array_equal(weights_again, weights))
    assert any(moved)  # the perturbation is strong enough to move the weights that do see those rows


def test_tune_weights_checks_its_inputs():
    probs, y = models(20, seed=1)
    with pytest.raises(ValueError, match="at least two folds"):
        tune_weights(probs, y, np.zeros(20))
    with pytest.raises(ValueError, match="0/1"):
        tune_weights(probs, y * 2, np.arange(20) % 2)
    with pytest.raises(ValueError, match="20 rows, but y"):
        tune_weights(probs, y[:5], np.arange(20) % 2)
