"""Dense retrieval: a sentence-transformers embedder and a faiss inner-product index (flat or IVF).

Embeddings are L2-normalised float32, so inner product is cosine similarity. The CPU preset embeds with
the PyPI-shipped all-MiniLM-L6-v2 (no prefixes); the full recipes use e5 (which was trained with
"query: " / "passage: " prefixes and needs them), bge or gte — the prefixes are :class:`Embedder` fields.

``flat`` compares a query with every passage (exact); ``ivf`` clusters the passages into ``nlist`` lists
with k-means and scans only the ``nprobe`` lists nearest the query (approximate, much faster on millions
of passages; exact when ``nprobe == nlist``). :func:`brute_force` is the numpy reference for both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shared.console import progress

# faiss asks for at least 39 training vectors per list (it warns below that): an IVF index gets at most
# n // MIN_PER_LIST lists.
MIN_PER_LIST = 39
# faiss' exact search multiplies query blocks by passage blocks with BLAS from BLAS_THRESHOLD queries on
# (faiss 1.15 raised it to 128,000; below, its per-query loop is ~10x slower on our CPUs; 20 was its
# default for years), in passage blocks of BLAS_DATABASE_BLOCK (the default 1024 spends more time merging
# top-k heaps than multiplying; 16384 is ~3x faster, <= 256 MB per block). See benchmarks/retrieval.py.
BLAS_THRESHOLD = 20
BLAS_DATABASE_BLOCK = 16384


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            return next((set(line.split(":", 1)[1].split()) for line in f if line.startswith("flags")), set())
    except OSError:
        return set()


def import_faiss():
    """faiss with the BLAS settings above. The faiss-cpu wheel bundles OpenBLAS 0.3.15, which does not know
    CPUs newer than itself (e.g. Sapphire Rapids) and falls back to its generic SSE3 kernels, 2-3x slower
    for IVF training and exact search. Unless ``OPENBLAS_CORETYPE`` is set, it is set to the kernels the
    CPU's flags allow while faiss loads its OpenBLAS, then removed again (numpy's BLAS and child processes
    are left alone)."""
    core = None
    if "faiss" not in sys.modules and "OPENBLAS_CORETYPE" not in os.environ:
        flags = _cpu_flags()
        if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
            core = "SkylakeX"
        elif {"avx2", "fma"} <= flags:
            core = "Haswell"
    if core:
        os.environ["OPENBLAS_CORETYPE"] = core
    try:
        import faiss
    finally:
        if core:
            del os.environ["OPENBLAS_CORETYPE"]
    faiss.cvar.distance_compute_blas_threshold = min(
        faiss.cvar.distance_compute_blas_threshold, BLAS_THRESHOLD
    )
    faiss.cvar.distance_compute_blas_database_bs = max(
        faiss.cvar.distance_compute_blas_database_bs, BLAS_DATABASE_BLOCK
    )
    return faiss


class Embedder:
    """Normalised float32 embeddings from a sentence-transformers checkpoint (loaded on first use)."""

    def __init__(
        self,
        path: str | Path,
        max_length: int = 256,
        batch_size: int = 64,
        query_prefix: str = "",
        passage_prefix: str = "",
        device: str | None = None,
    ):
        self.path, self.max_length, self.batch_size = str(path), max_length, batch_size
        self.query_prefix, self.passage_prefix, self.device = query_prefix, passage_prefix, device
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.path, device=self.device)
            self._model.max_seq_length = self.max_length
        return self._model

    def encode(self, texts: Sequence[str], desc: str) -> np.ndarray:
        """(n, dim) float32 unit vectors; one bar named ``desc`` when there is more than one chunk."""
        texts = list(texts)
        chunk = self.batch_size * 16
        starts = range(0, len(texts), chunk)
        if len(starts) > 1:
            starts = progress(starts, desc=desc, unit="chunk")
        parts = [
            self.model.encode(
                texts[start : start + chunk],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            for start in starts
        ]
        if not parts:
            return np.empty((0, self.model.get_sentence_embedding_dimension()), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def encode_queries(self, texts: Sequence[str], desc: str = "embed queries") -> np.ndarray:
        return self.encode([self.query_prefix + t for t in texts], desc)

    def encode_passages(self, texts: Sequence[str], desc: str = "embed passages") -> np.ndarray:
        return self.encode([self.passage_prefix + t for t in texts], desc)


class DenseIndex:
    """faiss inner-product index; ids are row positions of the embeddings given to :meth:`build`.

    For ``ivf`` the lists are trained on (a seeded sample of at most ``train_per_list * nlist`` of) the
    embeddings themselves; ``nlist`` is lowered to what the data allows (``n // 39``), and fewer than 39
    vectors is an error. After :meth:`build`, ``nlist`` is the number of lists actually used."""

    def __init__(
        self, kind: str = "flat", nlist: int = 1024, nprobe: int = 16, train_per_list: int = 64, seed: int = 0
    ):
        if kind not in ("flat", "ivf"):
            raise ValueError(f"dense index kind {kind!r}: expected 'flat' or 'ivf'")
        if nlist < 1 or nprobe < 1:
            raise ValueError(f"dense index: nlist ({nlist}) and nprobe ({nprobe}) must be at least 1")
        self.kind, self.nlist, self.nprobe = kind, nlist, nprobe
        self.train_per_list, self.seed = train_per_list, seed
        self.index = None

    def build(self, embeddings: np.ndarray) -> DenseIndex:
        faiss = import_faiss()

        embeddings = np.ascontiguousarray(embeddings, dtype=np.float32)
        n, dim = embeddings.shape
        if self.kind == "flat":
            self.index = faiss.IndexFlatIP(dim)
        else:
            if n < MIN_PER_LIST:
                raise ValueError(
                    f"IVF index: {n} vectors cannot train even one list (needs {MIN_PER_LIST}); use kind='flat'"
                )
            self.nlist = min(self.nlist, n // MIN_PER_LIST)
            self.index = faiss.IndexIVFFlat(
                faiss.IndexFlatIP(dim), dim, self.nlist, faiss.METRIC_INNER_PRODUCT
            )
            sample = self.train_per_list * self.nlist
            if n > sample:
                rows = np.sort(np.random.default_rng(self.seed).choice(n, size=sample, replace=False))
                self.index.train(embeddings[rows])
            else:
                self.index.train(embeddings)
            self.index.nprobe = min(self.nprobe, self.nlist)
        self.index.add(embeddings)
        return self

    def __len__(self) -> int:
        return 0 if self.index is None else int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64 (n, min(k, len)), scores float32) best first. IVF can return fewer than k hits when
        the probed lists hold fewer passages; those slots have id -1 and score -inf."""
        if self.index is None:
            raise ValueError("dense index: build() or load() it before searching")
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(self)))
        scores[ids < 0] = -np.inf
        return ids.astype(np.int64), scores

    def save(self, path: str | Path) -> Path:
        faiss = import_faiss()

        faiss.write_index(self.index, str(path))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path, nprobe: int | None = None) -> DenseIndex:
        faiss = import_faiss()

        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF):
            loaded = cls("ivf", nlist=index.nlist, nprobe=nprobe or index.nprobe)
            index.nprobe = min(loaded.nprobe, index.nlist)
        else:
            loaded = cls("flat")
        loaded.index = index
        return loaded


def brute_force(embeddings: np.ndarray, queries: np.ndarray, k: int, batch: int = 256):
    """Exact top-k by inner product in numpy (the reference for faiss): (ids int64, scores float32)."""
    k = min(k, len(embeddings))
    ids = np.empty((len(queries), k), dtype=np.int64)
    scores = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), batch):
        sims = queries[start : start + batch] @ embeddings.T
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        ids[start : start + batch] = np.take_along_axis(part, order, axis=1)
        scores[start : start + batch] = np.take_along_axis(part_scores, order, axis=1)
    return ids, scores
