"""From per-token probabilities to BIO labels: thresholds tuned for F5, prefix-free classes, ensembles.

The metric is micro F5: a missed PII token costs 25 times a false alarm, so a token should be called PII
long before PII is its most likely class. The baseline (§10.5) predicts the best non-'O' label wherever
P(O) is below a threshold; the top solutions (§10.6–10.7) tuned that threshold, then one per entity type,
on the out-of-fold F5, averaged the token probabilities of several models, and some trained on the 7
entity types without B-/I- prefixes and rebuilt BIO by rule.

Every matrix is (n_tokens, n_classes) with column 0 'O' and the other columns either the 14 B-/I- labels
of ``labels.LABELS`` or the 7 prefix-free classes of ``labels.PLAIN_LABELS``; decoded ids are in the label
set of the columns. All decoding is vectorised; tuning works on all documents concatenated at once.

Whitespace between entity tokens (:func:`plain_to_bio`): in the competition's train.json every labelled
``\\n`` token is I-STREET_ADDRESS (an address written over two lines is one entity), while a line break
between two names separates two people. So a run of whitespace tokens whose nearest other tokens on both
sides have the same type joins them into one entity only for the types in ``join`` (STREET_ADDRESS by
default); for any other type the whitespace stays 'O' and the next token starts a new entity (B-).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pii import labels
from pii.data import Document, label_frame
from pii.labels import BIO_TO_PLAIN, ENTITY_TYPES, LABEL2ID, LABELS, O_ID, PLAIN2ID, PLAIN_LABELS
from pii.submission import rows_from_flat
from shared.metrics import pii_fbeta

DEFAULT_GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995, 0.999)
JOIN_ACROSS_BLANK = ("STREET_ADDRESS",)
# plain id -> BIO id of its B- label ('O' stays 'O').
_B_OF_PLAIN = np.array([O_ID, *(LABEL2ID[f"B-{entity}"] for entity in ENTITY_TYPES)], dtype=np.int64)


def _check_probs(probs, name: str = "probs") -> np.ndarray:
    probs = np.asarray(probs)
    if probs.ndim != 2 or probs.shape[1] not in (len(LABELS), len(PLAIN_LABELS)):
        raise ValueError(
            f"{name}: expected shape (n_tokens, {len(LABELS)} BIO or {len(PLAIN_LABELS)} prefix-free "
            f"classes), got {probs.shape}"
        )
    return probs


def _entity(ids: np.ndarray, n_classes: int) -> np.ndarray:
    """Prefix-free id (0 'O', 1..7 the entity types) of label ids of a matrix of ``n_classes`` columns."""
    return BIO_TO_PLAIN[ids] if n_classes == len(LABELS) else ids


def _limits(threshold: float, per_label: Mapping[str, float] | None) -> np.ndarray:
    """O-threshold of each prefix-free id: ``threshold``, overridden per entity type by ``per_label``."""
    limits = np.full(len(PLAIN_LABELS), float(threshold))
    for entity, value in (per_label or {}).items():
        if entity not in ENTITY_TYPES:
            raise ValueError(f"per_label: {entity!r} is not one of {ENTITY_TYPES}")
        limits[PLAIN2ID[entity]] = float(value)
    return limits


def argmax_decode(probs) -> np.ndarray:
    """The most probable class of each token."""
    return _check_probs(probs).argmax(axis=1)


def threshold_decode(probs, threshold: float, per_label: Mapping[str, float] | None = None) -> np.ndarray:
    """The best non-'O' class where P(O) < threshold, else 'O' (the baseline notebook's rule).

    ``per_label`` maps entity types to their own threshold: a token whose best non-'O' class is of type X
    is predicted where P(O) < ``per_label[X]``. When a token's mass is split between 'O' and X this is a
    threshold on X's probability (P(X) > 1 - t); it can loosen a type the model is shy of or tighten a
    noisy one. Types not named keep ``threshold``. A threshold below 0.5 can drop argmax predictions.

    >>> threshold_decode([[0.9, 0.06, 0.04, 0, 0, 0, 0, 0]], 0.95).tolist()
    [1]
    """
    probs = _check_probs(probs)
    best = 1 + probs[:, 1:].argmax(axis=1)
    limit = _limits(threshold, per_label)[_entity(best, probs.shape[1])]
    return np.where(probs[:, 0] < limit, best, O_ID)


def blank_tokens(tokens: Sequence[str]) -> np.ndarray:
    """Whitespace-only (or empty) tokens: spaCy's ``\\n\\n``, double spaces, tabs."""
    return np.fromiter((not token or token.isspace() for token in tokens), dtype=bool, count=len(tokens))


def solid_neighbours(blank: np.ndarray, segment: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For every token, the last non-blank token at or before it and the first at or after it.

    ``segment`` (the document of each token, for concatenated documents) keeps neighbours inside one
    document. -1 where there is none.
    """
    blank = np.asarray(blank, dtype=bool)
    n = len(blank)
    index = np.arange(n)
    before = np.maximum.accumulate(np.where(blank, -1, index)) if n else index
    after = np.minimum.accumulate(np.where(blank, n, index)[::-1])[::-1] if n else index
    after = np.where(after < n, after, -1)
    if segment is not None:
        before = np.where((before >= 0) & (segment[np.maximum(before, 0)] == segment), before, -1)
        after = np.where((after >= 0) & (segment[np.maximum(after, 0)] == segment), after, -1)
    return before, after


def _plain_to_bio(
    plain: np.ndarray, blank: np.ndarray, segment: np.ndarray, join: Sequence[str]
) -> np.ndarray:
    """:func:`plain_to_bio` over concatenated documents (``segment`` gives each token's document)."""
    unknown = set(join) - set(ENTITY_TYPES)
    if unknown:
        raise ValueError(f"join: {sorted(unknown)} not among {ENTITY_TYPES}")
    before, after = solid_neighbours(blank, segment)
    left = np.where(before >= 0, plain[np.maximum(before, 0)], O_ID)
    right = np.where(after >= 0, plain[np.maximum(after, 0)], O_ID)
    joinable = np.isin(left, [PLAIN2ID[entity] for entity in join])
    plain = np.where(blank & (left == right) & joinable, left, plain)
    bio = labels.plain_to_bio(plain)
    starts = np.concatenate(([True], segment[1:] != segment[:-1])) if len(plain) else np.zeros(0, bool)
    return np.where(starts, _B_OF_PLAIN[plain], bio)


def plain_to_bio(plain_ids, tokens: Sequence[str], *, join: Sequence[str] = JOIN_ACROSS_BLANK) -> np.ndarray:
    """BIO ids of one document from prefix-free ids: a run of one type is one entity (B- then I-).

    Whitespace tokens whose nearest non-whitespace tokens on both sides have the same type in ``join``
    take that type, so an address over two lines is one entity (see the module docstring); other
    whitespace keeps its prediction. Two adjacent entities of one type merge (the second one's first token
    then gets I- where the truth has B-, rare in essays), except EMAIL and USERNAME tokens, each its own B-.
    """
    plain = np.asarray(plain_ids, dtype=np.int64)
    if plain.shape != (len(tokens),):
        raise ValueError(f"plain_ids: shape {plain.shape} for {len(tokens)} tokens")
    return _plain_to_bio(plain, blank_tokens(tokens), np.zeros(len(plain), np.int64), join)


def decode_documents(
    doc_probs,
    docs: list[Document],
    threshold: float,
    per_label: Mapping[str, float] | None = None,
    *,
    join: Sequence[str] = JOIN_ACROSS_BLANK,
) -> list[np.ndarray]:
    """BIO ids of every document by :func:`threshold_decode`, prefix-free predictions rebuilt into BIO."""
    _check_documents(doc_probs, docs)
    decoded = [threshold_decode(probs, threshold, per_label) for probs in doc_probs]
    if doc_probs and np.shape(doc_probs[0])[1] == len(PLAIN_LABELS):
        decoded = [plain_to_bio(ids, doc.tokens, join=join) for ids, doc in zip(decoded, docs, strict=True)]
    return decoded


def _check_documents(doc_probs, docs: list[Document]) -> None:
    if len(doc_probs) != len(docs):
        raise ValueError(f"probs: {len(doc_probs)} documents' probabilities for {len(docs)} documents")
    widths = set()
    for probs, doc in zip(doc_probs, docs, strict=True):
        shape = np.shape(probs)
        if len(shape) != 2 or shape[0] != len(doc.tokens):
            raise ValueError(f"probs: document {doc.document} has shape {shape} for {len(doc.tokens)} tokens")
        if shape[1] not in (len(LABELS), len(PLAIN_LABELS)):
            raise ValueError(
                f"probs: document {doc.document} has {shape[1]} classes, "
                f"expected {len(LABELS)} or {len(PLAIN_LABELS)}"
            )
        widths.add(shape[1])
    if len(widths) > 1:
        raise ValueError(f"probs: documents mix {sorted(widths)} classes")


@dataclass
class Thresholds:
    """Thresholds tuned on OOF probabilities, their scores and the curves behind them."""

    threshold: float  # the global O-threshold
    per_label: dict[str, float]  # entity type -> its O-threshold (every type; equal to threshold if untuned)
    global_score: float  # OOF F-beta with the global threshold alone
    score: float  # OOF F-beta with the per-label thresholds
    curve: pd.DataFrame  # threshold, score: the global sweep
    label_curves: pd.DataFrame  # round, entity, threshold, score: each coordinate-ascent sweep

    def decode_documents(self, doc_probs, docs: list[Document], **kwargs) -> list[np.ndarray]:
        return decode_documents(doc_probs, docs, self.threshold, self.per_label, **kwargs)


class _OofScorer:
    """F-beta of thresholded OOF probabilities; the argmax and the types are computed once."""

    def __init__(self, doc_probs, docs: list[Document], beta: float, join: Sequence[str]):
        _check_documents(doc_probs, docs)
        if not docs:
            raise ValueError("docs: no documents to tune on")
        probs = np.concatenate([np.asarray(p) for p in doc_probs])
        self.p_o = probs[:, 0]
        self.best = 1 + probs[:, 1:].argmax(axis=1)
        self.entity = _entity(self.best, probs.shape[1])
        self.plain = probs.shape[1] == len(PLAIN_LABELS)
        sizes = np.array([len(doc.tokens) for doc in docs])
        self.segment = np.repeat(np.arange(len(docs)), sizes)
        self.document = np.array([doc.document for doc in docs])[self.segment]
        self.token = np.arange(len(self.segment)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        self.blank = np.concatenate([blank_tokens(doc.tokens) for doc in docs])
        self.beta, self.join = beta, join
        self.truth = label_frame(docs)

    def __call__(self, limits: np.ndarray) -> float:
        ids = np.where(self.p_o < limits[self.entity], self.best, O_ID)
        if self.plain:
            ids = _plain_to_bio(ids, self.blank, self.segment, self.join)
        return pii_fbeta(self.truth, rows_from_flat(self.document, self.token, ids), beta=self.beta)


def tune_thresholds(
    oof_probs,
    docs: list[Document],
    grid: Sequence[float] = DEFAULT_GRID,
    *,
    per_label: bool = True,
    max_passes: int = 3,
    beta: float = 5.0,
    join: Sequence[str] = JOIN_ACROSS_BLANK,
) -> Thresholds:
    """The global O-threshold, then one per entity type, maximising micro F-beta on OOF probabilities.

    ``oof_probs`` holds one (n_tokens, classes) matrix per labelled document of ``docs``. The global
    threshold is the best of ``grid`` (ties go to the lowest: fewer predictions). Per-label thresholds
    start from it and move by coordinate ascent: each type in turn takes its best grid value with the
    others fixed, only on a strict gain, for up to ``max_passes`` passes or until a pass changes nothing.
    Scored by ``shared.metrics.pii_fbeta`` on exactly the rows a submission would hold. The score is
    optimistic for the rows it was tuned on; judge it on other folds or the test set.
    """
    grid = np.unique(np.asarray(grid, dtype=np.float64))
    if not len(grid) or grid.min() < 0 or grid.max() > 1:
        raise ValueError(f"grid: expected thresholds in [0, 1], got {grid.tolist()}")
    if max_passes < 0:
        raise ValueError(f"max_passes: expected >= 0, got {max_passes}")
    score = _OofScorer(oof_probs, docs, beta, join)
    sweep = [score(np.full(len(PLAIN_LABELS), t)) for t in grid]
    k = int(np.argmax(sweep))
    limits = np.full(len(PLAIN_LABELS), grid[k])
    best = global_best = sweep[k]
    rows = []
    for r in range(max_passes if per_label else 0):
        changed = False
        for entity in range(1, len(PLAIN_LABELS)):
            trial = limits.copy()
            scores = []
            for t in grid:
                trial[entity] = t
                scores.append(score(trial))
                rows.append((r, PLAIN_LABELS[entity], t, scores[-1]))
            j = int(np.argmax(scores))
            if scores[j] > best + 1e-12:
                limits[entity], best, changed = grid[j], scores[j], True
        if not changed:
            break
    return Thresholds(
        threshold=float(grid[k]),
        per_label={entity: float(limits[PLAIN2ID[entity]]) for entity in ENTITY_TYPES},
        global_score=float(global_best),
        score=float(best),
        curve=pd.DataFrame({"threshold": grid, "score": sweep}),
        label_curves=pd.DataFrame(rows, columns=["round", "entity", "threshold", "score"]),
    )


def plot_thresholds(result: Thresholds, path: str | Path) -> Path:
    """PNG of the OOF score against the global threshold, and of each type's last coordinate sweep."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    left, right = fig.subplots(1, 2)
    curve = result.curve
    positions = np.arange(len(curve))
    left.plot(positions, curve["score"], marker="o")
    left.axvline(int(np.flatnonzero(curve["threshold"] == result.threshold)[0]), color="grey", ls="--")
    left.set(title="global O-threshold", xlabel="threshold on P(O)", ylabel="OOF F5")
    curves = result.label_curves
    for entity, rows in curves[curves["round"] == curves["round"].max()].groupby("entity", sort=False):
        right.plot(
            np.searchsorted(curve["threshold"], rows["threshold"]), rows["score"], marker=".", label=entity
        )
    right.set(title="per-type thresholds (last pass)", xlabel="threshold on P(O)", ylabel="OOF F5")
    if len(curves):
        right.legend(fontsize=7)
    for axis in (left, right):
        axis.set_xticks(positions, [f"{t:g}" for t in curve["threshold"]], rotation=45, fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def average_probs(models, weights: Sequence[float] | None = None, *, doc_ids=None) -> list[np.ndarray]:
    """Weighted mean of several models' per-document probabilities (weights normalised to sum 1).

    ``models`` is a list, one per model, of per-document (n_tokens, classes) matrices in the same
    document order; ``doc_ids`` names the documents in errors. Models over BIO labels and over
    prefix-free classes do not mix: convert the BIO ones with ``labels.plain_probs`` first.
    """
    if not len(models):
        raise ValueError("models: expected at least one model's probabilities")
    n_docs = len(models[0])
    for m, model in enumerate(models):
        if len(model) != n_docs:
            raise ValueError(f"models[{m}]: {len(model)} documents, models[0] has {n_docs}")
    w = np.ones(len(models)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(models),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f"weights: expected {len(models)} non-negative numbers with a positive sum, got {weights}"
        )
    w = w / w.sum()
    names = list(range(n_docs)) if doc_ids is None else list(doc_ids)
    for d in range(n_docs):
        shape = np.shape(models[0][d])
        if len(shape) != 2:
            raise ValueError(
                f"document {names[d]}: models[0] has shape {shape}, expected (n_tokens, classes)"
            )
        for m in range(1, len(models)):
            other = np.shape(models[m][d])
            if other != shape:
                raise ValueError(f"document {names[d]}: models[{m}] has shape {other}, models[0] has {shape}")
    if not n_docs:
        return []
    total = sum(
        np.float32(wm) * np.concatenate(model, dtype=np.float32) for wm, model in zip(w, models, strict=True)
    )
    return np.split(total, np.cumsum([np.shape(p)[0] for p in models[0]])[:-1])
