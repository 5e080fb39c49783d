"""Early-stopped voting vs fixed-N voting: accuracy and tokens on simulated problems (§13.6.5, §13.7.5).

    uv run --package aimo2 python packages/aimo2/benchmarks/early_stop.py [--n-problems 500] [--n-samples 32]

Problems of mixed difficulty (levels 1-5, equally many) are answered by the SimulatedBackend, whose
sample answers and lengths follow each problem's level (no model runs). Both solvers see the same
samples: the early-stopped one draws the first batches of what the fixed one draws, so the comparison
is paired. Goal: at least 30% fewer tokens at an accuracy that is non-inferior, i.e. whose 90% paired
bootstrap interval over problems (``shared.report.bootstrap``) stays above -MARGIN (2 points).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from aimo2.backends import SimulatedBackend
from aimo2.solver import Solver
from shared.report import bootstrap

MARGIN = 0.02  # early stopping may lose at most 2 points of accuracy

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
    print(
        f"{'rule':<34} {'accuracy':>9} {'tokens':>13} {'ratio':>6} {'sim. hours':>10} {'diff [90% interval]':>26}"
    )
    print(
        f"{f'fixed N={args.n_samples}':<34} {fixed.mean():>9.3f} {fixed_tokens:>13,} {1:>6.2f} {fixed_seconds / 3600:>10.1f}"
    )
    verdicts = []
    for batch_size, min_agree, margin in RULES:
        early, tokens, seconds = run(
            problems, metadata, batch_size=batch_size, min_agree=min_agree, margin=margin, **common
        )
        name = f"batch {batch_size}, >= {min_agree} agree, lead {margin}"
        claim = bootstrap(
            f"{name}: accuracy non-inferior to fixed N", "fixed", name,
            lambda w, early=early: (w @ fixed / w.sum(), w @ early / w.sum()), n,
            evidence="simulated", groups=problems["id"].to_numpy(), group_name="problems", margin=MARGIN,
        )  # fmt: skip
        ratio = tokens / fixed_tokens
        lo, hi = claim.interval
        print(
            f"{name:<34} {early.mean():>9.3f} {tokens:>13,} {ratio:>6.2f} {seconds / 3600:>10.1f} "
            f"{claim.delta:>+7.3f} [{lo:+.3f}, {hi:+.3f}] {claim.verdict}"
        )
        verdicts.append((name, claim, 1 - ratio))
    name, claim, saved = verdicts[0]
    met = claim.holds is True and saved >= 0.3
    print(
        f"\nRecommended rule ({name}): accuracy non-inferior with a margin of {MARGIN:.0%}: {claim.verdict} "
        f"({claim.method}); {saved:.0%} fewer tokens; goal: {'met' if met else 'NOT met'}."
    )


if __name__ == "__main__":
    main()
