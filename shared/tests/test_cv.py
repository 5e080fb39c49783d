"""Fold assignment: every row in exactly one fold, the strategy's promise kept, refusals explained."""

import numpy as np
import pandas as pd
import pytest

from shared.cv import bin_continuous, make_folds


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 600
    return pd.DataFrame(
        {
            "label": rng.choice(["a", "b", "c"], size=n, p=[0.7, 0.2, 0.1]),
            "score": rng.gamma(2.0, 1.0, size=n),
            "prompt": rng.integers(0, 40, size=n),
            "types": [
                sorted(rng.choice(["NAME", "EMAIL", "URL", "PHONE"], size=rng.integers(0, 3), replace=False))
                for _ in range(n)
            ],
        }
    )


def test_kfold_partitions_rows_and_is_deterministic(frame):
    a = make_folds(frame, 5, "kfold", seed=1)
    b = make_folds(frame, 5, "kfold", seed=1)
    c = make_folds(frame, 5, "kfold", seed=2)
    assert a["fold"].tolist() == b["fold"].tolist()
    assert a["fold"].tolist() != c["fold"].tolist()
    assert np.bincount(a["fold"]).tolist() == [120] * 5
    assert "fold" not in frame.columns  # the input frame is left alone


def test_stratified_keeps_class_shares(frame):
    folds = make_folds(frame, 5, "stratified", target="label")
    shares = pd.crosstab(folds["fold"], folds["label"], normalize="index")
    overall = frame["label"].value_counts(normalize=True)
    assert (shares - overall).abs().to_numpy().max() < 0.02


def test_stratified_bins_a_continuous_target(frame):
    folds = make_folds(frame, 5, "stratified", target="score")
    means = folds.groupby("fold")["score"].mean()
    # a random split of this skewed target spreads fold means far wider than quantile stratification
    assert means.max() - means.min() < 0.1
    bins = bin_continuous(frame["score"])
    assert len(np.unique(bins)) == int(np.floor(1 + np.log2(len(frame))))  # Sturges


def test_group_never_splits_a_group(frame):
    folds = make_folds(frame, 4, "group", groups="prompt", seed=3)
    assert (folds.groupby("prompt")["fold"].nunique() == 1).all()
    assert sorted(folds["fold"].unique()) == [0, 1, 2, 3]
    assert folds["fold"].tolist() == make_folds(frame, 4, "group", groups="prompt", seed=3)["fold"].tolist()


def test_stratified_group_keeps_groups_and_balance():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(100), 5)
    label = np.repeat(rng.choice([0, 1], size=100, p=[0.8, 0.2]), 5)
    df = pd.DataFrame({"g": groups, "y": label})
    folds = make_folds(df, 5, "stratified_group", target="y", groups="g")
    assert (folds.groupby("g")["fold"].nunique() == 1).all()
    positives = folds.groupby("fold")["y"].mean()
    assert positives.max() - positives.min() < 0.06


def test_multilabel_balances_every_label(frame):
    folds = make_folds(frame, 5, "multilabel", labels="types")
    for label in ["NAME", "EMAIL", "URL", "PHONE"]:
        has = folds["types"].map(lambda types, label=label: label in types)
        counts = has.groupby(folds["fold"]).sum()
        assert counts.max() - counts.min() <= 2, (label, counts.tolist())


def test_multilabel_from_indicator_columns():
    df = pd.DataFrame({"x": [1, 0] * 10, "y": [1, 1, 0, 0] * 5})
    folds = make_folds(df, 2, "multilabel", labels=["x", "y"])
    assert folds.groupby("fold")[["x", "y"]].sum().to_numpy().tolist() == [[5, 5], [5, 5]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(strategy="group", groups="prompt", n_splits=50),
            "has 40 distinct groups, fewer than n_splits=50",
        ),
        (dict(strategy="stratified", target="rare"), "fewer members than n_splits=5 .*'z' has 2"),
        (dict(strategy="multilabel", labels="tags"), r"fewer members than n_splits=5 .*'PHONE': 1"),
        (dict(strategy="stratified", target="missing"), "column 'missing' not in the frame"),
        (dict(strategy="stratified", target="holes"), "column 'holes' is missing at row 3"),
        (dict(strategy="stratified"), "needs `target`"),
        (dict(strategy="multilabel"), "needs `labels`"),
        (dict(strategy="shuffle"), "not one of"),
        (dict(strategy="kfold", n_splits=1), "n_splits"),
    ],
)
def test_impossible_splits_are_refused(kwargs, message):
    n = 80
    df = pd.DataFrame(
        {
            "prompt": np.arange(n) % 40,
            "rare": ["z"] * 2 + ["y"] * (n - 2),
            "holes": [1.0, 2.0, 3.0, np.nan] + [1.0] * (n - 4),
            "tags": [["PHONE"]] + [["NAME"]] * (n - 1),
        }
    )
    kwargs.setdefault("n_splits", 5)
    with pytest.raises(ValueError, match=message):
        make_folds(df, **kwargs)


def test_stratified_group_refuses_a_class_in_too_few_groups():
    df = pd.DataFrame({"g": [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], "y": [1, 1] + [0] * 10})
    with pytest.raises(ValueError, match="counted in groups"):
        make_folds(df, 3, "stratified_group", target="y", groups="g")
