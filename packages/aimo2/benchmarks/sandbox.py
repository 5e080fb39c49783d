"""Sandbox round trips per second: what one tool call of tool-integrated reasoning costs besides generation.

    uv run --package aimo2 python packages/aimo2/benchmarks/sandbox.py [--runs 40] [--workers 4]

Each run starts a fresh limited interpreter, executes a typical snippet (arithmetic, or sympy, whose
import dominates) and returns its output, as ``aimo2.tir`` does once per tool call. Sequential runs give
the latency; a thread pool gives the throughput when the samples of a batch execute together.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from aimo2.sandbox import PythonSandbox

SNIPPETS = {
    "arithmetic": "print(sum(i * i for i in range(1000)) % 1000)",
    "sympy": "import sympy as sp\nx = sp.symbols('x')\nprint(sp.solve(x**2 - 5*x + 6, x))",
}


def rate(sandbox: PythonSandbox, code: str, runs: int, workers: int) -> float:
    """Round trips per second with ``workers`` runs at a time; checks every run succeeded."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(sandbox.run, [code] * runs))
    seconds = time.perf_counter() - start
    failed = [r.output for r in results if r.returncode != 0]
    if failed:
        raise SystemExit(f"a sandbox run failed: {failed[0]}")
    return runs / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    sandbox = PythonSandbox(timeout_s=30, cpu_s=30)
    print(f"{'snippet':<12} {'sequential':>16} {f'{args.workers} threads':>16}")
    for name, code in SNIPPETS.items():
        runs = args.runs if name == "arithmetic" else max(args.runs // 4, args.workers)
        sequential = rate(sandbox, code, runs, 1)
        parallel = rate(sandbox, code, runs, args.workers)
        print(f"{name:<12} {sequential:>10.1f} runs/s {parallel:>10.1f} runs/s")


if __name__ == "__main__":
    main()
