"""aimo2-reproduce end to end on a small sample, and the claim checks on constructed rungs."""

import json

import pandas as pd
import pytest

from aimo2.data import load_problems
from aimo2.report import claims, paired_difference
from aimo2.reproduce import Rung, main
from aimo2.synth import make_sample


def rung(name, correct_by_repeat, tokens):
    """A rung whose records say which problems each repeat got right and what each cost."""
    records = [
        {"repeat": r, "id": f"p{i}", "correct": c, "tokens": tokens, "n_samples": 1, "status": "answered"}
        for r, row in enumerate(correct_by_repeat)
        for i, c in enumerate(row)
    ]
    scores = [float(sum(row)) for row in correct_by_repeat]
    return Rung(name, scores, 0.0, records, len(correct_by_repeat[0]), pd.DataFrame())


def test_paired_difference_by_hand():
    base = rung("a", [[1, 1, 0, 0]], 10)
    tech = rung("b", [[1, 0, 1, 1]], 10)
    mean, se = paired_difference(base, tech)
    # differences 0, -1, +1, +1: mean 0.25, sample sd sqrt(((−.25)²+(−1.25)²+.75²+.75²)/3) = sqrt(11/12)
    assert mean == pytest.approx(0.25)
    assert se == pytest.approx((11 / 12) ** 0.5 / 2)


def test_claims_on_constructed_rungs():
    single = rung("single", [[1, 0, 0, 0]], 10)
    vote = rung("vote", [[1, 1, 1, 0]], 100)
    early_cheap = rung("early", [[1, 1, 1, 0]], 60)  # 40% fewer tokens, same answers
    budget = rung("budget", [[1, 0, 0, 0]], 50)
    allocation = rung("allocation", [[1, 1, 0, 0]], 50)
    found = claims([single, vote, early_cheap, budget, allocation])
    assert [c["holds"] for c in found] == [True, True, True]
    assert [(c["baseline"], c["technique"]) for c in found] == [
        ("single", "vote"),
        ("vote", "early"),
        ("budget", "allocation"),
    ]
    early_costly = rung("early", [[1, 1, 1, 0]], 80)  # only 20% fewer: the goal is 30%
    early_worse = rung(
        "early",
        [
            [0, 0, 0, 0],
        ],
        10,
    )  # cheap but loses three problems
    assert not claims([single, vote, early_costly, budget, allocation])[1]["holds"]
    assert not claims([single, vote, early_worse, budget, allocation])[1]["holds"]
    assert not claims([vote, single, early_cheap, allocation, budget])[0]["holds"]


def test_reproduce_end_to_end(tmp_path, capsys):
    data = make_sample(tmp_path / "data", n_reference=12, n_test=2, n_train=4)
    out = tmp_path / "run"
    main(["--data_dir", str(data), "--output_dir", str(out), "--n_samples", "8", "--repeats", "2",
          "--eval_problems", "2"])  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    names = [e["name"] for e in results["experiments"]]
    assert names == ["single-sample", "vote-8", "vote-8-early-stop", "vote-8-kaggle-budget",
                     "early-stop-time-allocation", "sft-cot", "sft-tir", "grpo", "merge-0.3cot-0.7tir"]  # fmt: skip
    assert results["preset"] == "cpu" and results["backend"] == "simulated" and results["data"] == str(data)
    for e in results["experiments"][:5]:
        assert len(e["folds"]) == 2 and e["cv"] == pytest.approx(sum(e["folds"]) / 2)
        assert all(0 <= f <= 12 for f in e["folds"])
    for claim in results["claims"]:
        assert {claim["baseline"], claim["technique"]} <= set(names) and isinstance(claim["holds"], bool)
    # single sample: exactly one sample per problem; vote-8: eight
    records = pd.read_csv(out / "records.csv")
    assert (records.loc[records["rung"] == "single-sample", "n_samples"] == 1).all()
    assert (records.loc[records["rung"] == "vote-8", "n_samples"] == 8).all()
    # the submission is the best rung's answers, one per reference problem, in Kaggle's layout
    submission = pd.read_csv(out / "submission.csv")
    reference = load_problems(data / "reference.csv", with_answers=True)
    assert list(submission.columns) == ["id", "answer"]
    assert submission["id"].tolist() == reference["id"].tolist()
    assert submission["answer"].between(0, 999).all()
    best = max(results["experiments"][:5], key=lambda e: e["cv"])
    assert (submission["answer"] == reference["answer"]).sum() == best["folds"][0]
    # training rungs ran: losses and rewards logged, models evaluated
    report = (out / "report.md").read_text()
    assert "sft-cot`: training loss" in report and "boxed_in_think" in report
    assert (out / "accuracy_vs_samples.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    verdicts = [line for line in printed.splitlines() if line.startswith(("[holds]", "[does not hold]"))]
    assert len(verdicts) == len(results["claims"]) and f"wrote {out}" in printed
