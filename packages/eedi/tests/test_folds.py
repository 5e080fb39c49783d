"""Folds keep questions whole and hold a share of the misconceptions wholly inside one fold."""

import numpy as np
import pandas as pd
import pytest

from eedi.folds import assign_folds, unseen_columns


def frame(n_questions=120, n_misconceptions=40, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(n_questions):
        for m in rng.choice(n_misconceptions, size=rng.integers(1, 4), replace=False):
            rows.append({"QuestionId": q, "MisconceptionId": int(m)})
    return pd.DataFrame(rows)


def test_a_question_never_spans_two_folds_and_folds_are_even():
    long = frame()
    fold = assign_folds(long, 4, holdout=0.3, seed=1)
    assert long.assign(fold=fold).groupby("QuestionId")["fold"].nunique().max() == 1
    sizes = np.bincount(fold, minlength=4)
    assert sizes.min() > 0 and sizes.max() - sizes.min() <= len(long) / 4


def test_holdout_makes_more_rows_unseen_than_question_grouping_alone():
    long = frame()
    truth = long["MisconceptionId"].to_numpy()

    def unseen_share(holdout):
        fold = assign_folds(long, 4, holdout=holdout, seed=3)
        return unseen_columns(truth, fold, 40)[fold, truth].mean()

    assert unseen_share(0.5) > unseen_share(0.0) + 0.1


def test_a_held_out_misconception_lives_in_one_fold():
    long = frame(n_questions=200, n_misconceptions=80)
    fold = assign_folds(long, 5, holdout=0.4, seed=0)
    per_misconception = long.assign(fold=fold).groupby("MisconceptionId")["fold"].nunique()
    # roughly the drawn share (minus those left out because their group would swamp a fold) sit in one fold
    assert (per_misconception == 1).mean() >= 0.3


def test_same_seed_same_folds_and_too_few_questions_is_an_error():
    long = frame()
    np.testing.assert_array_equal(assign_folds(long, 3, 0.5, 7), assign_folds(long, 3, 0.5, 7))
    with pytest.raises(ValueError, match="at least 5 questions"):
        assign_folds(long[long["QuestionId"] < 3], 5, 0.0, 0)


def test_unseen_columns_by_hand():
    truth = np.array([0, 1, 1, 2])
    fold = np.array([0, 0, 1, 1])
    unseen = unseen_columns(truth, fold, 4)
    # fold 0 is validated against models trained on rows 2, 3 (misconceptions 1, 2)
    assert unseen.tolist() == [[True, False, False, True], [False, False, True, True]]
