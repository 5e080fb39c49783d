"""Blending: the combinations by hand, Optuna weights that beat the plain mean, honest cross-fitting."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from jigsaw.blend import combine, cross_fitted, optimize_weights


def test_combine_methods_by_hand():
    preds = np.array([[0.2, 0.9], [0.4, 0.1], [0.6, 0.5]])
    assert combine(preds) == pytest.approx([0.55, 0.25, 0.55])
    assert combine(preds, np.array([3.0, 1.0])) == pytest.approx([0.375, 0.325, 0.575])
    # ranks per column: [1, 2, 3] / 3 and [3, 1, 2] / 3
    assert combine(preds, method="rank") == pytest.approx(
        [(1 / 3 + 1) / 2, (2 / 3 + 1 / 3) / 2, (1 + 2 / 3) / 2]
    )
    assert combine(preds, method="power", power=2.0) == pytest.approx(
        [(0.04 + 0.81) / 2, (0.16 + 0.01) / 2, (0.36 + 0.25) / 2]
    )
    with pytest.raises(ValueError, match="method"):
        combine(preds, method="geometric")


@pytest.fixture
def constructed():
    """A strong model, a weak one and pure noise: the mean is dragged down by the noise."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    strong = 1 / (1 + np.exp(-(2.5 * (y - 0.5) + rng.normal(size=2000))))
    weak = 1 / (1 + np.exp(-(0.8 * (y - 0.5) + rng.normal(size=2000))))
    noise = rng.random(2000)
    return y, np.column_stack([strong, weak, noise])


def test_optimized_weights_beat_the_mean_and_drop_the_noise(constructed):
    y, preds = constructed
    weights = optimize_weights(preds, lambda b: roc_auc_score(y, b), n_trials=60, seed=0)
    assert weights.sum() == pytest.approx(1.0)
    assert roc_auc_score(y, combine(preds, weights)) > roc_auc_score(y, combine(preds)) + 0.01
    assert weights[2] < weights[0]  # the noise gets less weight than the strong model
    again = optimize_weights(preds, lambda b: roc_auc_score(y, b), n_trials=60, seed=0)
    assert again == pytest.approx(weights)


def test_cross_fitting_never_fits_on_the_rows_it_blends(constructed):
    y, preds = constructed
    folds = np.arange(len(y)) % 4
    seen = []

    def score(rows, blended):
        seen.append(rows.copy())
        return roc_auc_score(y[rows], blended)

    blended = cross_fitted(preds, folds, score, n_trials=10, seed=0)
    assert blended.shape == (len(y),) and np.isfinite(blended).all()
    # every weight search saw exactly the rows of all folds but one, and each fold was held out once
    held_out = set()
    for rows in seen:
        k = [k for k in range(4) if np.array_equal(rows, folds != k)]
        assert len(k) == 1
        held_out.add(k[0])
    assert held_out == {0, 1, 2, 3}
    assert roc_auc_score(y, blended) > roc_auc_score(y, combine(preds))
