"""``eedi-predict --models DIR [--data-dir DIR] [--output FILE]``: the Kaggle inference step.

From a reproduce or train run's ``models/`` — each retriever's saved state (the TF-IDF vectoriser, the
pretrained embedder, the fine-tuned embedder of every fold), the fusion weights, every fold's pointwise and
listwise reranker adapters, the boost strength and the misconceptions that had training questions, all
named by ``manifest.json`` — and the competition's ``test.csv`` and ``misconception_mapping.csv`` alone,
with no training data and no network, it writes ``submission.csv``: 25 misconception ids for every
incorrect answer of every test question. A Kaggle notebook cell::

    !pip install --no-index --find-links /kaggle/input/kls-wheels eedi
    !eedi-predict --models /kaggle/input/eedi-models \\
        --data-dir /kaggle/input/eedi-mining-misconceptions-in-mathematics --output submission.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from eedi import postprocess
from eedi.configs import ExperimentConfig
from eedi.data import DataError, load_misconceptions, load_test, to_long
from eedi.experiment import (
    FoldRerankers,
    depth,
    embedder_scores,
    fuse_scores,
    load_embedder,
    rerank_rows,
)
from eedi.explain import read_explanations
from eedi.ranked import Ranked, from_scores
from eedi.submission import submission_frame
from eedi.text import doc_texts, query_texts
from eedi.tfidf import TfidfRetriever
from shared.console import progress
from shared.runs import load_manifest, open_prediction, predict_parser

MANIFEST = "manifest.json"


def read_manifest(models: Path) -> dict:
    """``manifest.json``, checked: the keys predict reads are there and every folder it names exists."""
    path = models / MANIFEST
    manifest = load_manifest(models, "eedi-reproduce or eedi-train", DataError)
    missing = [k for k in ("config", "retrievers", "weights", "pointwise", "listwise", "boost", "seen",
                           "n_misconceptions") if k not in manifest]  # fmt: skip
    if missing:
        raise DataError(f"{path}: missing key(s) {', '.join(missing)}")
    folders = [r["path"] for r in manifest["retrievers"]] + [
        p for p in (manifest["pointwise"], manifest["listwise"]) if p
    ]
    for rel in folders:
        if not rel or not (models / rel).is_dir():
            raise DataError(f"{path}: the folder {models / str(rel)} it names is missing")
    return manifest


def fold_dirs(directory: Path) -> list[Path]:
    """``fold-0``, ``fold-1``, ... in fold order."""
    return sorted(directory.glob("fold-*"), key=lambda p: int(p.name.removeprefix("fold-")))


def retriever_scores(
    models: Path, entry: dict, config: ExperimentConfig, queries: list[str], docs: list[str]
):
    """One retriever's (n, n_misconceptions) test scores, as the reproduce run computed them."""
    folder = models / entry["path"]
    if entry["kind"] == "tfidf":
        return TfidfRetriever.load(folder).scores(queries)
    if entry["kind"] == "pretrained":
        return embedder_scores(config, load_embedder(config, str(folder)), queries, docs)
    folds = fold_dirs(folder)
    total = np.zeros((len(queries), len(docs)), dtype=np.float32)
    for fold in progress(folds, desc="fine-tuned embedder", unit="fold"):
        total += embedder_scores(config, load_embedder(config, str(fold)), queries, docs)
    return total / len(folds)


def predict_ranking(models: Path, test: pd.DataFrame, misconceptions: pd.DataFrame,
                    explanations: Path | None = None) -> Ranked:  # fmt: skip
    """The submitted rung's test ranking (one row per incorrect answer of ``test``, in ``to_long``'s order).
    ``explanations``: the test's CoT explanations (``eedi-explain``), needed when the rerankers read them."""
    manifest = read_manifest(models)
    try:
        config = ExperimentConfig(**manifest["config"])
    except (TypeError, ValueError) as err:
        raise DataError(f"{models / MANIFEST}: its config is not one this eedi reads ({err})") from None
    if manifest["n_misconceptions"] != len(misconceptions):
        raise DataError(f"{models / MANIFEST}: trained on {manifest['n_misconceptions']} misconceptions, but the "
                        f"mapping has {len(misconceptions)}: not the same misconception_mapping.csv")  # fmt: skip
    docs = doc_texts(misconceptions)
    long = to_long(test, labelled=False)
    queries = query_texts(long)
    scores = [retriever_scores(models, entry, config, queries, docs) for entry in manifest["retrievers"]]
    ranked = from_scores(fuse_scores(config, scores, manifest["weights"]), depth(config))
    if manifest["pointwise"]:
        point = fold_dirs(models / manifest["pointwise"])  # loaded one at a time (FoldRerankers.get)
        lists = fold_dirs(models / manifest["listwise"]) if manifest["listwise"] else None
        asked = queries
        if config.explanations:
            if explanations is None:
                raise DataError(f"{models / MANIFEST}: its rerankers read CoT explanations: run eedi-explain on the "
                                "test and pass --explanations <its explanations.csv>")  # fmt: skip
            asked = query_texts(long, read_explanations(explanations))
        first, last = rerank_rows(
            config, FoldRerankers(point, lists), list(range(len(point))), ranked, asked, docs
        )
        ranked = last if last is not None else first
    if manifest["boost"]:
        unseen = ~misconceptions["MisconceptionId"].isin(set(manifest["seen"])).to_numpy()
        ranked = postprocess.boost(ranked, unseen, manifest["boost"])
    return ranked


def main(argv: list[str] | None = None) -> None:
    parser = predict_parser(__doc__.split("\n")[0], "test.csv and misconception_mapping.csv")
    parser.add_argument("--explanations", default=None,
                        help="the test's CoT explanations (eedi-explain), when the saved rerankers read them")  # fmt: skip
    args = parser.parse_args(argv)
    from eedi.paths import resolve_data_dir

    data_dir, _ = resolve_data_dir(args.data_dir)
    output, _ = open_prediction(args.output, args.verbose)
    try:
        misconceptions = load_misconceptions(data_dir / "misconception_mapping.csv")
        test = load_test(data_dir / "test.csv")
        explanations = Path(args.explanations) if args.explanations else None
        ranked = predict_ranking(Path(args.models), test, misconceptions, explanations)
    except (DataError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    keys = to_long(test, labelled=False)["QuestionId_Answer"]
    submission_frame(keys, misconceptions["MisconceptionId"].to_numpy(), ranked).to_csv(output, index=False)
    print(f"eedi-predict: {len(keys)} rows written to {output}")
