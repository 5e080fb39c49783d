"""``science-exam-predict --models DIR [--data-dir DIR] [--output FILE]``: the Kaggle inference step.

From a reproduce or train run's ``models/`` — the corpus index built once (passages, BM25, faiss and the
embedder), each member's fold pipelines (reranker and reader) and ``manifest.json`` (how the submitted rung
combines them: a blend with weights, or a confidence cascade with the share it routes) — and ``test.csv`` alone,
with no training data and no network, it writes ``submission.csv``. The index is loaded, never rebuilt. A
Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels science-exam
    !science-exam-predict --models /kaggle/input/science-exam-models \\
        --data-dir /kaggle/input/kaggle-llm-science-exam --output submission.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from science_exam.cascade import combine, routed, threshold_for
from science_exam.context import candidates
from science_exam.data import LETTERS, DataError, load_test
from science_exam.experiment import INDEX
from science_exam.pipeline import load_fold
from science_exam.retrieve import CorpusIndex
from science_exam.submission import MANIFEST, write_submission
from shared.console import progress
from shared.runs import load_manifest, open_prediction, predict_parser


def _check_member(path: Path, models: Path, member: dict, where: str) -> None:
    if not isinstance(member, dict):
        raise DataError(f"{path}: {where} is not a JSON object")
    for key in ("name", "folds", "tta"):
        if key not in member:
            raise DataError(f"{path}: {where} has no {key!r}")
    if not member["folds"]:
        raise DataError(f"{path}: {where} ({member['name']}) lists no fold models")
    for rel in member["folds"]:
        if not (models / rel).is_dir():
            raise DataError(f"{path}: {where} ({member['name']}): fold folder {models / rel} is missing")


def read_manifest(models: Path) -> dict:
    """``manifest.json``, checked: every folder it names exists."""
    path = models / MANIFEST
    manifest = load_manifest(models, "science-exam-reproduce or science-exam-train", DataError)
    kind = manifest.get("kind")
    if kind == "blend":
        if not manifest.get("members"):
            raise DataError(f"{path}: a blend with no members")
        for i, member in enumerate(manifest["members"]):
            _check_member(path, models, member, f"members[{i}]")
            if "weight" not in member:
                raise DataError(f"{path}: members[{i}] has no 'weight'")
    elif kind == "cascade":
        for role in ("small", "large"):
            if role not in manifest:
                raise DataError(f"{path}: a cascade without its {role!r} reader")
            _check_member(path, models, manifest[role], role)
        if not 0 <= manifest.get("share", -1) <= 1:
            raise DataError(f"{path}: a cascade needs the 'share' of questions it routes, in [0, 1]")
    else:
        raise DataError(f"{path}: 'kind' must be 'blend' or 'cascade', got {kind!r}")
    if manifest.get("index") and not (models / manifest["index"]).is_dir():
        raise DataError(f"{path}: the corpus index {models / manifest['index']} is missing")
    return manifest


def member_proba(
    models: Path, member: dict, index: CorpusIndex | None, questions: pd.DataFrame
) -> np.ndarray:
    """(n, 5) the mean of one member's fold pipelines on ``questions`` (its own retrieval settings)."""
    total = np.zeros((len(questions), len(LETTERS)))
    ids = None
    for rel in progress(member["folds"], desc=member["name"], unit="fold"):
        fold = load_fold(models / rel, member.get("overrides"))
        if ids is None and fold.config.retrieval != "none":
            if index is None:
                raise DataError(
                    f"{models / rel}: {fold.config.retrieval} retrieval needs models/{INDEX}, absent"
                )
            ids = candidates(index, questions, fold.config)
        total += fold.proba(None if index is None else index.passages, questions, ids, tta=member["tta"])
    return total / len(member["folds"])


def rung_proba(
    models: Path, manifest: dict, index: CorpusIndex | None, questions: pd.DataFrame
) -> np.ndarray:
    """The submitted rung's probabilities: its blend, or its cascade (the large reader reads only the
    questions the small one is unsure of)."""
    if manifest["kind"] == "blend":
        return sum(m["weight"] * member_proba(models, m, index, questions) for m in manifest["members"])
    small = member_proba(models, manifest["small"], index, questions)
    threshold = threshold_for(small, manifest["share"])
    mask = routed(small, threshold)
    large = np.zeros_like(small)
    if mask.any():
        large[mask] = member_proba(models, manifest["large"], index, questions[mask].reset_index(drop=True))
    return combine(small, large, threshold)


def predict_test(models: Path, test: pd.DataFrame) -> np.ndarray:
    manifest = read_manifest(models)
    index = CorpusIndex.load(models / manifest["index"]) if manifest.get("index") else None
    return rung_proba(models, manifest, index, test)


def main(argv: list[str] | None = None) -> None:
    args = predict_parser(__doc__.split("\n")[0], "test.csv").parse_args(argv)
    from science_exam.paths import resolve_data_dir

    output, _ = open_prediction(args.output, args.verbose)
    try:
        test = load_test(Path(resolve_data_dir(args.data_dir)[0]))
        proba = predict_test(Path(args.models), test)
    except DataError as err:
        sys.exit(f"error: {err}")
    except (OSError, ValueError, TypeError) as err:  # a saved file missing or edited by hand
        sys.exit(f"error: {args.models}: a saved model could not be loaded ({type(err).__name__}: {err})")
    write_submission(output, test["id"], proba)
    print(f"wrote {output}: {len(test)} questions")
