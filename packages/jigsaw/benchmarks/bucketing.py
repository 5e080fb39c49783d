"""Sequence bucketing, its two effects measured apart: tokens per second, same model and data.

    uv run --package jigsaw python packages/jigsaw/benchmarks/bucketing.py [--model minilm] [--n-train 512]

Comment lengths follow a long-tailed (log-normal) distribution like Jigsaw's: most comments are short,
a few fill the 220-token window. Three ways to batch them, each gain credited to what causes it:

1. ``padded``: every batch padded to ``--max-length`` (the naive baseline);
2. ``dynamic``: the same order, each batch padded to its longest comment (dynamic padding alone);
3. ``bucketed``: batches of similar length, padded to their longest (what ``jigsaw.transformer`` does):
   transformers' ``LengthGroupedSampler`` order for training, length-sorted batches for inference.

Training is one forward + backward + AdamW step per batch, from the same initial weights, in a random
order for 1 and 2; inference keeps the original order for 1 and 2. Throughput counts real (non-padding)
tokens. Goal: bucketed >= 2x padded.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from transformers import AutoTokenizer
from transformers.trainer_pt_utils import LengthGroupedSampler

from jigsaw.transformer import Collator, ToxicityModel, encode, resolve_backbone, sorted_batches

WORDS = [
    "the",
    "council",
    "budget",
    "idiot",
    "article",
    "thanks",
    "plan",
    "people",
    "vote",
    "comment",
    "really",
    "think",
    "never",
    "city",
    "school",
]


def long_tailed_texts(n: int, rng: np.random.Generator) -> list[str]:
    lengths = np.clip(rng.lognormal(mean=3.6, sigma=0.9, size=n), 3, 400).astype(int)  # median ~37 words
    return [" ".join(rng.choice(WORDS, size=k)) for k in lengths]


def train_tokens_per_second(model, ids, order, batch_size, pad_to, pad_id) -> float:
    collate = Collator(pad_id, pad_to=pad_to)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    model.train()
    tokens, start = 0, time.perf_counter()
    for k in range(0, len(order), batch_size):
        rows = [{"input_ids": ids[i], "target": 0.0, "weight": 1.0} for i in order[k : k + batch_size]]
        loss = model(**collate(rows))["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += sum(len(r["input_ids"]) for r in rows)
    return tokens / (time.perf_counter() - start)


@torch.no_grad()
def infer_tokens_per_second(model, ids, batches, pad_to, pad_id) -> float:
    collate = Collator(pad_id, pad_to=pad_to)
    model.eval()
    tokens, start = 0, time.perf_counter()
    for batch in batches:
        model(**collate([{"input_ids": ids[i]} for i in batch]))
        tokens += sum(len(ids[i]) for i in batch)
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default="minilm", help="minilm (real BERT, 6 layers), tiny:deberta-v2, or a path/id"
    )
    parser.add_argument("--n-train", type=int, default=512)
    parser.add_argument("--n-infer", type=int, default=2048)
    parser.add_argument("--max-length", type=int, default=220)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    texts = long_tailed_texts(args.n_train + args.n_infer, rng)
    backbone = resolve_backbone(args.model, texts)
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    ids = encode(tokenizer, texts, args.max_length, head_tokens=args.max_length // 4)
    pad_id = tokenizer.pad_token_id
    train_ids, infer_ids = ids[: args.n_train], ids[args.n_train :]
    lengths = [len(x) for x in train_ids]
    print(f"model {args.model}; {torch.get_num_threads()} threads; tokens per comment: median {int(np.median(lengths))}, "
          f"95th pct {int(np.percentile(lengths, 95))}, max {max(lengths)} (window {args.max_length})")  # fmt: skip

    model = ToxicityModel(backbone, n_aux=0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    grouped = list(
        LengthGroupedSampler(
            args.batch_size, lengths=lengths, generator=torch.Generator().manual_seed(args.seed)
        )
    )
    shuffled = rng.permutation(args.n_train).tolist()
    train = {}
    for name, order, pad_to in (
        ("padded", shuffled, args.max_length),
        ("dynamic", shuffled, None),
        ("bucketed", grouped, None),
    ):
        model.load_state_dict(state)
        train[name] = train_tokens_per_second(model, train_ids, order, args.batch_size, pad_to, pad_id)
    infer_size = args.batch_size * 2
    in_order = [
        np.arange(k, min(k + infer_size, len(infer_ids))) for k in range(0, len(infer_ids), infer_size)
    ]
    by_length = sorted_batches([len(x) for x in infer_ids], infer_size)
    infer = {
        name: infer_tokens_per_second(model, infer_ids, batches, pad_to, pad_id)
        for name, batches, pad_to in (
            ("padded", in_order, args.max_length),
            ("dynamic", in_order, None),
            ("bucketed", by_length, None),
        )
    }
    print("tokens/s    padded   dynamic  bucketed   dynamic/padded  bucketed/dynamic  bucketed/padded")
    for step, tps in (("training", train), ("inference", infer)):
        print(
            f"{step:<9} {tps['padded']:8.0f}  {tps['dynamic']:8.0f}  {tps['bucketed']:8.0f}   "
            f"{tps['dynamic'] / tps['padded']:13.2f}x  {tps['bucketed'] / tps['dynamic']:15.2f}x  "
            f"{tps['bucketed'] / tps['padded']:14.2f}x"
        )


if __name__ == "__main__":
    main()
