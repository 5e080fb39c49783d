"""Metrics against hand-computed cases, against the official reference code, and on bad input."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from shared.metrics import (
    accuracy,
    aimo2_score,
    jigsaw_bias_auc,
    jigsaw_bias_breakdown,
    jigsaw_bias_scorer,
    jigsaw_bias_summary,
    map_at_k,
    mcrmse,
    mean_wer,
    pii_fbeta,
    sample_wers,
)


# ---------------------------------------------------------------------------------------------- jigsaw
def official_jigsaw(y_true, y_pred, identities, power=-5.0, w=0.25):
    """The Kaggle benchmark kernel's computation, written with sklearn's roc_auc_score per subset."""

    def auc(mask):
        try:
            return roc_auc_score(label[mask], score[mask])
        except ValueError:
            return np.nan

    label = np.asarray(y_true) >= 0.5
    score = np.asarray(y_pred, dtype=float)
    records = []
    for col in identities.columns:
        sub = identities[col].to_numpy(dtype=float) >= 0.5
        records.append((auc(sub), auc((sub & ~label) | (~sub & label)), auc((sub & label) | (~sub & ~label))))
    table = np.array(records)
    means = [np.power(sum(np.power(table[:, j], power)) / len(table), 1 / power) for j in range(3)]
    return w * roc_auc_score(label, score) + (1 - w) * np.average(means)


def test_jigsaw_hand_computed_single_identity():
    # Overall 3/4; subgroup {0.1-, 0.4+} 1; BPSN {0.1-, 0.9+} 1; BNSP {0.4+, 0.6-} 0; M_-5 of [0] is 0.
    got = jigsaw_bias_auc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], pd.DataFrame({"a": [1, 0, 1, 0]}))
    assert got == pytest.approx(0.25 * 0.75 + 0.25 * (1 + 1 + 0))


def test_jigsaw_hand_computed_two_identities_with_ties_and_power_mean():
    y_true = [0.0, 0.2, 0.5, 0.7, 1.0, 0.0]  # labels 0 0 1 1 1 0 (0.5 is toxic: >= 0.5)
    y_pred = [0.1, 0.5, 0.5, 0.8, 0.3, 0.2]
    ids = pd.DataFrame({"a": [1, 1, 1, np.nan, 0, 0], "b": [0, 0, 1, 1, 0.6, 1]})
    table = jigsaw_bias_breakdown(y_true, y_pred, ids).set_index("identity")
    # a = rows 0,1,2: subgroup {0.1-, 0.5-, 0.5+}: pos 0.5 beats 0.1, ties 0.5 -> (1 + 0.5)/2
    assert table.loc["a", "subgroup_auc"] == pytest.approx(0.75)
    # BPSN a: negatives {0.1, 0.5} (in a), positives {0.8, 0.3} (not in a): 0.8 beats both, 0.3 beats 0.1 -> 3/4
    assert table.loc["a", "bpsn_auc"] == pytest.approx(0.75)
    # BNSP a: positives {0.5} (in a), negatives {0.2} (row 5) -> 1
    assert table.loc["a", "bnsp_auc"] == pytest.approx(1.0)
    # b = rows 2,3,4,5: subgroup {0.5+, 0.8+, 0.3+, 0.2-} -> 1
    assert table.loc["b", "subgroup_auc"] == pytest.approx(1.0)
    # BPSN b: negatives {0.2}, positives outside b: none -> NaN, hence a NaN final score
    assert math.isnan(table.loc["b", "bpsn_auc"])
    assert table["subgroup_size"].tolist() == [3, 4]
    assert math.isnan(jigsaw_bias_auc(y_true, y_pred, ids))


def test_jigsaw_power_mean_and_weights():
    # Two identities with subgroup AUC 1 and 1/2: M_-5 = ((1 + 2**5) / 2) ** (-1/5).
    y_true = [0, 1, 0, 1, 0, 1, 0, 1]
    y_pred = [0.1, 0.9, 0.2, 0.8, 0.6, 0.2, 0.3, 0.7]
    ids = pd.DataFrame({"a": [1, 1, 0, 0, 0, 0, 0, 0], "b": [0, 0, 0, 0, 1, 1, 1, 1]})
    table = jigsaw_bias_breakdown(y_true, y_pred, ids)
    assert table["subgroup_auc"].tolist() == pytest.approx([1.0, 0.5])
    overall = roc_auc_score(y_true, y_pred)
    expected_sub = ((1 + 2**5) / 2) ** (-1 / 5)
    got = jigsaw_bias_auc(y_true, y_pred, ids, power=-5, overall_weight=0.4)
    means = [expected_sub] + [((table[c] ** -5).mean()) ** (-1 / 5) for c in ("bpsn_auc", "bnsp_auc")]
    assert got == pytest.approx(0.4 * overall + 0.2 * sum(means))
    summary = jigsaw_bias_summary(y_true, y_pred, ids, power=-5, overall_weight=0.4)
    assert summary["overall_auc"] == pytest.approx(overall)
    assert [summary[c] for c in ("subgroup_auc", "bpsn_auc", "bnsp_auc")] == pytest.approx(means)
    assert summary["final"] == got


def test_jigsaw_matches_official_code_on_random_data_with_ties():
    rng = np.random.default_rng(0)
    n = 3000
    y_true = rng.random(n)
    y_pred = np.round(y_true * 0.5 + rng.random(n) * 0.5, 2)  # rounding makes many ties
    ids = pd.DataFrame({f"id{j}": np.where(rng.random(n) < 0.7, np.nan, rng.random(n)) for j in range(9)})
    assert jigsaw_bias_auc(y_true, y_pred, ids) == pytest.approx(
        official_jigsaw(y_true, y_pred, ids), abs=1e-12
    )


def test_jigsaw_scorer_weights_count_rows_as_repeats():
    rng = np.random.default_rng(7)
    n = 400
    y_true = rng.random(n)
    y_pred = np.round(y_true + rng.normal(0, 0.3, n), 2)  # ties
    ids = pd.DataFrame(
        {c: np.where(rng.random(n) < 0.5, (rng.random(n) < 0.3).astype(float), np.nan) for c in "abc"}
    )
    score = jigsaw_bias_scorer(y_true, y_pred, ids)
    assert score(None) == jigsaw_bias_auc(y_true, y_pred, ids)
    weights = rng.integers(0, 4, (3, n)).astype(float)  # three bootstrap-like resamples
    batch = score(weights)
    for w, got in zip(weights, batch, strict=True):
        rows = np.repeat(np.arange(n), w.astype(int))
        expected = official_jigsaw(y_true[rows], y_pred[rows], ids.iloc[rows].reset_index(drop=True))
        assert got == pytest.approx(expected, abs=1e-12)
        assert score(w) == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="weights: expected 400 non-negative"):
        score(-np.ones(n))


def test_jigsaw_binarises_at_half_inclusive():
    # 0.5 is toxic and a member; 0.49 is neither. Moving them flips the subgroup AUC from 1 to 0.
    ids = pd.DataFrame({"a": [0.5, 0.5, 0.49, 0.49]})
    assert jigsaw_bias_breakdown([0.5, 0.49, 0.5, 0.49], [0.9, 0.1, 0.2, 0.8], ids)["subgroup_auc"][0] == 1.0
    assert jigsaw_bias_breakdown([0.49, 0.5, 0.5, 0.49], [0.9, 0.1, 0.2, 0.8], ids)["subgroup_auc"][0] == 0.0


@pytest.mark.parametrize(
    ("y_true", "y_pred", "ids", "message"),
    [
        ([0, 1], [0.1, 0.2, 0.3], pd.DataFrame({"a": [1, 0]}), "length mismatch"),
        ([0, 1], [0.1, np.nan], pd.DataFrame({"a": [1, 0]}), "y_pred: NaN or infinite value at row 1"),
        ([0, 1], [0.1, 0.2], pd.DataFrame({"a": ["x", "y"]}), "column 'a' is not numeric"),
        ([0, 1], [0.1, 0.2], [1, 0], "expected a DataFrame"),
        ([], [], pd.DataFrame({"a": []}), "empty input"),
        ([1, 1], [0.1, 0.2], pd.DataFrame({"a": [1, 0]}), "single class"),
    ],
)
def test_jigsaw_bad_input(y_true, y_pred, ids, message):
    with pytest.raises(ValueError, match=message):
        jigsaw_bias_auc(y_true, y_pred, ids)


# ---------------------------------------------------------------------------------------------- mcrmse
def test_mcrmse_hand_computed():
    assert mcrmse([[1, 0], [3, 0]], [[2, 0], [3, 2]]) == pytest.approx((math.sqrt(0.5) + math.sqrt(2)) / 2)
    assert mcrmse(pd.DataFrame({"c": [1.0, 2.0]}), np.array([1.0, 4.0])) == pytest.approx(math.sqrt(2))


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([[1, 2]], [[1, 2, 3]], "shape mismatch"),
        ([[1, 2]], [[1, np.nan]], "NaN or infinite value at row 0, column 1"),
        ([], [], "empty input"),
        ([["a", "b"]], [[1, 2]], "expected numbers"),
    ],
)
def test_mcrmse_bad_input(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        mcrmse(y_true, y_pred)


# ---------------------------------------------------------------------------------------------- map@k
def apk_reference(actual, predicted, k):
    """Kaggle's ml_metrics apk, verbatim in behaviour."""
    predicted = predicted[:k]
    score, hits = 0.0, 0.0
    for i, p in enumerate(predicted):
        if p in actual and p not in predicted[:i]:
            hits += 1.0
            score += hits / (i + 1.0)
    return score / min(len(actual), k)


def test_map_at_k_hand_computed():
    assert map_at_k(["A", "B", "C"], [["A", "B", "C"], ["C", "B"], ["C", "C", "A"]], 3) == pytest.approx(
        2.5 / 3
    )
    # beyond k the label does not count; a repeat before the hit does not change the rank
    assert map_at_k([7, 7], [[1, 2, 3, 7], [1, 1, 7]], 3) == pytest.approx((0 + 1 / 3) / 2)
    # the submission string format
    assert map_at_k(["B", 12], ["A B C", "3 12"], 3) == pytest.approx((1 / 2 + 1 / 2) / 2)


def test_map_at_k_compares_integer_labels_with_string_predictions():
    # Eedi: misconception ids are ints (or floats read from CSV), a ranking is a list of id strings
    assert map_at_k([12, 7], [["3", "12"], ["7"]], 25) == pytest.approx((1 / 2 + 1) / 2)
    assert map_at_k([12.0, 7.0], [["12"], [3, 7]], 25) == pytest.approx((1 + 1 / 2) / 2)
    assert map_at_k(["12"], [[12]], 25) == 1.0
    assert map_at_k([12], [["12.5", "120"]], 25) == 0.0


def test_map_at_k_agrees_with_kaggle_apk():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 8, 200).tolist()
    y_pred = [rng.integers(0, 8, rng.integers(0, 6)).tolist() for _ in range(200)]
    expected = np.mean([apk_reference([t], p, 3) for t, p in zip(y_true, y_pred, strict=True)])
    assert map_at_k(y_true, y_pred, 3) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "k", "message"),
    [
        (["A"], [["A"], ["B"]], 3, "length mismatch"),
        (["A"], [None], 3, "missing prediction .* at row 0"),
        (["A", None], [["A"], ["B"]], 3, "y_true: missing value .* at row 1"),
        (["A"], [["B", np.nan]], 3, "inside the ranking at row 0"),
        (["A"], [["A"]], 0, "positive integer"),
        ([], [], 3, "empty input"),
    ],
)
def test_map_at_k_bad_input(y_true, y_pred, k, message):
    with pytest.raises(ValueError, match=message):
        map_at_k(y_true, y_pred, k)


# ---------------------------------------------------------------------------------------------- WER
def test_sample_wers_hand_computed():
    np.testing.assert_allclose(sample_wers(["a b c d", "x y", "p"], ["a c d e", "", "p q"]), [0.5, 1.0, 1.0])


def test_mean_wer_hand_computed():
    assert mean_wer(["a b c d", "x y"], ["a c d e", ""]) == pytest.approx((2 / 4 + 1.0) / 2)
    # substitution counts once; extra words can push one sample's WER above 1
    assert mean_wer(["a b"], ["a c"]) == pytest.approx(0.5)
    assert mean_wer(["a"], ["b c d"]) == pytest.approx(3.0)
    # no normalisation: case and punctuation differ
    assert mean_wer(["Hello world."], ["hello world"]) == pytest.approx(1.0)


def test_mean_wer_is_mean_of_samples_not_corpus_wer():
    # corpus WER would be (1 + 0) / (1 + 4) = 0.2; the mean of per-sample WER is (1 + 0) / 2
    assert mean_wer(["a", "b c d e"], ["x", "b c d e"]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("refs", "hyps", "message"),
    [
        (["a", "  "], ["a", "b"], "references: row 1 is empty"),
        (["a"], [np.nan], "hypotheses: row 0 is nan"),
        (["a"], ["a", "b"], "length mismatch"),
        ([], [], "empty input"),
    ],
)
def test_mean_wer_bad_input(refs, hyps, message):
    with pytest.raises(ValueError, match=message):
        mean_wer(refs, hyps)


# ---------------------------------------------------------------------------------------------- PII
def frame(rows):
    return pd.DataFrame(rows, columns=["document", "token", "label"])


def test_pii_fbeta_hand_computed():
    true = frame([(0, 1, "B-NAME_STUDENT"), (0, 2, "I-NAME_STUDENT")])
    pred = frame([(0, 1, "B-NAME_STUDENT"), (0, 5, "B-EMAIL")])
    assert pii_fbeta(true, pred) == pytest.approx(26 / (26 + 25 + 1))
    # beta = 1 is the usual F1: 2 TP / (2 TP + FN + FP)
    assert pii_fbeta(true, pred, beta=1) == pytest.approx(2 / 4)


def test_pii_fbeta_full_label_o_rows_and_duplicates():
    true = frame([(0, 1, "B-NAME_STUDENT"), (0, 3, "O"), (1, 1, "B-NAME_STUDENT")])
    # I- instead of B- is a miss plus a false positive; O rows and a duplicate row change nothing
    pred = frame([(0, 1, "B-NAME_STUDENT"), (0, 1, "B-NAME_STUDENT"), (0, 7, "O"), (1, 1, "I-NAME_STUDENT")])
    tp, fn, fp = 1, 1, 1
    assert pii_fbeta(true, pred) == pytest.approx(26 * tp / (26 * tp + 25 * fn + fp))


def test_pii_fbeta_no_true_positive_is_zero():
    assert pii_fbeta(frame([(0, 1, "B-EMAIL")]), frame([(0, 2, "B-EMAIL")])) == 0.0
    assert pii_fbeta(frame([(0, 1, "B-EMAIL")]), frame([])) == 0.0


def test_pii_fbeta_agrees_with_a_pandas_merge():
    rng = np.random.default_rng(2)
    labels = np.array(["O", "B-NAME_STUDENT", "I-NAME_STUDENT", "B-EMAIL", "B-URL_PERSONAL"])

    def random_frame(n):
        return frame(
            zip(rng.integers(0, 50, n), rng.integers(0, 300, n), labels[rng.integers(0, 5, n)], strict=True)
        )

    true, pred = random_frame(4000), random_frame(4000)
    t = true[true.label != "O"].drop_duplicates()
    p = pred[pred.label != "O"].drop_duplicates()
    tp = len(t.merge(p, on=["document", "token", "label"]))
    fn, fp = len(t) - tp, len(p) - tp
    assert pii_fbeta(true, pred) == pytest.approx(26 * tp / (26 * tp + 25 * fn + fp))


@pytest.mark.parametrize(
    ("pred", "message"),
    [
        (pd.DataFrame({"document": [0], "label": ["B-EMAIL"]}), r"y_pred: missing column\(s\) \['token'\]"),
        (frame([(0, None, "B-EMAIL")]), "y_pred: missing token at row 0"),
        (frame([(0, 1.5, "B-EMAIL")]), "column 'token' must hold integers"),
        (frame([(0, -1, "B-EMAIL")]), "negative value at row 0"),
        ([(0, 1, "B-EMAIL")], "expected a pandas DataFrame"),
    ],
)
def test_pii_fbeta_bad_input(pred, message):
    with pytest.raises(ValueError, match=message):
        pii_fbeta(frame([(0, 1, "B-EMAIL")]), pred)


# ---------------------------------------------------------------------------------------------- accuracy
def test_accuracy_hand_computed():
    assert accuracy(["model_a", "model_b", "model_a"], ["model_a", "model_a", "model_a"]) == pytest.approx(
        2 / 3
    )


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (["a"], ["a", "b"], "length mismatch"),
        (["a", "b"], ["a", np.nan], "y_pred: missing value .* at row 1"),
        ([], [], "empty"),
    ],
)
def test_accuracy_bad_input(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        accuracy(y_true, y_pred)


# ---------------------------------------------------------------------------------------------- AIMO2
def test_aimo2_score_single_and_penalized():
    assert aimo2_score([1, 2, 3], [[1, 2, 0]]) == 2.0
    assert aimo2_score([1, 2, 3], [[1, 2, 0], [1, 5, 0]]) == pytest.approx(1.5)  # 1 + 0.5 + 0
    assert aimo2_score([10, 20], [[10, 1], [10, 20], [0, 20]]) == pytest.approx(2 / 3 + 2 / 3)
    assert aimo2_score(np.array([999]), [np.array([999.0])]) == 1.0


def test_aimo2_score_counts_unanswerable_predictions_as_wrong():
    # -1 is the usual "no answer" sentinel; Kaggle scores anything not 0..999 as a wrong answer
    assert aimo2_score([1, 2, 3], [[1, -1, None]]) == 1.0
    assert aimo2_score([1, 2, 3, 4], [[1, np.nan, 1000, 4.5]]) == 1.0
    assert aimo2_score([1, 2], [[1, 2], [1, "2"], [True, 2]]) == pytest.approx(2 / 3 + 2 / 3)


@pytest.mark.parametrize(
    ("y_true", "runs", "message"),
    [
        ([1, 2], [1, 2], "wrap a single run"),
        ([1, 2], [[1]], "length mismatch"),
        ([1, np.nan], [[1, 2]], "y_true: row 1 is nan"),
        ([1, 1000], [[1, 2]], "y_true: row 1 is 1000"),
        ([1, -1], [[1, 2]], "y_true: row 1 is -1"),
        ([1, 2], [], "one or more prediction lists"),
        ([], [[]], "empty input"),
    ],
)
def test_aimo2_score_bad_input(y_true, runs, message):
    with pytest.raises(ValueError, match=message):
        aimo2_score(y_true, runs)
