"""``jigsaw-predict --models DIR [--data-dir DIR] [--output FILE]``: the submission from saved models alone.

A reproduce or train run's ``models/`` holds each experiment's fold models (``<name>/fold<k>/``, with
``<name>/experiment.json``) and ``manifest.json``, which names the submitted system: one experiment, or a blend
of several with its method and weights. From it and ``test.csv`` + ``sample_submission.csv`` only — no training
data, no network — this writes ``submission.csv``: each member the mean of its fold models, then the blend, as the
run computed its own test predictions. A Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels jigsaw
    !jigsaw-predict --models /kaggle/input/jigsaw-models \\
        --data-dir /kaggle/input/jigsaw-unintended-bias-in-toxicity-classification --output submission.csv

A LoRA experiment saves its adapters and the base model's id or path: ``--base-model`` says where that base lies
on the machine that predicts (a Kaggle dataset of the base model).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from jigsaw.blend import METHODS, combine
from jigsaw.data import DataError, load_sample_submission, load_test
from jigsaw.experiment import predict_saved
from jigsaw.submission import write_submission
from shared import runs
from shared.runs import open_prediction, predict_parser


def write_manifest(models: Path, members: list[str], method: str | None = None,
                   weights: list[float] | None = None) -> Path:  # fmt: skip
    """``manifest.json``: the experiments the submission uses; with ``method`` (a :data:`jigsaw.blend.METHODS`
    name; ``optuna`` means the mean with ``weights``) their blend."""
    blend = None if method is None else {"method": method, "weights": weights}
    return runs.write_manifest(models, {"members": members, "blend": blend})


def read_manifest(models: Path) -> dict:
    manifest = runs.read_manifest(models, "jigsaw-reproduce and jigsaw-train", DataError)
    path, blend = models / runs.MANIFEST, manifest.get("blend")
    if blend is None and len(manifest["members"]) != 1:
        raise DataError(f"{path}: {len(manifest['members'])} members and no 'blend'")
    if blend is not None and blend.get("method") not in METHODS:
        raise DataError(f"{path}: blend method {blend.get('method')!r} is not one of {' | '.join(METHODS)}")
    return manifest


def predict_texts(models: Path, texts: list[str], base: str | None = None) -> np.ndarray:
    """P(toxic) of ``texts`` by the manifest's system."""
    manifest = read_manifest(models)
    preds = np.column_stack([predict_saved(models / name, texts, base) for name in manifest["members"]])
    blend = manifest["blend"]
    if blend is None:
        return preds[:, 0]
    if blend["method"] == "optuna":  # the mean blend with the weights Optuna found
        return combine(preds, np.asarray(blend["weights"]))
    return combine(preds, method=blend["method"])


def main(argv: list[str] | None = None) -> None:
    parser = predict_parser(__doc__.split("\n")[0], "test.csv and sample_submission.csv")
    parser.add_argument("--base-model", "--base_model", default=None,
                        help="where the base model of a LoRA experiment lies on this machine")  # fmt: skip
    args = parser.parse_args(argv)
    from jigsaw.paths import resolve_data_dir

    output, log = open_prediction(args.output, args.verbose)
    try:
        data_dir, _ = resolve_data_dir(args.data_dir)
        test = load_test(Path(data_dir) / "test.csv")
        sample = load_sample_submission(Path(data_dir) / "sample_submission.csv", test)
        preds = predict_texts(Path(args.models), test["comment_text"].tolist(), args.base_model)
    except DataError as err:
        sys.exit(f"jigsaw-predict: {err}")
    write_submission(sample, test["id"], preds, output)
    print(f"jigsaw-predict: {len(test)} comments scored into {output}; library output in {log}")


if __name__ == "__main__":
    main()
