"""``pii-reproduce`` end to end on a small sample with a tiny model (mechanics only: a tiny random encoder
learns nothing in this budget), and its pieces on constructed cases."""

import json

import numpy as np
import pandas as pd
import pytest

from pii.data import Document, load_competition, load_documents
from pii.decode import tune_thresholds
from pii.labels import ENTITY_TYPES, LABEL2ID, LABELS
from pii.report import claims, fbeta, per_label
from pii.reproduce import Rung, cross_fitted, main, subset
from pii.submission import validate_submission
from pii.synth import generate

RUNGS = ["argmax", "o-threshold", "external-data", "post-processing", "ensemble"]


@pytest.fixture(scope="module")
def run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "run"
    main(["--data_dir", str(sample_dir), "--output_dir", str(out), "--preset", "cpu", "--backbone", "tiny:bert",
          "--train_docs", "40", "--n_external", "20"])  # fmt: skip
    return out


def test_results_follow_the_house_schema_and_the_claims_follow_the_scores(run):
    results = json.loads((run / "results.json").read_text())
    assert results["chapter"] == "pii" and results["higher_is_better"] is True and results["preset"] == "cpu"
    assert [e["name"] for e in results["experiments"]] == RUNGS
    for experiment in results["experiments"]:
        assert len(experiment["folds"]) == 2
        assert experiment["cv"] == pytest.approx(np.mean(experiment["folds"]))
        assert 0 <= experiment["cv"] <= 1 and 0 <= experiment["test"] <= 1 and experiment["seconds"] > 0
    cv = {e["name"]: e["cv"] for e in results["experiments"]}
    seconds = {e["name"]: e["seconds"] for e in results["experiments"]}
    assert seconds["post-processing"] < seconds["external-data"]  # the rules' own time, not model B's again
    assert len(results["claims"]) == 4
    for claim in results["claims"]:
        assert claim["holds"] == (cv[claim["technique"]] > cv[claim["baseline"]]), claim
    assert results["best"] == max(RUNGS, key=lambda name: cv[name])


def test_the_subset_and_the_external_essays_reach_the_two_models(run, sample_dir):
    data = load_competition(sample_dir)
    folds = pd.read_csv(run / "model-a" / "folds.csv")
    assert len(folds) == 40 and set(folds["document"]) <= {d.document for d in data.train}
    assert sorted(folds["fold"].unique()) == [0, 1]
    external, skipped = load_documents(run / "external.json", labelled=True)
    assert len(external) == 20 and not skipped
    assert min(d.document for d in external) > max(d.document for d in data.train + data.test)
    config = json.loads((run / "model-b" / "config.json").read_text())
    assert config["backbone"] == "tiny:bert" and config["num_layers"] == 0 and config["n_folds"] == 2


def test_the_submission_is_valid_for_the_test_set_and_the_report_shows_every_part(run, sample_dir):
    validate_submission(pd.read_csv(run / "submission.csv"), load_competition(sample_dir).test)
    report = (run / "report.md").read_text()
    for name in RUNGS:
        assert f"| {name} |" in report
    for entity in ENTITY_TYPES:
        assert f"| {entity} |" in report
    assert "![threshold vs F5](thresholds.png)" in report
    assert (run / "thresholds.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report.count("- [holds]") + report.count("- [does not hold]") == 4


def test_a_bad_preset_stops_with_one_line(tmp_path):
    with pytest.raises(SystemExit) as stop:
        main(["--preset", "gpu", "--output_dir", str(tmp_path / "o")])
    assert stop.value.code == "error: --preset: 'gpu' is not one of auto | cpu | full"
    assert not (tmp_path / "o").exists()


def test_subset_is_a_seeded_sample_in_file_order(sample_dir):
    data = load_competition(sample_dir)
    ids = [d.document for d in subset(data, 30, seed=1).train]
    assert len(ids) == 30 == len(set(ids))
    order = {d.document: i for i, d in enumerate(data.train)}
    assert [order[i] for i in ids] == sorted(order[i] for i in ids)
    assert ids == [d.document for d in subset(data, 30, seed=1).train]
    assert ids != [d.document for d in subset(data, 30, seed=2).train]
    assert subset(data, 0, seed=1) is data and subset(data, len(data.train), seed=1) is data


def test_fbeta_against_hand_computed_values():
    precision, recall, score = fbeta(tp=3, fp=1, fn=2)
    assert (precision, recall) == (0.75, 0.6)
    assert score == pytest.approx(26 * 0.75 * 0.6 / (25 * 0.75 + 0.6))  # 0.60465...
    assert fbeta(0, 0, 4) == (0.0, 0.0, 0.0)


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


def rung(name: str, cv: float) -> Rung:
    return Rung(name, [cv, cv], [], [], 1.0)


def test_claims_hold_only_when_the_technique_scores_higher():
    rungs = [rung("argmax", 0.1), rung("o-threshold", 0.3), rung("external-data", 0.3),
             rung("post-processing", 0.4), rung("ensemble", 0.35)]  # fmt: skip
    found = {c["technique"]: c["holds"] for c in claims(rungs)}
    assert found == {"o-threshold": True, "external-data": False, "post-processing": True, "ensemble": False}


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
