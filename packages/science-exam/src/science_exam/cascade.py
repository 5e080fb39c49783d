"""A confidence cascade (§8.7): a fast reader answers every question, and only the questions it is least
sure of go to a larger, slower reader.

The top teams ran a 7B–70B LLM only where a DeBERTa reader hesitated, to fit Kaggle's 9-hour limit. A
reader's confidence is its margin, the top probability minus the second. The cascade sends the least
confident share of the questions, at most ``budget``, to the large reader; the share within that budget is
the one with the best MAP@3 on the other folds (cross-fitted, like the ensembles), and the test routes the
share fitted on every fold.
"""

from __future__ import annotations

import numpy as np

from science_exam.scoring import map_at_3

SHARES = np.linspace(
    0, 1, 21
)  # candidate shares of questions routed: 0 %, 5 %, ..., before the budget caps them


def margin(proba: np.ndarray) -> np.ndarray:
    """(n,) top probability minus the second: how sure the reader is."""
    top = np.sort(np.asarray(proba, dtype=float), axis=1)
    return top[:, -1] - top[:, -2]


def routed(small: np.ndarray, threshold: float) -> np.ndarray:
    """Questions the large reader answers: the small reader's margin is below ``threshold``."""
    return margin(small) < threshold


def combine(small: np.ndarray, large: np.ndarray, threshold: float) -> np.ndarray:
    """The small reader's probabilities, replaced by the large reader's on the routed questions."""
    out = np.array(small, dtype=float, copy=True)
    mask = routed(small, threshold)
    out[mask] = large[mask]
    return out


def threshold_for(small: np.ndarray, share: float) -> float:
    """The margin below which ``share`` of these questions fall: what routes that share of them."""
    m = np.sort(margin(small))
    index = int(np.floor(share * len(m) + 1e-9))
    return float(m[index]) if index < len(m) else float("inf")


def fit_share(small: np.ndarray, large: np.ndarray, answers: np.ndarray, budget: float) -> float:
    """The share of questions to route (0 %, 5 %, ... up to ``budget``) with the best MAP@3 of the cascade;
    the smallest on ties."""
    best, best_score = 0.0, -np.inf
    for share in SHARES[budget + 1e-9 >= SHARES]:
        score = map_at_3(combine(small, large, threshold_for(small, share)), answers)
        if score > best_score + 1e-12:
            best, best_score = float(share), score
    return best


def cross_fitted(small: np.ndarray, large: np.ndarray, answers: np.ndarray, fold: np.ndarray, budget: float):
    """(out-of-fold cascade with each fold's share fitted on the other folds, share routed out of fold, share
    fitted on all questions). A share, not a margin, carries over to new questions: the test probabilities
    are a mean of fold models, whose margins are smaller than one model's, so a fixed margin would route more
    than the budget there."""
    oof = np.zeros_like(small, dtype=float)
    sent = np.zeros(len(small), dtype=bool)
    for k in np.unique(fold):
        held = fold == k
        threshold = threshold_for(small[held], fit_share(small[~held], large[~held], answers[~held], budget))
        oof[held] = combine(small[held], large[held], threshold)
        sent[held] = routed(small[held], threshold)
    return oof, float(sent.mean()), fit_share(small, large, answers, budget)
