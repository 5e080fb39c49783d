"""``science-exam-reproduce`` end to end on the small sample with tiny models (mechanics, not quality), and
``science-exam-predict`` writing the same submission again from ``models/`` and ``test.csv`` alone."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from science_exam import predict, reproduce
from science_exam.scoring import predictions

TINY = dict(embedder="tiny:bert", embedder_max_length=32, backbone="tiny:bert", max_length=80, epochs=1.0,
            batch_size=8, learning_rate=1e-3, n_folds=2, candidates=4, context_passages=2,
            rerank_backbone="tiny:bert", rerank_max_length=48, rerank_learning_rate=1e-3)  # fmt: skip


@pytest.fixture(scope="module")
def run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "run"
    patch = pytest.MonkeyPatch()
    patch.setattr(reproduce, "CPU", {**reproduce.CPU, **TINY})
    patch.setattr(reproduce, "LLM_CPU", {**reproduce.LLM_CPU, "backbone": "tiny:qwen2", "max_length": 160})
    patch.setattr(reproduce, "QGEN", {**reproduce.QGEN, "cpu": {**reproduce.QGEN["cpu"], "generator": "tiny:qwen2",
                                                              "n_passages": 4, "max_new_tokens": 16}})  # fmt: skip
    patch.setattr(reproduce, "SIZES", {**reproduce.SIZES, "cpu": (20, 2, 0.3)})
    patch.chdir(sample_dir.parent)  # a relative --data-dir, as a user types it
    try:
        reproduce.main(["--data-dir", sample_dir.name, "--output-dir", str(out), "--preset", "cpu"])
    finally:
        patch.undo()
    return out


@pytest.mark.slow
def test_the_ladder_writes_a_valid_submission_report_and_results(run, sample_dir):
    submission = pd.read_csv(run / "submission.csv")
    test = pd.read_csv(sample_dir / "test.csv")
    assert submission["id"].tolist() == test["id"].tolist()
    assert all(len(set(p.split())) == 3 and set(p.split()) <= set("ABCDE") for p in submission["prediction"])
    results = json.loads((run / "results.json").read_text())
    names = [e["name"] for e in results["experiments"]]
    assert names[:5] == ["no-context", "bm25", "dense", "hybrid", "hybrid-rerank"]
    assert {"llm-scorer", "llm-scorer-tta", "cascade", "ensemble"} <= set(names)
    assert results["best"] == max(results["experiments"], key=lambda e: e["cv"])["name"]
    claims = {c["text"]: c for c in results["claims"]}
    assert claims["retrieved context beats no context"]["evidence"] == "mechanics"  # tiny:bert reader
    for c in claims.values():
        lo, hi = c["interval"]
        assert lo <= c["delta"] <= hi
    assert results["recall"] and all(0 <= r["recall@1"] <= r["recall@3"] for r in results["recall"])
    assert results["question_generation"]["asked"] == 4
    assert (run / "recall.png").is_file() and "## Claims" in (run / "report.md").read_text()


@pytest.mark.slow
def test_predict_rewrites_the_submission_from_models_and_test_csv_alone(run, sample_dir, tmp_path):
    kaggle = tmp_path / "kaggle"
    kaggle.mkdir()
    for name in ("test.csv", "sample_submission.csv"):
        shutil.copy(sample_dir / name, kaggle / name)
    manifest = json.loads((run / "models" / "manifest.json").read_text())
    assert set(p.name for p in (run / "models").iterdir() if p.is_dir()) <= {"index", "no-context", "hybrid-rerank",
                                                                             "llm-scorer"}  # fmt: skip
    out = tmp_path / "submission.csv"
    predict.main(["--models", str(run / "models"), "--data-dir", str(kaggle), "--output", str(out)])
    assert pd.read_csv(out).equals(pd.read_csv(run / "submission.csv")), manifest["rung"]


@pytest.mark.slow
def test_every_manifest_member_rebuilds_its_rung(run, sample_dir):
    """Each rung's recipe, followed by predict's code, gives the rung's own test probabilities."""
    results = json.loads((run / "results.json").read_text())
    assert results["best"]
    test = pd.read_csv(sample_dir / "test.csv", dtype=str)
    index = predict.CorpusIndex.load(run / "models" / "index")
    manifest = json.loads((run / "models" / "manifest.json").read_text())
    proba = predict.rung_proba(run / "models", manifest, index, test)
    rung = manifest["rung"]
    # the submitted rung's own probabilities when it is one experiment (it has a folder), its ranking always
    if (run / rung / "test.csv").is_file():
        saved = pd.read_csv(run / rung / "test.csv")
        np.testing.assert_allclose(proba, saved[[f"p_{c}" for c in "ABCDE"]].to_numpy(), atol=1e-5)
    assert predictions(proba) == pd.read_csv(run / "submission.csv")["prediction"].tolist()
