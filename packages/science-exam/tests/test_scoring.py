"""MAP@3 from probabilities, the submission file, the blend and the cascade: hand-computed cases."""

import numpy as np
import pandas as pd
import pytest

from science_exam import cascade, ensemble
from science_exam.scoring import average_precision, map_at_3, predictions
from science_exam.submission import submission_frame
from shared.metrics import map_at_k

P = np.array(
    [
        [0.1, 0.6, 0.2, 0.05, 0.05],  # B C A D E
        [0.3, 0.3, 0.1, 0.2, 0.1],  # A B D C E (tie A/B keeps letter order)
        [0.5, 0.1, 0.1, 0.2, 0.1],  # A D B C E
    ]
)


def test_ranking_and_average_precision_by_hand():
    assert predictions(P) == ["B C A", "A B D", "A D B"]
    ap = average_precision(P, ["C", "B", "E"])
    np.testing.assert_allclose(ap, [1 / 2, 1 / 2, 0.0])
    assert map_at_3(P, ["C", "B", "E"]) == pytest.approx(1 / 3)


def test_agrees_with_the_shared_metric_on_random_rankings():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(5), size=200)
    answers = rng.choice(list("ABCDE"), size=200)
    assert map_at_3(proba, answers) == pytest.approx(map_at_k(answers, predictions(proba), k=3))


def test_submission_rejects_nan_and_row_mismatch():
    frame = submission_frame(["q1", "q2", "q3"], P)
    assert list(frame.columns) == ["id", "prediction"] and frame["prediction"].tolist()[0] == "B C A"
    with pytest.raises(ValueError, match="NaN"):
        submission_frame(["q1", "q2", "q3"], np.where(P > 0.5, np.nan, P))
    with pytest.raises(ValueError, match="2 rows for 3"):
        submission_frame(["q1", "q2", "q3"], P[:2])


def test_simplex_grid_sums_to_one_and_starts_equal():
    grid = ensemble.simplex(3, step=0.5)
    np.testing.assert_allclose(grid[0], [1 / 3] * 3)
    np.testing.assert_allclose(grid.sum(axis=1), 1.0)
    assert len(grid) == 1 + 6  # equal weights, then (1,0,0) ... (0.5,0.5,0) ...


def test_blend_weights_pick_the_right_member_and_cross_fitting_is_honest():
    rng = np.random.default_rng(1)
    answers = rng.choice(list("ABCDE"), size=120)
    onehot = np.eye(5)[["ABCDE".index(a) for a in answers]]
    good = 0.7 * onehot + 0.3 * rng.dirichlet(np.ones(5), size=120)
    noise = rng.dirichlet(np.ones(5), size=120)
    weights = ensemble.fit_weights([noise, good], answers)
    assert weights[1] > weights[0]
    fold = np.arange(120) % 3
    oof, _ = ensemble.cross_fitted([noise, good], answers, fold)
    for k in range(3):  # each fold blended with the weights the other folds chose
        w = ensemble.fit_weights([noise[fold != k], good[fold != k]], answers[fold != k])
        np.testing.assert_allclose(oof[fold == k], w[0] * noise[fold == k] + w[1] * good[fold == k])


def test_cascade_routes_the_least_confident_questions():
    small = np.array([[0.9, 0.1, 0, 0, 0], [0.45, 0.4, 0.15, 0, 0], [0.5, 0.2, 0.3, 0, 0]])
    np.testing.assert_allclose(cascade.margin(small), [0.8, 0.05, 0.2])
    large = np.tile([0, 0, 0, 0, 1.0], (3, 1))
    out = cascade.combine(small, large, threshold=0.1)
    np.testing.assert_allclose(out[1], large[1])
    np.testing.assert_allclose(out[[0, 2]], small[[0, 2]])


def test_cascade_routes_a_share_within_budget_where_the_large_reader_helps():
    rng = np.random.default_rng(2)
    n = 100
    answers = np.array(["A"] * n)
    small = rng.dirichlet(np.ones(5), size=n)
    small[:50, 0] += 2.0  # sure and right on half
    small /= small.sum(axis=1, keepdims=True)
    large = np.tile([1.0, 0, 0, 0, 0], (n, 1))  # always right
    share = cascade.fit_share(small, large, answers, budget=0.3)
    assert share == pytest.approx(0.3)  # every routed question gains, so the whole budget is used
    threshold = cascade.threshold_for(small, share)
    assert cascade.routed(small, threshold).sum() == 30
    assert map_at_3(cascade.combine(small, large, threshold), answers) > map_at_3(small, answers)
    assert cascade.fit_share(small, large, answers, budget=0.0) == 0.0
    assert not cascade.routed(small, cascade.threshold_for(small, 0.0)).any()
    assert cascade.routed(small, cascade.threshold_for(small, 1.0)).all()


def test_a_share_routes_the_same_proportion_of_new_questions_whatever_their_margins():
    rng = np.random.default_rng(3)
    sharp = rng.dirichlet(np.ones(5) * 0.2, size=200)
    flat = 0.5 * sharp + 0.1  # a fold-mean's smaller margins
    for proba in (sharp, flat):
        assert cascade.routed(proba, cascade.threshold_for(proba, 0.25)).sum() == 50


def test_submission_frame_keeps_the_order_of_ids():
    frame = submission_frame(["b", "a", "c"], P)
    pd.testing.assert_series_equal(frame["id"], pd.Series(["b", "a", "c"], name="id"))
