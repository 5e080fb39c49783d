"""``eedi-reproduce`` end to end on a small sample with tiny models (mechanics, not quality), and
``eedi-predict`` writing the same submission again from ``models/``, ``test.csv`` and the mapping alone."""

import json
import shutil

import pandas as pd
import pytest

from eedi import predict, reproduce

TINY = dict(n_folds=2, embedder="tiny:bert", embedder_max_length=64, embedder_epochs=1.0, embedder_batch_size=16,
            embedder_learning_rate=1e-3, hard_negative_top=10, pointwise_backbone="tiny:qwen2",
            listwise_backbone="tiny:qwen2", pointwise_candidates=6, pointwise_negatives=2, pointwise_max_length=160,
            pointwise_batch_size=16, listwise_candidates=3, listwise_max_length=200, listwise_batch_size=8)  # fmt: skip


@pytest.fixture(scope="module")
def run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "run"
    patch = pytest.MonkeyPatch()
    patch.setattr(reproduce, "CPU", {**reproduce.CPU, **TINY})
    patch.chdir(sample_dir.parent)  # a relative --data-dir, as a user types it
    try:
        reproduce.main(["--data-dir", sample_dir.name, "--output-dir", str(out), "--preset", "cpu"])
    finally:
        patch.undo()
    return out


@pytest.mark.slow
def test_the_ladder_writes_a_valid_submission_report_and_results(run, sample_dir):
    submission = pd.read_csv(run / "submission.csv", dtype=str)
    test = pd.read_csv(sample_dir / "test.csv")
    wrong = [f"{q}_{x}" for q, c in zip(test["QuestionId"], test["CorrectAnswer"], strict=True) for x in "ABCD" if x != c]
    assert submission["QuestionId_Answer"].tolist() == wrong
    known = set(pd.read_csv(sample_dir / "misconception_mapping.csv")["MisconceptionId"].astype(str))
    for ids in submission["MisconceptionId"].str.split():
        assert len(ids) == 25 and len(set(ids)) == 25 and set(ids) <= known
    results = json.loads((run / "results.json").read_text())
    names = [e["name"] for e in results["experiments"]]
    assert names[:4] == ["tfidf", "pretrained", "finetuned", "ensemble"]
    assert {"pointwise", "listwise", "ensemble+synthetic", "synthetic", "boost"} <= set(names)
    assert results["best"] == max(results["experiments"], key=lambda e: e["cv"])["name"]
    claims = {c["text"]: c for c in results["claims"]}
    assert claims["pointwise LLM reranking raises MAP@25"]["evidence"] == "mechanics"  # tiny:qwen2 rerankers
    assert "synthetic questions raise MAP@25 on unseen misconceptions" in claims
    for c in claims.values():
        lo, hi = c["interval"]
        assert lo <= c["delta"] <= hi
    assert all(0 <= e["cv_unseen"] <= 1 for e in results["experiments"])
    assert (run / "recall.png").is_file() and "## Claims" in (run / "report.md").read_text()


@pytest.mark.slow
def test_predict_rewrites_the_submission_from_models_and_test_files_alone(run, sample_dir, tmp_path):
    kaggle = tmp_path / "kaggle"
    kaggle.mkdir()
    for name in ("test.csv", "misconception_mapping.csv", "sample_submission.csv"):
        shutil.copy(sample_dir / name, kaggle / name)
    manifest = json.loads((run / "models" / "manifest.json").read_text())
    out = tmp_path / "submission.csv"
    predict.main(["--models", str(run / "models"), "--data-dir", str(kaggle), "--output", str(out)])
    assert out.read_bytes() == (run / "submission.csv").read_bytes(), manifest["rung"]


@pytest.mark.slow
def test_models_keep_only_what_the_submitted_rung_reads(run):
    manifest = json.loads((run / "models" / "manifest.json").read_text())
    kept = {f"{p.parent.name}/{p.name}" for p in (run / "models").glob("*/*") if p.is_dir()}
    named = {r["path"] for r in manifest["retrievers"]} | {p for p in (manifest["pointwise"], manifest["listwise"]) if p}
    assert kept == named
