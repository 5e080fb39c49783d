"""``commonlit-predict --models DIR [--data-dir DIR] [--output FILE]``: the Kaggle inference step.

From a reproduce or train run's ``models/`` (fold or full-data models of each member, LightGBM boosters with
their feature names, and ``manifest.json`` with the blend weights) and the two test files alone —
``summaries_test.csv`` and ``prompts_test.csv``, no training data, no network — it writes
``submission.csv``. The hand-made features are computed again from the test rows: the prompts are unseen,
so nothing about them can come from training. A Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels commonlit
    !commonlit-predict --models /kaggle/input/commonlit-models \\
        --data-dir /kaggle/input/commonlit-evaluate-students-summaries --output submission.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from commonlit.data import TARGETS, DataError, load_test
from commonlit.experiment import load_trained, with_features
from commonlit.submission import MANIFEST, write_submission
from shared.console import progress
from shared.runs import load_manifest, open_prediction, predict_parser


def read_manifest(models: Path) -> dict:
    path = models / MANIFEST
    manifest = load_manifest(models, "commonlit-reproduce or commonlit-train", DataError)
    for i, member in enumerate(manifest.get("members", [])):
        for key in ("name", "models", "weights"):
            if key not in member:
                raise DataError(f"{path}: members[{i}] has no {key!r}")
        for rel in member["models"]:
            if not (models / rel).is_dir():
                raise DataError(
                    f"{path}: members[{i}] ({member['name']}): model folder {models / rel} is missing"
                )
    if not manifest.get("members"):
        raise DataError(f"{path}: no members")
    return manifest


def predict_test(models: Path, test: pd.DataFrame) -> np.ndarray:
    """The manifest's blend: each member the mean of its saved models' predictions, weighted per target."""
    manifest = read_manifest(models)
    test = with_features(test)
    total = np.zeros((len(test), len(TARGETS)))
    dirs = [(m, rel) for m in manifest["members"] for rel in m["models"]]
    for member, rel in progress(dirs, desc="predict", unit="model"):
        weights = np.asarray(member["weights"], dtype=float) / len(member["models"])
        total += load_trained(models / rel).predict(test) * weights
    return total


def main(argv: list[str] | None = None) -> None:
    args = predict_parser(__doc__.split("\n")[0], "summaries_test.csv and prompts_test.csv").parse_args(argv)
    from commonlit.paths import resolve_data_dir

    output, _ = open_prediction(args.output, args.verbose)
    try:
        test = load_test(Path(resolve_data_dir(args.data_dir)[0]))
        preds = predict_test(Path(args.models), test)
    except DataError as err:
        sys.exit(f"error: {err}")
    write_submission(output, test["student_id"], preds)
    print(f"wrote {output}: {len(test)} summaries of {test['prompt_id'].nunique()} prompts")
