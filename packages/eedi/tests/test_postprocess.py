"""The unseen boost: strength 0 changes nothing, a positive one lifts unseen misconceptions within the head,
and the cross-fitted strength of a fold never looks at that fold's truth."""

import numpy as np

from eedi import postprocess
from eedi.ranked import Ranked, from_scores, rescored


def ranked_rows(seed=0, n=60, m=30, depth=25):
    rng = np.random.default_rng(seed)
    return from_scores(rng.normal(size=(n, m)), depth), rng


def test_strength_zero_leaves_the_ranking_unchanged():
    ranked, rng = ranked_rows()
    unseen = rng.random(30) < 0.5
    same = postprocess.boost(ranked, unseen, 0.0)
    np.testing.assert_array_equal(same.cols, ranked.cols)
    np.testing.assert_array_equal(same.scores, ranked.scores)


def test_boost_by_hand():
    ranked = Ranked(np.array([[3, 1, 2, 0]]), np.array([[-0.1, -0.5, -2.0]]), head=3)
    unseen = np.array([False, False, True, False])
    # column 2 gains 1.0 -> -1.0, still last of the head; 2.0 -> 0.0, first
    assert postprocess.boost(ranked, unseen, 1.0).cols.tolist() == [[3, 1, 2, 0]]
    assert postprocess.boost(ranked, unseen, 2.0).cols.tolist() == [[2, 3, 1, 0]]
    # the tail (column 0, after the head) never moves, even when unseen
    assert postprocess.boost(ranked, np.array([True, False, False, False]), 9.0).cols[0, 3] == 0


def test_cross_fitted_strength_of_a_fold_ignores_that_folds_truth():
    ranked, rng = ranked_rows(n=90)
    fold = np.repeat([0, 1, 2], 30)
    unseen = rng.random((3, 30)) < 0.4
    truth = rng.integers(0, 30, size=90)
    strengths = postprocess.grid(3.0, 0.5)
    boosted, per_fold, _ = postprocess.cross_fitted(ranked, unseen, truth, fold, strengths)
    changed = truth.copy()
    changed[fold == 0] = rng.integers(0, 30, size=30)
    again, per_fold_again, _ = postprocess.cross_fitted(ranked, unseen, changed, fold, strengths)
    assert per_fold[0] == per_fold_again[0]
    np.testing.assert_array_equal(boosted.cols[fold == 0], again.cols[fold == 0])


def test_tuning_finds_a_boost_when_truths_are_unseen_and_none_when_seen():
    rng = np.random.default_rng(1)
    n, m = 200, 40
    unseen = np.zeros(m, dtype=bool)
    unseen[:20] = True
    scores = rng.normal(size=(n, m))
    truth = rng.integers(0, 20, size=n)  # every truth is an unseen misconception, ranked at random
    ranked = from_scores(scores, 25)
    strengths = postprocess.grid(4.0, 0.5)
    assert postprocess.tune(ranked, np.broadcast_to(unseen, (n, m)), truth, strengths) > 0
    seen_truth = rng.integers(20, 40, size=n)
    assert postprocess.tune(ranked, np.broadcast_to(unseen, (n, m)), seen_truth, strengths) == 0


def test_rescored_reorders_only_the_head():
    ranked = from_scores(np.array([[0.9, 0.8, 0.7, 0.6, 0.5]]), 5)
    again = rescored(ranked, np.array([[0.0, 1.0, 0.5]]))
    assert again.cols.tolist() == [[1, 2, 0, 3, 4]] and again.head == 3
    assert again.average_precision(np.array([2])).tolist() == [0.5]
