"""``eedi-reproduce`` end to end on a small sample with tiny models (mechanics, not quality), and
``eedi-predict`` writing the same submission again from ``models/``, ``test.csv`` and the mapping alone."""

import json
import shutil
from dataclasses import replace

import pandas as pd
import pytest

from eedi import postprocess, predict, reproduce
from eedi.data import load_misconceptions, load_test
from eedi.experiment import submission_of

TINY = dict(n_folds=2, embedder="tiny:bert", embedder_max_length=64, embedder_epochs=1.0, embedder_batch_size=16,
            embedder_learning_rate=1e-3, hard_negative_top=10, pointwise_backbone="tiny:qwen2",
            listwise_backbone="tiny:qwen2", pointwise_candidates=6, pointwise_negatives=2, pointwise_max_length=160,
            pointwise_batch_size=16, listwise_candidates=3, listwise_max_length=200, listwise_batch_size=8)  # fmt: skip


@pytest.fixture(scope="module")
def finished(sample_dir, tmp_path_factory):
    """The run folder and its ladder; ``all-models/`` is ``models/`` before it was pruned to the best rung."""
    out = tmp_path_factory.mktemp("reproduce") / "run"
    kept = {}
    run_ladder, write_models = reproduce.run_ladder, reproduce.write_models

    def keep_ladder(*args, **kwargs):
        kept["ladder"], artefacts = run_ladder(*args, **kwargs)
        return kept["ladder"], artefacts

    def copy_first(folder, best, prep):
        shutil.copytree(folder / "models", folder / "all-models")
        write_models(folder, best, prep)

    patch = pytest.MonkeyPatch()
    patch.setattr(reproduce, "CPU", {**reproduce.CPU, **TINY})
    patch.setattr(reproduce, "run_ladder", keep_ladder)
    patch.setattr(reproduce, "write_models", copy_first)
    patch.chdir(sample_dir.parent)  # a relative --data-dir, as a user types it
    try:
        reproduce.main(["--data-dir", sample_dir.name, "--output-dir", str(out), "--preset", "cpu"])
    finally:
        patch.undo()
    return out, kept["ladder"]


@pytest.fixture(scope="module")
def run(finished):
    return finished[0]


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


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tfidf", "ensemble", "pointwise", "listwise", "synthetic", "boosted listwise"])
def test_predict_rebuilds_every_kind_of_rung_from_its_models(finished, sample_dir, tmp_path, name):
    """Each rung written as the submitted one (its models/ pruned to what it reads) gives its own test ranking
    through predict's code: retrieval alone, each reranking stage, reused rerankers, and a boost above 0."""
    run, ladder = finished
    prep = ladder.prep
    if name == "boosted listwise":
        rung = ladder.rungs["listwise"]
        rung = replace(rung, name=name, test=postprocess.boost(rung.test, prep.test_unseen, 1.0),
                       recipe=rung.recipe | {"boost": 1.0})  # fmt: skip
        assert rung.test.cols.tolist() != ladder.rungs["listwise"].test.cols.tolist()  # the boost did something
    else:
        rung = ladder.rungs[name]
    shutil.copytree(run / "all-models", tmp_path / "models")
    reproduce.write_models(tmp_path, rung, prep)
    ranked = predict.predict_ranking(tmp_path / "models", load_test(sample_dir / "test.csv"),
                                     load_misconceptions(sample_dir / "misconception_mapping.csv"))  # fmt: skip
    assert submission_of(prep, ranked).equals(submission_of(prep, rung.test))
