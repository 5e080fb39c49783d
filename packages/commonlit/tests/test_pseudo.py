"""Which fold model labels which generated row: never one that trained on the row's prompt, and never one
that saw the validation fold it is mixed into."""

import numpy as np
import pandas as pd
import pytest

from commonlit.data import DataError
from commonlit.pseudo import NEW_PROMPT, PseudoLabels, fold_of_prompt, prompt_folds

# three training prompts in three folds (a, b, c → folds 0, 1, 2) and one new prompt g
FOLDS = {"a": 0, "b": 1, "c": 2}


@pytest.fixture
def labels():
    prompts = ["a", "b", "c", "g", "g", "a"]
    frame = pd.DataFrame({"student_id": [f"gen{i}" for i in range(6)], "prompt_id": prompts,
                          "text": [f"summary {i}" for i in range(6)], "prompt_question": "q", "prompt_title": "t",
                          "prompt_text": "p"})  # fmt: skip
    # fold model k predicts 10*k + row index for content, -(10*k + row) for wording: the labeller is readable
    by_fold = np.stack(
        [np.stack([10 * k + np.arange(6.0), -(10 * k + np.arange(6.0))], axis=1) for k in range(3)]
    )
    return PseudoLabels(frame, by_fold, prompt_folds(frame["prompt_id"], FOLDS), weight=0.25)


def trained_on(k: int) -> set[str]:
    """The training prompts fold model k trained on: every prompt outside fold k."""
    return {p for p, f in FOLDS.items() if f != k}


def test_no_row_is_labelled_by_a_model_that_trained_on_its_prompt(labels):
    for k in [None, 0, 1, 2]:
        rows, _, by = labels.labelled(k)
        for row, model in zip(rows, by, strict=True):
            prompt = labels.frame["prompt_id"].iloc[row]
            models = range(3) if model == NEW_PROMPT else [model]
            assert all(prompt not in trained_on(m) for m in models), (k, prompt, model)


def test_a_fold_only_gets_rows_labelled_by_its_own_model(labels):
    rows, values, by = labels.labelled(1)
    assert list(labels.frame["prompt_id"].iloc[rows]) == [
        "b",
        "g",
        "g",
    ]  # its validation prompt + new prompts
    assert (by == 1).all()
    np.testing.assert_array_equal(values[:, 0], 10 + rows)  # fold model 1's predictions


def test_the_full_data_model_gets_out_of_fold_and_mean_labels(labels):
    rows, values, by = labels.labelled(None)
    assert list(rows) == list(range(6))
    assert list(by) == [0, 1, 2, NEW_PROMPT, NEW_PROMPT, 0]
    np.testing.assert_array_equal(values[:, 0], [0, 11, 22, 13, 14, 5])  # new prompts: mean of 3, 13, 23 ...
    np.testing.assert_array_equal(values[:, 1], -values[:, 0])


def test_mix_appends_weighted_rows(labels):
    train = pd.DataFrame({"student_id": ["s1", "s2"], "prompt_id": ["a", "b"], "text": ["x", "y"],
                          "prompt_question": "q", "prompt_title": "t", "prompt_text": "p"})  # fmt: skip
    frame, targets, weights = labels.mix(train, np.array([[1.0, 2.0], [3.0, 4.0]]), 0)
    assert list(frame["student_id"]) == ["s1", "s2", "gen0", "gen3", "gen4", "gen5"]
    np.testing.assert_array_equal(weights, [1, 1, 0.25, 0.25, 0.25, 0.25])
    np.testing.assert_array_equal(targets[2:, 0], [0, 3, 4, 5])


def test_counts_add_up(labels):
    counts = labels.counts()
    assert counts["used_per_fold"] == [4, 3, 3]
    assert [u + o for u, o in zip(counts["used_per_fold"], counts["left_out_per_fold (labelled by a model that saw the fold)"],
                                  strict=True)] == [6, 6, 6]  # fmt: skip
    assert counts["new_prompt_rows"] == 2 and counts["training_prompt_rows"] == 4


def test_csv_round_trip(labels, tmp_path):
    labels.to_csv(tmp_path / "pseudo.csv")
    back = PseudoLabels.read_csv(tmp_path / "pseudo.csv", weight=0.25)
    np.testing.assert_allclose(back.by_fold, labels.by_fold)
    np.testing.assert_array_equal(back.prompt_fold, labels.prompt_fold)
    assert list(back.frame["student_id"]) == list(labels.frame["student_id"])
    with pytest.raises(DataError, match=r"pseudo\.csv: column 'content_fold0' is missing"):
        (tmp_path / "bad").mkdir()
        pd.DataFrame({"text": ["x"], "prompt_id": ["a"], "prompt_text": ["p"], "prompt_fold": [0]}).to_csv(
            tmp_path / "bad" / "pseudo.csv", index=False
        )
        PseudoLabels.read_csv(tmp_path / "bad" / "pseudo.csv", weight=0.5)


def test_fold_of_prompt_refuses_a_prompt_in_two_folds():
    train = pd.DataFrame({"prompt_id": ["a", "a", "b"]})
    assert fold_of_prompt(train, np.array([0, 0, 1])) == {"a": 0, "b": 1}
    with pytest.raises(ValueError, match="a prompt sits in two folds"):
        fold_of_prompt(train, np.array([0, 1, 1]))
