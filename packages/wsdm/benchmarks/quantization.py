"""Inference at each precision: rows/s, peak memory and weight bytes of fp32, bf16, int8 and nf4.

    uv run --package wsdm python packages/wsdm/benchmarks/quantization.py \\
        [--model PATH] [--head classification|generation] [--rows 64] [--max-length 256] [--batch-size 8] \\
        [--modes fp32,bf16,int8,nf4] [--threads 1]

Each mode loads the model with ``wsdm.quantize.load_quantised`` and scores the same rows in a process of
its own, so that its peak memory is its own: on a CPU, the child's peak resident set (``ru_maxrss``) minus
its resident set just before loading (the code the loading needs is imported first); on CUDA,
``torch.cuda.max_memory_allocated``. The peak covers loading and the batches, so ``weights MB``
(``wsdm.quantize.footprint``: what the model holds once loaded) is a column of its own. On a CPU the
peak of a quantised mode is not its weights: bitsandbytes quantises from the float32 checkpoint while
loading (and repacks 4-bit weights at the first forward), and the freed float32 pages stay with the
process. Agreement compares each mode's predictions with fp32's on the same rows: the share of rows whose
predicted class (classification) or next token (generation) is the same, and the largest difference of a
softmax probability.

Rows are random token ids (throughput does not depend on the words), lengths drawn between half and all
of ``--max-length``, sorted by length and right-padded per batch, as an inference loop would. Without
``--model`` the model is a random Qwen2 built locally (hidden 512, 4 blocks, vocabulary ~1000: the Linear
layers hold ~96 % of the weights, as in a real LLM); pass a saved checkpoint (e.g. a trained Gemma-2
classifier) to measure it instead.

Measured with the defaults on 1 thread of a busy 2-core Xeon (Nov 2026): rows/s fp32 10.9, bf16 31.1, int8
9.5, nf4 6.3; weights 48.0 / 24.0 / 13.6 / 8.0 MB; peak 182 / 130 / 278 / 198 MB; nf4 agreed with fp32 on
0.89 of the rows of this random model, the others on all. On a CPU the quantised modes shrink the weights
but are slower than fp32 (bitsandbytes' CPU kernels dequantise at every matmul); bf16 is the fast one. On
a GPU, where the weights dominate memory, the 4-bit model is what lets a 9B classifier fit a T4.
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


def preload_code(model: str, head: str) -> None:
    """Import everything loading will import (the model's modules, bitsandbytes and its transformers glue,
    ~400 MB resident), so that the memory measured from here on is the model's, not the code's."""
    import bitsandbytes  # noqa: F401
    import torch
    import transformers.integrations.bitsandbytes  # noqa: F401
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification

    auto = AutoModelForSequenceClassification if head == "classification" else AutoModelForCausalLM
    with torch.device("meta"):  # builds the module tree without allocating a weight
        auto.from_config(AutoConfig.from_pretrained(model))


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
    preload_code(args.model, args.head)
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

    from shared.console import quiet_imports

    quiet_imports()
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
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
        results, probs = {}, {}
        for mode in args.modes:
            result_file = tmp / f"{mode}.json"
            child = [sys.executable, __file__, *passed, "--child", f"{mode} {rows_file} {result_file}"]
            done = subprocess.run(child, capture_output=True, text=True)
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
                print(f"{mode}: failed (exit {done.returncode}): {tail[0]}", file=sys.stderr)
                continue
            results[mode] = json.loads(result_file.read_text())
            probs[mode] = np.load(result_file.with_suffix(".npy"))
    for mode in results if "fp32" in results else ():  # agreement with fp32, when it ran
        results[mode]["agree"] = float((probs[mode].argmax(1) == probs["fp32"].argmax(1)).mean())
        results[mode]["max_dp"] = float(np.abs(probs[mode] - probs["fp32"]).max())
    print(
        f"\n| {'mode':<5} | {'rows/s':>7} | {'load s':>6} | {'weights MB':>10} "
        f"| {'peak MB':>8} | {'agrees with fp32':>16} | {'max |dp|':>8} |"
    )
    print(f"|{'-' * 7}|{'-' * 9}|{'-' * 8}|{'-' * 12}|{'-' * 10}|{'-' * 18}|{'-' * 10}|")
    mb = 2**20
    for mode, r in results.items():
        agree = f"{r['agree']:.3f}" if "agree" in r else "n/a"
        dp = f"{r['max_dp']:.4f}" if "max_dp" in r else "n/a"
        print(
            f"| {mode:<5} | {r['rows_per_s']:>7.1f} | {r['load_s']:>6.1f} | {r['weights'] / mb:>10.2f} "
            f"| {r['peak'] / mb:>8.1f} | {agree:>16} | {dp:>8} |"
        )


if __name__ == "__main__":
    main()
