"""A/B swap test-time augmentation: score each pair twice, once with the responses exchanged.

A judge reads two responses in a fixed order and tends to prefer one position whatever the content (LLM
judges favour the first, or the last, response). Write its output as the preference it would state without
that habit, ``s(a, b)`` with ``s(b, a) = 1 - s(a, b)``, plus a position bias ``d``:

    p(A)          = s(a, b) + d        (a shown first)
    p(A | swapped) = s(b, a) + d = 1 - s(a, b) + d        (b shown first)

so ``1 - p(A | swapped) = s(a, b) - d`` and

    merge = (p(A) + 1 - p(A | swapped)) / 2 = s(a, b)

— the bias cancels exactly when it adds to the probability. A bias that shifts the log-odds instead
(``logit p(A) = z + d``, swapped ``-z + d``) gives ``merge = (sigmoid(z + d) + sigmoid(z - d)) / 2``: the
first-order terms in ``d`` cancel, and since ``sigmoid - 1/2`` is odd and increasing, ``merge > 0.5``
exactly when ``z > 0`` — the picks are those of the unbiased model for any shift ``d``. A model with no position bias loses nothing on average: the two
views are two noisy readings of the same preference, and their mean is the less noisy one. Training with
swapped copies (``swap_augment``) attacks the same bias from the other side. The swapped pairs are encoded
by ``wsdm.encode.encode_frame(..., swap=True)``.
"""

from __future__ import annotations

import numpy as np


def probabilities(name: str, p) -> np.ndarray:
    """``p`` as a float64 vector of probabilities; ``ValueError`` naming ``name`` otherwise."""
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"{name}: expected a vector of probabilities, got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):  # also catches NaN
        raise ValueError(f"{name}: probabilities must lie in [0, 1]")
    return p


def merge(p_a, p_a_swapped) -> np.ndarray:
    """``(p_a + 1 - p_a_swapped) / 2``: p(A wins) from both views (``p_a_swapped`` is the model's p(A) on
    the swapped pair, i.e. its p(original B wins)).

    >>> merge([0.9, 0.5], [0.3, 0.5]).round(6).tolist()
    [0.8, 0.5]
    """
    p_a, p_sw = probabilities("p_a", p_a), probabilities("p_a_swapped", p_a_swapped)
    if p_a.shape != p_sw.shape:
        raise ValueError(f"merge: p_a has {len(p_a)} rows but p_a_swapped {len(p_sw)}")
    return (p_a + 1.0 - p_sw) / 2.0


def picks_a(p_a) -> float:
    """The share of rows where A is predicted to win (``p_a > 0.5``); compare it with the labels' A-rate
    to see a position bias."""
    p_a = probabilities("p_a", p_a)
    if not len(p_a):
        raise ValueError("p_a: no rows")
    return float(np.mean(p_a > 0.5))
