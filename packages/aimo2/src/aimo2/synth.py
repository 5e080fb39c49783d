r"""A deterministic AIMO2 sample: olympiad-style problems whose answers are computed, never guessed.

The chapter's techniques (majority voting, filtering traces by correctness, SFT on the shortest correct
trace, GRPO with an accuracy reward, tool-integrated reasoning) all need problems with known integer
answers and solutions of different lengths, some of them wrong. Each problem comes from a generator
(number theory, modular arithmetic, combinatorics, algebra, geometry) at a difficulty level 1..5 that

* computes the answer one way, keeping the intermediate steps, which become the chain-of-thought (CoT)
  traces, and
* writes Python that re-derives it another way (the generators live in ``aimo2.problems``). That code
  is executed here and must print the same value, so every answer is computed twice, and every
  ```output block of a TIR trace is what its code really prints (formatted as ``PythonSandbox`` would).

Wrong traces solve a misread problem (an off-by-one, a dropped factor, a wrong exponent): their steps
are real computations of the wrong thing, as a model's wrong samples are. Quantities of 1000 or more
are asked modulo 1000, as the competition does. The code is our own, so it runs in this process (a
sandbox process per block would make the default sample take minutes instead of seconds).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import linecache
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aimo2 import curriculum
from aimo2.paths import SAMPLE_DIR
from aimo2.problems import GENERATORS, LEVELS, Generator, Solution
from aimo2.prompts import THINK_END, build_messages
from aimo2.sandbox import SandboxResult, format_output_block

__all__ = [
    "COT_STYLES",
    "GENERATORS",
    "TIR_VARIANTS",
    "WRONG_FRACTION",
    "main",
    "make_curriculum",
    "make_sample",
]

WRONG_FRACTION = 0.25  # share of the CoT traces, and of the TIR traces, whose answer is wrong
COT_STYLES = ("short", "standard", "long")  # one CoT trace per style and problem: three lengths
TIR_VARIANTS = ("direct", "reason_then_check", "typo_fix")  # two of these per problem
_CELL = "<cell>"  # the file name PythonSandbox gives the code in tracebacks


@dataclass(frozen=True)
class _Worked:
    """One computation of a problem (the right one or a misreading): its steps and its checked code."""

    solution: Solution
    code: str
    result: SandboxResult

    @property
    def answer(self) -> int:
        return self.solution.value % 1000

    @property
    def steps(self) -> list[str]:
        value = self.solution.value
        if 0 <= value < 1000:
            return self.solution.steps
        return [
            *self.solution.steps,
            f"The remainder when ${value}$ is divided by $1000$ is ${value % 1000}$.",
        ]


@dataclass(frozen=True)
class _Problem:
    id: str
    generator: Generator
    level: int
    params: dict
    statement: str
    worked: _Worked

    @property
    def answer(self) -> int:
        return self.worked.answer


@functools.lru_cache(maxsize=4096)  # a result is immutable; the typo variant of a trace reruns no code
def _execute(code: str) -> SandboxResult:
    """Run our own generated code here; stdout and traceback formatted as ``PythonSandbox.run`` does.

    The source is the code as ``extract_python_blocks`` reads it back from the trace: ending with a
    newline, which moves the carets under an error in a traceback.
    """
    source = code.rstrip("\n") + "\n"
    stdout, stderr, returncode = io.StringIO(), "", 0
    linecache.cache[_CELL] = (len(source), None, source.splitlines(True), _CELL)  # source lines in tracebacks
    try:
        with contextlib.redirect_stdout(stdout):
            exec(compile(source, _CELL, "exec"), {"__name__": "__main__"})
    except Exception as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != _CELL:  # drop this function's frame
            tb = tb.tb_next
        stderr, returncode = "".join(traceback.TracebackException(type(exc), exc, tb).format()), 1
    finally:
        linecache.cache.pop(_CELL, None)
    return SandboxResult(
        stdout.getvalue(), stderr, returncode, timed_out=False, killed_reason=None, seconds=0.0
    )


def _printed_value(result: SandboxResult) -> int:
    return int(result.stdout.rstrip("\n").rsplit("\n", 1)[-1])


class _Builder:
    """Makes unique problems and their wrong variants, checking each computation against its code."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.statements: set[str] = set()

    def work(self, generator: Generator, params: dict) -> _Worked:
        solution = generator.solve(params)
        code = generator.code(params)
        result = _execute(code)
        if result.returncode != 0 or _printed_value(result) != solution.value:
            raise RuntimeError(
                f"{generator.name}{params}: the solution gives {solution.value} but the check code printed "
                f"{result.output!r}"
            )
        return _Worked(solution, code, result)

    def problem(self, problem_id: str, generator: Generator, level: int) -> _Problem:
        for _ in range(1000):
            params = generator.sample(self.rng, level)
            solution = generator.solve(params)
            statement = generator.statement(params, solution.value)
            if statement not in self.statements:
                self.statements.add(statement)
                return _Problem(problem_id, generator, level, params, statement, self.work(generator, params))
        raise RuntimeError(f"{generator.name} level {level}: no new problem in 1000 draws")

    def misread(self, problem: _Problem) -> _Worked:
        """A misreading whose answer differs from the right one (misreadings compound until it does)."""
        params = problem.params
        for _ in range(50):
            params = problem.generator.misread(params, self.rng)
            worked = self.work(problem.generator, params)
            if worked.answer != problem.answer:
                return worked
        raise RuntimeError(f"{problem.generator.name}{problem.params}: no misreading changes the answer")


def _plan(rng: np.random.Generator, n: int) -> list[tuple[Generator, int]]:
    """Generators and levels in shuffled rounds, each round using every (generator, level) pair once."""
    pairs = [(generator, level) for generator in GENERATORS for level in LEVELS]
    plan: list[tuple[Generator, int]] = []
    while len(plan) < n:
        plan += [pairs[i] for i in rng.permutation(len(pairs))]
    return plan[:n]


def _unique_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Kaggle-style ids: 6 lowercase hex characters."""
    ids: dict[str, None] = {}
    while len(ids) < n:
        ids[f"{int(rng.integers(16**6)):06x}"] = None
    return list(ids)


def _wrong_flags(rng: np.random.Generator, n: int) -> list[bool]:
    """Exactly ``round(WRONG_FRACTION * n)`` True values, in random positions."""
    flags = np.zeros(n, dtype=bool)
    flags[rng.permutation(n)[: round(WRONG_FRACTION * n)]] = True
    return flags.tolist()


def _assistant(reasoning: list[str], closing: str) -> str:
    return "<think>\n" + "\n\n".join(reasoning) + f"\n{THINK_END}\n\n{closing}"


def _cot_trace(problem: _Problem, worked: _Worked, style: str) -> str:
    """Short keeps the first and last steps; standard all steps; long restates the goal and double-checks."""
    steps, answer = worked.steps, worked.answer
    if style == "short":
        kept = steps if len(steps) <= 3 else [steps[0], *steps[-2:]]
        return _assistant([" ".join(kept)], f"\\boxed{{{answer}}}")
    if style == "standard":
        return _assistant(steps, f"The answer is $\\boxed{{{answer}}}$.")
    restated = f"We need {problem.generator.quantity(problem.params)}. Let me work it out step by step."
    check = (
        f"Let me double-check {problem.generator.check}: that also gives ${worked.solution.value}$, so the "
        "computation holds."
    )
    return _assistant([restated, *steps, check], f"So the final answer is $\\boxed{{{answer}}}$.")


def _code_block(code: str, result: SandboxResult) -> str:
    return f"```python\n{code}\n```\n{format_output_block(result)}"


def _tir_trace(problem: _Problem, worked: _Worked, variant: str) -> str:
    """Python blocks, each followed by its real output; the boxed answer is read off the printed value."""
    printed = _printed_value(worked.result)
    conclusion = f"The code prints ${printed}$."
    if not 0 <= printed < 1000:  # a misreading can give a negative value
        conclusion += f" The remainder when it is divided by $1000$ is ${printed % 1000}$."
    block = _code_block(worked.code, worked.result)
    if variant == "direct":
        reasoning = ["Let me compute this directly with Python.", block, conclusion]
    elif variant == "reason_then_check":
        reasoning = [
            *worked.steps,
            f"Let me confirm this {problem.generator.check}, in Python.",
            block,
            f"{conclusion} This agrees with the computation above.",
        ]
    else:
        head, last = worked.code.rsplit("\n", 1)
        typo = f"{head}\n{last.replace('print(', 'pritn(', 1)}"
        reasoning = [
            "Let me compute this with Python.",
            _code_block(typo, _execute(typo)),
            "There is a typo in the last line (`pritn`); let me fix it and run the code again.",
            block,
            conclusion,
        ]
    return _assistant(reasoning, f"The answer is $\\boxed{{{printed % 1000}}}$.")


def _trace_records(builder: _Builder, problems: list[_Problem]) -> tuple[list[dict], list[dict]]:
    rng = builder.rng
    cot_wrong = iter(_wrong_flags(rng, len(problems) * len(COT_STYLES)))
    tir_wrong = iter(_wrong_flags(rng, len(problems) * 2))
    cot, tir = [], []
    for problem in problems:
        base = {"id": problem.id, "problem": problem.statement, "answer": problem.answer}
        for style in COT_STYLES:
            worked = builder.misread(problem) if next(cot_wrong) else problem.worked
            messages = [
                {"role": "user", "content": build_messages(problem.statement, "cot")[0]["content"]},
                {"role": "assistant", "content": _cot_trace(problem, worked, style)},
            ]
            cot.append({**base, "messages": messages})
        for i in rng.permutation(len(TIR_VARIANTS))[:2]:
            worked = builder.misread(problem) if next(tir_wrong) else problem.worked
            messages = [
                {"role": "user", "content": build_messages(problem.statement, "tir")[0]["content"]},
                {"role": "assistant", "content": _tir_trace(problem, worked, TIR_VARIANTS[i])},
            ]
            tir.append({**base, "messages": messages})
    return cot, tir


def _check_counts(**counts: tuple[int, int]) -> None:
    """Each ``name=(value, least)``: refuse a value below its least."""
    for name, (value, least) in counts.items():
        if value < least:
            raise ValueError(f"{name} must be >= {least}, got {value}")


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def make_sample(
    out_dir: str | Path, *, seed: int = 0, n_reference: int = 50, n_test: int = 10, n_train: int = 400
) -> Path:
    """Write reference.csv, test.csv, sample_submission.csv, metadata.csv and train/{cot,tir,grpo}.jsonl.

    reference.csv is written last, so that its presence means the sample is complete.
    """
    _check_counts(n_reference=(n_reference, 1), n_test=(n_test, 1), n_train=(n_train, 0))
    rng = np.random.default_rng(seed)
    builder = _Builder(rng)
    ids = iter(_unique_ids(rng, n_reference + n_test + n_train))
    reference, test, train = (
        [builder.problem(next(ids), generator, level) for generator, level in _plan(rng, n)]
        for n in (n_reference, n_test, n_train)
    )
    cot, tir = _trace_records(builder, train)
    grpo = [
        {"id": p.id, "problem": p.statement, "answer": p.answer, "prompt": build_messages(p.statement, "cot")}
        for p in train
    ]
    out = Path(out_dir)
    (out / "train").mkdir(parents=True, exist_ok=True)
    (out / "reference.csv").unlink(missing_ok=True)  # an older sample here is incomplete until rewritten
    for name, records in (("cot", cot), ("tir", tir), ("grpo", grpo)):
        _write_jsonl(out / "train" / f"{name}.jsonl", records)
    pd.DataFrame({"id": [p.id for p in test], "problem": [p.statement for p in test]}).to_csv(
        out / "test.csv", index=False
    )
    pd.DataFrame({"id": [p.id for p in test], "answer": 0}).to_csv(out / "sample_submission.csv", index=False)
    pd.DataFrame(
        [{"id": p.id, "topic": p.generator.topic, "level": p.level} for p in reference + test]
    ).to_csv(out / "metadata.csv", index=False)
    pd.DataFrame([{"id": p.id, "problem": p.statement, "answer": p.answer} for p in reference]).to_csv(
        out / "reference.csv", index=False
    )
    return out


def make_curriculum(
    out_dir: str | Path,
    *,
    seed: int = 0,
    n_train: int = 1000,
    n_reference: int = 50,
    n_test: int = 5,
) -> Path:
    """Write the curriculum of :mod:`aimo2.curriculum` in the competition's layout: per level ``n_train``
    training exercises (``train/cot.jsonl`` with one trace per length, ``train/tir.jsonl``, ``train/grpo.jsonl``),
    ``n_reference`` held-out ones with answers (``reference.csv``, levels in ``metadata.csv``) and ``n_test``
    without (``test.csv``). No statement appears twice across the three; reference.csv is written last."""
    _check_counts(n_train=(n_train, 1), n_reference=(n_reference, 1), n_test=(n_test, 1))
    rng = np.random.default_rng(seed)
    reference = curriculum.draw(rng, dict.fromkeys(curriculum.LEVELS, n_reference))
    test = curriculum.draw(rng, dict.fromkeys(curriculum.LEVELS, n_test), {e.statement for e in reference})
    train = curriculum.draw(rng, dict.fromkeys(curriculum.LEVELS, n_train),
                            {e.statement for e in reference + test})  # fmt: skip
    order = rng.permutation(len(train))  # levels mixed, so that any prefix of a file covers them all
    train = [train[i] for i in order]
    ids = _unique_ids(rng, len(reference) + len(test) + len(train))
    ref_ids, test_ids, train_ids = (
        ids[: len(reference)],
        ids[len(reference) : -len(train)],
        ids[-len(train) :],
    )
    cot, tir, grpo = curriculum.trace_records(train, train_ids)
    out = Path(out_dir)
    (out / "train").mkdir(parents=True, exist_ok=True)
    (out / "reference.csv").unlink(missing_ok=True)
    for name, records in (("cot", cot), ("tir", tir), ("grpo", grpo)):
        _write_jsonl(out / "train" / f"{name}.jsonl", records)
    pd.DataFrame({"id": test_ids, "problem": [e.statement for e in test]}).to_csv(
        out / "test.csv", index=False
    )
    pd.DataFrame({"id": test_ids, "answer": 0}).to_csv(out / "sample_submission.csv", index=False)
    pd.DataFrame({"id": ref_ids + test_ids, "topic": [e.kind for e in reference + test],
                  "level": [e.level for e in reference + test]}).to_csv(out / "metadata.csv", index=False)  # fmt: skip
    pd.DataFrame({"id": ref_ids, "problem": [e.statement for e in reference],
                  "answer": [e.answer for e in reference]}).to_csv(out / "reference.csv", index=False)  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write the synthetic AIMO2 sample: Kaggle-layout CSVs plus CoT/TIR/GRPO training traces."
    )
    parser.add_argument("--out", help=f"output directory (default: {SAMPLE_DIR}, or its curriculum/ folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-reference", type=int, default=50, help="problems with answers (reference.csv)")
    parser.add_argument("--n-test", type=int, default=10, help="problems without answers (test.csv)")
    parser.add_argument("--n-train", type=int, default=400, help="training problems (train/*.jsonl)")
    parser.add_argument("--curriculum", action="store_true",
                        help="write the curriculum of aimo2.curriculum instead (the counts are per level; "
                             "aimo2-reproduce's cpu preset writes it with 1000 / 50 / 5 and seed 42)")  # fmt: skip
    args = parser.parse_args(argv)
    make = make_curriculum if args.curriculum else make_sample
    out = args.out or (SAMPLE_DIR / "curriculum" if args.curriculum else SAMPLE_DIR)
    try:
        out = make(
            out, seed=args.seed, n_reference=args.n_reference, n_test=args.n_test, n_train=args.n_train
        )
    except ValueError as err:
        sys.exit(f"error: {err}")
    print(f"wrote the AIMO2 {'curriculum' if args.curriculum else 'sample'} to {out}")
