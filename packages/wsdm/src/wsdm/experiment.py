"""One experiment: a preference model cross-validated over train.parquet's pairs, scored by accuracy on the
out-of-fold rows (and on the test when its labels are known), and written out for the report and predict.

Folds are stratified on ``winner`` (``shared.cv.make_folds``). A fold's model trains on the other folds'
pairs plus the extra arena sets the config names (never validated on) and predicts p(A wins) for its
held-out pairs and for the whole test; the test's probability is the mean over the fold models. With
``tta`` each prediction is also made with A and B swapped, so that a rung with and a rung without swap TTA
come from the same training (``wsdm.tta``). The zero-shot judge trains nothing: it predicts every pair once.

Distillation reads the teacher's soft labels (``teacher_file``: ``id``, ``p_model_a``) for the training
pairs: out-of-fold probabilities, as the write-ups used them. A pair's soft label comes from a teacher that
never trained on that pair, but that teacher did train on the student's validation fold, so a little of the
validation labels can reach the student through it; the write-ups accepted that, and this module says so.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shared.console import progress
from shared.cv import make_folds
from shared.tiny import resolve_backbone
from wsdm import model as models
from wsdm.configs import ExperimentConfig
from wsdm.data import Competition, DataError, read_table
from wsdm.tta import merge

OOF = "oof.parquet"
TEST = "test.parquet"


def is_main_process() -> bool:
    """False on the other ranks of an ``accelerate launch``: every rank trains, rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


@dataclass
class Prepared:
    """What every experiment of a run shares: the pairs, their labels and folds, and the LM texts."""

    data: Competition
    train: pd.DataFrame
    y: np.ndarray  # 0 = model_a wins
    fold: np.ndarray
    test: pd.DataFrame
    test_y: np.ndarray | None  # the test's labels when the folder has them (the sample)
    data_dir: Path

    @property
    def n_folds(self) -> int:
        return int(self.fold.max()) + 1

    def texts(self) -> list[str]:
        """Label-free text a tiny stand-in LM is pretrained on: every triple of the data rendered in the
        template (so the LM has seen the layout and reads each response after its prompt), and the template's
        cue with each answer. Pretrained on the fields one by one instead, the fine-tuned classifier stayed
        at the majority class (fold 0 of the sample)."""
        t = models.Template()
        frames = [self.train, self.test, self.data.extra]
        triples = [f"{t.prefix}{p}{t.before_a}{a}{t.before_b}{b}{t.suffix}" for f in frames
                   for p, a, b in zip(f["prompt"], f["response_a"], f["response_b"], strict=True)]  # fmt: skip
        return [*models.PROMPT_TEXTS, *triples]

    def extra_rows(self, names: list[str]) -> pd.DataFrame:
        """The extra sets ``names`` (as loaded, by their ``source``)."""
        if not names:
            return self.data.extra.iloc[:0]
        unknown = sorted(set(names) - set(self.data.extra["source"]))
        if unknown:
            raise DataError(
                f"extra: {unknown} were not loaded (loaded: {sorted(set(self.data.extra['source']))})"
            )
        return self.data.extra[self.data.extra["source"].isin(names)]


def prepare(data: Competition, n_folds: int, seed: int, data_dir: Path) -> Prepared:
    folds = make_folds(data.train[["winner"]], n_folds, "stratified", target="winner", seed=seed)[
        "fold"
    ].to_numpy()
    test_y = None
    if data.test_labels is not None:
        test_y = models.labels_of(data.test["id"].map(data.test_labels))
    return Prepared(
        data, data.train, models.labels_of(data.train["winner"]), folds, data.test, test_y, data_dir
    )


@dataclass
class Predictions:
    """p(A wins) out of fold and on the test; ``*_swapped`` are p(A wins) read from the swapped pairs (None
    without TTA)."""

    oof: np.ndarray
    test: np.ndarray
    oof_swapped: np.ndarray | None = None
    test_swapped: np.ndarray | None = None

    def merged(self) -> Predictions:
        """The swap-TTA probabilities (``wsdm.tta.merge``) as plain predictions."""
        if self.oof_swapped is None:
            raise ValueError("no swapped predictions: the experiment ran without tta")
        return Predictions(merge(self.oof, self.oof_swapped), merge(self.test, self.test_swapped))


@dataclass
class ExperimentResult:
    config: ExperimentConfig
    predictions: Predictions
    seconds: float
    saved: str  # models/<saved>/fold-<k>: the fold models
    losses: list[list[float]]  # training loss per logging step, per fold


def accuracy(p_a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """1.0 where the prediction (A when p(A) > 0.5, else B) is right, per row."""
    return ((p_a <= 0.5).astype(np.int64) == y).astype(np.float64)


def fold_scores(p_a: np.ndarray, prep: Prepared) -> list[float]:
    right = accuracy(p_a, prep.y)
    return [float(right[prep.fold == k].mean()) for k in range(prep.n_folds)]


def read_teacher(config: ExperimentConfig, prep: Prepared) -> np.ndarray:
    """The teacher's p(A) for every training pair, from ``teacher_file`` (relative to the data folder or
    absolute); a pair it lacks or a probability outside [0, 1] is an error naming the file."""
    path = Path(config.teacher_file)
    path = path if path.is_absolute() else prep.data_dir / path
    frame = read_table(path)
    for column in ("id", "p_model_a"):
        if column not in frame.columns:
            raise DataError(f"{path}: missing column {column!r}")
    ids = frame["id"].astype(str)
    twice = ids[ids.duplicated()]
    if len(twice):
        raise DataError(f"{path}: row {twice.index[0] + 1}: column 'id': {twice.iloc[0]!r} appears twice")
    values = pd.to_numeric(frame["p_model_a"], errors="coerce")
    bad = np.flatnonzero(~values.between(0, 1).to_numpy())  # also NaN: blank or not a number
    if len(bad):
        row = int(bad[0])
        raise DataError(f"{path}: row {row + 1}: column 'p_model_a': {frame['p_model_a'].iloc[row]!r} is not a "
                        "probability")  # fmt: skip
    p = pd.Series(values.to_numpy(dtype=float), index=ids)
    missing = prep.train["id"][~prep.train["id"].isin(p.index)]
    if len(missing):
        raise DataError(f"{path}: no soft label for train id {missing.iloc[0]!r} ({len(missing)} missing)")
    return p.reindex(prep.train["id"]).to_numpy()


def write_soft_labels(path: Path, ids: pd.Series, p_a: np.ndarray) -> None:
    """A teacher's soft labels in the layout ``teacher_file`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ids.to_numpy(), "p_model_a": p_a}).to_parquet(path, index=False)


def run_experiment(config: ExperimentConfig, prep: Prepared, out: Path, models_dir: Path, desc: str,
                   teacher: np.ndarray | None = None) -> ExperimentResult:  # fmt: skip
    """Cross-validate ``config`` (module docstring): fold models in ``models_dir/<config.name>/fold-<k>``,
    ``oof.parquet`` and ``test.parquet`` in ``out``. ``teacher`` (p(A) per training pair) replaces reading
    ``teacher_file``."""
    start = time.time()
    if config.distils and teacher is None:
        teacher = read_teacher(config, prep)
    path = resolve_backbone(config.backbone, prep.texts())
    folds = FoldPredictions(prep, config.tta)
    losses = []
    if not config.trains:  # the judge: one model for every fold
        judge = models.zero_shot(config, path)
        for k in range(prep.n_folds):
            folds.add(k, judge, desc, test_weight=float(k == 0))
        if is_main_process():
            judge.save(models_dir / config.name / "fold-0")
        models.release(judge)
    else:
        extra = prep.extra_rows(config.extra)
        for k in progress(range(prep.n_folds), desc=desc, unit="fold"):
            train = prep.fold != k
            frame = pd.concat([prep.train[train], extra], ignore_index=True)
            soft = None if teacher is None else teacher[train]  # configs: no extra sets when distilling
            fitted = models.fit(config, path, frame, teacher=soft, desc=f"{desc} fold {k}")
            losses.append(fitted.losses)
            folds.add(k, fitted, desc)
            if is_main_process():
                fitted.save(models_dir / config.name / f"fold-{k}")
            models.release(fitted)
    predictions = folds.predictions()
    if is_main_process():
        write_predictions(out, prep, predictions)
    return ExperimentResult(config, predictions, time.time() - start, config.name, losses)


def write_predictions(out: Path, prep: Prepared, predictions: Predictions) -> None:
    out.mkdir(parents=True, exist_ok=True)
    oof = pd.DataFrame({"id": prep.train["id"].to_numpy(), "fold": prep.fold, "winner": prep.train["winner"].to_numpy(),
                        "language": prep.train["language"].to_numpy(), "p_model_a": predictions.oof})  # fmt: skip
    test = pd.DataFrame({"id": prep.test["id"].to_numpy(), "p_model_a": predictions.test})
    if predictions.oof_swapped is not None:
        oof["p_model_a_swapped"] = predictions.oof_swapped
        test["p_model_a_swapped"] = predictions.test_swapped
    oof.to_parquet(out / OOF, index=False)
    test.to_parquet(out / TEST, index=False)


def requantised(result: ExperimentResult, prep: Prepared, models_dir: Path, mode: str | None, desc: str
                ) -> Predictions:  # fmt: skip
    """``result``'s fold models reloaded with ``mode`` weights (``wsdm.quantize``; None: as trained) and run
    again: out-of-fold and test p(A), swapped too when the experiment used TTA."""
    folds = FoldPredictions(prep, result.config.tta)
    for k in progress(range(prep.n_folds), desc=desc, unit="fold"):
        once = not result.config.trains  # the judge: one model saved as fold-0
        fitted = models.load(models_dir / result.saved / f"fold-{0 if once else k}", quantisation=mode)
        folds.add(k, fitted, desc, test_weight=float(k == 0) if once else None)
        models.release(fitted)
    return folds.predictions()


class FoldPredictions:
    """Out-of-fold and test p(A) gathered fold by fold: each fold's model predicts its validation pairs and
    the whole test (the test's probability is the mean over the folds), swapped too with ``tta``."""

    def __init__(self, prep: Prepared, tta: bool):
        self.prep, self.tta = prep, tta
        n, m = len(prep.train), len(prep.test)
        self.oof, self.test = np.zeros(n), np.zeros(m)
        self.oof_swapped, self.test_swapped = (np.zeros(n), np.zeros(m)) if tta else (None, None)

    def add(self, k: int, fitted, desc: str, test_weight: float | None = None) -> None:
        """Fold ``k``'s validation pairs, and the test with weight ``test_weight`` (default ``1 / n_folds``; 0
        skips it: one model for every fold predicts the test once)."""
        valid = self.prep.fold == k
        plain, swapped = fitted.predict_views(self.prep.train[valid], self.tta, f"{desc} fold {k} valid")
        self.oof[valid] = plain
        if self.tta:
            self.oof_swapped[valid] = swapped
        weight = 1 / self.prep.n_folds if test_weight is None else test_weight
        if weight:
            test, test_swapped = fitted.predict_views(self.prep.test, self.tta, f"{desc} fold {k} test")
            self.test += weight * test
            if self.tta:
                self.test_swapped += weight * test_swapped

    def predictions(self) -> Predictions:
        return Predictions(self.oof, self.test, self.oof_swapped, self.test_swapped)


def submission_of(prep: Prepared, p_a: np.ndarray) -> pd.DataFrame:
    """``id, winner`` in the test's order: model_a where p(A) > 0.5."""
    return pd.DataFrame(
        {"id": prep.test["id"].to_numpy(), "winner": np.where(p_a > 0.5, "model_a", "model_b")}
    )
