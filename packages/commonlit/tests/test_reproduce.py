"""``commonlit-reproduce`` end to end on a small sample with a tiny random encoder and a tiny random
generator (mechanics only), and ``commonlit-predict`` writing the same submission from ``models/`` alone."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from commonlit.data import load_competition
from commonlit.predict import main as predict
from commonlit.reproduce import ReproduceArguments, main, subset
from shared.metrics import mcrmse
from shared.recipes import FieldError

RUNGS = ["lgbm-features", "summary-only", "naive-concat", "prompt-pooled", "pseudo-labels", "summary-only ×2",
         "prompt-pooled ×2", "ensemble"]  # fmt: skip


@pytest.fixture(scope="module")
def run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "run"
    main(["--data-dir", str(sample_dir), "--output-dir", str(out), "--preset", "cpu", "--backbone", "tiny:bert",
          "--per-prompt", "12", "--seeds", "2", "--generator", "tiny:qwen2", "--summaries-per-prompt", "3"])  # fmt: skip
    return out


@pytest.mark.slow
def test_results_follow_the_contract(run, sample_dir):
    results = json.loads((run / "results.json").read_text())
    assert results["chapter"] == "commonlit" and results["higher_is_better"] is False
    names = [e["name"] for e in results["experiments"]]
    expected = RUNGS if "pseudo-labels" in names else [r for r in RUNGS if r != "pseudo-labels"]
    assert names == expected
    data = subset(load_competition(sample_dir), 12, 42)
    targets = data.train[["content", "wording"]].to_numpy(float)
    oof = pd.read_csv(run / "lgbm-features" / "oof.csv", dtype={"student_id": str})
    assert list(oof["student_id"]) == list(data.train["student_id"])
    lgbm = results["experiments"][0]
    assert lgbm["cv"] == pytest.approx(mcrmse(targets, oof[["content", "wording"]].to_numpy()))
    for claim in results["claims"]:
        assert claim["evidence"] == "mechanics"  # tiny random models: not findings
        assert claim["method"] == "paired bootstrap over 8 prompts, 1,000 resamples"
        assert claim["interval"][0] <= claim["delta"] <= claim["interval"][1] or claim["holds"] is None
    texts = [c["text"] for c in results["claims"]]
    assert any(t.startswith("pooling over the summary with the prompt") for t in texts)
    assert any(t.startswith("naive concatenation of the prompt text does not beat") for t in texts)
    assert "the ensemble beats its best member" in texts
    assert results["best"] == min(results["experiments"], key=lambda e: e["cv"])["name"]
    assert (run / "seed_spread.png").stat().st_size > 0 and "## Seeds" in (run / "report.md").read_text()


@pytest.mark.slow
def test_submission_is_kaggle_shaped(run, sample_dir):
    submission = pd.read_csv(run / "submission.csv", dtype={"student_id": str})
    sample = pd.read_csv(sample_dir / "sample_submission.csv", dtype={"student_id": str})
    assert list(submission.columns) == ["student_id", "content", "wording"]
    assert sorted(submission["student_id"]) == sorted(sample["student_id"])
    assert submission[["content", "wording"]].notna().all().all()


@pytest.mark.slow
def test_predict_agrees_with_the_run_from_models_and_test_files_alone(run, sample_dir, tmp_path):
    test_only = tmp_path / "kaggle-test"  # what a code competition's notebook sees: no training files
    test_only.mkdir()
    for name in ("summaries_test.csv", "prompts_test.csv", "sample_submission.csv"):
        shutil.copy(sample_dir / name, test_only / name)
    predict(
        ["--models", str(run / "models"), "--data-dir", str(test_only), "--output", str(tmp_path / "sub.csv")]
    )
    ours = pd.read_csv(tmp_path / "sub.csv", dtype={"student_id": str})
    theirs = pd.read_csv(run / "submission.csv", dtype={"student_id": str})
    assert list(ours["student_id"]) == list(theirs["student_id"])
    np.testing.assert_allclose(ours[["content", "wording"]], theirs[["content", "wording"]], atol=1e-5)
    train_prompts = set(load_competition(sample_dir).train["prompt_id"])
    assert (
        not set(pd.read_csv(test_only / "summaries_test.csv")["prompt_id"]) & train_prompts
    )  # unseen prompts


def test_predict_names_a_missing_manifest(tmp_path, sample_dir):
    with pytest.raises(SystemExit, match=r"manifest\.json: not found"):
        predict(
            ["--models", str(tmp_path), "--data-dir", str(sample_dir), "--output", str(tmp_path / "s.csv")]
        )


def test_arguments_are_checked():
    with pytest.raises(FieldError, match="--preset: 'gpu'"):
        ReproduceArguments(preset="gpu")
    with pytest.raises(FieldError, match="--seeds: 0 is out of range"):
        ReproduceArguments(seeds=0)


def test_subset_keeps_every_prompt(sample_dir):
    data = load_competition(sample_dir)
    small = subset(data, 5, seed=1)
    assert small.train.groupby("prompt_id").size().tolist() == [5] * data.train["prompt_id"].nunique()
    assert small.train["student_id"].isin(data.train["student_id"]).all()
    assert subset(data, 0, seed=1).train.equals(data.train)
