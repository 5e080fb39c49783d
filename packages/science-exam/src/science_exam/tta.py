"""Option-permutation test-time augmentation: score the same question with its options in several orders and
average, so a reader's preference for a position (say, option A) cancels out while its preference for
the content stays.

A permutation ``perm`` is a tuple of option indices: position ``j`` of the permuted question shows the
original option ``perm[j]``. :func:`permute` re-orders the ``A``-``E`` columns (and re-letters ``answer``),
:func:`unpermute` maps the reader's probabilities on the permuted question back to the original letters, and
:func:`tta_proba` averages over the permutations. With the five cyclic shifts every option visits every
position exactly once, so any purely positional bias averages to a constant.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from science_exam.data import LETTERS

K = len(LETTERS)
ORDERS = math.factorial(K)  # 120 orders of five options


def permutations(n: int, seed: int) -> list[tuple[int, ...]]:
    """``n`` distinct option orders (1 <= n <= 120): the identity first, then the cyclic shifts by 1..4, then
    the other orders in a random order drawn with ``seed``."""
    if not 1 <= n <= ORDERS:
        raise ValueError(f"permutations: n={n} must be in [1, {ORDERS}]")
    shifts = [tuple((j + s) % K for j in range(K)) for s in range(K)]
    rest = [p for p in itertools.permutations(range(K)) if p not in shifts]
    drawn = np.random.default_rng(seed).permutation(len(rest))
    return (shifts + [rest[i] for i in drawn])[:n]


def _check(perm: Sequence[int]) -> np.ndarray:
    perm = np.asarray(perm, dtype=int)
    if sorted(perm.tolist()) != list(range(K)):
        raise ValueError(f"permutation {tuple(perm.tolist())} is not an order of 0..{K - 1}")
    return perm


def permute(frame: pd.DataFrame, perm: Sequence[int]) -> pd.DataFrame:
    """A copy of ``frame`` whose option column ``LETTERS[j]`` holds the original option ``perm[j]``; ``answer``,
    when present, is the letter of the position its option moved to."""
    perm = _check(perm)
    out = frame.copy()
    for j, source in enumerate(perm):
        out[LETTERS[j]] = frame[LETTERS[source]].to_numpy()
    if "answer" in frame.columns:
        position = {LETTERS[source]: LETTERS[j] for j, source in enumerate(perm)}
        out["answer"] = frame["answer"].map(position)
    return out


def unpermute(proba: np.ndarray, perm: Sequence[int]) -> np.ndarray:
    """Probabilities on the permuted question, (n, 5) by position, back in the original letters' order."""
    perm = _check(perm)
    proba = np.asarray(proba, dtype=float)
    out = np.empty_like(proba)
    out[:, perm] = proba
    return out


def tta_proba(
    predict_fn: Callable[[pd.DataFrame], np.ndarray], frame: pd.DataFrame, perms: Sequence[Sequence[int]]
) -> np.ndarray:
    """Mean over ``perms`` of ``predict_fn`` on the permuted ``frame``, each mapped back to the original
    letters: (n, 5)."""
    if not len(perms):
        raise ValueError("tta_proba: no permutations")
    return np.mean([unpermute(predict_fn(permute(frame, p)), p) for p in perms], axis=0)
