"""LightGBM per target: it learns a known function, deterministically, survives save/load, uses weights."""

import numpy as np
import pandas as pd
import pytest

from commonlit import gbdt
from commonlit.configs import ExperimentConfig

CONFIG = ExperimentConfig(name="lgbm", model="lgbm", lgbm_n_estimators=60, lgbm_num_leaves=8,
                          lgbm_learning_rate=0.1, lgbm_min_child_samples=5, seed=3)  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """gbdt.threads() follows OMP_NUM_THREADS: tiny fits on two busy cores can stall for seconds otherwise."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def synthetic(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"n_words": rng.uniform(0, 1, n), "copied_ratio": rng.uniform(0, 1, n),
                      "noise": rng.normal(size=n)})  # fmt: skip
    content = 3 * x["n_words"] + rng.normal(0, 0.05, n)
    wording = np.where(x["copied_ratio"] > 0.5, -1.0, 1.0) + rng.normal(0, 0.05, n)
    return x, np.stack([content, wording], axis=1)


def rmse(a, b) -> np.ndarray:
    return np.sqrt(np.mean((a - b) ** 2, axis=0))


def test_learns_each_target_from_its_feature():
    x, y = synthetic()
    model = gbdt.fit(x[:300], y[:300], CONFIG)
    pred = model.predict(x[300:])
    assert pred.shape == (100, 2)
    assert (rmse(pred, y[300:]) < 0.25 * y.std(axis=0)).all()


def test_same_seed_same_predictions_other_seed_differs():
    x, y = synthetic()
    first = gbdt.fit(x, y, CONFIG).predict(x)
    assert np.array_equal(first, gbdt.fit(x, y, CONFIG).predict(x))
    other = ExperimentConfig(**{**vars(CONFIG), "seed": 4})  # bagging and column sampling follow the seed
    assert not np.array_equal(first, gbdt.fit(x, y, other).predict(x))


def test_save_load_round_trip_and_column_order(tmp_path):
    x, y = synthetic()
    x["oof_content"] = y[:, 0] + 0.3  # a stacking column beyond the features
    model = gbdt.fit(x, y, CONFIG)
    model.save(tmp_path / "lgbm")
    loaded = gbdt.Gbdt.load(tmp_path / "lgbm")
    assert loaded.columns == ["n_words", "copied_ratio", "noise", "oof_content"]
    shuffled = x[["oof_content", "noise", "n_words", "copied_ratio"]].assign(extra=1.0)
    assert np.array_equal(loaded.predict(shuffled), model.predict(x))


def test_missing_column_is_named(tmp_path):
    x, y = synthetic()
    model = gbdt.fit(x, y, CONFIG)
    with pytest.raises(ValueError, match="lack column 'copied_ratio'"):
        model.predict(x.drop(columns="copied_ratio"))
    with pytest.raises(FileNotFoundError, match=r"gbdt\.json"):
        gbdt.Gbdt.load(tmp_path)


def test_weights_decide_which_rows_are_learned():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"n_words": rng.uniform(0, 1, 600)})
    sign = np.where(np.arange(600) < 300, 1.0, -1.0)  # the second block contradicts the first
    y = np.stack([sign * x["n_words"], sign * x["n_words"]], axis=1)
    weights = np.where(sign > 0, 1.0, 1e-4)
    first_block = np.stack([x["n_words"], x["n_words"]], axis=1)
    weighted = gbdt.fit(x, y, CONFIG, weights=weights).predict(x)
    plain = gbdt.fit(x, y, CONFIG).predict(x)
    assert (rmse(weighted, first_block) < 0.1).all()  # learns y = +x
    assert (rmse(plain, first_block) > 0.4).all()  # the two blocks cancel out: y ~ 0


def test_threads_follow_omp_num_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert gbdt.params(CONFIG)["n_jobs"] == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert gbdt.params(CONFIG)["n_jobs"] >= 1


def test_bad_target_shape():
    x, y = synthetic(50)
    with pytest.raises(ValueError, match=r"targets of shape \(49, 2\) for 50"):
        gbdt.fit(x, y[:49], CONFIG)
