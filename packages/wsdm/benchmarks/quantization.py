"""Inference at each precision: rows/s, peak memory and weight bytes of fp32, bf16, int8 and nf4.

    uv run --package wsdm python packages/wsdm/benchmarks/quantization.py \\
        [--model PATH] [--head classification|generation] [--rows 64] [--max-length 256] [--batch-size 8] \\
        [--modes fp32,bf16,int8,nf4] [--threads 1]

Each mode loads the model with ``wsdm.quantize.load_quantised`` and scores the same rows in a process of
its own, so that its peak memory is its own: on a CPU, the child's peak resident set (``ru_maxrss``) minus
its resident set after the imports, just before loading; on CUDA, ``torch.cuda.max_memory_allocated``.
Both include the activations of one batch, so the weights' own size (``wsdm.quantize.footprint``) is a
column of its own. Agreement compares each mode's predictions with fp32's on the same rows: the share of
rows whose predicted class (classification) or next token (generation) is the same, and the largest
difference of a softmax probability.

Rows are random token ids (throughput does not depend on the words), lengths drawn between half and all
of ``--max-length``, sorted by length and right-padded per batch, as an inference loop would. Without
``--model`` the model is a random Qwen2 built locally (hidden 512, 4 blocks, vocabulary ~1000: the Linear
layers hold ~96 % of the weights, as in a real LLM); pass a saved checkpoint (e.g. a trained Gemma-2
classifier) to measure it instead. On a CPU, bitsandbytes dequantises 4-bit and 8-bit weights at every
matmul, so the quantised modes save memory there but are not faster; on a GPU they are the point.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("fp32", "bf16", "int8", "nf4")
# The default model: the shape of a small LLM (Linear layers dominate), a few seconds a mode on one core.
DEFAULT_ARCH = dict(
    vocab_size=1000, hidden_size=512, intermediate_size=1536, num_layers=4, num_heads=8, num_kv_heads=2
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="saved checkpoint (default: a random Qwen2 built locally)")
    parser.add_argument("--head", default="classification", choices=("classification", "generation"))
    parser.add_argument("--rows", type=int, default=64, help="rows to score")
    parser.add_argument("--max-length", type=int, default=256, help="longest row, tokens")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES)
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1: steady figures on a shared CPU; 0: torch's default)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: "<mode> <rows file> <result file>"
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    bad = [m for m in modes if m not in MODES]
    if bad:
        parser.error(f"--modes: {bad} not in {MODES}")
    if min(args.rows, args.max_length, args.batch_size) < 1 or args.max_length < 2:
        parser.error("--rows, --batch-size must be >= 1 and --max-length >= 2")
    args.modes = modes
    return args


def build_default(directory: Path, head: str) -> Path:
    """The random Qwen2 of ``DEFAULT_ARCH``, as a two-label classifier (seeded head) or the causal LM."""
    import torch
    from transformers import Qwen2ForSequenceClassification

    from shared.tiny import tiny_causal_lm

    rng = random.Random(0)  # pseudo-words: enough distinct pieces for the BPE to fill its vocabulary
    word = lambda: "".join(rng.choices("etaoinshrdlucmfwypvbgk", k=rng.randint(2, 7)))  # noqa: E731
    texts = [" ".join(word() for _ in range(50)) for _ in range(200)]
    base = tiny_causal_lm(texts, **DEFAULT_ARCH)
    if head == "generation":
        return base
    torch.manual_seed(0)
    Qwen2ForSequenceClassification.from_pretrained(base, num_labels=2).save_pretrained(directory)
    return directory


def draw_rows(model: str, args) -> list[list[int]]:
    """``args.rows`` random rows of ids (never the pad id), lengths in [max_length / 2, max_length]."""
    import numpy as np
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model)
    vocab = getattr(config, "vocab_size", None) or config.get_text_config().vocab_size
    pad = config.pad_token_id if config.pad_token_id is not None else -1
    rng = np.random.default_rng(args.seed)
    lengths = rng.integers(args.max_length // 2, args.max_length + 1, size=args.rows)
    rows = [rng.integers(3, vocab, size=n) for n in lengths]
    return [np.where(r == pad, 3 if pad != 3 else 4, r).tolist() for r in rows]


def run_child(mode: str, rows_file: Path, result_file: Path, args) -> None:
    """Load ``mode``, score the rows, write the figures (JSON) and predictions beside ``result_file``."""
    import resource

    import psutil  # installed with accelerate

    from shared.console import quiet_imports

    quiet_imports()
    import numpy as np
    import torch
    from transformers.utils import logging as hf_logging

    from wsdm.quantize import footprint, load_quantised

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = json.loads(rows_file.read_text())
    cuda = torch.cuda.is_available()
    before = psutil.Process().memory_info().rss
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    model = load_quantised(args.model, mode, args.head)
    load_seconds = time.perf_counter() - start
    weights = footprint(model)
    device = next(model.parameters()).device
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
    batches = [order[at : at + args.batch_size] for at in range(0, len(order), args.batch_size)]

    def score(batch: list[int]) -> torch.Tensor:
        width = max(len(rows[i]) for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for k, i in enumerate(batch):
            ids[k, : len(rows[i])], mask[k, : len(rows[i])] = torch.tensor(rows[i]), 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        if args.head == "generation":  # the next-token distribution after each row's last token
            logits = logits[torch.arange(len(batch)), mask.sum(1).to(device) - 1]
        return logits.float().softmax(-1).cpu()

    with torch.inference_mode():
        score(batches[-1])  # warm-up: first calls allocate (and bitsandbytes repacks 4-bit weights on CPU)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        probs = [score(batch) for batch in batches]
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    predictions = torch.empty(len(rows), probs[0].shape[1])
    predictions[[i for batch in batches for i in batch]] = torch.cat(probs)
    if cuda:
        peak = torch.cuda.max_memory_allocated()
    else:  # ru_maxrss is KiB on Linux, bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        peak -= before
    np.save(result_file.with_suffix(".npy"), predictions.numpy())
    result = dict(rows_per_s=len(rows) / seconds, load_s=load_seconds, peak=peak, weights=weights)
    result_file.write_text(json.dumps(result))


def machine() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name()} (CUDA {torch.version.cuda}), torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        names = [
            line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if "model name" in line
        ]
        cpu = names[0] if names else cpu
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, CPU"


def describe(path: str) -> str:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path).get_text_config()
    return (
        f"{config.model_type}: hidden {config.hidden_size}, {config.num_hidden_layers} blocks, "
        f"vocabulary {config.vocab_size}"
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        mode, rows_file, result_file = args.child.split(" ", 2)
        run_child(mode, Path(rows_file), Path(result_file), args)
        return
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="wsdm-quant-bench-") as tmp:
        tmp = Path(tmp)
        if args.model is None:
            args.model = str(build_default(tmp / "model", args.head))
        rows_file = tmp / "rows.json"
        rows_file.write_text(json.dumps(draw_rows(args.model, args)))
        settings = dict(
            head=args.head, max_length=args.max_length, batch_size=args.batch_size, threads=args.threads
        )
        passed = [f"--{k.replace('_', '-')}={v}" for k, v in settings.items()] + [f"--model={args.model}"]
        print(f"machine: {machine()}; {args.threads or 'default'} torch thread(s)")
        print(
            f"model: {args.model} ({describe(args.model)}), {args.head} head; {args.rows} rows of "
            f"{args.max_length // 2}-{args.max_length} tokens, batches of {args.batch_size}"
        )
        results, reference = {}, None
        for mode in args.modes:
            result_file = tmp / f"{mode}.json"
            child = [sys.executable, __file__, *passed, "--child", f"{mode} {rows_file} {result_file}"]
            done = subprocess.run(child, capture_output=True, text=True)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
                print(f"{mode}: failed (exit {done.returncode}): {tail[0]}", file=sys.stderr)
                continue
            results[mode] = json.loads(result_file.read_text())
            probs = np.load(result_file.with_suffix(".npy"))
            if mode == "fp32":
                reference = probs
            if reference is not None:
                results[mode]["agree"] = float((probs.argmax(1) == reference.argmax(1)).mean())
                results[mode]["max_dp"] = float(np.abs(probs - reference).max())
    print(
        f"\n| {'mode':<5} | {'rows/s':>7} | {'load s':>6} | {'peak MB':>8} | {'weights MB':>10} "
        f"| {'agrees with fp32':>16} | {'max |dp|':>8} |"
    )
    print(f"|{'-' * 7}|{'-' * 9}|{'-' * 8}|{'-' * 10}|{'-' * 12}|{'-' * 18}|{'-' * 10}|")
    for mode, r in results.items():
        agree = f"{r['agree']:.3f}" if "agree" in r else "n/a"
        dp = f"{r['max_dp']:.4f}" if "max_dp" in r else "n/a"
        print(
            f"| {mode:<5} | {r['rows_per_s']:>7.1f} | {r['load_s']:>6.1f} | {r['peak'] / 2**20:>8.1f} "
            f"| {r['weights'] / 2**20:>10.2f} | {agree:>16} | {dp:>8} |"
        )


if __name__ == "__main__":
    main()
