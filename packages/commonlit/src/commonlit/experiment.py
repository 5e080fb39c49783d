"""One experiment: grouped K-fold by prompt, out-of-fold and test predictions, MCRMSE per fold and overall.

The hidden test set holds prompts that no training summary shares, so the CV must too: folds are groups
of whole prompts (``n_folds = 0``: one fold per prompt, leave-one-prompt-out, as most top teams ran on the
four training prompts). Test predictions are the mean of the fold models; ``full_data`` also trains one
model on every training row, whose test predictions are kept beside them (§7.7.5: fold models against
full-data models). Both model families share this loop through :class:`Trained`.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from commonlit import gbdt
from commonlit import model as transformer
from commonlit.configs import ExperimentConfig
from commonlit.data import TARGETS, CommonlitData, DataError
from commonlit.features import FEATURES, extract
from commonlit.pseudo import FOLDS_FILE, fold_of_prompt
from shared.cv import make_folds
from shared.metrics import mcrmse
from shared.tiny import resolve_backbone

CONFIG_FILE = "experiment.json"


def is_main_process() -> bool:
    """False on the other ranks of an ``accelerate launch``: every rank trains and predicts, rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


@dataclass
class Trained:
    """A fitted model of either family, behind one ``predict(frame)`` and ``save(directory)``."""

    config: ExperimentConfig
    model: object
    tokenizer: object = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """(n, 2) predictions for ``frame`` (summaries joined to their prompts), in its row order."""
        if self.config.model == "lgbm":
            return self.model.predict(with_features(frame)[self.model.columns])
        return transformer.predict(self.model, self.tokenizer, frame, self.config)

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.config.model == "lgbm":
            self.model.save(directory)
        else:
            transformer.save(self.model, self.tokenizer, directory, self.config)
        (directory / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2) + "\n")


def load_trained(directory: Path) -> Trained:
    """A model saved by :meth:`Trained.save`, from its directory alone (offline: no hub, no training data)."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not path.is_file():
        raise DataError(f"{path}: not found (not a model saved by commonlit)")
    config = ExperimentConfig(**json.loads(path.read_text()))
    if config.model == "lgbm":
        return Trained(config, gbdt.Gbdt.load(directory))
    model, tokenizer = transformer.load(directory)
    return Trained(config, model, tokenizer)


def with_features(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the hand-made feature columns (computed once; a frame that has them is returned as is)."""
    if all(name in frame.columns for name in FEATURES):
        return frame
    return pd.concat([frame, extract(frame)], axis=1)


def fit(config: ExperimentConfig, frame: pd.DataFrame, targets: np.ndarray, desc: str,
        weights: np.ndarray | None = None) -> Trained:  # fmt: skip
    """One model of ``config``'s family on these rows (``weights``: per-row loss weights, e.g. pseudo labels)."""
    if config.model == "lgbm":
        rows = with_features(frame)
        return Trained(config, gbdt.fit(rows[list(FEATURES)], targets, config, weights=weights))
    model, tokenizer = transformer.fit(config, frame, targets, desc, weights=weights)
    return Trained(config, model, tokenizer)


def assign_folds(train: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each training row: whole prompts per fold. ``n_folds = 0``: one fold per prompt (in order of
    the prompt ids); otherwise ``shared.cv``'s GroupKFold over ``prompt_id``."""
    prompts = sorted(train["prompt_id"].unique())
    if n_folds == 0:
        if len(prompts) < 2:
            raise DataError(f"n_folds: one fold per prompt needs at least 2 prompts, got {len(prompts)}")
        return train["prompt_id"].map({p: i for i, p in enumerate(prompts)}).to_numpy()
    if len(prompts) < n_folds:
        raise DataError(f"n_folds: {n_folds} folds need at least {n_folds} prompts, got {len(prompts)}")
    return make_folds(train, n_folds, "group", groups="prompt_id", seed=seed)["fold"].to_numpy()


def target_rmse(targets: np.ndarray, preds: np.ndarray) -> np.ndarray:
    """RMSE of each target column (content, wording); MCRMSE is their mean."""
    return np.sqrt(np.mean((targets - preds) ** 2, axis=0))


def rmse_by(targets: np.ndarray, preds: np.ndarray, keys: np.ndarray) -> pd.DataFrame:
    """MCRMSE and the RMSE of each target per value of ``keys`` (folds or prompts), one row each."""
    rows = []
    for key in pd.unique(keys):
        held = keys == key
        err = target_rmse(targets[held], preds[held])
        rows.append({"key": key, "rows": int(held.sum()), "mcrmse": float(err.mean()),
                     **{t: float(e) for t, e in zip(TARGETS, err, strict=True)}})  # fmt: skip
    return pd.DataFrame(rows)


class OutOfFold:
    """The scores of out-of-fold predictions (``targets``, ``oof``, ``fold``), for experiments and rungs."""

    targets: np.ndarray
    oof: np.ndarray
    fold: np.ndarray

    @property
    def cv(self) -> float:
        """MCRMSE of the pooled out-of-fold predictions."""
        return mcrmse(self.targets, self.oof)

    @property
    def folds(self) -> list[float]:
        return fold_scores(self.targets, self.oof, self.fold)


@dataclass
class ExperimentResult(OutOfFold):
    name: str
    targets: np.ndarray  # (n_train, 2) the training rows' content, wording
    oof: np.ndarray  # (n_train, 2) out-of-fold predictions, data.train order
    test: np.ndarray  # (n_test, 2) mean of the fold models
    fold: np.ndarray  # fold of each training row
    seconds: float
    full_test: np.ndarray | None = None  # the full-data model's test predictions (``full_data``)
    also: list[np.ndarray] = field(default_factory=list)  # each fold model's predictions on ``also_predict``


def fold_scores(targets: np.ndarray, preds: np.ndarray, fold: np.ndarray) -> list[float]:
    """MCRMSE of each fold's rows, fold 0 first."""
    return [mcrmse(targets[fold == k], preds[fold == k]) for k in range(int(fold.max()) + 1)]


def targets_of(frame: pd.DataFrame) -> np.ndarray:
    return frame[list(TARGETS)].to_numpy(dtype=np.float64)


def run_experiment(
    config: ExperimentConfig,
    data: CommonlitData,
    out_dir: Path | None = None,
    *,
    fold: np.ndarray | None = None,
    pseudo=None,
    also_predict: pd.DataFrame | None = None,
    models_dir: Path | None = None,
    desc: str | None = None,
) -> ExperimentResult:
    """Cross-validate ``config`` on ``data.train``; write its artefacts into ``out_dir`` and its models into
    ``models_dir`` (``fold-<k>/``, and ``full/`` with ``full_data``) when given.

    ``fold``: a fold assignment to share with other experiments (default: :func:`assign_folds`).
    ``pseudo``: a :class:`commonlit.pseudo.PseudoLabels` whose rows join each fold's training set.
    ``also_predict``: extra rows every fold model predicts (the generated summaries to pseudo-label).
    """
    start = time.perf_counter()
    train, test = data.train, data.test
    if fold is None:
        fold = assign_folds(train, config.n_folds, config.seed)
    n_folds = int(fold.max()) + 1
    if config.model == "transformer":  # one tiny checkpoint for all folds (its tokenizer sees no labels)
        texts = [*train["text"], *train["prompt_text"].unique()]
        config = replace(config, backbone=resolve_backbone(config.backbone, texts))
    targets = targets_of(train)
    oof = np.zeros_like(targets)
    test_sum = np.zeros((len(test), len(TARGETS)))
    also = []
    label = desc or config.name
    if not is_main_process():
        out_dir = models_dir = None
    if models_dir is not None:  # which prompts each fold model never saw: what pseudo-labelling needs
        Path(models_dir).mkdir(parents=True, exist_ok=True)
        (Path(models_dir) / FOLDS_FILE).write_text(json.dumps(fold_of_prompt(train, fold), indent=2) + "\n")
    for k in range(n_folds):
        held = fold == k
        frame, y, w = train[~held], targets[~held], None
        if pseudo is not None:
            frame, y, w = pseudo.mix(frame, y, k)
        trained = fit(config, frame.reset_index(drop=True), y, f"{label} fold {k + 1}/{n_folds}", w)
        oof[held] = trained.predict(train[held])
        test_sum += trained.predict(test)
        if also_predict is not None and len(also_predict):
            also.append(trained.predict(also_predict))
        if models_dir is not None:
            trained.save(Path(models_dir) / f"fold-{k}")
        del trained
    full_test = None
    if config.full_data:
        frame, y, w = train, targets, None
        if pseudo is not None:
            frame, y, w = pseudo.mix(frame, y, None)
        trained = fit(config, frame.reset_index(drop=True), y, f"{label} full data", w)
        full_test = trained.predict(test)
        if models_dir is not None:
            trained.save(Path(models_dir) / "full")
    result = ExperimentResult(config.name, targets, oof, test_sum / n_folds, fold,
                              time.perf_counter() - start, full_test, also)  # fmt: skip
    if out_dir is not None:
        write_artifacts(result, config, data, Path(out_dir))
    return result


def write_artifacts(
    result: ExperimentResult, config: ExperimentConfig, data: CommonlitData, out: Path
) -> None:
    """config.json, oof.csv (with folds), test.csv (mean of the fold models), test_full_data.csv (the
    full-data model's, with ``full_data``) and scores.json of one experiment."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    oof = pd.DataFrame({"student_id": data.train["student_id"], "prompt_id": data.train["prompt_id"],
                        "fold": result.fold, **{t: result.oof[:, j] for j, t in enumerate(TARGETS)}})  # fmt: skip
    oof.to_csv(out / "oof.csv", index=False)
    test = pd.DataFrame({"student_id": data.test["student_id"],
                         **{t: result.test[:, j] for j, t in enumerate(TARGETS)}})  # fmt: skip
    test.to_csv(out / "test.csv", index=False)
    if result.full_test is not None:
        full = pd.DataFrame({"student_id": data.test["student_id"],
                             **{t: result.full_test[:, j] for j, t in enumerate(TARGETS)}})  # fmt: skip
        full.to_csv(out / "test_full_data.csv", index=False)
    scores = {"metric": "MCRMSE", "cv": result.cv, "folds": result.folds, "seconds": result.seconds,
              "per_prompt": rmse_by(result.targets, result.oof, data.train["prompt_id"].to_numpy())
              .to_dict(orient="records")}  # fmt: skip
    (out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
