"""``wsdm-predict --models DIR [--data-dir DIR] [--output FILE] [--tta auto|on|off]``: the Kaggle inference step.

From a reproduce or train run's ``models/`` — every fold model of the submitted rung (whole weights, or
adapters plus the base they name), the feature baseline's pickles, the ensemble weights or the cascade's
share, all named by ``manifest.json`` — and ``test.parquet`` alone, with no training data and no network,
it writes ``submission.csv`` (``id, winner``). ``--tta on|off`` overrides whether each model also reads the
swapped pairs (``auto``: as the run chose); ``--quantisation`` reloads the weights in another precision. A
Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels wsdm
    !wsdm-predict --models /kaggle/input/wsdm-models \\
        --data-dir /kaggle/input/wsdm-cup-multilingual-chatbot-arena --output submission.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from shared.console import progress
from shared.runs import open_prediction, predict_parser
from wsdm import cascade, ensemble
from wsdm import model as models
from wsdm.baseline import FeatureBaseline
from wsdm.data import DataError, load_test
from wsdm.manifest import fold_dirs, read_manifest
from wsdm.quantize import MODES
from wsdm.tta import merge


def probability(directory: Path, recipe: dict, test: pd.DataFrame, tta: bool | None = None,
                quantisation: str | None = None, base_dir: Path | None = None) -> np.ndarray:  # fmt: skip
    """p(A wins) per test row as the manifest entry ``recipe`` computes it: the mean over the fold models,
    swap-averaged when the entry (or ``tta``) says so, then blended or cascaded (the big model of a cascade
    reads only the rows it decides). ``quantisation`` and ``base_dir`` go to ``wsdm.model.load``."""
    kind = recipe["kind"]
    again = lambda entry, rows: probability(directory, entry, rows, tta, quantisation, base_dir)  # noqa: E731
    if kind == "features":
        folds = fold_dirs(directory / "features")
        return sum(FeatureBaseline.load(f).predict(test) for f in folds) / len(folds)
    if kind == "ensemble":
        return ensemble.blend([again(m, test) for m in recipe["members"]], recipe["weights"])
    if kind == "cascade":
        small = again(recipe["small"], test)
        routed = cascade.route(small, recipe["share"])
        return cascade.apply(small, again(recipe["big"], test[routed]), routed)
    folds = fold_dirs(directory / recipe["experiment"])
    swap = recipe["tta"] if tta is None else tta
    p, p_swapped = np.zeros(len(test)), np.zeros(len(test))
    for fold in progress(folds, desc=recipe["experiment"], unit="fold"):
        fitted = models.load(fold, quantisation or recipe["quantisation"], base_dir)
        plain, swapped = fitted.predict_views(test, swap, desc=fold.name)
        p += plain / len(folds)
        if swap:
            p_swapped += swapped / len(folds)
        models.release(fitted)
    return merge(p, p_swapped) if swap else p


def main(argv: list[str] | None = None) -> None:
    parser = predict_parser(__doc__.split("\n")[0], "test.parquet")
    parser.add_argument("--tta", choices=("auto", "on", "off"), default="auto",
                        help="average each model with its prediction on the swapped pairs (auto: as the run chose)")  # fmt: skip
    parser.add_argument("--quantisation", choices=MODES, default=None,
                        help="reload the weights in this precision (default: as the run saved them)")  # fmt: skip
    parser.add_argument("--base-dir", "--base_dir", default=None,
                        help="folder of the base models the saved adapters name by hub id (a Kaggle notebook's "
                        "attached datasets: <base-dir>/gemma-2-9b-it)")  # fmt: skip
    args = parser.parse_args(argv)
    from wsdm.paths import resolve_data_dir

    data_dir, _ = resolve_data_dir(args.data_dir)
    output, _ = open_prediction(args.output, args.verbose)
    tta = {"auto": None, "on": True, "off": False}[args.tta]
    try:
        test = load_test(data_dir / "test.parquet")
        base_dir = Path(args.base_dir) if args.base_dir else None
        p_a = probability(
            Path(args.models), read_manifest(Path(args.models)), test, tta, args.quantisation, base_dir
        )
    except (DataError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    winner = np.where(p_a > 0.5, "model_a", "model_b")
    pd.DataFrame({"id": test["id"].to_numpy(), "winner": winner}).to_csv(output, index=False)
    print(f"wsdm-predict: {len(test)} rows written to {output} (model_a {np.mean(winner == 'model_a'):.1%})")
