"""BM25 over the passages with ``bm25s``, and a plain Python BM25 that scores the same way.

Both use the Lucene variant of BM25 (what Elasticsearch/Lucene and ``bm25s``' default compute): for a
query's tokens ``t`` (repeated tokens count again) and a passage ``d`` of ``|d|`` tokens,

    score(d) = sum_t idf(t) * tf(t, d) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

Text is tokenised once, here, by :func:`tokenize`: lower-cased words of two or more characters, English
stopwords removed, Snowball English stems (PyStemmer), so "orbits" matches "orbiting". ``bm25s`` then
precomputes every (token, passage) score into a sparse matrix, which makes a query a few array sums;
:func:`plain_bm25_search` walks dict-of-postings lists instead and is the reference the benchmark and
the tests compare against. Ties are broken by the lower passage id in both, so their top-k agree exactly.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter
from collections.abc import Hashable, Sequence
from itertools import islice
from pathlib import Path

import numpy as np

METHOD = "lucene"


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], as_ids: bool = False):
    """Lower-cased, stopword-free, stemmed tokens of each text (the one tokenisation BM25 uses here);
    ``as_ids`` gives ``bm25s``' (token ids, vocabulary) pair instead of strings."""
    import bm25s

    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_stemmer(), return_ids=as_ids, show_progress=False
    )


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest of ``scores`` (1-d), best first, ties to the lower index.

    Deterministic where ``argpartition`` is not: every index scoring above the k-th value is kept, then
    the lowest indices among those equal to it."""
    k = min(k, len(scores))
    if k == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=scores.dtype)
    threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
    above = np.flatnonzero(scores > threshold)
    tied = np.flatnonzero(scores == threshold)[: k - len(above)]
    chosen = np.concatenate([above, tied])
    order = np.lexsort((chosen, -scores[chosen]))
    chosen = chosen[order]
    return chosen.astype(np.int64), scores[chosen]


class Bm25Index:
    """``bm25s`` index over a list of texts; ids are row positions (0..n-1)."""

    def __init__(self, retriever):
        self.retriever = retriever

    @property
    def k1(self) -> float:
        return self.retriever.k1

    @property
    def b(self) -> float:
        return self.retriever.b

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> Bm25Index:
        if len(texts) == 0:
            raise ValueError("BM25: no passages to index")
        return cls.from_tokens(tokenize(texts, as_ids=True), k1, b)

    @classmethod
    def from_tokens(cls, tokenized, k1: float = 1.5, b: float = 0.75) -> Bm25Index:
        """From ``tokenize(texts, as_ids=True)``: lets a caller tokenise once for several indexes."""
        import bm25s

        retriever = bm25s.BM25(k1=k1, b=b, method=METHOD)
        retriever.index(tokenized, show_progress=False)
        return cls(retriever)

    def __len__(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def search(self, queries: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64 (n, min(k, len)), scores float32) best first. Passages that share no word with the query
        score 0 and are not matches: their slots get id -1 and score -inf (not the corpus's first passages)."""
        width = min(k, len(self))
        ids = np.empty((len(queries), width), dtype=np.int64)
        scores = np.empty((len(queries), width), dtype=np.float32)
        for row, tokens in enumerate(tokenize(queries)):
            known = self.retriever.get_tokens_ids(tokens)
            if known:
                full = self.retriever.get_scores_from_ids(known)
            else:
                full = np.zeros(len(self), dtype=np.float32)
            ids[row], scores[row] = top_k(full, width)
        unmatched = scores <= 0
        ids[unmatched], scores[unmatched] = -1, -np.inf
        return ids, scores

    def save(self, directory: str | Path) -> Path:
        """The score matrix, vocabulary and parameters (``bm25s``' own files): loading tokenises nothing."""
        self.retriever.save(directory, show_progress=False)
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path) -> Bm25Index:
        import bm25s

        return cls(bm25s.BM25.load(directory, show_progress=False))


def plain_bm25_index(token_lists: Sequence[Sequence[Hashable]]) -> dict:
    """Postings ``{token: (passage ids, term frequencies)}`` and passage lengths, in plain Python; tokens
    are strings or :func:`tokenize`'s ids."""
    postings: dict[Hashable, tuple[array, array]] = {}
    lengths = array("i")
    for passage, tokens in enumerate(token_lists):
        lengths.append(len(tokens))
        for token, tf in Counter(tokens).items():
            if token not in postings:
                postings[token] = (array("i"), array("i"))
            postings[token][0].append(passage)
            postings[token][1].append(tf)
    return {"postings": postings, "lengths": lengths, "avgdl": sum(lengths) / len(lengths)}


def plain_bm25_search(
    index: dict, query_tokens: Sequence[Sequence[Hashable]], k: int, k1: float = 1.5, b: float = 0.75
) -> tuple[np.ndarray, np.ndarray]:
    """The reference: each query adds the formula above up over its tokens' postings, in a dict."""
    n, lengths, avgdl = len(index["lengths"]), index["lengths"], index["avgdl"]
    width = min(k, n)
    ids = np.empty((len(query_tokens), width), dtype=np.int64)
    scores = np.empty((len(query_tokens), width), dtype=np.float32)
    for row, tokens in enumerate(query_tokens):
        totals: dict[int, float] = {}
        for token in tokens:
            passages, tfs = index["postings"].get(token, ((), ()))
            idf = math.log(1 + (n - len(passages) + 0.5) / (len(passages) + 0.5))
            for passage, tf in zip(passages, tfs, strict=True):
                norm = k1 * (1 - b + b * lengths[passage] / avgdl)
                totals[passage] = totals.get(passage, 0.0) + idf * tf / (tf + norm)
        best = heapq.nlargest(width, totals.items(), key=lambda item: (item[1], -item[0]))
        unmatched = (p for p in range(n) if p not in totals)  # score 0: lowest ids fill the rest
        best += [(p, 0.0) for p in islice(unmatched, width - len(best))]
        ids[row] = [p for p, _ in best]
        scores[row] = [s for _, s in best]
    return ids, scores
