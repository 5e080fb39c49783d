"""Score fusion: normalisation, RRF by hand, weights on the simplex, and cross-fitting that never looks at
a fold's own truth."""

import numpy as np
import pytest

from eedi.fusion import cross_fitted, fuse, normalise, rrf, simplex_grid, tune_weights
from eedi.ranking import map_at_k, top_k


def test_normalisation_by_hand():
    scores = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    np.testing.assert_allclose(normalise(scores, "minmax"), [[0, 0.5, 1], [0, 0, 0]])
    np.testing.assert_allclose(normalise(scores), [[-1.2247449, 0, 1.2247449], [0, 0, 0]], rtol=1e-6)
    with pytest.raises(ValueError, match="norm 'rank'"):
        normalise(scores, "rank")


def test_rrf_by_hand():
    a = np.array([[0.9, 0.5, 0.1]])  # ranks 1, 2, 3
    b = np.array([[0.2, 0.2, 0.8]])  # ranks 2, 3, 1 (the tie by column)
    expected = [[1 / 61 + 1 / 62, 1 / 62 + 1 / 63, 1 / 63 + 1 / 61]]
    np.testing.assert_allclose(rrf([a, b]), expected, rtol=1e-6)
    np.testing.assert_allclose(rrf([a, b], k=0), [[1 + 1 / 2, 1 / 2 + 1 / 3, 1 / 3 + 1]], rtol=1e-6)
    assert top_k(rrf([a, b]), 3).tolist() == [[0, 2, 1]]


def test_weight_one_on_the_first_matrix_keeps_its_ranking():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((50, 30)) * 7 + 3, rng.standard_normal((50, 30))
    for norm in ("zscore", "minmax"):
        fused = fuse([a, b], [1.0, 0.0], norm)
        np.testing.assert_array_equal(fused, normalise(a, norm))
        np.testing.assert_array_equal(top_k(fused, 30), top_k(a, 30))
    np.testing.assert_allclose(fuse([a, b], [0.5, 0.5]), 0.5 * normalise(a) + 0.5 * normalise(b), rtol=1e-6)
    with pytest.raises(ValueError, match="2 score matrices but 3 weights"):
        fuse([a, b], [1, 0, 0])
    with pytest.raises(ValueError, match="share one"):
        fuse([a, b[:, :5]], [1, 0])


def test_simplex_grid():
    grid = [tuple(w) for w in simplex_grid(3, 0.5)]
    assert grid == [(1, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 1, 0), (0, 0.5, 0.5), (0, 0, 1)]
    assert len(list(simplex_grid(4, 0.1))) == 286  # C(13, 3)
    with pytest.raises(ValueError, match="whole number"):
        list(simplex_grid(2, 0.3))


def signal(n, m, seed, strength):
    """Scores in which the truth column gets ``strength`` extra over noise."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, m, size=n)
    scores = rng.standard_normal((n, m))
    scores[np.arange(n), truth] += strength
    return scores, truth


def test_tuning_prefers_the_informative_retriever_and_mixing_helps():
    n, m = 400, 60
    rng = np.random.default_rng(0)
    truth = rng.integers(0, m, size=n)
    boost = np.zeros((n, m))
    boost[np.arange(n), truth] = 1.5
    good = rng.standard_normal((n, m)) + boost
    other = rng.standard_normal((n, m)) + boost  # independent noise: the average beats either one
    noise = rng.standard_normal((n, m))
    weights = tune_weights([noise, good, other], truth, grid_step=0.1)
    assert weights[0] == 0 and abs(weights[1] - weights[2]) <= 0.3 and weights.sum() == pytest.approx(1)
    mixed = map_at_k(fuse([noise, good, other], weights), truth)
    assert mixed > max(map_at_k(good, truth), map_at_k(other, truth))


def test_cross_fitted_fold_rows_never_depend_on_their_own_truth():
    n, m = 300, 40
    a, truth = signal(n, m, seed=1, strength=1.0)
    rng = np.random.default_rng(2)
    b = rng.standard_normal((n, m))
    b[np.arange(n), truth] += 2.0
    fold = np.arange(n) % 3
    fused, weights_all = cross_fitted([a, b], truth, fold, grid_step=0.25)
    np.testing.assert_array_equal(weights_all, tune_weights([a, b], truth, grid_step=0.25))
    for f in range(3):
        inside = fold == f
        expected = fuse([a[inside], b[inside]], tune_weights([a[~inside], b[~inside]], truth[~inside], 0.25))
        np.testing.assert_array_equal(fused[inside], expected)

    # scramble fold 0's truth: fold 0's fused rows stay the same, the other folds' rows may change
    scrambled = truth.copy()
    scrambled[fold == 0] = rng.integers(0, m, size=(fold == 0).sum())
    again, _ = cross_fitted([a, b], scrambled, fold, grid_step=0.25)
    np.testing.assert_array_equal(again[fold == 0], fused[fold == 0])
    # a truth that makes retriever a the only useful one moves the weights the other folds get
    flipped = truth.copy()
    flipped[fold == 0] = np.argmax(a[fold == 0], axis=1)
    moved, _ = cross_fitted([a, b], flipped, fold, grid_step=0.25)
    np.testing.assert_array_equal(moved[fold == 0], fused[fold == 0])
    assert not np.array_equal(moved[fold != 0], fused[fold != 0])
    with pytest.raises(ValueError, match="at least two folds"):
        cross_fitted([a, b], truth, np.zeros(n, dtype=int))
