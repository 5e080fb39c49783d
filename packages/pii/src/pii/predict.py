"""``pii-predict --models DIR [--data-dir DIR] [--output FILE]``: the submission from saved models alone.

PII Data Detection was a code competition: about 70 % of the test essays were hidden and scored only inside
Kaggle's offline notebook. A reproduce or train run's ``models/`` holds each experiment's fold models
(``<name>/fold<k>/``, with ``<name>/experiment.json``) and ``manifest.json``, which names the submitted system: the
experiments whose token probabilities are averaged, how they are decoded (the experiment's own decoding, or the
O-thresholds tuned out of fold) and whether the post-processing rules run. From it and ``test.json`` alone (no
training data, no network) this writes ``submission.csv``. A Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels pii
    !pii-predict --models /kaggle/input/pii-models --data-dir /kaggle/input/pii-detection-removal-from-educational-data
"""

from __future__ import annotations

import sys
from pathlib import Path

from pii.data import DataError, load_documents
from pii.decode import average_probs, decode_documents
from pii.experiment import decode, predict_saved
from pii.postprocess import apply_rules
from pii.submission import write_submission
from shared import runs
from shared.runs import open_prediction, predict_parser

DECODINGS = ("experiment", "thresholds")


def write_manifest(models: Path, members: list[str], decoding: str, rules: bool,
                   thresholds: dict | None = None) -> Path:  # fmt: skip
    """``manifest.json``: the experiments averaged, the decoding (``experiment``: the first member's own;
    ``thresholds``: ``{"threshold", "per_label"}`` tuned on the OOF probabilities) and the rules."""
    content = {"members": members, "decoding": decoding, "thresholds": thresholds, "rules": rules}
    return runs.write_manifest(models, content)


def read_manifest(models: Path) -> dict:
    manifest = runs.read_manifest(models, "pii-reproduce and pii-train", DataError)
    path = models / runs.MANIFEST
    if manifest.get("decoding") not in DECODINGS:
        raise DataError(
            f"{path}: decoding {manifest.get('decoding')!r} is not one of {' | '.join(DECODINGS)}"
        )
    if manifest["decoding"] == "thresholds" and not manifest.get("thresholds"):
        raise DataError(f"{path}: decoding 'thresholds' needs 'thresholds'")
    return manifest


def predict_documents(models: Path, docs) -> list:
    """BIO label ids per document by the manifest's system."""
    manifest = read_manifest(models)
    runs = [predict_saved(models / name, docs) for name in manifest["members"]]
    probs = runs[0][0] if len(runs) == 1 else average_probs([p for p, _ in runs])
    if manifest["decoding"] == "experiment":
        preds = decode(probs, docs, runs[0][1])
    else:
        limits = manifest["thresholds"]
        preds = decode_documents(probs, docs, limits["threshold"], limits["per_label"])
    if manifest["rules"]:
        preds, _ = apply_rules(docs, preds)
    return preds


def main(argv: list[str] | None = None) -> None:
    args = predict_parser(__doc__.split("\n")[0], "test.json").parse_args(argv)
    from pii.paths import resolve_data_dir

    output, log = open_prediction(args.output, args.verbose)
    try:
        data_dir, _ = resolve_data_dir(args.data_dir)
        test, _ = load_documents(Path(data_dir) / "test.json", labelled=False)
        preds = predict_documents(Path(args.models), test)
    except DataError as err:
        sys.exit(f"pii-predict: {err}")
    write_submission(output, test, preds)
    print(f"pii-predict: {len(test)} essays labelled into {output}; library output in {log}")


if __name__ == "__main__":
    main()
