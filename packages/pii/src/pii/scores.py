"""Micro F5 from per-document counts: the one F-beta formula of the ladder, its per-label table and its
bootstrap.

The metric counts (document, token, full BIO label) triples. One token has one true and one predicted
label, so a document's contribution is three numbers: TP (predicted = true, not 'O'), FP (predicted
non-'O' and wrong) and FN (true non-'O' and missed); a token predicted with the wrong entity is both an
FP and an FN, as in ``shared.metrics.pii_fbeta``. Micro F5 over any set of documents is the formula on
the summed counts, so pooled out-of-fold scores, per-fold scores and each bootstrap resample (documents
counted as often as they were drawn) are sums and one formula, never a re-scoring of the rows.
"""

from __future__ import annotations

import numpy as np

from pii.data import Document
from pii.labels import LABEL2ID, O_ID
from pii.submission import check_predictions

BETA = 5.0


def fbeta(tp, fp, fn, beta: float = BETA):
    """(precision, recall, F-beta) of counts (numbers or arrays); 0 where undefined (no TP gives F = 0).

    ``F = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)``. Example: TP 3, FP 1, FN 2 -> precision 0.75,
    recall 0.6, F5 = 78 / (78 + 50 + 1) = 0.6047.
    """
    tp, fp, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn))
    b2 = beta * beta
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        score = np.where(tp > 0, (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp), 0.0)
    if score.ndim == 0:
        return float(precision), float(recall), float(score)
    return precision, recall, score


def document_counts(docs: list[Document], preds) -> np.ndarray:
    """(n_documents, 3) TP, FP, FN of each document's predicted BIO label ids against its labels."""
    check_predictions(docs, preds)
    counts = np.zeros((len(docs), 3), dtype=np.int64)
    for row, (doc, ids) in enumerate(zip(docs, preds, strict=True)):
        if doc.labels is None:
            raise ValueError(f"document_counts: document {doc.document} has no labels")
        truth = np.fromiter((LABEL2ID[label] for label in doc.labels), dtype=np.int64, count=len(doc.labels))
        ids = np.asarray(ids, dtype=np.int64)
        hit = ids == truth
        counts[row] = (
            int((hit & (truth != O_ID)).sum()),
            int((~hit & (ids != O_ID)).sum()),
            int((~hit & (truth != O_ID)).sum()),
        )
    return counts


def micro_f5(counts: np.ndarray, weights: np.ndarray | None = None, beta: float = BETA) -> float:
    """Micro F-beta of the documents whose counts are the rows of ``counts``, row ``i`` counted
    ``weights[i]`` times (once each by default)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=0) if weights is None else np.asarray(weights, dtype=np.float64) @ counts
    return fbeta(*total, beta=beta)[2]


def fold_f5(counts: np.ndarray, fold: np.ndarray) -> list[float]:
    """Micro F5 of each fold's documents (fold ``k`` = the rows with ``fold == k``)."""
    fold = np.asarray(fold)
    return [micro_f5(counts[fold == k]) for k in range(int(fold.max()) + 1)]
