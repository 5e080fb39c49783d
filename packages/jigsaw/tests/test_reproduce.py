"""End to end on a small sample: the ladder runs, the submission is valid, the weighting claim is checked."""

import json
from pathlib import Path

import pandas as pd
import pytest
from transformers import HfArgumentParser

from jigsaw import reproduce, train
from jigsaw.experiment import ExperimentConfig


@pytest.mark.slow
def test_reproduce_writes_a_valid_submission_report_and_claims(sample_dir, tmp_path):
    out = tmp_path / "run"
    reproduce.main(["--data-dir", str(sample_dir), "--output-dir", str(out), "--preset", "cpu"])
    results = json.loads((out / "results.json").read_text())
    assert results["chapter"] == "jigsaw" and results["higher_is_better"] is True
    names = [c.name for c in reproduce.ladder("cpu")] + [
        "blend-mean",
        "blend-rank",
        "blend-power",
        "blend-optuna",
    ]
    assert [e["name"] for e in results["experiments"]] == names
    for experiment in results["experiments"]:
        assert len(experiment["folds"]) == 5 and 0.5 < experiment["cv"] <= 1.0
    claims = {c["text"]: c for c in results["claims"]}
    weighting = claims["metric-aligned weighting raises the final metric"]
    cv = {e["name"]: e["cv"] for e in results["experiments"]}
    assert weighting["holds"] == (cv[weighting["technique"]] > cv[weighting["baseline"]])
    blend = claims["the blend beats its best single model"]
    assert blend["technique"] == "blend-optuna"
    assert cv[blend["baseline"]] == max(cv[n] for n in names if not n.startswith("blend-"))
    assert json.loads((out / "blend-optuna" / "config.json").read_text())["models"] == names[:-4]
    submission = pd.read_csv(out / "submission.csv")
    sample = pd.read_csv(sample_dir / "sample_submission.csv")
    assert list(submission.columns) == ["id", "prediction"]
    assert submission["id"].tolist() == sample["id"].tolist()
    assert submission["prediction"].between(0, 1).all()
    best = max(results["experiments"], key=lambda e: e["cv"])["name"]
    assert submission.equals(pd.read_csv(out / best / "submission.csv"))
    report = (out / "report.md").read_text()
    assert "identity_aucs.png" in report and (out / "identity_aucs.png").stat().st_size > 10_000
    assert "Labelled test set: private" in report
    oof = pd.read_csv(out / "tfidf-lr" / "oof.csv")
    assert sorted(oof["fold"].unique()) == [0, 1, 2, 3, 4] and oof["prediction"].notna().all()


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


def test_unknown_recipe_field_is_refused(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: x\nlearning_rat: 1\n")
    with pytest.raises(SystemExit, match=r"unknown field\(s\) \['learning_rat'\]"):
        train.main(["--config", str(recipe)])


def test_ladder_matches_the_recipes():
    """The reproduce ladder and competitions/jigsaw/recipes describe the same experiments."""
    recipes = Path(__file__).resolve().parents[3] / "competitions" / "jigsaw" / "recipes"
    parser = HfArgumentParser(ExperimentConfig)
    for config in reproduce.ladder("full"):
        (parsed,) = parser.parse_yaml_file(str(recipes / f"{config.name}.yaml"))
        assert parsed == config, config.name
