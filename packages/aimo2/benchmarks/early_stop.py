"""Early-stopped voting vs fixed-N voting: accuracy and tokens on simulated problems (§13.6.5, §13.7.5).

    uv run --package aimo2 python packages/aimo2/benchmarks/early_stop.py [--n-problems 500] [--n-samples 32]

Problems of mixed difficulty (levels 1-5, equally many) are answered by the SimulatedBackend, whose
sample answers and lengths follow each problem's level (no model runs). Both solvers see the same
samples: the early-stopped one draws the first batches of what the fixed one draws, so the comparison
is paired. The accuracy difference is judged against its paired standard error,
sqrt(b + c) / n for b problems only one of them gets right and c only the other. Goal: the same
accuracy within noise (|difference| <= 2 standard errors) with at least 30% fewer tokens.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd

from aimo2.backends import SimulatedBackend
from aimo2.solver import Solver

RULES = [  # (batch_size, min_agree, margin); the first is the recommended rule
    (8, 5, 3),
    (8, 4, 2),
    (8, 6, 4),
    (4, 4, 2),
    (4, 5, 3),
]


def make_problems(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"{i:06x}" for i in rng.choice(16**6, size=n, replace=False)]
    problems = pd.DataFrame(
        {
            "id": ids,
            "problem": [f"Simulated problem {i}: find the remainder modulo 1000." for i in range(n)],
            "answer": rng.integers(0, 1000, size=n),
        }
    )
    metadata = pd.DataFrame({"id": ids, "topic": "mixed", "level": np.arange(n) % 5 + 1})
    return problems, metadata


def run(problems, metadata, *, seed, n_samples, max_new_tokens, batch_size, min_agree=None, margin=1):
    backend = SimulatedBackend.from_problems(problems, metadata, seed=seed)
    solver = Solver(
        backend, n_samples=n_samples, batch_size=batch_size, min_agree=min_agree, margin=margin,
        max_new_tokens=max_new_tokens, clock=backend.clock, seed=seed,
    )  # fmt: skip
    correct = np.array(
        [
            solver.predict(i, p) == a
            for i, p, a in problems[["id", "problem", "answer"]].itertuples(index=False)
        ]
    )
    return correct, sum(r.tokens for r in solver.records), backend.clock()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n-problems", type=int, default=500)
    parser.add_argument("--n-samples", type=int, default=32)
    parser.add_argument("--max-new-tokens", type=int, default=16384)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    problems, metadata = make_problems(args.n_problems, args.seed)
    common = dict(seed=args.seed, n_samples=args.n_samples, max_new_tokens=args.max_new_tokens)
    fixed, fixed_tokens, fixed_seconds = run(problems, metadata, batch_size=8, **common)
    n = len(problems)
    print(f"{n} simulated problems (levels 1-5), fixed N={args.n_samples} vs early-stopped voting")
    print(f"{'rule':<34} {'accuracy':>9} {'tokens':>13} {'ratio':>6} {'sim. hours':>10} {'diff ± 2SE':>14}")
    print(
        f"{f'fixed N={args.n_samples}':<34} {fixed.mean():>9.3f} {fixed_tokens:>13,} {1:>6.2f} {fixed_seconds / 3600:>10.1f}"
    )
    verdicts = []
    for batch_size, min_agree, margin in RULES:
        early, tokens, seconds = run(
            problems, metadata, batch_size=batch_size, min_agree=min_agree, margin=margin, **common
        )
        only_fixed, only_early = int((fixed & ~early).sum()), int((early & ~fixed).sum())
        diff, se = (only_early - only_fixed) / n, math.sqrt(only_fixed + only_early) / n
        ratio = tokens / fixed_tokens
        name = f"batch {batch_size}, >= {min_agree} agree, lead {margin}"
        print(
            f"{name:<34} {early.mean():>9.3f} {tokens:>13,} {ratio:>6.2f} {seconds / 3600:>10.1f} {diff:>+7.3f} ± {2 * se:.3f}"
        )
        verdicts.append((name, abs(diff) <= 2 * se, 1 - ratio))
    name, equal, saved = verdicts[0]
    print(
        f"\nRecommended rule ({name}): accuracy {'equal' if equal else 'NOT equal'} within noise "
        f"(paired, 2 SE), {saved:.0%} fewer tokens; goal >= 30%: {'met' if equal and saved >= 0.3 else 'NOT met'}."
    )


if __name__ == "__main__":
    main()
