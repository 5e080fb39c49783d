"""The unseen-misconception boost (§11.7): raise the scores of misconceptions that no training question
has, because the test is mostly made of them and every model learned to prefer the ones it was trained on.

The 3rd place multiplied the reranker's probability of each unseen misconception by one constant; on
log-probabilities that is adding ``strength = log C`` — what :func:`boost` does to a stage's head scores
(:class:`eedi.ranked.Ranked`), re-sorting the head. ``strength`` 0 leaves every ranking unchanged.

The strength is tuned on the out-of-fold rows, never on the test: each fold's rows were scored by models
that never saw that fold, and ``eedi.folds`` keeps a share of the misconceptions wholly inside one fold,
so the rows carry unseen misconceptions as the test does. :func:`cross_fitted` picks each fold's strength
on the other folds only (so the boosted out-of-fold score is honest), and the test's on all of them. The
3rd place tuned instead so that a target share of the test's first predictions were unseen misconceptions;
:func:`top1_unseen_share` reports that share for comparison.
"""

from __future__ import annotations

import numpy as np

from eedi.ranked import Ranked


def boost(ranked: Ranked, unseen: np.ndarray, strength: float) -> Ranked:
    """``ranked`` with ``strength`` added to the head scores of unseen columns and the head re-sorted (ties
    keep the order). ``unseen``: (n_columns,) one mask for every row, or (n, n_columns) a row's own."""
    if strength == 0:
        return ranked
    unseen = np.asarray(unseen, dtype=bool)
    head = ranked.cols[:, : ranked.head]
    flags = unseen[head] if unseen.ndim == 1 else np.take_along_axis(unseen, head, 1)
    scores = ranked.scores + strength * flags
    order = np.argsort(-scores, axis=1, kind="stable")
    cols = ranked.cols.copy()
    cols[:, : ranked.head] = np.take_along_axis(head, order, 1)
    return Ranked(cols, np.take_along_axis(scores, order, 1), ranked.head)


def grid(maximum: float, step: float) -> np.ndarray:
    return np.round(np.arange(0.0, maximum + step / 2, step), 10)


def tune(ranked: Ranked, unseen_rows: np.ndarray, truth: np.ndarray, strengths: np.ndarray) -> float:
    """The strength of ``strengths`` with the best MAP@25 on these rows (the smallest among equals)."""
    scores = [boost(ranked, unseen_rows, s).average_precision(truth).mean() for s in strengths]
    return float(strengths[int(np.argmax(scores))])


def cross_fitted(ranked: Ranked, unseen: np.ndarray, truth: np.ndarray, fold: np.ndarray,
                 strengths: np.ndarray) -> tuple[Ranked, list[float], float]:  # fmt: skip
    """(boosted out-of-fold ranking, each fold's strength tuned on the other folds, the strength tuned on every
    row for the test). ``unseen`` is :func:`eedi.folds.unseen_columns`' (n_folds, n_columns) mask: a row is
    judged against what its own fold's models were trained on."""
    rows_unseen = unseen[fold]
    per_fold = []
    cols, scores = ranked.cols.copy(), ranked.scores.copy()
    for k in range(int(fold.max()) + 1):
        held = fold == k
        rest = ~held
        strength = tune(ranked.subset(rest), rows_unseen[rest], truth[rest], strengths)
        per_fold.append(strength)
        done = boost(ranked.subset(held), rows_unseen[held], strength)
        cols[held], scores[held] = done.cols, done.scores
    final = tune(ranked, rows_unseen, truth, strengths)
    return Ranked(cols, scores, ranked.head), per_fold, final


def top1_unseen_share(ranked: Ranked, unseen: np.ndarray) -> float:
    """Share of rows whose first prediction is an unseen misconception (``unseen``: (n_columns,))."""
    return float(np.asarray(unseen, dtype=bool)[ranked.cols[:, 0]].mean())
