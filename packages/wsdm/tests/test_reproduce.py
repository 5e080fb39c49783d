"""``wsdm-reproduce`` end to end on a small sample with tiny random models (mechanics, not quality), and
``wsdm-predict`` writing the same submission again from ``models/`` and ``test.parquet`` alone — for the
submitted rung and for every kind of rung a manifest can name."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from wsdm import predict, reproduce
from wsdm.data import load_test
from wsdm.manifest import read_manifest
from wsdm.sample.synth import make_sample

TINY = dict(max_length=160, epochs=1.0, batch_size=8, eval_batch_size=16)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("wsdm") / "sample", n_train=60, n_test=24, n_extra=30, seed=1)


@pytest.fixture(scope="module")
def finished(sample_dir, tmp_path_factory):
    """The run folder and its ladder; ``all-models/`` is ``models/`` before it was pruned to the best rung."""
    out = tmp_path_factory.mktemp("reproduce") / "run"
    kept = {}
    run_ladder, write_models = reproduce.run_ladder, reproduce.write_models

    def keep_ladder(*args, **kwargs):
        kept["ladder"], artefacts = run_ladder(*args, **kwargs)
        return kept["ladder"], artefacts

    def copy_first(folder, best):
        shutil.copytree(folder / "models", folder / "all-models")
        write_models(folder, best)

    patch = pytest.MonkeyPatch()
    patch.setattr(reproduce, "CPU", {**reproduce.CPU, **TINY})
    patch.setattr(reproduce, "CPU_TEACHER", {**reproduce.CPU_TEACHER, "max_length": 192})
    patch.setattr(
        reproduce, "CPU_AUTOROUND", {**reproduce.CPU_AUTOROUND, "iters": 2, "nsamples": 4, "group_size": 32}
    )
    patch.setattr(reproduce, "run_ladder", keep_ladder)
    patch.setattr(reproduce, "write_models", copy_first)
    patch.chdir(sample_dir.parent)  # a relative --data-dir, as a user types it
    try:
        reproduce.main(["--data-dir", sample_dir.name, "--output-dir", str(out), "--preset", "cpu",
                        "--backbone", "tiny:qwen2", "--teacher", "tiny:qwen2"])  # fmt: skip
    finally:
        patch.undo()
    return out, kept["ladder"]


@pytest.fixture(scope="module")
def run(finished):
    return finished[0]


@pytest.mark.slow
def test_the_ladder_writes_a_valid_submission_report_and_results(run, sample_dir):
    submission = pd.read_csv(run / "submission.csv", dtype=str)
    test = pd.read_parquet(sample_dir / "test.parquet")
    assert submission.columns.tolist() == ["id", "winner"]
    assert submission["id"].tolist() == test["id"].astype(str).tolist()
    assert set(submission["winner"]) <= {"model_a", "model_b"}
    results = json.loads((run / "results.json").read_text())
    names = [e["name"] for e in results["experiments"]]
    assert names[:4] == ["features", "zero-shot", "zero-shot+tta", "classifier"]
    assert {"generation+tta", "teacher", "distilled", "distilled+tta", "ensemble", "cascade", "distilled+tta-int8",
            "distilled+tta-nf4", "distilled+tta-autoround"} <= set(names)  # fmt: skip
    claims = {c["text"]: c for c in results["claims"]}
    assert (
        claims["the fine-tuned classifier beats the zero-shot judge"]["evidence"] == "mechanics"
    )  # tiny judge
    assert claims["4-bit weights cost less than 1 point of accuracy"]["margin"] == 0.01
    for c in claims.values():
        lo, hi = c["interval"]
        assert lo <= c["delta"] <= hi
    assert all(0 <= e["cv"] <= 1 and 0 <= e["picks_a"] <= 1 for e in results["experiments"])
    # the reported score is the competition's accuracy of the winners in the classifier's oof.parquet
    oof = pd.read_parquet(run / "classifier" / "oof.parquet")
    picked = np.where(oof["p_model_a"] > 0.5, "model_a", "model_b")
    cv = next(e["cv"] for e in results["experiments"] if e["name"] == "classifier")
    assert cv == pytest.approx((picked == oof["winner"]).mean())
    report = (run / "report.md").read_text()
    for section in (
        "## Ladder",
        "## Accuracy per language",
        "## Position bias",
        "## Quantised weights",
        "## Claims",
    ):
        assert section in report
    soft = pd.read_parquet(run / reproduce.SOFT_LABELS)
    assert soft["p_model_a"].between(0, 1).all() and len(soft) == 60


@pytest.mark.slow
def test_predict_rewrites_the_submission_from_models_and_test_parquet_alone(run, sample_dir, tmp_path):
    kaggle = tmp_path / "kaggle"
    kaggle.mkdir()
    shutil.copy(sample_dir / "test.parquet", kaggle)  # no train.parquet, no extra data
    predict.main(
        ["--models", str(run / "models"), "--data-dir", str(kaggle), "--output", str(tmp_path / "sub.csv")]
    )
    assert (tmp_path / "sub.csv").read_text() == (run / "submission.csv").read_text()
    kept = {p.name for p in (run / "models").iterdir() if p.is_dir()}
    manifest = read_manifest(run / "models")
    from wsdm.manifest import needed_folders

    assert kept == set(needed_folders(manifest))  # pruned to what the submitted rung needs


@pytest.mark.slow
@pytest.mark.parametrize(
    "rung",
    [
        "features",
        "zero-shot+tta",
        "generation",
        "distilled+tta-nf4",
        "distilled+tta-autoround",
        "ensemble",
        "cascade",
    ],
)
def test_predict_rebuilds_every_kind_of_rung(finished, sample_dir, tmp_path, rung):
    run, ladder = finished
    folder = tmp_path / "run"
    shutil.copytree(run / "all-models", folder / "models")
    reproduce.write_models(folder, ladder.rungs[rung])
    test = load_test(sample_dir / "test.parquet")
    manifest = read_manifest(folder / "models")
    got = predict.probability(folder / "models", manifest, test)
    np.testing.assert_allclose(got, ladder.rungs[rung].predictions.test, atol=1e-6)


@pytest.mark.slow
def test_predict_tta_flag_overrides_the_manifest(finished, sample_dir, tmp_path):
    run, ladder = finished
    folder = tmp_path / "run"
    shutil.copytree(run / "all-models", folder / "models")
    reproduce.write_models(folder, ladder.rungs["classifier"])  # saved without TTA
    test = load_test(sample_dir / "test.parquet")
    manifest = read_manifest(folder / "models")
    with_tta = predict.probability(folder / "models", manifest, test, tta=True)
    np.testing.assert_allclose(with_tta, ladder.rungs["classifier+tta"].predictions.test, atol=1e-6)


def test_a_missing_or_broken_manifest_is_one_line(tmp_path):
    with pytest.raises(predict.DataError, match=r"manifest.json: not found"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"kind": "model", "experiment": "classifier"}')
    with pytest.raises(predict.DataError, match=r"classifier it names has no fold-<k> models"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"kind": "blend"}')
    with pytest.raises(predict.DataError, match=r"'kind' must be one of"):
        read_manifest(tmp_path)
