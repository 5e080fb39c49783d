"""Alignment + windowing + aggregation over a train-sized set: numpy (``pii.windows``) vs a per-token loop.

    uv run --package pii python packages/pii/benchmarks/windows.py [--n-docs 6807] [--reference-chunks 1]

6,807 synthetic essays from ``pii.synth`` (spaCy tokens, ~700 per essay, long tail), the real
all-MiniLM-L6-v2 fast tokenizer, windows of 512 with a 128 stride, random probabilities in place of a
model (generated outside the timed parts). The reference below is the straightforward notebook way: a
character -> token list built token by token, a Python loop over sub-words, windows and positions, and
per-token lists of predictions; same semantics, so both results must agree (checked). Both work on
chunks of ``--chunk`` documents, as inference would; the reference, at ~15 documents/s, runs on the first
``--reference-chunks`` chunks only, and the speed-up compares both on those same documents. Also timed: the tokenizer alone, plain vs with
``return_overflowing_tokens`` (the alternative to slicing windows ourselves). Goal: the whole set in
well under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from transformers import AutoTokenizer

from pii.labels import LABELS, O_ID
from pii.synth import generate
from pii.windows import aggregate, build_windows, special_tokens
from shared.tiny import minilm_path


def reference_token_probs(tokenizer, documents, window_probs, *, max_length, stride) -> list[np.ndarray]:
    """Per-token probabilities with plain Python loops; consumes ``window_probs`` in window order."""
    prefix, suffix = special_tokens(tokenizer)
    content = max_length - len(prefix) - len(suffix)
    step = content - stride
    w = 0
    results = []
    for doc in documents:
        enc = tokenizer(doc.full_text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets = enc["offset_mapping"]
        char_token = []
        for i, (token, space) in enumerate(zip(doc.tokens, doc.trailing_whitespace, strict=True)):
            char_token.extend([i] * len(token))
            if space:
                char_token.append(-1)
        blank = [token.isspace() or not token for token in doc.tokens]
        sub_token = []
        for start, end in offsets:
            owner = -1
            for c in range(start, end):
                if char_token[c] >= 0 and not blank[char_token[c]]:
                    owner = char_token[c]
                    break
            sub_token.append(owner)
        n = len(offsets)
        starts = [0]
        if n > content:
            k = 1
            while starts[-1] + content < n:
                starts.append(min(k * step, n - content))
                k += 1
        per_sub = [[] for _ in range(n)]
        for begin in starts:
            probs = window_probs[w]
            w += 1
            for p in range(min(content, n - begin)):
                per_sub[begin + p].append(probs[len(prefix) + p])
        sub_mean = [np.mean(rows, axis=0) if rows else None for rows in per_sub]
        per_token = [[] for _ in doc.tokens]
        for j, owner in enumerate(sub_token):
            if owner >= 0:
                per_token[owner].append(sub_mean[j])
        out = np.zeros((len(doc.tokens), len(LABELS)), dtype=np.float32)
        for i, rows in enumerate(per_token):
            if blank[i]:
                out[i, O_ID] = 1.0
            elif rows:
                out[i] = np.mean(rows, axis=0)
        # tokens without a sub-word borrow the sub-word covering their first character
        position = 0
        for i, token in enumerate(doc.tokens):
            if not blank[i] and not per_token[i]:
                covering = [j for j, (s, e) in enumerate(offsets) if s <= position < e and e > s]
                if covering:
                    out[i] = sub_mean[covering[0]]
                else:
                    out[i, O_ID] = 1.0
            position += len(token) + doc.trailing_whitespace[i]
        results.append(out)
    return results


def random_probs(rng, n_windows: int, max_length: int) -> np.ndarray:
    probs = rng.random((n_windows, max_length, len(LABELS)), dtype=np.float32)
    return probs / probs.sum(axis=2, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-docs", type=int, default=6807)
    parser.add_argument("--chunk", type=int, default=1000, help="documents per align/window/aggregate call")
    parser.add_argument("--reference-chunks", type=int, default=1, help="chunks the slow reference also runs")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--stride", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    documents = [essay.document for essay in generate(args.n_docs, seed=args.seed)]
    n_tokens = np.array([len(doc.tokens) for doc in documents])
    print(
        f"generated {len(documents)} essays in {time.perf_counter() - t0:.1f} s: spaCy tokens mean "
        f"{n_tokens.mean():.0f}, median {np.median(n_tokens):.0f}, max {n_tokens.max()}, total {n_tokens.sum():,}"
    )
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    rng = np.random.default_rng(args.seed)
    chunks = [documents[i : i + args.chunk] for i in range(0, len(documents), args.chunk)]

    texts = [doc.full_text for doc in documents]
    t0 = time.perf_counter()
    tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    tokenizer(texts, max_length=args.max_length, stride=args.stride, truncation=True,
              return_overflowing_tokens=True, return_offsets_mapping=True)  # fmt: skip
    overflow = time.perf_counter() - t0
    print(f"tokenizer alone: plain {plain:.2f} s, with return_overflowing_tokens {overflow:.2f} s")

    window_time = aggregate_time = cpu = 0.0
    chunk_time, kept, n_windows = [], [], 0
    for k, chunk in enumerate(chunks):
        t0, c0 = time.perf_counter(), time.process_time()
        wins = build_windows(tokenizer, chunk, max_length=args.max_length, stride=args.stride)
        t1, c1 = time.perf_counter(), time.process_time()
        probs = random_probs(rng, len(wins), args.max_length)  # the "model", not timed
        t2, c2 = time.perf_counter(), time.process_time()
        token_probs = aggregate(probs, wins)
        t3, c3 = time.perf_counter(), time.process_time()
        window_time += t1 - t0
        aggregate_time += t3 - t2
        cpu += (c1 - c0) + (c3 - c2)
        chunk_time.append((t1 - t0) + (t3 - t2))
        n_windows += len(wins)
        if k < args.reference_chunks:
            kept.append((chunk, probs, token_probs))
    total = window_time + aggregate_time
    print(
        f"pii.windows: {len(documents)} documents, {n_windows} windows of {args.max_length} (stride {args.stride}): "
        f"align + windows {window_time:.2f} s, aggregate {aggregate_time:.2f} s; total {total:.2f} s wall "
        f"({cpu:.2f} s CPU) = {len(documents) / total:.0f} documents/s; goal < 60 s: {'met' if total < 60 else 'MISSED'}"
    )

    ref_time, ours, n_ref, worst = 0.0, 0.0, 0, 0.0
    for k, (chunk, probs, token_probs) in enumerate(kept):
        t0 = time.perf_counter()
        reference = reference_token_probs(
            tokenizer, chunk, probs, max_length=args.max_length, stride=args.stride
        )
        ref_time += time.perf_counter() - t0
        ours += chunk_time[k]
        n_ref += len(chunk)
        worst = max(
            [worst] + [float(np.abs(a - b).max()) for a, b in zip(token_probs, reference, strict=True)]
        )
    print(
        f"reference loop on the first {n_ref} documents: {ref_time:.2f} s = {n_ref / ref_time:.0f} documents/s "
        f"vs pii.windows {ours:.2f} s = {n_ref / ours:.0f} documents/s; speed-up {ref_time / ours:.1f}x; "
        f"max |difference| {worst:.2e}"
    )


if __name__ == "__main__":
    main()
