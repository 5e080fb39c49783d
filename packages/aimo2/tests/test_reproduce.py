"""aimo2-reproduce end to end on a small sample, and the claim checks on constructed rungs."""

import json

import pandas as pd
import pytest

from aimo2 import predict, reproduce
from aimo2.claims import ROLES, claims, compare
from aimo2.configs import ConfigError
from aimo2.learner import CurriculumPreset
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
    from aimo2 import paths

    monkeypatch.chdir(tmp_path)
    assert paths.recipes_dir().is_absolute() and (paths.recipes_dir() / "sft-cot.yaml").is_file()


def test_auto_training_is_the_cpu_model_ladder_and_the_full_preset_needs_the_traces(tmp_path):
    """The cpu preset's training ladder writes its own curriculum, so Kaggle's download (no traces) still gets
    it; the full preset trains on the data's traces only when asked, and says which are missing."""
    data = make_sample(tmp_path / "data", n_reference=2, n_test=1, n_train=2)
    (data / "train" / "tir.jsonl").unlink()
    assert resolve(ReproduceArguments(preset="cpu"), data)[2] is True
    assert resolve(ReproduceArguments(preset="cpu", training="off"), data)[2] is False
    assert resolve(ReproduceArguments(preset="full", backend="vllm"), data)[2] is False
    with pytest.raises(ConfigError, match=r"has no train/tir.jsonl: make them with aimo2-prepare-data"):
        resolve(ReproduceArguments(preset="full", training="on"), data)


TINY = CurriculumPreset(
    n_train=6, n_reference=2, n_test=1, pretrain_steps=0, sft_cot_steps=10, sft_tir_steps=10, grpo_steps=10,
    num_generations=4, eval_samples=2, max_new_tokens=48, n_samples=4, ladder_batch_size=2, min_agree=2,
    arch=dict(vocab_size=600, hidden_size=32, intermediate_size=64, num_layers=1, num_heads=2, num_kv_heads=1,
              max_position_embeddings=512),
)  # fmt: skip


@pytest.mark.slow
def test_reproduce_end_to_end(tmp_path, capsys, monkeypatch):
    """The simulated what-if on the olympiad sample, then the model ladder on a tiny curriculum (tiny sizes: the
    mechanics; the README's figures come from the default sizes)."""
    monkeypatch.setattr(reproduce, "CurriculumPreset", lambda: TINY)
    data = make_sample(tmp_path / "data", n_reference=12, n_test=2, n_train=4)
    out = tmp_path / "run"
    main(["--data-dir", str(data), "--output-dir", str(out), "--n_samples", "16", "--batch_size", "4",
          "--repeats", "2"])  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    experiments = {e["name"]: e for e in results["experiments"]}
    # the what-if: the simulated rungs, labelled, and their claims kept apart from the chapter's
    simulated = [e for e in results["experiments"] if e["name"].startswith("simulated: ")]
    names = [e["name"].removeprefix("simulated: ") for e in simulated]
    fitted = next(name for name in names if name.endswith("-fits-budget"))
    assert names == ["single-sample", "vote-16", "vote-16-early-stop", "vote-16-kaggle-budget", fitted,
                     "vote-16-early-stop-kaggle-budget", "early-stop-time-allocation"]  # fmt: skip
    for e in simulated:
        assert e["evidence"] == "simulated" and len(e["folds"]) == 2 and all(0 <= f <= 12 for f in e["folds"])
    records = pd.read_csv(out / "records.csv")
    vote = records[records["rung"] == "simulated: vote-16"]
    per_batch, k = vote["seconds"].sum() / vote["n_batches"].sum(), int(fitted.split("-")[1])
    assert k % 4 == 0 and (k == 4 or k / 4 * per_batch <= 360) and (k == 16 or (k / 4 + 1) * per_batch > 360)
    what_if = results["what_if_claims"]
    assert len(what_if) == 5 and all(c["evidence"] == "simulated" for c in what_if)
    assert (what_if[0]["baseline"], what_if[0]["technique"]) == ("single-sample", "vote-16")
    # the chapter's claims: the model ladder's, every one on model evidence, delta inside its interval
    found = results["claims"]
    assert [(c["baseline"], c["technique"]) for c in found] == [
        ("base (cot, sampled)", "sft-cot (cot, sampled)"), ("sft-cot (cot, sampled)", "grpo (cot, sampled)"),
        ("sft-cot (cot, sampled)", "grpo (cot, sampled)"), ("sft-cot (cot, sampled)", "merge-0.3cot-0.7tir (cot, sampled)"),
        ("sft-tir (tir, sampled)", "merge-0.3cot-0.7tir (tir, sampled)"), ("single-sample", "vote-4"),
        ("vote-4", "vote-4-early-stop"), ("vote-4", "vote-4-early-stop"),
        (next(n for n in experiments if n.startswith("vote-") and n.endswith("-fits-budget")), "early-stop-step-allocation"),
        ("vote-4-early-stop-step-budget", "early-stop-step-allocation")]  # fmt: skip
    for claim in found:
        lo, hi = claim["interval"]
        assert claim["evidence"] == "model" and lo <= claim["delta"] <= hi
    sft, base = experiments["sft-cot (cot, sampled)"], experiments["base (cot, sampled)"]
    assert found[0]["delta"] == pytest.approx(100 * (sft["cv"] - base["cv"]))
    assert "8 problems" in found[0]["method"] and "8 problems" in found[5]["method"]
    # the model rungs: the budget of decoding steps is never exceeded by the allocation rung
    allocation = records[records["rung"] == "early-stop-step-allocation"]
    budget = int(experiments["early-stop-step-allocation"]["note"].split()[0])
    assert allocation["decoding_steps"].sum() <= budget and (allocation["decoding_steps"] <= allocation["allocation_tokens"]).all()
    # the submission answers the curriculum's test.csv through the gateway, and models/ reproduces it
    submission = pd.read_csv(out / "submission.csv")
    test = pd.read_csv(out / "curriculum" / "test.csv")
    assert list(submission.columns) == ["id", "answer"] and submission["id"].tolist() == test["id"].tolist()
    assert submission["answer"].between(0, 999).all()
    # aimo2-predict, from models/ alone, answers test.csv exactly as the run did
    predicted = tmp_path / "predicted.csv"
    predict.main(["--config", str(out / "models" / "inference.yaml"), "--data-dir", str(out / "curriculum"),
                  "--output", str(predicted)])  # fmt: skip
    assert pd.read_csv(predicted).equals(submission)
    report = (out / "report.md").read_text()
    assert "sft-cot`: training loss" in report and "boxed_in_think" in report and "## What-if" in report
    assert (out / "accuracy_vs_samples.png").stat().st_size > 1000
    # the console has the tables, one verdict per chapter claim and where the files are; the trainers' per-step
    # metrics went to run.log instead
    printed = capsys.readouterr()
    verdicts = [line for line in printed.out.splitlines() if line.startswith(("[holds]", "[does not hold]",
                                                                              "[not decided]"))]  # fmt: skip
    assert len(verdicts) == len(found) and f"wrote {out}" in printed.out
    assert "| early-stop-step-allocation |" in printed.out and "| sft-cot | cot | sampled |" in printed.out
    assert "'loss'" not in printed.out + printed.err and "!!!!" not in printed.err
    assert "sft-cot step 10" in (out / "run.log").read_text()
