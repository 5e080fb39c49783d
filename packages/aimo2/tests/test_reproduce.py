"""aimo2-reproduce end to end on a small sample, and the claim checks on constructed rungs."""

import json

import pandas as pd
import pytest

from aimo2.claims import ROLES, claims, compare
from aimo2.configs import ConfigError
from aimo2.data import load_problems
from aimo2.reproduce import ReproduceArguments, Rung, fitted_samples, main, resolve
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


def ladder(**rungs):
    """Every role of aimo2.claims.ROLES; the ones not given are copies of ``vote``."""
    return {role: rungs.get(role, rungs["vote"]) for role in ROLES}


N, REPEATS = 40, 3
RIGHT = [[1] * N] * REPEATS
HALF = [[1] * (N // 2) + [0] * (N // 2)] * REPEATS


def test_a_claim_is_decided_only_beyond_its_noise():
    base = rung("base", HALF, 100)
    # a clear gain: ten more problems right in every repeat
    gain = compare("gain", base, rung("t", [[1] * 30 + [0] * 10] * REPEATS, 100), evidence="simulated")
    assert gain.delta == pytest.approx(10.0) and gain.holds is True
    assert gain.interval[0] > 0 and gain.evidence == "simulated" and "40 problems" in gain.method
    # a clear loss: ten fewer
    loss = compare("loss", base, rung("t", [[1] * 10 + [0] * 30] * REPEATS, 100), evidence="simulated")
    assert loss.delta == pytest.approx(-10.0) and loss.holds is False and loss.interval[1] < 0
    # a small net gain inside the noise: two problems lost and three won, in every repeat
    noisy = [[0, 0] + [1] * 18 + [1, 1, 1] + [0] * 17] * REPEATS
    noise = compare("noise", base, rung("t", noisy, 100), evidence="simulated")
    assert noise.delta == pytest.approx(1.0) and noise.holds is None
    assert noise.interval[0] < 0 < noise.interval[1]


def test_claims_name_their_baselines_and_decide_each_finding():
    single = rung("single", HALF, 10)
    vote = rung("vote", RIGHT, 100)
    found = claims(ladder(single=single, vote=vote, early=rung("early", RIGHT, 60), fitted=rung("fitted", HALF, 50),
                          early_budget=rung("early-budget", RIGHT, 50), allocation=rung("allocation", RIGHT, 50)),
                   evidence="simulated")  # fmt: skip
    assert [(c.baseline, c.technique) for c in found] == [
        ("single", "vote"), ("vote", "early"), ("vote", "early"), ("fitted", "allocation"),
        ("early-budget", "allocation"),
    ]  # fmt: skip
    # voting wins; the same answers are non-inferior; 40% fewer tokens; allocation beats fitted N;
    # against early stopping under the budget nothing differs: delta 0 is not a gain
    assert [c.holds for c in found] == [True, True, True, True, None]
    assert found[2].delta == pytest.approx(-40.0) and "40% fewer" in found[2].text
    assert "margin of 0.8 of 40 correct answers (2 points)" in found[1].text and found[1].margin == 0.8
    assert {c.evidence for c in found} == {"simulated"}
    # one problem lost in every repeat: a loss of 1 answer against a margin of 0.8 -> not decided, not "equal"
    one_lost = rung("early", [[0] + [1] * (N - 1)] * REPEATS, 60)
    assert claims(ladder(single=single, vote=vote, early=one_lost), evidence="model")[1].holds is None
    # a quarter of the problems lost: early stopping is inferior
    worse = rung("early", [[0] * 10 + [1] * 30] * REPEATS, 60)
    assert claims(ladder(single=single, vote=vote, early=worse), evidence="model")[1].holds is False
    # early stopping that costs more tokens does not save them
    costly = rung("early", RIGHT, 130)
    assert claims(ladder(single=single, vote=vote, early=costly), evidence="model")[2].holds is False


def test_fixed_n_is_the_largest_whole_number_of_batches_that_fits():
    def vote(seconds_per_batch):
        records = [
            {"repeat": 0, "id": f"p{i}", "seconds": 2 * seconds_per_batch, "n_batches": 2} for i in range(5)
        ]
        return Rung("vote-32", [0.0], 0.0, records, 5, pd.DataFrame())

    assert fitted_samples(vote(191.0), 360.0, 8, 32)[0] == 8  # one batch of 191 s fits, two do not
    assert fitted_samples(vote(100.0), 360.0, 8, 32)[0] == 24
    assert fitted_samples(vote(1000.0), 360.0, 8, 32)[0] == 8  # at least one batch
    assert fitted_samples(vote(10.0), 360.0, 8, 32)[0] == 32  # at most N
    assert (
        "360 s per problem / 191 s per batch of 8 (mean of vote-32) -> 1 batch"
        in fitted_samples(vote(191.0), 360.0, 8, 32)[1]
    )


def test_bad_preset_or_backend_is_a_config_error():
    with pytest.raises(SystemExit, match=r"^error: --backend: 'gpt' is not one of"):
        main(["--backend", "gpt"])
    with pytest.raises(ConfigError, match="--preset: 'gpu'"):
        resolve(ReproduceArguments(preset="gpu"))


def test_the_recipes_are_found_whatever_the_working_directory(tmp_path, monkeypatch):
    from aimo2 import reproduce

    monkeypatch.chdir(tmp_path)
    assert reproduce.recipes_dir().is_absolute() and (reproduce.recipes_dir() / "sft-cot.yaml").is_file()


def test_auto_training_needs_the_traces_and_says_what_is_missing(tmp_path, capsys):
    """Kaggle's download (reference.csv, test.csv, sample_submission.csv) has no traces: the cpu preset then skips
    the training rungs with one line instead of stopping at the first missing file."""
    data = make_sample(tmp_path / "data", n_reference=2, n_test=1, n_train=2)
    assert resolve(ReproduceArguments(preset="cpu"), data)[2] is True  # the sample has them
    (data / "train" / "tir.jsonl").unlink()
    assert resolve(ReproduceArguments(preset="cpu"), data)[2] is False
    said = capsys.readouterr().out
    assert "no training rungs: " in said and "has no train/tir.jsonl (" in said
    assert resolve(ReproduceArguments(preset="cpu", training="on"), data)[2] is True  # asked for: it will say why
    assert resolve(ReproduceArguments(preset="cpu", training="off"), data)[2] is False


def test_reproduce_end_to_end(tmp_path, capsys):
    data = make_sample(tmp_path / "data", n_reference=12, n_test=2, n_train=4)
    out = tmp_path / "run"
    main(["--data-dir", str(data), "--output-dir", str(out), "--n_samples", "16", "--batch_size", "4",
          "--repeats", "2", "--eval_problems", "2"])  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    experiments = {e["name"]: e for e in results["experiments"]}
    fitted = next(name for name in experiments if name.endswith("-fits-budget"))
    assert list(experiments) == ["single-sample", "vote-16", "vote-16-early-stop", "vote-16-kaggle-budget", fitted,
                                 "vote-16-early-stop-kaggle-budget", "early-stop-time-allocation", "sft-cot",
                                 "sft-tir", "grpo", "merge-0.3cot-0.7tir"]  # fmt: skip
    assert results["preset"] == "cpu" and results["backend"] == "simulated" and results["data"] == str(data)
    for e in results["experiments"][:7]:
        assert len(e["folds"]) == 2 and e["cv"] == pytest.approx(sum(e["folds"]) / 2)
        assert all(0 <= f <= 12 for f in e["folds"])
    # fixed K is whole batches of 4 whose expected time (vote-16's mean seconds per batch) fits 360 s a
    # problem, and one more batch would not
    records = pd.read_csv(out / "records.csv")
    vote = records[records["rung"] == "vote-16"]
    per_batch, k = vote["seconds"].sum() / vote["n_batches"].sum(), int(fitted.split("-")[1])
    assert k % 4 == 0 and (k == 4 or k / 4 * per_batch <= 360) and (k == 16 or (k / 4 + 1) * per_batch > 360)
    # every claim compares two rungs that ran, names a budget-respecting baseline, and says its numbers
    # come from the simulator; delta is the difference of the two rungs' own figures
    claims_by_baseline = [(c["baseline"], c["technique"]) for c in results["claims"]]
    assert claims_by_baseline == [("single-sample", "vote-16"), ("vote-16", "vote-16-early-stop"),
                                  ("vote-16", "vote-16-early-stop"), (fitted, "early-stop-time-allocation"),
                                  ("vote-16-early-stop-kaggle-budget", "early-stop-time-allocation")]  # fmt: skip
    for i, claim in enumerate(results["claims"]):
        assert claim["evidence"] == "simulated" and claim["holds"] in (True, False, None)
        lo, hi = claim["interval"]
        assert lo <= claim["delta"] <= hi and "12 problems" in claim["method"]
        base, tech = experiments[claim["baseline"]], experiments[claim["technique"]]
        key = "tokens_per_problem" if i == 2 else "cv"
        assert claim["delta"] == pytest.approx(tech[key] - base[key])
    assert results["claims"][1]["margin"] == pytest.approx(0.24)  # 2 points of 12 problems
    # single sample: exactly one sample per problem; vote-16: sixteen
    assert (records.loc[records["rung"] == "single-sample", "n_samples"] == 1).all()
    assert (vote["n_samples"] == 16).all()
    # the submission is the best rung's answers, one per reference problem, in Kaggle's layout
    submission = pd.read_csv(out / "submission.csv")
    reference = load_problems(data / "reference.csv", with_answers=True)
    assert list(submission.columns) == ["id", "answer"]
    assert submission["id"].tolist() == reference["id"].tolist()
    assert submission["answer"].between(0, 999).all()
    best = max(results["experiments"][:7], key=lambda e: e["cv"])
    assert (submission["answer"] == reference["answer"]).sum() == best["folds"][0]
    # training rungs ran: losses and rewards logged, models evaluated
    report = (out / "report.md").read_text()
    assert "sft-cot`: training loss" in report and "boxed_in_think" in report and "## Claims" in report
    assert (out / "accuracy_vs_samples.png").stat().st_size > 1000
    # the console has the table, one verdict per claim and where the files are; the trainers' per-step
    # metrics went to run.log instead
    printed = capsys.readouterr()
    verdicts = [line for line in printed.out.splitlines() if line.startswith(("[holds]", "[does not hold]",
                                                                              "[not decided]"))]  # fmt: skip
    assert len(verdicts) == len(results["claims"]) and f"wrote {out}" in printed.out
    assert "| early-stop-time-allocation |" in printed.out
    assert "'loss'" not in printed.out + printed.err and "!!!!" not in printed.err
    assert "sft-cot step 4" in (out / "run.log").read_text()
