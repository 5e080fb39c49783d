"""End to end on a small sample: the ladder runs, the submission is valid, the claims carry their evidence;
a bad recipe is refused at parse time."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from transformers import HfArgumentParser

from jigsaw import predict, reproduce, train
from jigsaw.claims import CLAIMS
from jigsaw.data import DataError
from jigsaw.experiment import ExperimentConfig
from shared.recipes import ConfigError

CLAIM_FIELDS = {"text", "baseline", "technique", "delta", "interval", "evidence", "holds", "method", "margin"}
BLENDS = ["blend-mean", "blend-rank", "blend-power", "blend-optuna"]


def check_run(out: Path, sample_dir: Path, names: list[str]) -> dict:
    """What every reproduce run must satisfy; returns results.json."""
    results = json.loads((out / "results.json").read_text())
    assert results["chapter"] == "jigsaw" and results["higher_is_better"] is True
    assert [e["name"] for e in results["experiments"]] == names
    cv = {e["name"]: e["cv"] for e in results["experiments"]}
    for claim in results["claims"]:
        assert set(claim) == CLAIM_FIELDS
        # delta is the technique's gain on the out-of-fold metric, the same number as the CV table's
        assert claim["delta"] == pytest.approx(cv[claim["technique"]] - cv[claim["baseline"]], abs=1e-12)
        lo, hi = claim["interval"]
        assert lo <= hi and claim["method"].startswith("paired bootstrap over ")
    blend = results["claims"][-1]
    assert blend["technique"] == "blend-optuna"
    assert cv[blend["baseline"]] == max(cv[n] for n in names if not n.startswith("blend-"))
    assert json.loads((out / "blend-optuna" / "config.json").read_text())["models"] == names[:-4]
    submission = pd.read_csv(out / "submission.csv")
    test = pd.read_csv(sample_dir / "test.csv")
    assert list(submission.columns) == ["id", "prediction"]
    assert submission["id"].tolist() == pd.read_csv(sample_dir / "sample_submission.csv")["id"].tolist()
    assert sorted(submission["id"]) == sorted(test["id"]) and submission["prediction"].between(0, 1).all()
    best = max(results["experiments"], key=lambda e: e["cv"])["name"]
    assert submission.equals(pd.read_csv(out / best / "submission.csv"))
    report = (out / "report.md").read_text()
    assert "Labelled test set: private" in report and "## Claims" in report
    assert all(c["text"] in report for c in results["claims"])
    oof = pd.read_csv(out / "tfidf-lr" / "oof.csv")
    assert sorted(oof["fold"].unique()) == [0, 1, 2, 3, 4] and oof["prediction"].notna().all()
    check_predict(out, sample_dir, best)
    return results


def check_predict(out: Path, sample_dir: Path, best: str) -> None:
    """jigsaw-predict, from models/ and the test files alone, writes the run's own submission again."""
    manifest = json.loads((out / "models" / "manifest.json").read_text())
    assert manifest["members"] == ([best] if manifest["blend"] is None else manifest["members"])
    test_only = out.parent / "kaggle-input"
    test_only.mkdir()
    for name in ("test.csv", "sample_submission.csv"):  # no train.csv: predict must not need it
        (test_only / name).write_bytes((sample_dir / name).read_bytes())
    predicted = out.parent / "predicted.csv"
    predict.main(["--models", str(out / "models"), "--data-dir", str(test_only), "--output", str(predicted)])
    mine, theirs = pd.read_csv(predicted), pd.read_csv(out / "submission.csv")
    assert mine["id"].tolist() == theirs["id"].tolist()
    np.testing.assert_allclose(mine["prediction"], theirs["prediction"], atol=1e-6)


def test_tfidf_ladder_end_to_end(sample_dir, tmp_path, monkeypatch, capsys):
    """The TF-IDF rungs, their blends and claims; underscore spellings of the flags are accepted."""
    monkeypatch.setattr(reproduce, "ladder", lambda preset: reproduce.TFIDF)
    out = tmp_path / "run"
    reproduce.main(["--data_dir", str(sample_dir), "--output_dir", str(out), "--preset", "cpu"])
    names = [c.name for c in reproduce.TFIDF] + BLENDS
    results = check_run(out, sample_dir, names)
    parts = {e["name"]: e["parts"] for e in results["experiments"]}
    # the weights do what they are for: civil identity comments stop ranking above toxic ones (BPSN) ...
    assert parts["tfidf-lr-weighted"]["bpsn_auc"] > parts["tfidf-lr"]["bpsn_auc"] + 0.03
    # ... and on this sample that gain is beyond the bootstrap's noise
    claims = {c["text"]: c for c in results["claims"]}
    weighting = claims["metric-aligned weighting raises the final metric (TF-IDF + LR)"]
    assert weighting["holds"] is True and weighting["interval"][0] > 0 and weighting["evidence"] == "model"
    assert (
        len(results["claims"]) == 3
    )  # the two TF-IDF claims and the blend; no transformer claim without its rungs
    printed = capsys.readouterr().out
    assert "| tfidf-lr-weighted |" in printed and weighting["text"] in printed and str(out) in printed


@pytest.mark.slow
def test_reproduce_whole_ladder(sample_dir, tmp_path):
    out = tmp_path / "run"
    reproduce.main(["--data-dir", str(sample_dir), "--output-dir", str(out), "--preset", "cpu"])
    names = [c.name for c in reproduce.ladder("cpu")] + BLENDS
    assert "llm-lora" in names and "llm-qlora" not in names  # no 4-bit on CPU: named for what it is
    results = check_run(out, sample_dir, names)
    evidence = {e["name"]: e["evidence"] for e in results["experiments"]}
    assert evidence["llm-lora"] == "mechanics" and evidence["bert-weighted"] == "model"
    assert [(c["baseline"], c["technique"]) for c in results["claims"][:4]] == [c[1:] for c in CLAIMS]
    assert all(c["evidence"] == "model" for c in results["claims"])  # no claim rests on the LLM stand-in
    assert "mechanics only" in (out / "report.md").read_text()
    assert (out / "run.log").stat().st_size > 0  # the libraries' output went to the log
    png = imread(out / "identity_aucs.png")
    assert png.shape[0] > png.shape[1] / 2  # panels stacked: not a 7:1 strip


def test_train_runs_one_recipe_with_flag_override(sample_dir, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: quick\nweighting: metric\nn_folds: 3\n")
    out = tmp_path / "one"
    train.main(
        ["--config", str(recipe), "--n_folds", "2", "--data-dir", str(sample_dir), "--output_dir", str(out)]
    )
    scores = json.loads((out / "scores.json").read_text())
    assert len(scores["folds"]) == 2  # the flag beat the recipe
    assert json.loads((out / "config.json").read_text())["weighting"] == "metric"
    assert sorted(p.name for p in (out / "models" / "quick").iterdir()) == [
        "experiment.json",
        "fold0",
        "fold1",
    ]
    check_predict(out, sample_dir, "quick")


def test_predict_refuses_a_broken_models_folder_in_one_line(sample_dir, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    with pytest.raises(
        SystemExit, match=r"^jigsaw-predict: .*manifest\.json: not found \(models/ is written by"
    ):
        predict.main(
            ["--models", str(models), "--data-dir", str(sample_dir), "--output", str(tmp_path / "s.csv")]
        )
    predict.write_manifest(models, ["a", "b"], "mean")
    with pytest.raises(SystemExit, match=r"member 'a': folder .*models/a is missing$"):
        predict.main(
            ["--models", str(models), "--data-dir", str(sample_dir), "--output", str(tmp_path / "s.csv")]
        )
    (models / "a").mkdir()
    (models / "b").mkdir()
    with pytest.raises(SystemExit, match=r"a/experiment\.json: not found"):
        predict.main(
            ["--models", str(models), "--data-dir", str(sample_dir), "--output", str(tmp_path / "s.csv")]
        )


def test_unknown_recipe_field_is_refused(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nlearning_rat: 1\n")
    with pytest.raises(SystemExit, match=r"unknown field\(s\) \['learning_rat'\]"):
        train.main(["--config", str(recipe)])


@pytest.mark.parametrize(
    ("recipe", "flags", "message"),
    [
        ("weighting: metrik\n", [], r"^error: .*r\.yaml: weighting: 'metrik' is not one of none \| metric$"),
        ("name: x\n", ["--lr_c", "-1"], r"^error: command line: lr_c: -1\.0 must be > 0$"),
        ("lora_r: 0\nload_in_4bit: true\n", [], r"load_in_4bit: True needs LoRA"),
    ],
)
def test_bad_recipe_value_is_refused_before_the_data_is_read(tmp_path, recipe, flags, message):
    path = tmp_path / "r.yaml"
    path.write_text(recipe)
    empty = tmp_path / "no-data"  # reading it would fail with "test.csv: file not found"
    with pytest.raises(SystemExit, match=message):
        train.main(["--config", str(path), "--data-dir", str(empty), *flags])
    assert not issubclass(ConfigError, DataError)


def test_ladder_matches_the_recipes():
    """The reproduce ladder and competitions/jigsaw/recipes describe the same experiments."""
    recipes = Path(__file__).resolve().parents[3] / "competitions" / "jigsaw" / "recipes"
    parser = HfArgumentParser(ExperimentConfig)
    for config in reproduce.ladder("full"):
        (parsed,) = parser.parse_yaml_file(str(recipes / f"{config.name}.yaml"))
        assert parsed == config, config.name
    for preset in ("cpu", "full"):  # the blends need every rung on the same folds
        assert len({(c.n_folds, c.seed) for c in reproduce.ladder(preset)}) == 1


def test_too_few_rows_to_score_a_fold_stop_before_training(tmp_path, capsys):
    from jigsaw.synth import make_sample

    small = make_sample(tmp_path / "small", n_train=300, n_test=50, seed=0)
    with pytest.raises(SystemExit) as stop:
        reproduce.main(["--data-dir", str(small), "--output-dir", str(tmp_path / "out")])
    message = str(stop.value)
    assert message.startswith(f"error: {small}/train.csv: column '") and "bias AUC is undefined" in message
    assert not (tmp_path / "out").exists()  # nothing was trained
