"""Each question's context: the passages its retrieval configuration finds, optionally reranked, joined.

The ladder retrieves ``candidates`` passages once per retrieval configuration and question set (retrieval
has no trained parts; the cross-encoder has, so reranking happens per fold, in :mod:`science_exam.pipeline`).
The reader sees the best ``context_passages``, each as "title: text", best first — readers cut the context
from its end, so the most relevant passage survives truncation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from science_exam import retrieve
from science_exam.configs import ExperimentConfig


def retrieval_key(config: ExperimentConfig) -> tuple:
    """The fields that decide the candidates: experiments that agree on them share one retrieval."""
    return (
        config.retrieval,
        config.query,
        config.fusion,
        config.rrf_k,
        config.dense_weight,
        config.candidates,
    )


def candidates(index: retrieve.CorpusIndex, questions: pd.DataFrame, config: ExperimentConfig) -> np.ndarray:
    """(n, candidates) passage ids for ``questions``, best first (-1 where the corpus had fewer)."""
    if not len(questions):
        return np.zeros((0, config.candidates), dtype=np.int64)
    ids, _ = retrieve.search(index, questions, method=config.retrieval, query=config.query, k=config.candidates,
                             fusion=config.fusion, dense_weight=config.dense_weight, rrf_k=config.rrf_k)  # fmt: skip
    return np.asarray(ids, dtype=np.int64)


def join(passages: pd.DataFrame, ids: np.ndarray) -> list[str]:
    """One context string per row of ``ids``: its passages as "title: text", one per line, in order."""
    texts = (passages["title"].astype(str) + ": " + passages["text"].astype(str)).to_numpy()
    return ["\n".join(texts[i] for i in row if i >= 0) for row in np.asarray(ids)]
