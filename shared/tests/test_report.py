"""Claims are decided beyond their noise: a paired interval, not a bare comparison of two numbers."""

import json
import math

import numpy as np
import pytest

from shared.report import (
    Claim,
    bootstrap,
    claims_markdown,
    decide,
    resample_weights,
    results,
    spread,
    write_results,
)


def accuracy_pair(correct_a: np.ndarray, correct_b: np.ndarray):
    """score(weights) for two experiments' per-row correctness (the weighted mean of each)."""

    def score(weights):
        return np.average(correct_a, weights=weights), np.average(correct_b, weights=weights)

    return score


def constructed(n: int, p_a: float, p_b: float, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.random(n) < p_a).astype(float), (rng.random(n) < p_b).astype(float)


def test_a_small_gain_with_large_noise_is_not_decided():
    a, b = constructed(200, 0.70, 0.72, seed=1)  # two independent noisy models, 2 points apart
    claim = bootstrap("b beats a", "a", "b", accuracy_pair(a, b), len(a))
    assert claim.delta == pytest.approx(b.mean() - a.mean())
    lo, hi = claim.interval
    assert lo < 0 < hi
    assert claim.holds is None
    assert claim.verdict == "not decided"


def test_a_large_consistent_gain_holds_and_a_consistent_loss_does_not():
    rng = np.random.default_rng(2)
    a = (rng.random(500) < 0.6).astype(float)
    b = np.maximum(a, (rng.random(500) < 0.5).astype(float))  # b is right wherever a is, and more
    gain = bootstrap("b beats a", "a", "b", accuracy_pair(a, b), len(a))
    assert gain.holds is True and gain.interval[0] > 0
    loss = bootstrap("a beats b", "b", "a", accuracy_pair(b, a), len(a))
    assert loss.holds is False and loss.interval[1] < 0
    assert loss.delta == pytest.approx(-gain.delta)


def test_the_same_seed_gives_the_same_interval_and_another_seed_a_close_one():
    a, b = constructed(300, 0.6, 0.66, seed=3)
    runs = [bootstrap("t", "a", "b", accuracy_pair(a, b), len(a), seed=s) for s in (0, 0, 1)]
    assert runs[0] == runs[1]
    assert runs[0].interval != runs[2].interval
    assert runs[0].interval == pytest.approx(runs[2].interval, abs=0.01)  # 1000 resamples: stable


def test_batched_scoring_gives_the_same_interval():
    a, b = constructed(300, 0.6, 0.66, seed=4)

    def batched(weights):
        return weights @ a / weights.sum(axis=1), weights @ b / weights.sum(axis=1)

    one = bootstrap("t", "a", "b", accuracy_pair(a, b), len(a))
    many = bootstrap("t", "a", "b", batched, len(a), batched=True)
    assert many.interval == pytest.approx(one.interval)
    assert many.holds == one.holds


def test_resampling_whole_groups_widens_the_interval_when_rows_of_a_group_move_together():
    # the technique wins on every row of 3 groups out of 30 and loses nowhere: rows look like 60 independent
    # wins, but only 3 groups carry them, so the grouped bootstrap must be much less sure.
    groups = np.repeat(np.arange(30), 20)
    a = np.zeros(len(groups))
    b = np.where(np.isin(groups, [0, 1, 2]), 1.0, 0.0)
    by_rows = bootstrap("t", "a", "b", accuracy_pair(a, b), len(a))
    by_groups = bootstrap("t", "a", "b", accuracy_pair(a, b), len(a), groups=groups, group_name="documents")
    width = [c.interval[1] - c.interval[0] for c in (by_rows, by_groups)]
    assert width[1] > 2 * width[0]
    assert by_groups.method == "paired bootstrap over 30 documents, 1,000 resamples"
    assert by_rows.method == "paired bootstrap over 600 rows, 1,000 resamples"


def test_group_resampling_keeps_groups_whole():
    groups = np.array(["x", "x", "y", "z", "z", "z"])
    for block in resample_weights(6, groups, 50, seed=0):
        for w in block:
            assert w[0] == w[1] and w[3] == w[4] == w[5]
            assert w[[0, 2, 3]].sum() == 3  # three groups drawn


def test_lower_is_better_and_non_inferiority_margin():
    assert decide((-0.3, -0.1), higher_is_better=False) is True  # RMSE went down
    assert decide((0.1, 0.3), higher_is_better=False) is False
    # "no worse than 2 points": an interval reaching down to -1.5 points is non-inferior, -2.5 is not decided
    assert decide((-0.015, 0.01), margin=0.02) is True
    assert decide((-0.025, 0.01), margin=0.02) is None
    assert decide((-0.05, -0.03), margin=0.02) is False
    assert decide((-0.015, 0.01)) is None


def test_spread_over_folds():
    steady = spread("t", "a", "b", [0.80, 0.82, 0.81, 0.79], [0.83, 0.85, 0.84, 0.82])
    assert steady.delta == pytest.approx(0.03)
    assert steady.holds is True
    assert steady.method == "t interval of the paired differences over 4 folds"
    noisy = spread("t", "a", "b", [0.80, 0.90, 0.70], [0.85, 0.80, 0.80])
    assert noisy.holds is None
    single = spread("t", "a", "b", [0.5], [0.9], unit="seeds")
    assert single.holds is None and single.interval == (-math.inf, math.inf)
    with pytest.raises(ValueError, match="same number of folds"):
        spread("t", "a", "b", [0.5, 0.6], [0.9])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="evidence: 'guess'"):
        spread("t", "a", "b", [0.5, 0.6], [0.6, 0.7], evidence="guess")
    with pytest.raises(ValueError, match="groups: 2 labels for 3 rows"):
        bootstrap("t", "a", "b", lambda w: (0.0, 1.0), 3, groups=[1, 2])
    with pytest.raises(ValueError, match="undefined"):
        bootstrap("t", "a", "b", lambda w: (float("nan"), 1.0), 10)


def test_results_schema_markdown_and_strict_json(tmp_path):
    claim = Claim("b beats a", "a", "b", 0.03, (0.01, 0.05), "simulated", True, "paired bootstrap")
    content = results(chapter="demo", metric="accuracy", higher_is_better=True, data="sample", preset="cpu",
                      experiments=[{"name": "a", "cv": float("nan"), "folds": [0.5], "seconds": 1.0}],
                      claims=[claim], backend="x")  # fmt: skip
    assert content["claims"][0] == {
        "text": "b beats a", "baseline": "a", "technique": "b", "delta": 0.03, "interval": [0.01, 0.05],
        "evidence": "simulated", "holds": True, "method": "paired bootstrap", "margin": 0.0,
    }  # fmt: skip
    write_results(tmp_path / "results.json", content)
    loaded = json.loads((tmp_path / "results.json").read_text())
    assert loaded["experiments"][0]["cv"] is None and loaded["backend"] == "x"
    lines = claims_markdown([claim])
    assert (
        lines[2].startswith("- [holds] b beats a (a → b: delta +0.03")
        and "simulated: not a finding" in lines[2]
    )
    with pytest.raises(ValueError, match=r"experiments\[0\] \(a\): missing \['folds', 'seconds'\]"):
        results(chapter="d", metric="m", higher_is_better=True, data="s", preset="cpu",
                experiments=[{"name": "a", "cv": 1.0}], claims=[])  # fmt: skip


def test_markdown_table_by_hand():
    import pandas as pd

    from shared.report import markdown_table

    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1 / 3], "c": ["x", "—"]})
    assert markdown_table(frame) == "| a | b | c |\n|---|---|---|\n| 1 | 0.5000 | x |\n| 2 | 0.3333 | — |"
    assert markdown_table(frame, decimals=1).splitlines()[3] == "| 2 | 0.3 | — |"
