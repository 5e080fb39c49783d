"""Retrieval at corpus scale: faiss flat and IVF against brute-force numpy, bm25s against plain Python BM25.

    uv run --package science-exam python packages/science-exam/benchmarks/retrieval.py \\
        [--passages 1000000] [--dim 384] [--queries 500] [--plain-queries 20] [--seed 0]

The winners searched millions of Wikipedia passages; this measures the two index types the chapter uses
at that size, with synthetic data (seeded, so every run sees the same):

- dense: ``--passages`` unit vectors of ``--dim`` dimensions around ``--clusters`` overlapping topic
  centres in a ``--latent``-dimensional subspace (passages on one topic sit close together, which is what
  IVF's lists exploit, but neighbours also cross list borders); each query is a passage plus noise. They are random vectors, not embeddings: encoding a million passages with a transformer on
  a 2-core CPU would take hours (the script measures MiniLM's rate to say how many). Reported: build time,
  queries/s of ``brute_force`` (numpy matmul + argpartition), faiss flat (as ``science_exam.dense`` sets
  faiss' BLAS up, and with faiss' own defaults on ``--default-queries`` queries) and faiss IVF at several
  ``nprobe``, and IVF's recall@10 against flat's exact top-10.
- sparse: ``--passages`` texts of 20-60 words drawn with Zipf frequencies from 20,000 invented words,
  a third of them English stopwords; each query is 8 words of a random passage. The passages are
  tokenised once (``sparse.tokenize``: stopwords, stems) for both; reported: that time, the index build
  and the per-query time (query tokenising included) of ``Bm25Index`` (bm25s) and of the dict-of-postings
  ``plain_bm25_search`` (which runs only ``--plain-queries`` queries), their ratio, and whether both give
  the same top-10.
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np

from science_exam.dense import DenseIndex, brute_force, import_faiss
from science_exam.sparse import Bm25Index, plain_bm25_index, plain_bm25_search, tokenize

STOPWORDS = ("the", "of", "and", "in", "is", "was", "to", "a", "by", "with", "from", "its", "for", "as")


def clustered_vectors(n: int, dim: int, args, rng, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """``n`` passage and ``args.queries`` query unit vectors of ``dim`` dimensions.

    Topics are ``args.clusters`` centres in a ``args.latent``-dimensional space and passages are a centre
    plus noise as large as the centres, so topics overlap like real ones do (well separated Gaussian blobs
    would each fall into one IVF list, and IVF would look exact); a random orthonormal map lifts them to
    ``dim`` dimensions. A query is a random passage plus a third of that noise."""
    centres = rng.standard_normal((args.clusters, args.latent), dtype=np.float32)
    lift = np.linalg.qr(rng.standard_normal((dim, args.latent)))[0].T.astype(np.float32)  # (latent, dim)

    def lifted(z):
        x = z @ lift
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        size = min(n, start + chunk) - start
        out[start : start + size] = lifted(
            centres[rng.integers(args.clusters, size=size)]
            + rng.standard_normal((size, args.latent), dtype=np.float32)
        )
    picked = rng.integers(n, size=args.queries)
    latent = out[picked] @ lift.T  # back to the latent space (the lift is orthonormal)
    noise = rng.standard_normal(latent.shape, dtype=np.float32) / np.sqrt(args.latent, dtype=np.float32)
    queries = lifted(latent + np.linalg.norm(latent, axis=1, keepdims=True) * noise / 3)
    return out, queries


def dense_benchmark(args, faiss) -> None:
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    emb, queries = clustered_vectors(args.passages, args.dim, args, rng)
    print(
        f"\n== dense: {args.passages:,} synthetic unit vectors x {args.dim} ({args.clusters} overlapping "
        f"topics in {args.latent} dimensions), "
        f"{args.queries} queries, top-10 (made in {time.perf_counter() - t0:.1f} s)"
    )
    rows = []
    t0 = time.perf_counter()
    exact_ids, _ = brute_force(emb, queries, 10)
    rows.append(("numpy brute force", "-", 0.0, time.perf_counter() - t0, 1.0))

    t0 = time.perf_counter()
    flat = DenseIndex("flat").build(emb)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    flat_ids, _ = flat.search(queries, 10)
    rows.append(("faiss flat", "-", built, time.perf_counter() - t0, recall(flat_ids, exact_ids)))
    tuned = faiss.cvar.distance_compute_blas_threshold, faiss.cvar.distance_compute_blas_database_bs
    faiss.cvar.distance_compute_blas_threshold, faiss.cvar.distance_compute_blas_database_bs = 128_000, 1024
    few = queries[: args.default_queries]
    t0 = time.perf_counter()
    default_ids, _ = flat.search(few, 10)
    seconds = (time.perf_counter() - t0) * len(queries) / len(few)  # scaled to all the queries
    rows.append(("faiss flat, defaults", "-", built, seconds, recall(default_ids, exact_ids[: len(few)])))
    faiss.cvar.distance_compute_blas_threshold, faiss.cvar.distance_compute_blas_database_bs = tuned
    del flat
    gc.collect()

    t0 = time.perf_counter()
    ivf = DenseIndex("ivf", nlist=args.nlist, train_per_list=args.train_per_list, seed=args.seed).build(emb)
    built = time.perf_counter() - t0
    for nprobe in args.nprobe:
        ivf.index.nprobe = min(nprobe, ivf.nlist)
        t0 = time.perf_counter()
        ivf_ids, _ = ivf.search(queries, 10)
        rows.append(
            (f"faiss IVF{ivf.nlist}", str(nprobe), built, time.perf_counter() - t0, recall(ivf_ids, flat_ids))
        )
    base = rows[0][3]
    print(
        f"{'index':<20} {'nprobe':>6} {'build s':>8} {'search s':>9} {'queries/s':>11} {'x numpy':>8} {'recall@10':>10}"
    )
    for name, nprobe, build, search, rec in rows:
        print(
            f"{name:<20} {nprobe:>6} {build:>8.1f} {search:>9.2f} {args.queries / search:>11,.0f} "
            f"{base / search:>8.1f} {rec:>10.3f}"
        )
    print(
        "recall@10: share of the exact top-10 (numpy's for flat, faiss flat's for IVF) that the index returns; "
        f"'defaults': faiss 1.15's own BLAS settings (science_exam.dense changes them), timed on "
        f"{len(few)} queries and scaled"
    )


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found.tolist(), exact.tolist(), strict=True)])
    )


def invented_words(n: int, rng) -> list[str]:
    """``n`` distinct pronounceable words of 2-4 consonant-vowel syllables."""
    consonants, vowels = list("bdfgklmnprstvz"), list("aeiou")
    words: set[str] = set()
    while len(words) < n:
        syllables = rng.integers(2, 5)
        words.add("".join(str(rng.choice(consonants)) + str(rng.choice(vowels)) for _ in range(syllables)))
    return sorted(words)


def synthetic_texts(n: int, rng, vocab_size: int = 20_000) -> list[str]:
    vocab = np.array(invented_words(vocab_size, rng) + list(STOPWORDS), dtype=object)
    cdf = np.cumsum(1 / np.arange(1, vocab_size + 1))
    cdf /= cdf[-1]
    lengths = rng.integers(20, 61, size=n)
    draws = np.searchsorted(cdf, rng.random(lengths.sum()))
    stop = rng.random(len(draws)) < 1 / 3
    draws[stop] = vocab_size + rng.integers(len(STOPWORDS), size=int(stop.sum()))
    words = vocab[draws].tolist()
    bounds = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    return [" ".join(words[bounds[i] : bounds[i + 1]]) for i in range(n)]


def bm25_benchmark(args) -> None:
    rng = np.random.default_rng(args.seed + 1)
    t0 = time.perf_counter()
    texts = synthetic_texts(args.passages, rng)
    queries = []
    for p in rng.integers(len(texts), size=args.queries):
        words = texts[p].split()
        queries.append(" ".join(words[i] for i in rng.choice(len(words), size=8, replace=False)))
    print(
        f"\n== BM25 (Lucene, k1=1.5, b=0.75): {args.passages:,} synthetic passages of 20-60 words, "
        f"{args.queries} queries of 8 words (made in {time.perf_counter() - t0:.1f} s)"
    )
    t0 = time.perf_counter()
    tokenized = tokenize(texts, as_ids=True)  # one tokenisation (stopwords, stems) for both indexes
    tokenizing = time.perf_counter() - t0
    del texts
    t0 = time.perf_counter()
    index = Bm25Index.from_tokens(tokenized)
    fast_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    fast_ids, _ = index.search(queries, 10)  # tokenises the queries itself
    fast_query = (time.perf_counter() - t0) / len(queries)
    del index
    gc.collect()

    t0 = time.perf_counter()
    plain = plain_bm25_index(tokenized.ids)  # postings keyed by the same token ids
    slow_build = time.perf_counter() - t0
    plain_queries = queries[: args.plain_queries]
    t0 = time.perf_counter()
    query_ids = [[tokenized.vocab[t] for t in q if t in tokenized.vocab] for q in tokenize(plain_queries)]
    slow_ids, _ = plain_bm25_search(plain, query_ids, 10)
    slow_query = (time.perf_counter() - t0) / len(plain_queries)
    same = int((slow_ids == fast_ids[: len(plain_queries)]).all(axis=1).sum())

    print(f"{'step':<36} {'bm25s':>9} {'plain Python':>13} {'plain/bm25s':>12}")
    print(f"{'tokenise passages (shared), s':<36} {tokenizing:>9.1f} {tokenizing:>13.1f} {'':>12}")
    print(f"{'build index, s':<36} {fast_build:>9.1f} {slow_build:>13.1f} {slow_build / fast_build:>11.1f}x")
    print(
        f"{'retrieve top-10, ms per query':<36} {1000 * fast_query:>9.2f} {1000 * slow_query:>13.1f} "
        f"{slow_query / fast_query:>11.0f}x"
    )
    print(
        f"queries: bm25s ran {len(queries)}, plain Python {len(plain_queries)} (query tokenising included); "
        f"same top-10 ids on {same}/{len(plain_queries)} shared queries"
    )


def encoder_rate(n: int = 256) -> float:
    """all-MiniLM-L6-v2's passages per second on this CPU, measured on ``n`` synthetic passages."""
    from transformers.utils import logging as hf_logging

    from science_exam.dense import Embedder
    from shared.tiny import minilm_path

    hf_logging.disable_progress_bar()  # the weight-loading bar
    embedder = Embedder(minilm_path(), max_length=128, batch_size=64)
    texts = synthetic_texts(n, np.random.default_rng(0))
    embedder.encode_passages(texts[:16])  # load the model outside the timing
    t0 = time.perf_counter()
    embedder.encode_passages(texts)
    return n / (time.perf_counter() - t0)


def openblas_cores() -> str:
    """The kernels each loaded OpenBLAS picked (faiss' bundled one and numpy's)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    found = [f"{i['filepath'].rsplit('/', 1)[-1]}: {i.get('architecture')}" for i in threadpool_info()
             if i["internal_api"] == "openblas"]  # fmt: skip
    return ", ".join(found) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=500, help="numpy, faiss and bm25s queries")
    parser.add_argument("--default-queries", type=int, default=50, help="queries of faiss flat, defaults")
    parser.add_argument("--plain-queries", type=int, default=20, help="queries the plain Python BM25 runs")
    parser.add_argument("--clusters", type=int, default=2000, help="topic centres of the synthetic vectors")
    parser.add_argument("--latent", type=int, default=32, help="dimensions the synthetic topics live in")
    parser.add_argument("--part", choices=("all", "dense", "bm25"), default="all")
    parser.add_argument("--nlist", type=int, default=1024, help="IVF lists")
    parser.add_argument("--nprobe", type=int, nargs="+", default=[1, 8, 32, 128], help="IVF lists searched")
    parser.add_argument("--train-per-list", type=int, default=64, help="IVF k-means sample per list")
    parser.add_argument("--skip-encoder", action="store_true", help="do not time MiniLM (loads torch)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    faiss = import_faiss()
    print(
        f"{os.cpu_count()} CPUs; faiss {faiss.__version__} ({faiss.omp_get_max_threads()} threads); "
        f"numpy {np.__version__}; OpenBLAS kernels: {openblas_cores()}"
    )
    if not args.skip_encoder:
        per_second = encoder_rate()
        print(
            f"all-MiniLM-L6-v2 embeds {per_second:,.0f} passages/s here: {args.passages:,} passages would take "
            f"{args.passages / per_second / 3600:.1f} h, hence synthetic vectors below"
        )
    start = time.perf_counter()
    if args.part in ("all", "dense"):
        dense_benchmark(args, faiss)
        gc.collect()
    if args.part in ("all", "bm25"):
        bm25_benchmark(args)
    print(f"\ntotal {time.perf_counter() - start:.0f} s (encoder timing excluded)")


if __name__ == "__main__":
    main()
