"""Grouped CV: whole prompts per fold; the LightGBM experiment end to end on the sample."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commonlit.configs import ExperimentConfig
from commonlit.data import DataError, load_competition
from commonlit.experiment import assign_folds, load_trained, rmse_by, run_experiment
from commonlit.predict import main as predict_main
from commonlit.train import main as train_main
from shared.metrics import mcrmse
from shared.recipes import FieldError

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def data(sample_dir):
    return load_competition(sample_dir)


@pytest.mark.parametrize("n_folds", [0, 2, 4])
def test_no_prompt_sits_in_two_folds(data, n_folds):
    fold = assign_folds(data.train, n_folds, seed=3)
    per_prompt = pd.DataFrame({"p": data.train["prompt_id"], "f": fold}).groupby("p")["f"].nunique()
    assert (per_prompt == 1).all()
    expected = data.train["prompt_id"].nunique() if n_folds == 0 else n_folds
    assert sorted(np.unique(fold)) == list(range(expected))


def test_too_many_folds_is_a_clear_error(data):
    with pytest.raises(DataError, match="9 folds need at least 9 prompts, got 8"):
        assign_folds(data.train, 9, seed=0)


def test_config_rejects_bad_fields():
    with pytest.raises(FieldError, match=re.escape("variant: 'both' is not one of summary | naive | pooled")):
        ExperimentConfig(variant="both")
    with pytest.raises(FieldError, match="n_folds: 1 must be 0"):
        ExperimentConfig(n_folds=1)


def test_rmse_by_hand():
    targets = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    preds = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 1.0]])
    table = rmse_by(targets, preds, np.array(["a", "a", "b"]))
    assert table["content"].tolist() == [1.0, 0.0]
    assert table["wording"].tolist() == [pytest.approx(np.sqrt(2)), 0.0]
    assert table["mcrmse"].tolist() == [pytest.approx((1 + np.sqrt(2)) / 2), 0.0]


def test_lgbm_experiment_is_out_of_fold_and_saves_what_predict_needs(data, tmp_path):
    config = ExperimentConfig(name="lgbm", model="lgbm", lgbm_n_estimators=40, lgbm_num_leaves=7, n_folds=4)
    result = run_experiment(config, data, tmp_path / "run", models_dir=tmp_path / "models")
    assert result.oof.shape == (len(data.train), 2) and result.test.shape == (len(data.test), 2)
    assert result.cv == pytest.approx(mcrmse(result.targets, result.oof))
    assert result.cv < 0.9 * mcrmse(
        result.targets, np.broadcast_to(result.targets.mean(0), result.targets.shape)
    )
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert scores["folds"] == pytest.approx(result.folds)
    folds = json.loads((tmp_path / "models" / "folds.json").read_text())
    assert set(folds) == set(data.train["prompt_id"])
    # a fold model never saw its validation prompts: its OOF rows equal what the saved model predicts
    for k in range(4):
        held = result.fold == k
        model = load_trained(tmp_path / "models" / f"fold-{k}")
        np.testing.assert_allclose(model.predict(data.train[held]), result.oof[held])
        assert {p for p, f in folds.items() if f == k} == set(data.train["prompt_id"][held])
    mean = np.mean(
        [load_trained(tmp_path / "models" / f"fold-{k}").predict(data.test) for k in range(4)], axis=0
    )
    np.testing.assert_allclose(mean, result.test)


def test_train_writes_models_that_predict_reads(sample_dir, tmp_path):
    """``commonlit-train`` on the LightGBM recipe, then ``commonlit-predict`` from its models/ alone."""
    recipe = ROOT / "competitions" / "commonlit" / "recipes" / "lgbm-features.yaml"
    train_main(["--config", str(recipe), "--data-dir", str(sample_dir), "--output-dir", str(tmp_path / "run"),
                "--lgbm-n-estimators", "30", "--n-folds", "2"])  # fmt: skip
    predict_main(["--models", str(tmp_path / "run" / "models"), "--data-dir", str(sample_dir),
                  "--output", str(tmp_path / "predicted.csv")])  # fmt: skip
    ours = pd.read_csv(tmp_path / "predicted.csv", dtype={"student_id": str})
    theirs = pd.read_csv(tmp_path / "run" / "submission.csv", dtype={"student_id": str})
    pd.testing.assert_frame_equal(ours, theirs)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["lgbm_n_estimators"] == 30


def test_train_refuses_pseudo_labels_from_other_folds(sample_dir, tmp_path):
    data = load_competition(sample_dir)
    fold = assign_folds(data.train, 2, seed=42)
    prompt = data.train["prompt_id"].iloc[0]
    wrong = 1 - int(fold[0])  # the other fold than this run puts the prompt in
    pd.DataFrame({"student_id": ["gen1"], "prompt_id": [prompt], "text": ["a summary"], "prompt_question": ["q"],
                  "prompt_title": ["t"], "prompt_text": ["p"], "prompt_fold": [wrong], "content_fold0": [0.0],
                  "wording_fold0": [0.0], "content_fold1": [0.0], "wording_fold1": [0.0]}).to_csv(
        tmp_path / "pseudo.csv", index=False)  # fmt: skip
    with pytest.raises(SystemExit, match=f"prompt {prompt} was labelled as fold {wrong}"):
        train_main(["--model", "lgbm", "--n-folds", "2", "--pseudo-data", str(tmp_path / "pseudo.csv"),
                    "--data-dir", str(sample_dir), "--output-dir", str(tmp_path / "run")])  # fmt: skip
