"""Folds that keep every question whole and, for a share of the misconceptions, every row of that
misconception in one fold — so that those misconceptions are unseen where they are validated.

The competition's test is mostly misconceptions that no training question has (the 3rd place estimated
about 75 % of its rows by probing the leaderboard), and the techniques that matter most — synthetic
questions, the unseen boost — act only on those. Folds grouped by question alone leave most validated
misconceptions seen in training (a frequent misconception is in every fold), so the CV would measure the
wrong problem and tune the boost for it. ``holdout`` of the training misconceptions (a seeded draw) are
therefore made groups: all the questions that carry one of them are joined (union-find, a question with
two held-out misconceptions joins both groups), and the groups are dealt to folds. A misconception whose
group would outgrow half a fold is left out of the draw, so no fold is swamped. The remaining questions
are their own groups. With ``holdout`` 0 this is a plain K-fold over questions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _find(parent: dict, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def assign_folds(long: pd.DataFrame, n_folds: int, holdout: float, seed: int) -> np.ndarray:
    """Fold (0..n_folds-1) of each row of ``long`` (labelled rows: ``QuestionId``, ``MisconceptionId``).

    The rows of one question always share a fold; a held-out misconception's rows too (module docstring).
    Groups go to folds largest first, each to the fold with the fewest rows so far (ties: lowest fold), after
    a seeded shuffle, so fold sizes stay even and the assignment is deterministic."""
    questions = long["QuestionId"].to_numpy()
    unique_questions = pd.unique(questions)
    if len(unique_questions) < n_folds:
        raise ValueError(f"n_folds: {n_folds} folds need at least {n_folds} questions, got {len(unique_questions)}")
    rng = np.random.default_rng(seed)
    parent = {q: q for q in unique_questions}
    size = dict(zip(*np.unique(questions, return_counts=True), strict=True))
    limit = len(long) / n_folds / 2
    by_misconception = long.groupby("MisconceptionId", sort=True)["QuestionId"].agg(lambda s: pd.unique(s))
    names = by_misconception.index.to_numpy()
    draw = rng.permutation(len(names))[: round(holdout * len(names))]
    for m in names[np.sort(draw)]:
        roots = {_find(parent, q) for q in by_misconception[m]}
        if sum(size[r] for r in roots) > limit:
            continue
        first, *rest = sorted(roots)
        for r in rest:
            parent[r] = first
            size[first] += size.pop(r)
    root_of = np.array([_find(parent, q) for q in questions])
    groups = pd.unique(root_of)
    groups = groups[rng.permutation(len(groups))]
    groups = sorted(groups, key=lambda g: -size[g])  # stable: the shuffle breaks ties between equal sizes
    filled = np.zeros(n_folds)
    fold_of = {}
    for g in groups:
        k = int(np.argmin(filled))
        fold_of[g] = k
        filled[k] += size[g]
    return np.array([fold_of[r] for r in root_of])


def unseen_columns(truth: np.ndarray, fold: np.ndarray, n_columns: int) -> np.ndarray:
    """(n_folds, n_columns) bool: column (misconception) ``j`` has no training row outside fold ``k``."""
    n_folds = int(fold.max()) + 1
    unseen = np.ones((n_folds, n_columns), dtype=bool)
    for k in range(n_folds):
        unseen[k, np.unique(truth[fold != k])] = False
    return unseen
