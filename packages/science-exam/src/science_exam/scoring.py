"""MAP@3 from option probabilities: the ranking a submission writes, and each question's share of the score.

A submission ranks the five letters; MAP@3 gives a question ``1 / rank`` of its answer within the first
three, else 0 (``shared.metrics.map_at_k``). The per-question scores are what the claims resample. Ties in
the probabilities keep the letter order (A before B), so a reader that outputs equal scores is not lucky.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from science_exam.data import LETTERS

K = 3


def ranking(proba: np.ndarray) -> np.ndarray:
    """(n, 5) option indices, most probable first; ties in letter order."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[1] != len(LETTERS):
        raise ValueError(f"probabilities: shape {proba.shape}, expected (n, {len(LETTERS)})")
    return np.argsort(-proba, axis=1, kind="stable")


def predictions(proba: np.ndarray, k: int = K) -> list[str]:
    """The submission's ``prediction`` column: the top ``k`` letters, space-separated ("B A E")."""
    return [" ".join(LETTERS[j] for j in row[:k]) for row in ranking(proba)]


def average_precision(proba: np.ndarray, answers: Sequence[str], k: int = K) -> np.ndarray:
    """(n,) each question's MAP@k term: 1/rank of its answer if within the top ``k``, else 0."""
    index = np.array([LETTERS.index(a) for a in answers])
    order = ranking(proba)
    rank = np.argmax(order == index[:, None], axis=1) + 1
    return np.where(rank <= k, 1.0 / rank, 0.0)


def map_at_3(proba: np.ndarray, answers: Sequence[str]) -> float:
    return float(average_precision(proba, answers).mean())
