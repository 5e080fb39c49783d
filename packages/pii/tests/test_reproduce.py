"""``pii-reproduce`` end to end on a small sample with a tiny model (mechanics only: a tiny random encoder
learns nothing in this budget), and its pieces on constructed cases: the claims decided beyond the noise,
the pooled CV, the config errors."""

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pii import predict
from pii.data import DataError, Document, PiiData, label_frame, load_competition, load_documents
from pii.decode import argmax_decode, tune_thresholds
from pii.experiment import predict_saved
from pii.labels import ENTITY_TYPES, LABEL2ID, LABELS
from pii.report import claims, per_label
from pii.reproduce import ReproduceArguments, cross_fitted, external_set, main, scored, subset
from pii.scores import fbeta
from pii.submission import submission_rows, validate_submission
from pii.synth import generate
from shared.metrics import pii_fbeta
from shared.recipes import ConfigError

RUNGS = ["argmax", "o-threshold", "external-data", "post-processing", "ensemble"]


@pytest.fixture(scope="module")
def run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "run"
    main(["--data-dir", str(sample_dir), "--output-dir", str(out), "--preset", "cpu", "--backbone", "tiny:bert",
          "--train-docs", "40", "--n-external", "20"])  # fmt: skip
    return out


@pytest.mark.slow
def test_cv_is_the_metric_of_the_pooled_oof_predictions(run, sample_dir):
    results = json.loads((run / "results.json").read_text())
    assert results["chapter"] == "pii" and results["higher_is_better"] is True and results["preset"] == "cpu"
    assert results["metric"] == "micro F5 of the pooled out-of-fold predictions"
    assert [e["name"] for e in results["experiments"]] == RUNGS
    # the argmax rung, recomputed from model A's saved OOF probabilities with the competition metric
    folds = pd.read_csv(run / "model-a" / "folds.csv")
    train = {d.document: d for d in load_competition(sample_dir).train}
    docs = [train[i] for i in folds["document"]]
    probs = np.load(run / "model-a" / "oof_probs.npz")
    preds = [argmax_decode(probs[str(d.document)]) for d in docs]
    pooled = pii_fbeta(label_frame(docs), submission_rows(docs, preds))
    argmax = results["experiments"][0]
    assert argmax["cv"] == pytest.approx(pooled, abs=1e-12)
    assert argmax["cv"] == pytest.approx(json.loads((run / "model-a" / "scores.json").read_text())["cv"])
    for k, score in enumerate(argmax["folds"]):
        rows = (folds["fold"] == k).to_numpy()
        held = [d for d, r in zip(docs, rows, strict=True) if r]
        held_preds = [p for p, r in zip(preds, rows, strict=True) if r]
        assert score == pytest.approx(pii_fbeta(label_frame(held), submission_rows(held, held_preds)))
    seconds = {e["name"]: e["seconds"] for e in results["experiments"]}
    assert seconds["post-processing"] < seconds["external-data"]  # the rules' own time, not model B's again
    assert results["best"] == max(results["experiments"], key=lambda e: e["cv"])["name"]


@pytest.mark.slow
def test_claims_carry_delta_interval_evidence_and_method(run):
    results = json.loads((run / "results.json").read_text())
    cv = {e["name"]: e["cv"] for e in results["experiments"]}
    assert [(c["baseline"], c["technique"]) for c in results["claims"]] == list(pairwise(RUNGS))
    for claim in results["claims"]:
        assert claim["delta"] == pytest.approx(cv[claim["technique"]] - cv[claim["baseline"]])
        assert claim["evidence"] == "mechanics"  # a tiny random encoder: not a finding
        assert claim["method"] == "paired bootstrap over 40 documents, 1,000 resamples"
        lo, hi = claim["interval"]
        assert lo <= hi and claim["holds"] in (True, False, None)


@pytest.mark.slow
def test_the_subset_and_the_external_essays_reach_the_two_models(run, sample_dir):
    data = load_competition(sample_dir)
    folds = pd.read_csv(run / "model-a" / "folds.csv")
    assert len(folds) == 40 and set(folds["document"]) <= {d.document for d in data.train}
    assert sorted(folds["fold"].unique()) == [0, 1]
    external, skipped = load_documents(run / "external.json", labelled=True)
    assert len(external) == 20 and not skipped
    assert min(d.document for d in external) > max(d.document for d in data.train + data.test)
    assert all(
        any(label != "O" for label in d.labels) for d in external
    )  # the other family: PII in every essay
    about = json.loads((run / "results.json").read_text())["external_data"]
    assert (
        about["source"] == "generated"
        and about["essays"] == 20
        and "pii.synth_external" in about["description"]
    )
    config = json.loads((run / "model-b" / "config.json").read_text())
    assert config["backbone"] == "tiny:bert" and config["num_layers"] == 0 and config["n_folds"] == 2


@pytest.mark.slow
def test_the_submission_is_valid_for_the_test_set_and_the_report_shows_every_part(run, sample_dir):
    validate_submission(pd.read_csv(run / "submission.csv"), load_competition(sample_dir).test)
    report = (run / "report.md").read_text()
    for name in RUNGS:
        assert f"| {name} |" in report
    for entity in ENTITY_TYPES:
        assert f"| {entity} |" in report
    assert "![threshold vs F5](thresholds.png)" in report and "removed_tp" in report
    assert (run / "thresholds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "External data (model B): 20 essays, generated LLM-style essays" in report
    assert sum(report.count(f"- [{v}]") for v in ("holds", "does not hold", "not decided")) == 4
    assert (run / "run.log").stat().st_size > 0  # the libraries' chatter went to the run's log


@pytest.mark.slow
def test_predict_writes_the_submission_again_from_the_saved_models_alone(run, sample_dir, tmp_path):
    manifest = json.loads((run / "models" / "manifest.json").read_text())
    best = max(json.loads((run / "results.json").read_text())["experiments"], key=lambda e: e["cv"])["name"]
    assert manifest["members"] == (["model-a", "model-b"] if best == "ensemble" else manifest["members"])
    test = load_competition(sample_dir).test
    for name in ("model-a", "model-b"):  # each experiment's saved folds give its test probabilities again
        probs, _ = predict_saved(run / "models" / name, test)
        saved = np.load(run / name / "test_probs.npz")
        for doc, p in zip(test, probs, strict=True):
            np.testing.assert_allclose(p, saved[str(doc.document)], atol=1e-6)
    test_only = tmp_path / "kaggle-input"
    test_only.mkdir()
    (test_only / "test.json").write_bytes((sample_dir / "test.json").read_bytes())
    predict.main(
        ["--models", str(run / "models"), "--data-dir", str(test_only), "--output", str(tmp_path / "p.csv")]
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "p.csv"), pd.read_csv(run / "submission.csv"))


def test_config_errors_stop_with_one_line_and_are_not_data_errors(tmp_path, monkeypatch):
    assert not issubclass(ConfigError, DataError)
    with pytest.raises(SystemExit) as stop:
        main(["--preset", "gpu", "--output-dir", str(tmp_path / "o")])
    assert stop.value.code == "error: command line: --preset: 'gpu' is not one of auto | cpu | full"
    with pytest.raises(SystemExit) as stop:
        main(["--preset", "full", "--output-dir", str(tmp_path / "o")])
    assert stop.value.code.startswith("error: --external-data: the full preset needs the external data sets")
    assert not (tmp_path / "o").exists()


def test_the_generated_external_set_loads_from_a_relative_run_folder(sample_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default run folder is relative to the working directory
    args = ReproduceArguments(n_external=3)
    whole = load_competition(sample_dir)
    extra, about = external_set(args, "cpu", whole, sample_dir, Path("outputs") / "run")
    path = str(tmp_path / "outputs" / "run" / "external.json")
    assert about["source"] == "generated" and about["files"] == [path] and list(extra) == [path]
    assert about["essays"] == 3 == len(extra[path])
    assert min(d.document for d in extra[path]) > max(d.document for d in whole.train + whole.test)


def test_subset_is_a_seeded_sample_in_file_order(sample_dir):
    data = load_competition(sample_dir)
    ids = [d.document for d in subset(data, 30, seed=1).train]
    assert len(ids) == 30 == len(set(ids))
    order = {d.document: i for i, d in enumerate(data.train)}
    assert [order[i] for i in ids] == sorted(order[i] for i in ids)
    assert ids == [d.document for d in subset(data, 30, seed=1).train]
    assert ids != [d.document for d in subset(data, 30, seed=2).train]
    assert subset(data, 0, seed=1) is data and subset(data, len(data.train), seed=1) is data


def doc(document: int, labels: list[str]) -> Document:
    tokens = [f"w{i}" for i in range(len(labels))]
    return Document(document, " ".join(tokens), tokens, [True] * len(tokens), labels)


def test_per_label_counts_each_full_bio_label_as_the_metric_does():
    docs = [
        doc(1, ["B-NAME_STUDENT", "I-NAME_STUDENT", "O", "B-EMAIL"]),
        doc(2, ["O", "B-NAME_STUDENT", "O"]),
    ]
    predicted = [
        ["B-NAME_STUDENT", "B-NAME_STUDENT", "B-URL_PERSONAL", "B-EMAIL"],
        ["O", "B-NAME_STUDENT", "O"],
    ]
    table = per_label(docs, [np.array([LABEL2ID[x] for x in p]) for p in predicted]).set_index("label")
    # NAME_STUDENT: 3 true tokens, 3 predicted; token 1 of doc 1 has the wrong prefix, so 2 hits
    assert table.loc["NAME_STUDENT", ["true tokens", "predicted", "TP"]].tolist() == [3, 3, 2]
    assert table.loc["NAME_STUDENT", "F5"] == pytest.approx(fbeta(2, 1, 1)[2])
    assert table.loc["EMAIL", ["precision", "recall", "F5"]].tolist() == [1.0, 1.0, 1.0]
    assert table.loc["URL_PERSONAL", ["true tokens", "predicted", "TP", "precision"]].tolist() == [
        0,
        1,
        0,
        0.0,
    ]
    assert table.loc["PHONE_NUM", "F5"] == 0.0


def names(document: int, hits: int, n: int = 10) -> tuple[Document, np.ndarray]:
    """A document of ``n`` one-token student names, and a prediction that finds the first ``hits``."""
    d = doc(document, ["B-NAME_STUDENT"] * n)
    return d, np.array([LABEL2ID["B-NAME_STUDENT"]] * hits + [0] * (n - hits))


def test_a_claim_holds_fails_or_stays_undecided_by_its_noise():
    """40 documents of 10 names; each rung finds a constructed number of them per document."""
    n_docs = 40
    swing = np.random.default_rng(0).permutation(np.repeat([2, -2], n_docs // 2))
    found = {
        "argmax": [3] * n_docs,
        "o-threshold": [8] * n_docs,  # a large gain on every document -> holds
        "external-data": list(8 + swing),  # +2 on half the documents, -2 on the other half -> not decided
        "post-processing": [2] * n_docs,  # a loss on every document -> does not hold
        "ensemble": [3] + [2] * (n_docs - 1),  # one more name in one document: a gain inside the noise
    }
    docs = [names(i, 0)[0] for i in range(n_docs)]
    data = PiiData(train=docs, test=[], sample_submission=pd.DataFrame())
    fold = np.arange(n_docs) % 2
    rungs = [scored(name, data, fold, [names(i, h)[1] for i, h in enumerate(hits)], [], 1.0)
             for name, hits in found.items()]  # fmt: skip
    decided = claims(rungs, [d.document for d in docs], seed=0)
    assert [c.holds for c in decided] == [True, None, False, None]
    # F5 with TP 8 / FN 2 per document against TP 3 / FN 7, no false positives
    assert decided[0].delta == pytest.approx(208 / 258 - 78 / 253)
    assert decided[1].delta == pytest.approx(0.0, abs=1e-12)
    assert decided[3].delta > 0 and decided[3].interval[0] == pytest.approx(0.0, abs=1e-12)
    assert decided[2].interval[1] < 0 < decided[0].interval[0]
    assert all(c.evidence == "model" and c.method == "paired bootstrap over 40 documents, 1,000 resamples"
               for c in decided)  # fmt: skip
    assert claims(rungs, [d.document for d in docs], seed=0) == decided  # the same seed, the same intervals


def test_cross_fitted_thresholds_never_see_the_fold_they_decode():
    docs = [essay.document for essay in generate(12, seed=3)]
    rng = np.random.default_rng(0)
    probs = []
    for d in docs:
        p = rng.dirichlet(np.ones(len(LABELS)), size=len(d.tokens)).astype(np.float32)
        truth = np.array([LABEL2ID[label] for label in d.labels])
        p[np.arange(len(truth)), truth] += rng.uniform(0, 2, len(truth))  # some signal, some noise
        probs.append(p / p.sum(axis=1, keepdims=True))
    fold = np.arange(len(docs)) % 2
    preds, _ = cross_fitted(docs, probs, fold, per_label=False)
    others = [d for d, k in zip(docs, fold, strict=True) if k == 1]
    tuned = tune_thresholds([p for p, k in zip(probs, fold, strict=True) if k == 1], others, per_label=False)
    held = np.flatnonzero(fold == 0)
    expected = tuned.decode_documents([probs[i] for i in held], [docs[i] for i in held])
    for i, e in zip(held, expected, strict=True):
        assert np.array_equal(preds[i], e)
    # relabelling fold 0 changes nothing in its own predictions
    blank = [d if k else Document(d.document, d.full_text, d.tokens, d.trailing_whitespace, ["O"] * len(d.tokens))
             for d, k in zip(docs, fold, strict=True)]  # fmt: skip
    again, _ = cross_fitted(blank, probs, fold, per_label=False)
    assert all(np.array_equal(preds[i], again[i]) for i in held)
