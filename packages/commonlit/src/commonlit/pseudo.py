"""Pseudo labels for LLM-generated summaries, and their mixing into training (1st place, discussion 447293).

The winners had an LLM write new prompts and summaries of varied quality (``commonlit.generate``),
labelled them with their fold models and trained on them with a lower weight. Which model may label which
row is the whole difficulty, and two rules decide it here:

1. a row is never labelled by a model that trained on its prompt: a training prompt's generated
   summaries are labelled by the fold model that *validated* on that prompt (out of fold), so a label is a
   prediction, not a memory;
2. fold ``k``'s CV score must stay honest, so nothing labelled by a model that saw fold ``k``'s labels may
   enter fold ``k``'s training set. Fold ``k`` therefore trains on the rows of new prompts and of its own
   validation prompts, all labelled by fold model ``k`` (which saw neither); the generated rows of the
   other training prompts are labelled by other fold models and are left out of fold ``k``.

The validation prompts' own generated rows make the CV *transductive*: no true label leaks, but the fold
models learn from summaries of the very prompts they are scored on, and the submission path does the same
for the test prompts only if summaries are generated and labelled for them at inference, which
``commonlit-predict`` does not do. When the generator writes new prompts (the 1st place's setting), their
rows are the part of the CV gain that carries over to unseen prompts; ``counts()`` tells the two apart.

The full-data model (no CV to protect) trains on every generated row: training prompts' rows labelled out
of fold, new prompts' rows by the mean of the fold models. Each use is counted (:meth:`PseudoLabels.counts`).
``commonlit-pseudo-label`` labels a ``generated.csv`` with the fold models of a saved experiment.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from commonlit.data import TARGETS, DataError

NEW_PROMPT = -1  # ``prompt_fold`` of a prompt that no fold trained or validated on
FOLDS_FILE = "folds.json"  # {prompt_id: fold} beside an experiment's saved fold models


@dataclass
class PseudoLabels:
    """Generated rows and each fold model's predictions on them; ``weight`` is their loss weight."""

    frame: (
        pd.DataFrame
    )  # generated rows: student_id, prompt_id, text, prompt_question, prompt_title, prompt_text
    by_fold: np.ndarray  # (n_folds, n_rows, 2): fold model k's predictions on every row
    prompt_fold: (
        np.ndarray
    )  # (n_rows,): the fold that validated on the row's prompt, NEW_PROMPT for new prompts
    weight: float = 0.5

    def __post_init__(self):
        if self.by_fold.shape[1:] != (len(self.frame), len(TARGETS)):
            raise ValueError(f"by_fold: shape {self.by_fold.shape} does not fit {len(self.frame)} rows")

    def labelled(self, k: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows used, their labels, the fold model that labelled each, -1 = mean of all) for fold ``k``'s
        training set, or for the full-data model when ``k`` is None (see the module docstring)."""
        n_folds = len(self.by_fold)
        if k is None:
            rows = np.arange(len(self.frame))
            by = self.prompt_fold.copy()
            labels = self.by_fold.mean(axis=0)
            own = by != NEW_PROMPT
            labels[own] = self.by_fold[by[own], np.flatnonzero(own)]
            return rows, labels, by
        if not 0 <= k < n_folds:
            raise ValueError(f"fold {k}: the pseudo labels come from {n_folds} fold models")
        rows = np.flatnonzero((self.prompt_fold == NEW_PROMPT) | (self.prompt_fold == k))
        return rows, self.by_fold[k, rows], np.full(len(rows), k)

    def mix(self, frame: pd.DataFrame, targets: np.ndarray, k: int | None):
        """``frame``/``targets`` with fold ``k``'s pseudo-labelled rows appended, and per-row weights (1 for
        the real rows, ``weight`` for the generated ones)."""
        rows, labels, _ = self.labelled(k)
        extra = self.frame.iloc[rows][list(frame.columns.intersection(self.frame.columns))]
        mixed = pd.concat([frame, extra], ignore_index=True)
        weights = np.concatenate([np.ones(len(frame)), np.full(len(rows), self.weight)])
        return mixed, np.concatenate([targets, labels]), weights

    def counts(self) -> dict:
        """How many generated rows each fold's training set and the full-data model used, and why the others
        were left out of a fold."""
        n_folds = len(self.by_fold)
        per_fold = [len(self.labelled(k)[0]) for k in range(n_folds)]
        return {
            "rows": len(self.frame),
            "new_prompt_rows": int((self.prompt_fold == NEW_PROMPT).sum()),
            "own_validation_prompt_rows_per_fold": [
                int((self.prompt_fold == k).sum()) for k in range(n_folds)
            ],
            "training_prompt_rows": int((self.prompt_fold != NEW_PROMPT).sum()),
            "used_per_fold": per_fold,
            "left_out_per_fold (labelled by a model that saw the fold)": [
                len(self.frame) - n for n in per_fold
            ],
            "used_by_full_data_model": len(self.frame),
        }

    def to_csv(self, path: Path) -> None:
        """The rows, their ``prompt_fold`` and every fold model's predictions (``content_fold0``...), with
        the full-data labels as ``content``/``wording``."""
        table = self.frame.copy()
        table["prompt_fold"] = self.prompt_fold
        _, full, _ = self.labelled(None)
        for j, target in enumerate(TARGETS):
            table[target] = full[:, j]
            for k in range(len(self.by_fold)):
                table[f"{target}_fold{k}"] = self.by_fold[k, :, j]
        table.to_csv(path, index=False)

    @classmethod
    def read_csv(cls, path: Path, weight: float) -> PseudoLabels:
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: pseudo-labelled file not found")
        table = pd.read_csv(path, dtype={"student_id": str, "prompt_id": str}, keep_default_na=False)
        n_folds = sum(col.startswith("content_fold") for col in table.columns)
        needed = ["text", "prompt_id", "prompt_text", "prompt_fold"] + [
            f"{t}_fold{k}" for t in TARGETS for k in range(n_folds)
        ]
        missing = [c for c in needed if c not in table.columns]
        if n_folds == 0 or missing:
            raise DataError(f"{path}: column {(missing or ['content_fold0'])[0]!r} is missing")
        by_fold = np.stack(
            [table[[f"{t}_fold{k}" for t in TARGETS]].to_numpy(dtype=float) for k in range(n_folds)]
        )
        frame = table.drop(columns=["prompt_fold", *TARGETS, *[c for c in table.columns if "_fold" in c]],
                           errors="ignore")  # fmt: skip
        return cls(frame, by_fold, table["prompt_fold"].to_numpy(dtype=int), weight)


def prompt_folds(prompt_ids: pd.Series, fold_of_prompt: dict[str, int]) -> np.ndarray:
    """Each row's validating fold; prompts absent from ``fold_of_prompt`` are new (``NEW_PROMPT``)."""
    return prompt_ids.map(lambda p: fold_of_prompt.get(p, NEW_PROMPT)).to_numpy(dtype=int)


def fold_of_prompt(train: pd.DataFrame, fold: np.ndarray) -> dict[str, int]:
    """{prompt_id: fold} of a grouped fold assignment (each prompt sits in exactly one fold)."""
    pairs = pd.DataFrame({"prompt_id": train["prompt_id"].to_numpy(), "fold": fold}).drop_duplicates()
    if pairs["prompt_id"].duplicated().any():
        raise ValueError("the folds are not grouped by prompt: a prompt sits in two folds")
    return dict(zip(pairs["prompt_id"], pairs["fold"].astype(int), strict=True))


def label_with_models(models_dir: Path, generated: pd.DataFrame, weight: float = 0.5) -> PseudoLabels:
    """Pseudo labels from an experiment's saved fold models (``models_dir/fold-<k>/`` and its ``folds.json``)."""
    from commonlit.experiment import load_trained  # the models only when labelling from disk

    models_dir = Path(models_dir)
    folds_path = models_dir / FOLDS_FILE
    if not folds_path.is_file():
        raise DataError(f"{folds_path}: not found (the fold of each training prompt)")
    folds = {str(p): int(k) for p, k in json.loads(folds_path.read_text()).items()}
    n_folds = max(folds.values()) + 1
    by_fold = np.stack([load_trained(models_dir / f"fold-{k}").predict(generated) for k in range(n_folds)])
    return PseudoLabels(generated, by_fold, prompt_folds(generated["prompt_id"], folds), weight)


def main(argv: list[str] | None = None) -> None:
    """``commonlit-pseudo-label --models DIR --generated generated.csv --output pseudo.csv``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", required=True, help="an experiment's models dir (fold-<k>/, folds.json)")
    parser.add_argument("--generated", required=True, help="commonlit-generate's generated.csv")
    parser.add_argument("--output", default="pseudo.csv")
    args = parser.parse_args(argv)
    try:
        path = Path(args.generated)
        if not path.is_file():
            raise DataError(f"{path}: not found")
        generated = pd.read_csv(path, dtype={"student_id": str, "prompt_id": str}, keep_default_na=False)
        labels = label_with_models(Path(args.models), generated)
    except DataError as err:
        sys.exit(f"error: {err}")
    labels.to_csv(Path(args.output))
    print(f"labelled {len(generated)} generated rows with {len(labels.by_fold)} fold models: {args.output} "
          f"({json.dumps(labels.counts())})")  # fmt: skip
