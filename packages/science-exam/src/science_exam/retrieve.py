"""The corpus index (BM25 + optional dense) that the ladder and ``science-exam-predict`` search.

A passage is indexed as ``title + ". " + text`` (just ``text`` when the title is empty): the title names
the entity an encyclopaedia paragraph is about, and the paragraph itself often says only "it". Passage ids
are row positions in the passages frame (``passage_id`` 0..n-1).

``query="prompt"`` searches with the question alone; ``"prompt+options"`` with five queries, the prompt
followed by each option, pooled per question (each passage keeps its best score for one retriever; for
``hybrid`` each retriever's pooled list is then fused). The winners of the competition found the options
worth searching for: the right passage names the right option.

:meth:`CorpusIndex.save` writes everything a search needs (``passages.parquet``, ``bm25/``,
``dense.faiss``, ``index.json``, and by default the embedder's files in ``embedder/``), so that
:meth:`CorpusIndex.load` — what predict runs offline — rebuilds nothing: no tokenising or embedding of
passages, only the queries.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from science_exam import fusion as fuse
from science_exam.data import LETTERS, DataError
from science_exam.dense import DenseIndex, Embedder
from science_exam.sparse import Bm25Index

PASSAGE_COLUMNS = ("passage_id", "title", "text")
METHODS = ("bm25", "dense", "hybrid")
QUERIES = ("prompt", "prompt+options")
FUSIONS = ("rrf", "weighted")


def passage_texts(passages: pd.DataFrame) -> list[str]:
    """What is indexed for each passage: ``title + ". " + text``."""
    return [
        f"{title}. {text}" if str(title).strip() else str(text)
        for title, text in zip(passages["title"], passages["text"], strict=True)
    ]


def check_passages(passages: pd.DataFrame, source: str) -> pd.DataFrame:
    """The passages frame, or a one-line DataError naming ``source``, the row and the column."""
    for column in PASSAGE_COLUMNS:
        if column not in passages.columns:
            raise DataError(f"{source}: no column {column!r} (expected {', '.join(PASSAGE_COLUMNS)})")
    if not len(passages):
        raise DataError(f"{source}: no passages (column 'text' is empty)")
    expected = np.arange(len(passages))
    wrong = np.flatnonzero(passages["passage_id"].to_numpy() != expected)
    if len(wrong):
        row = int(wrong[0])
        raise DataError(
            f"{source}: row {row}: column 'passage_id' is {passages['passage_id'].iloc[row]}, expected {row} "
            "(ids are row positions)"
        )
    return passages.reset_index(drop=True)


@dataclass
class CorpusIndex:
    """Passages with their BM25 index and, when an embedder is given, their dense index."""

    passages: pd.DataFrame
    bm25: Bm25Index
    dense: DenseIndex | None = None
    embedder: Embedder | None = None

    @classmethod
    def build(
        cls,
        passages: pd.DataFrame,
        embedder_path: str | Path | None = None,
        dense_kind: str = "flat",
        *,
        nlist: int = 1024,
        nprobe: int = 32,
        k1: float = 1.5,
        b: float = 0.75,
        max_length: int = 256,
        batch_size: int = 64,
        query_prefix: str = "",
        passage_prefix: str = "",
        seed: int = 0,
    ) -> CorpusIndex:
        passages = check_passages(passages, "passages")
        texts = passage_texts(passages)
        bm25 = Bm25Index.build(texts, k1=k1, b=b)
        if embedder_path is None:
            return cls(passages, bm25)
        embedder = Embedder(embedder_path, max_length, batch_size, query_prefix, passage_prefix)
        dense = DenseIndex(dense_kind, nlist=nlist, nprobe=nprobe, seed=seed).build(
            embedder.encode_passages(texts)
        )
        return cls(passages, bm25, dense, embedder)

    def save(self, directory: str | Path, copy_embedder: bool = True) -> Path:
        """Write the index; ``copy_embedder`` puts the embedder's files inside, so the folder is all an
        offline predict needs (otherwise ``index.json`` records the embedder's path or id as given)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.passages.to_parquet(directory / "passages.parquet", index=False)
        self.bm25.save(directory / "bm25")
        settings = {
            "text": 'title + ". " + text',
            "passages": len(self.passages),
            "bm25": {"k1": self.bm25.k1, "b": self.bm25.b},
            "dense": None,
        }
        if self.dense is not None:
            self.dense.save(directory / "dense.faiss")
            embedder = self.embedder
            settings["dense"] = {
                "kind": self.dense.kind, "nlist": self.dense.nlist, "nprobe": self.dense.nprobe,
                "embedder": _copy_embedder(embedder, directory / "embedder") if copy_embedder else embedder.path,
                "max_length": embedder.max_length, "batch_size": embedder.batch_size,
                "query_prefix": embedder.query_prefix, "passage_prefix": embedder.passage_prefix,
            }  # fmt: skip
        (directory / "index.json").write_text(json.dumps(settings, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> CorpusIndex:
        """Read a saved index (the embedder itself loads on the first dense query)."""
        directory = Path(directory)
        settings = json.loads((directory / "index.json").read_text())
        file = directory / "passages.parquet"
        passages = check_passages(pd.read_parquet(file), str(file))
        bm25 = Bm25Index.load(directory / "bm25")
        dense = settings["dense"]
        if dense is None:
            return cls(passages, bm25)
        path = (
            directory / dense["embedder"] if (directory / dense["embedder"]).is_dir() else dense["embedder"]
        )
        embedder = Embedder(
            path, dense["max_length"], dense["batch_size"], dense["query_prefix"], dense["passage_prefix"]
        )
        return cls(
            passages, bm25, DenseIndex.load(directory / "dense.faiss", nprobe=dense["nprobe"]), embedder
        )


def _copy_embedder(embedder: Embedder, target: Path) -> str:
    """Put the embedder's files in ``target``; returns its name relative to the index folder."""
    if Path(embedder.path).resolve() != target.resolve():
        shutil.rmtree(target, ignore_errors=True)
        if Path(embedder.path).is_dir():
            shutil.copytree(embedder.path, target)
        else:  # a hub id: the loaded model writes its own files
            embedder.model.save(str(target))
    return target.name


def queries(questions: pd.DataFrame, query: str) -> list[str]:
    """The query texts: one per question, or five (prompt + " " + option) per question, question-major."""
    if query == "prompt":
        return questions["prompt"].astype(str).tolist()
    return [
        f"{row[0]} {option}" for row in questions[["prompt", *LETTERS]].astype(str).itertuples(index=False)
        for option in row[1:]
    ]  # fmt: skip


def _one(index: CorpusIndex, texts: list[str], method: str, depth: int) -> tuple[np.ndarray, np.ndarray]:
    if method == "bm25":
        return index.bm25.search(texts, depth)
    return index.dense.search(index.embedder.encode_queries(texts), depth)


def _pad(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    out_ids = np.full((len(ids), k), -1, dtype=np.int64)
    out_scores = np.full((len(ids), k), -np.inf, dtype=np.float32)
    width = min(k, ids.shape[1])
    out_ids[:, :width], out_scores[:, :width] = ids[:, :width], scores[:, :width]
    return out_ids, out_scores


def search(
    index: CorpusIndex,
    questions: pd.DataFrame,
    method: str = "bm25",
    query: str = "prompt",
    k: int = 10,
    fusion: str = "rrf",
    dense_weight: float = 0.5,
    rrf_k: int = 60,
) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64 (n, k), scores float32 (n, k)) best first for each question; id -1 / score -inf fill the
    slots a corpus smaller than ``k`` cannot. Scores are BM25, cosine, RRF or weighted-fusion scores."""
    for name, value, allowed in (
        ("method", method, METHODS),
        ("query", query, QUERIES),
        ("fusion", fusion, FUSIONS),
    ):
        if value not in allowed:
            raise ValueError(f"retrieve.search: {name} {value!r} is not one of {' | '.join(allowed)}")
    if method != "bm25" and index.dense is None:
        raise ValueError(
            f"retrieve.search: method {method!r} needs a dense index; this one was built without an embedder"
        )
    if not len(questions):
        return _pad(np.empty((0, 0), dtype=np.int64), np.empty((0, 0), dtype=np.float32), k)
    texts = queries(questions, query)
    lists = []
    for name in ("bm25", "dense") if method == "hybrid" else (method,):
        ids, scores = _one(index, texts, name, k)
        if query == "prompt+options":
            ids, scores = fuse.max_merge(ids, scores, len(LETTERS), top=k)
        lists.append((ids, scores))
    if method == "hybrid":
        if fusion == "rrf":
            lists = [fuse.rrf([ids for ids, _ in lists], k=rrf_k, top=k)]
        else:
            lists = [fuse.weighted(lists, [1 - dense_weight, dense_weight], top=k)]
    return _pad(*lists[0], k)


def recall_at_k(
    ids: np.ndarray,
    passages: pd.DataFrame,
    gold: pd.DataFrame,
    question_ids: Sequence[str],
    ks: Sequence[int] = (1, 3, 10),
) -> dict:
    """Share of (question, evidence sentence) pairs whose evidence is in the ``text`` of one of the first
    k retrieved passages, for each k; ``"pairs"`` is how many pairs counted. Questions without gold rows
    are skipped (NaN recall when no pair is left).

    Example: question q1 needs evidence e1 and e2; e1 is in the passage ranked 2nd, e2 in none: recall@1
    is 0/2, recall@3 is 1/2."""
    texts = passages["text"].astype(str).to_numpy()
    evidence = gold.groupby(gold["id"].astype(str))["evidence"].apply(list).to_dict()
    ranks = []  # per pair: 0-based rank of the first passage holding the evidence, or inf
    for row, qid in zip(np.asarray(ids), question_ids, strict=True):
        for sentence in evidence.get(str(qid), ()):
            hits = [r for r, p in enumerate(row.tolist()) if p >= 0 and sentence in texts[p]]
            ranks.append(hits[0] if hits else np.inf)
    ranks = np.asarray(ranks, dtype=float)
    result: dict = {k: float(np.mean(ranks < k)) if len(ranks) else float("nan") for k in ks}
    result["pairs"] = len(ranks)
    return result
