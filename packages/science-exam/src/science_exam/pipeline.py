"""One fold's models, from candidate passages to option probabilities: the same code scores the
out-of-fold rows in ``science-exam-reproduce`` and the hidden test set in ``science-exam-predict``.

A fold holds a reader (``mc`` or ``llm``) and, when the experiment reranks, the cross-encoder trained on the
same fold's questions: reranker and reader are a pair, so the reader is always trained and scored on
contexts made the same way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from science_exam import llm, reader, rerank
from science_exam.configs import ExperimentConfig
from science_exam.context import join
from science_exam.data import DataError
from science_exam.tta import permutations, tta_proba

CONFIG_FILE = "experiment.json"


def with_context(config: ExperimentConfig, passages: pd.DataFrame | None, questions: pd.DataFrame,
                 ids: np.ndarray | None) -> pd.DataFrame:  # fmt: skip
    """``questions`` with a ``context`` column: empty without retrieval, else the first ``context_passages``
    of the (already ranked) candidates."""
    if config.retrieval == "none" or ids is None:
        return questions.assign(context="")
    return questions.assign(context=join(passages, np.asarray(ids)[:, : config.context_passages]))


def fit_reader(config: ExperimentConfig, frame: pd.DataFrame, desc: str):
    """A reader of ``config.reader``'s family trained on ``frame`` (MCQs with their ``context``)."""
    return (llm if config.reader == "llm" else reader).fit(config, frame, desc)


@dataclass
class FoldModels:
    config: ExperimentConfig
    reader: object
    reranker: object | None = None

    def ranked(self, passages: pd.DataFrame | None, questions: pd.DataFrame, ids: np.ndarray | None):
        """The candidates in the reranker's order (as retrieved without one)."""
        if self.reranker is None or ids is None or not self.config.rerank:
            return ids
        return np.asarray(self.reranker.rerank(questions, passages, ids, top=ids.shape[1])[0])

    def proba(self, passages: pd.DataFrame | None, questions: pd.DataFrame, ids: np.ndarray | None,
              tta: int | None = None, ranked: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        """(n, 5) option probabilities; ``tta`` option orders averaged (default: the config's); ``ranked``: the
        candidates already put in the reranker's order by :meth:`ranked`."""
        ids = self.ranked(passages, questions, ids) if ranked is None else ranked
        frame = with_context(self.config, passages, questions, ids)
        n = self.config.tta_permutations if tta is None else tta
        if n <= 1:
            return np.asarray(self.reader.predict_proba(frame), dtype=float)
        return np.asarray(
            tta_proba(self.reader.predict_proba, frame, permutations(n, self.config.seed)), dtype=float
        )

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.reader.save(directory / "reader")
        if self.reranker is not None:
            self.reranker.save(directory / "reranker")
        (directory / CONFIG_FILE).write_text(json.dumps(asdict(self.config), indent=2) + "\n")


def load_config(directory: Path) -> ExperimentConfig:
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise DataError(f"{path}: not found (not a fold saved by science-exam)")
    return ExperimentConfig(**json.loads(path.read_text()))


def load_fold(directory: Path, overrides: dict | None = None) -> FoldModels:
    """A fold saved by :meth:`FoldModels.save`, from its directory alone (offline); ``overrides`` change its
    retrieval settings (the same reader read with another retrieval's contexts, ``rerank`` off)."""
    directory = Path(directory)
    config = replace(load_config(directory), **(overrides or {}))
    family = llm if config.reader == "llm" else reader
    ranker = rerank.load(directory / "reranker") if (directory / "reranker").is_dir() else None
    return FoldModels(config, family.load(directory / "reader"), ranker)
