"""Pointwise rerank throughput: the shared-prefix formulation against one forward per (query, candidate).

    uv run --package eedi python packages/eedi/benchmarks/rerank_throughput.py \\
        [--queries 4] [--candidates 25] [--prefix 300] [--suffix 20] [--hidden 256] [--layers 4] [--batch 2] \\
        [--threads 1] [--device cpu]

A pointwise reranker reads each query (construct, subject, question, answers: the long part) once per
candidate misconception (a short name). ``eedi.pointwise.score_shared_prefix`` runs the query prefix once per
query, repeats its KV cache for the K candidates and runs only the candidates' tokens on top of it;
``score_independent`` runs one full, unpadded forward per pair (the reference). A third row runs the pairs
as full sequences in left-padded batches without a cache (what training does), so that the gain of the
cache is told apart from the gain of batching. All three score the same pairs; the table gives
candidates/s, the speed-up over the reference and the largest score difference from it.

The model is a randomly initialised Qwen2 of the given size built from a ``Qwen2Config`` (nothing is
downloaded) and the tokens are random ids: throughput does not depend on the weights or the words. The
prefix and suffix lengths are drawn around ``--prefix`` and ``--suffix`` (+-20 %) so that padding costs what
it costs on real prompts. The defaults run on a CPU in well under a minute.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from eedi.llm_rerank import last_logits
from eedi.pointwise import score_independent, score_shared_prefix
from shared.llm import pad_left

PAD, YES, NO = 0, 1, 2


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=4, help="queries (rows) to rerank")
    parser.add_argument("--candidates", type=int, default=25, help="candidates per query (K)")
    parser.add_argument("--prefix", type=int, default=300, help="mean query prefix length, tokens")
    parser.add_argument("--suffix", type=int, default=20, help="mean candidate suffix length, tokens")
    parser.add_argument("--batch", type=int, default=2, help="queries per shared-prefix batch")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=4000)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1: steady figures on a shared CPU; 0: torch's default)",
    )
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def build_model(args) -> Qwen2ForCausalLM:
    config = Qwen2Config(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=4 * args.hidden,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=4 * (args.prefix + args.suffix), pad_token_id=PAD,
    )  # fmt: skip
    torch.manual_seed(args.seed)
    return Qwen2ForCausalLM(config).eval().to(args.device)


def lengths(rng, mean: int, n: int) -> np.ndarray:
    return rng.integers(max(1, int(0.8 * mean)), int(1.2 * mean) + 1, size=n)


def batched_full(model, prefixes, suffixes, batch: int) -> torch.Tensor:
    """Each pair as one full sequence, ``batch * K`` pairs per left-padded forward, no cache."""
    k, out = len(suffixes[0]), []
    for at in range(0, len(prefixes), batch):
        seqs = [
            p + s
            for p, row in zip(prefixes[at : at + batch], suffixes[at : at + batch], strict=True)
            for s in row
        ]
        ids, mask = (t.to(model.device) for t in pad_left(seqs, PAD))
        logits = last_logits(model, ids, mask)[:, [YES, NO]].float()
        out.append((logits[:, 0] - logits[:, 1]).view(-1, k))
    return torch.cat(out)


def shared(model, prefixes, suffixes, batch: int) -> torch.Tensor:
    return torch.cat([
        score_shared_prefix(model, prefixes[at : at + batch], suffixes[at : at + batch], PAD, (YES, NO))
        for at in range(0, len(prefixes), batch)
    ])  # fmt: skip


def timed(fn) -> tuple[torch.Tensor, float]:
    start = time.perf_counter()
    with torch.inference_mode():
        out = fn().cpu()  # waits for the device
    return out, time.perf_counter() - start


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    model = build_model(args)
    draw = lambda n: rng.integers(3, args.vocab, size=n).tolist()  # noqa: E731  (0-2: pad, yes, no)
    prefixes = [draw(n) for n in lengths(rng, args.prefix, args.queries)]
    suffixes = [[draw(n) for n in lengths(rng, args.suffix, args.candidates)] for _ in prefixes]
    pairs = args.queries * args.candidates
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(
        f"random Qwen2: hidden {args.hidden}, {args.layers} layers, {params:.1f}M parameters, "
        f"{args.device} ({torch.get_num_threads()} CPU threads); {args.queries} queries x {args.candidates} candidates, prefix "
        f"~{args.prefix} tokens, candidate ~{args.suffix} tokens, {args.batch} queries per batch"
    )
    with torch.inference_mode():  # warm-up: first calls allocate
        shared(model, prefixes[:1], suffixes[:1], 1)
        score_independent(model, prefixes[:1], [suffixes[0][:2]], (YES, NO))
    reference, seconds = timed(lambda: score_independent(model, prefixes, suffixes, (YES, NO)))
    rows = [("independent (one forward per pair)", reference, seconds)]
    rows.append(
        ("full pairs, padded batches", *timed(lambda: batched_full(model, prefixes, suffixes, args.batch)))
    )
    rows.append(("shared prefix (KV cache)", *timed(lambda: shared(model, prefixes, suffixes, args.batch))))
    print(f"\n| {'method':<36} | {'candidates/s':>12} | {'speed-up':>8} | {'max |diff|':>10} |")
    print(f"|{'-' * 38}|{'-' * 14}|{'-' * 10}|{'-' * 12}|")
    for name, scores, secs in rows:
        diff = float((scores.float() - reference.float()).abs().max())
        print(f"| {name:<36} | {pairs / secs:>12.1f} | {seconds / secs:>7.2f}x | {diff:>10.2e} |")


if __name__ == "__main__":
    main()
