"""Fusing ranked lists of passage ids: reciprocal rank fusion, weighted scores, and max over queries.

Every function takes (n, k) arrays, one row per query, best first; id -1 marks an empty slot and is
ignored. Each returns (ids int64 (n, top), scores float64 (n, top)) sorted by fused score, ties broken by
the lower passage id so that results never depend on the order of the inputs' ties; rows with fewer than
``top`` distinct passages are padded with id -1 and score -inf.

- :func:`rrf`: ``score(p) = sum over lists of 1 / (k + rank)``, rank 1 for a list's first passage
  (Cormack et al., 2009). Uses ranks only, so BM25's unbounded scores and cosine similarities mix
  without any scaling. Example: with ``k=60``, p at ranks 1 and 3 gets ``1/61 + 1/63``.
- :func:`weighted`: each list's scores min-max scaled to [0, 1] within the query's row (a list whose
  scores are all equal scales to 1), then ``score(p) = sum of weight * scaled``; a passage a list did
  not return gets 0 from it.
- :func:`max_merge`: the rows of one question's several queries (prompt + each option) pooled, each
  passage keeping its best score — for one retriever, whose scores are comparable across queries.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _ranked(fused: dict[int, float], top: int) -> tuple[list[int], list[float]]:
    best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:top]
    pad = top - len(best)
    return [p for p, _ in best] + [-1] * pad, [s for _, s in best] + [-np.inf] * pad


def _stack(rows: list[tuple[list[int], list[float]]], top: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([r[0] for r in rows], dtype=np.int64).reshape(len(rows), top)
    scores = np.array([r[1] for r in rows], dtype=np.float64).reshape(len(rows), top)
    return ids, scores


def _check_rows(arrays: Sequence[np.ndarray]) -> int:
    if not arrays:
        raise ValueError("fusion: no lists to fuse")
    counts = {len(a) for a in arrays}
    if len(counts) != 1:
        raise ValueError(f"fusion: the lists cover different numbers of queries {sorted(counts)}")
    return counts.pop()


def rrf(id_lists: Sequence[np.ndarray], k: int = 60, top: int | None = None):
    """Reciprocal rank fusion of several (n, k_i) id arrays; ``top`` defaults to the widest list."""
    id_lists = [np.asarray(ids) for ids in id_lists]
    n = _check_rows(id_lists)
    top = top or max(ids.shape[1] for ids in id_lists)
    rows = []
    for q in range(n):
        fused: dict[int, float] = {}
        for ids in id_lists:
            for rank, p in enumerate(ids[q].tolist(), start=1):
                if p >= 0:
                    fused[p] = fused.get(p, 0.0) + 1.0 / (k + rank)
        rows.append(_ranked(fused, top))
    return _stack(rows, top)


def weighted(
    pairs: Sequence[tuple[np.ndarray, np.ndarray]], weights: Sequence[float], top: int | None = None
):
    """Weighted sum of per-query min-max scaled scores of several (ids, scores) pairs."""
    if len(pairs) != len(weights):
        raise ValueError(f"fusion: {len(pairs)} lists but {len(weights)} weights")
    pairs = [(np.asarray(ids), np.asarray(scores, dtype=np.float64)) for ids, scores in pairs]
    n = _check_rows([ids for ids, _ in pairs])
    top = top or max(ids.shape[1] for ids, _ in pairs)
    rows = []
    for q in range(n):
        fused: dict[int, float] = {}
        for (ids, scores), weight in zip(pairs, weights, strict=True):
            keep = ids[q] >= 0
            row_ids, row_scores = ids[q][keep].tolist(), scores[q][keep]
            if not row_ids:
                continue
            low, high = row_scores.min(), row_scores.max()
            scaled = (row_scores - low) / (high - low) if high > low else np.ones_like(row_scores)
            for p, s in zip(row_ids, scaled.tolist(), strict=True):
                fused[p] = fused.get(p, 0.0) + weight * s
        rows.append(_ranked(fused, top))
    return _stack(rows, top)


def max_merge(ids: np.ndarray, scores: np.ndarray, group: int, top: int | None = None):
    """Pool each run of ``group`` consecutive rows (one question's queries) into one row, keeping each
    passage's highest score: (n * group, k) -> (n, top)."""
    ids, scores = np.asarray(ids), np.asarray(scores, dtype=np.float64)
    if len(ids) % group:
        raise ValueError(f"max_merge: {len(ids)} query rows do not split into groups of {group}")
    top = top or ids.shape[1]
    rows = []
    for start in range(0, len(ids), group):
        best: dict[int, float] = {}
        block = slice(start, start + group)
        for p, s in zip(ids[block].ravel().tolist(), scores[block].ravel().tolist(), strict=True):
            if p >= 0 and s > best.get(p, -np.inf):
                best[p] = s
        rows.append(_ranked(best, top))
    return _stack(rows, top)
