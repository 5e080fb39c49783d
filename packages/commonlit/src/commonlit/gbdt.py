"""LightGBM on the hand-made features (§7.5): one regressor per target (content, wording).

The public baseline of the competition, and the stacker of the top solutions: ``fit`` takes whatever
columns it is given, the FEATURES of ``commonlit.features`` plus, when stacking, other experiments'
out-of-fold predictions; the model remembers their order and ``predict`` picks them by name.

Training is deterministic (``deterministic=True``, ``force_row_wise=True``, every seed from
``config.seed``, a fixed thread count): the same rows and config give the same trees. Bagging
(``lgbm_subsample`` < 1) resamples the rows every iteration.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from commonlit.configs import ExperimentConfig

MANIFEST = "gbdt.json"


class Gbdt:
    """One LightGBM booster per target column, over ``columns`` in this order."""

    def __init__(self, boosters: list[lgb.Booster], columns: list[str]):
        self.boosters = boosters
        self.columns = list(columns)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """(n, targets) predictions; ``features`` must hold every training column (any order, extras ignored)."""
        missing = [c for c in self.columns if c not in features.columns]
        if missing:
            raise ValueError(
                f"Gbdt.predict: the features lack column {', '.join(map(repr, missing))} "
                f"(the model was trained on {len(self.columns)} columns: {', '.join(self.columns)})"
            )
        x = features[self.columns].to_numpy(dtype=np.float64)
        return np.stack([booster.predict(x) for booster in self.boosters], axis=1)

    def save(self, directory: Path) -> None:
        """``gbdt-<k>.txt`` per target (LightGBM's text format) and ``gbdt.json`` with the column order."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = [f"gbdt-{k}.txt" for k in range(len(self.boosters))]
        for booster, name in zip(self.boosters, files, strict=True):
            booster.save_model(directory / name)
        (directory / MANIFEST).write_text(
            json.dumps({"columns": self.columns, "models": files}, indent=2) + "\n"
        )

    @classmethod
    def load(cls, directory: Path) -> Gbdt:
        """The model :meth:`save` wrote into ``directory``."""
        path = Path(directory) / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found (not a LightGBM model saved by commonlit.gbdt)")
        manifest = json.loads(path.read_text())
        boosters = [lgb.Booster(model_file=str(Path(directory) / name)) for name in manifest["models"]]
        return cls(boosters, manifest["columns"])


def threads() -> int:
    """LightGBM's thread count: ``OMP_NUM_THREADS`` when set (tiny fits run far faster on one thread of a
    busy machine, where OpenMP threads spin), else every core. Fixed, so that runs on one machine agree."""
    return int(os.environ.get("OMP_NUM_THREADS") or 0) or os.cpu_count() or 1


def params(config: ExperimentConfig) -> dict:
    """LightGBM regressor parameters from the config's ``lgbm_*`` fields, made deterministic."""
    return {
        "objective": "regression",
        "num_leaves": config.lgbm_num_leaves,
        "learning_rate": config.lgbm_learning_rate,
        "n_estimators": config.lgbm_n_estimators,
        "min_child_samples": config.lgbm_min_child_samples,
        "subsample": config.lgbm_subsample,
        "subsample_freq": 1 if config.lgbm_subsample < 1 else 0,
        "colsample_bytree": config.lgbm_colsample,
        "random_state": config.seed,
        "deterministic": True,
        "force_row_wise": True,
        "n_jobs": threads(),
        "verbose": -1,
    }


def fit(features: pd.DataFrame, targets: np.ndarray, config: ExperimentConfig,
        weights: np.ndarray | None = None) -> Gbdt:  # fmt: skip
    """One regressor per column of ``targets`` (n, k) on every column of ``features``; ``weights``: per row."""
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim != 2 or len(targets) != len(features):
        raise ValueError(
            f"gbdt.fit: targets of shape {targets.shape} for {len(features)} feature rows (want (n, 2))"
        )
    if weights is not None and len(weights) != len(features):
        raise ValueError(f"gbdt.fit: {len(weights)} weights for {len(features)} feature rows")
    columns = [str(c) for c in features.columns]
    x = features.to_numpy(dtype=np.float64)
    boosters = []
    for k in range(targets.shape[1]):
        model = lgb.LGBMRegressor(**params(config))
        model.fit(x, targets[:, k], sample_weight=weights, feature_name=columns)
        boosters.append(model.booster_)
    return Gbdt(boosters, columns)
