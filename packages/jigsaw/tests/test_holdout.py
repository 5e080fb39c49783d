"""The holdout, single-fit mode of the full preset's large models: one model trained on the other folds, scored on
fold 0 only; blends and claims then use the rows every experiment predicted."""

from dataclasses import replace

import numpy as np
import pytest

from jigsaw.claims import bias_claim
from jigsaw.data import SCORED_IDENTITIES, load
from jigsaw.experiment import ExperimentConfig, check_scorable, folded_train, predict_saved, run_experiment
from jigsaw.reproduce import ladder, run_blends
from jigsaw.synth import make_sample
from shared.metrics import jigsaw_bias_summary
from shared.recipes import FieldError


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """TF-IDF runs on 20,000 comments (the default sample): fold 0 and each half of it must hold toxic and civil
    comments of every scored identity, or the bias AUC is undefined there."""
    out = tmp_path_factory.mktemp("holdout")
    data = load(make_sample(out / "sample", n_train=20000, n_test=500, seed=0))
    kfold = run_experiment(ExperimentConfig(name="kfold"), data, out / "kfold", out / "models" / "kfold")
    holdout = run_experiment(ExperimentConfig(name="holdout", weighting="metric", validation="holdout"), data,
                             out / "holdout", out / "models" / "holdout")  # fmt: skip
    return data, out, kfold, holdout


def test_a_holdout_experiment_trains_once_and_is_scored_on_fold_zero(runs):
    data, out, kfold, holdout = runs
    train = folded_train(data, 5, 42)
    fold0 = (train["fold"] == 0).to_numpy()
    assert np.isfinite(holdout.oof).sum() == fold0.sum() and np.isfinite(holdout.oof[fold0]).all()
    assert np.isfinite(kfold.oof).all()
    expected = jigsaw_bias_summary(
        train["target"][fold0], holdout.oof[fold0], train[SCORED_IDENTITIES][fold0]
    )
    assert holdout.cv == pytest.approx(expected) and holdout.folds == [pytest.approx(expected["final"])]
    assert sorted(p.name for p in (out / "models" / "holdout").iterdir()) == ["experiment.json", "fold0"]
    texts = data.test["comment_text"].tolist()
    np.testing.assert_allclose(predict_saved(out / "models" / "holdout", texts), holdout.test, atol=1e-12)


def test_blends_and_claims_use_the_rows_both_predicted(runs, tmp_path):
    data, _, kfold, holdout = runs
    train = folded_train(data, 5, 42)
    fold0 = (train["fold"] == 0).to_numpy()
    check_scorable(
        train, "train.csv", holdout=True
    )  # what reproduce checks first: fold 0's halves are scorable
    blends = run_blends([kfold, holdout], data, train, tmp_path)
    for blend in blends:  # every blend is scored on fold 0 alone
        assert np.isfinite(blend.oof).sum() == fold0.sum()
    optuna = blends[-1]
    assert optuna.name == "blend-optuna" and np.isfinite(optuna.cv["final"])
    claim = bias_claim("weighting", ("kfold", kfold.oof), ("holdout", holdout.oof), train["target"],
                       train[SCORED_IDENTITIES], n_resamples=50)  # fmt: skip
    on_fold0 = jigsaw_bias_summary(
        train["target"][fold0], holdout.oof[fold0], train[SCORED_IDENTITIES][fold0]
    )
    base = jigsaw_bias_summary(train["target"][fold0], kfold.oof[fold0], train[SCORED_IDENTITIES][fold0])
    assert claim.delta == pytest.approx(on_fold0["final"] - base["final"])  # both on fold 0's rows


def test_the_full_preset_trains_its_large_models_once():
    full = {c.name: c.validation for c in ladder("full")}
    assert full["tfidf-lr"] == "kfold" and full["lstm-weighted-aux"] == "kfold"
    assert full["bert-weighted"] == "holdout" and full["llm-qlora"] == "holdout"
    assert {c.validation for c in ladder("cpu")} == {"kfold"}  # the CPU ladder keeps its 5-fold CV
    with pytest.raises(FieldError, match=r"validation: 'loo' is not one of kfold \| holdout"):
        replace(ExperimentConfig(), validation="loo")


def test_a_holdout_too_small_to_score_stops_before_training(tmp_path):
    """3,000 comments: fold 0's halves (300 rows) leave some identity without toxic or civil comments."""
    from jigsaw.data import DataError

    train = folded_train(load(make_sample(tmp_path / "small", n_train=3000, n_test=50, seed=0)), 5, 42)
    check_scorable(train, "train.csv")  # k-fold: every 4-fold training side is scorable
    with pytest.raises(DataError, match=r"^train\.csv: column '\w+': half [12] of the holdout fold 0 have "):
        check_scorable(train, "train.csv", holdout=True)


def test_rungs_are_ranked_on_the_rows_they_all_predicted(runs):
    from jigsaw.reproduce import comparable_cv

    data, _, kfold, holdout = runs
    train = folded_train(data, 5, 42)
    fold0 = (train["fold"] == 0).to_numpy()
    assert comparable_cv([kfold], train) == {"kfold": kfold.cv["final"]}  # k-fold alone: its own CV
    both = comparable_cv([kfold, holdout], train)
    on_fold0 = jigsaw_bias_summary(train["target"][fold0], kfold.oof[fold0], train[SCORED_IDENTITIES][fold0])
    assert both["kfold"] == pytest.approx(on_fold0["final"]) != pytest.approx(kfold.cv["final"])
    assert both["holdout"] == pytest.approx(holdout.cv["final"])
