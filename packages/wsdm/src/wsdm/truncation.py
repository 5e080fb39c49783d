"""Fitting (prompt, response A, response B) into a token budget.

Arena triples are long-tailed: most fit in a few hundred tokens, some run to many thousands, and what
decides a pair often sits at the END of a text (the question after a pasted context, "So the answer is
X." after long reasoning). Three strategies, each a function of the fields' token counts alone:

- ``head``: the naive ``truncation=True`` of the concatenation — the fields are taken left to right and
  the text is cut where the budget runs out, so response B (and even A) may get nothing. The reference
  the other two are measured against; it keeps each field's head only.
- ``head_tail``: fixed shares of the budget (default prompt 0.2, responses 0.4 each); a field shorter than
  its share keeps all of it and the unused tokens go to the longer fields (water-filling).
- ``ratio``: shares proportional to each field's length (the length-ratio budget of the top solutions),
  again water-filled.

For ``head_tail`` and ``ratio`` every non-empty field keeps at least ``min(length, m)`` tokens with
``m = min(min_tokens, budget // n_fields)``: so ``min_tokens`` each when ``budget >= n_fields * min_tokens``,
and at least one token each below that (a budget under one token per field is an error). Within its
budget a field keeps its head and its tail (:func:`cut`), so a decisive last sentence survives.

Water-filling: field i gets ``clip(t * w_i, floor_i, length_i)`` (``w`` the shares or the lengths) with
the level ``t`` at which the sum meets the budget (the sum is piecewise linear in ``t``); the allocations are then rounded down
and the few tokens left over go to the largest fractional parts (ties to the earlier field).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

STRATEGIES = ("head", "head_tail", "ratio")


def cut(ids: Sequence[int], keep: int, head_fraction: float) -> list[int]:
    """``ids`` shortened to ``keep`` tokens: the first ``round(keep * head_fraction)`` and the last rest.
    ``keep <= 0`` gives ``[]``; a sequence of at most ``keep`` tokens is returned whole.

    >>> cut([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, 0.25)
    [1, 8, 9, 10]
    """
    if not 0.0 <= head_fraction <= 1.0:
        raise ValueError(f"head_fraction {head_fraction}: must be in [0, 1]")
    ids = list(ids)
    if keep <= 0:
        return []
    if len(ids) <= keep:
        return ids
    head = round(keep * head_fraction)
    tail = keep - head
    return ids[:head] + (ids[len(ids) - tail :] if tail else [])


def _check(lengths: Sequence[int], budget: int, strategy: str, shares: Sequence[float], min_tokens: int):
    if strategy not in STRATEGIES:
        raise ValueError(f"truncation strategy {strategy!r}: expected one of {', '.join(STRATEGIES)}")
    if any(n < 0 for n in lengths):
        raise ValueError(f"truncation lengths {list(lengths)}: must be >= 0")
    if budget < len(lengths):
        raise ValueError(
            f"truncation budget {budget}: below one token per field ({len(lengths)} fields need >= "
            f"{len(lengths)})"
        )
    if min_tokens < 1:
        raise ValueError(f"truncation min_tokens {min_tokens}: must be >= 1")
    if strategy == "head_tail":
        if len(shares) != len(lengths):
            raise ValueError(f"truncation shares {list(shares)}: need one per field ({len(lengths)})")
        if not all(math.isfinite(s) and s > 0 for s in shares):
            raise ValueError(f"truncation shares {list(shares)}: must be finite and > 0")


def _water_fill(weights: list[float], floors: list[int], caps: list[int], budget: int) -> list[int]:
    """Integers ``x_i`` in ``[floors_i, caps_i]`` summing to ``budget`` (``sum(floors) <= budget <
    sum(caps)``), as close as can be to ``clip(t * weights_i, floors_i, caps_i)`` for a common level ``t``."""

    def level(t: float) -> list[float]:
        return [min(c, max(f, t * w)) for w, f, c in zip(weights, floors, caps, strict=True)]

    # the sum is piecewise linear in t, bending where a field leaves its floor or reaches its cap: find the
    # piece that crosses the budget and interpolate on it
    low, low_sum = 0.0, float(sum(floors))
    for high in sorted(
        {b for w, f, c in zip(weights, floors, caps, strict=True) if w > 0 for b in (f / w, c / w)}
    ):
        high_sum = sum(level(high))
        if high_sum >= budget:
            if high_sum > low_sum:
                low += (budget - low_sum) * (high - low) / (high_sum - low_sum)
            break
        low, low_sum = high, high_sum
    shares = level(low)
    out = [math.floor(x) for x in shares]
    order = sorted(range(len(out)), key=lambda i: (out[i] - shares[i], i))  # largest fraction first
    left = budget - sum(out)
    while left > 0:  # rounding leaves fewer tokens than fields; loop only against float round-off
        for i in order:
            if left and out[i] < caps[i]:
                out[i] += 1
                left -= 1
    return out


def budgets(
    lengths: Sequence[int], budget: int, strategy: str, shares: Sequence[float] = (0.2, 0.4, 0.4),
    min_tokens: int = 16,
) -> list[int]:  # fmt: skip
    """Tokens each field keeps: the sum is at most ``budget`` (exactly ``budget`` when the fields do not
    fit), each at most its length; fields that fit are kept whole. See the module docstring for the
    strategies and the ``min_tokens`` floor.

    >>> budgets([10, 300, 50], 100, "head")
    [10, 90, 0]
    >>> budgets([10, 300, 50], 100, "head_tail")
    [10, 45, 45]
    >>> budgets([10, 300, 50], 100, "ratio", min_tokens=4)
    [4, 82, 14]
    """
    lengths = [int(n) for n in lengths]
    _check(lengths, budget, strategy, shares, min_tokens)
    if sum(lengths) <= budget:
        return lengths
    if strategy == "head":
        out, left = [], budget
        for n in lengths:
            out.append(min(n, left))
            left -= out[-1]
        return out
    floor = min(min_tokens, budget // len(lengths))
    floors = [min(n, floor) for n in lengths]
    weights = [float(s) for s in shares] if strategy == "head_tail" else [float(n) for n in lengths]
    return _water_fill(weights, floors, lengths, budget)


def truncate(
    fields: Sequence[Sequence[int]], budget: int, strategy: str, *, head_fraction: float = 0.5,
    shares: Sequence[float] = (0.2, 0.4, 0.4), min_tokens: int = 16,
) -> list[list[int]]:  # fmt: skip
    """The fields' token ids cut to :func:`budgets`: ``head`` keeps each field's head (the concatenation
    cut at its end), ``head_tail`` and ``ratio`` keep ``head_fraction`` of a field's budget from its start
    and the rest from its end."""
    keep = budgets([len(f) for f in fields], budget, strategy, shares, min_tokens)
    fraction = 1.0 if strategy == "head" else head_fraction
    return [cut(f, k, fraction) for f, k in zip(fields, keep, strict=True)]
