r"""A curriculum a tiny model can learn on a laptop: short arithmetic and modular word problems in 4 levels.

The olympiad problems of :mod:`aimo2.problems` are beyond any model a CPU can train, so on them SFT, GRPO,
merging and voting can only be run, never observed. These exercises are what a 1M-parameter Qwen2 learns in
minutes when digits are single tokens, and their levels spread its accuracy from near-perfect to well below
one half, so that voting and early stopping have wrong samples to outvote:

1. ``add1``: the sum of two one-digit numbers (a table of 81 facts);
2. ``add2``: the sum of two two-digit numbers, column by column with the carry;
3. ``mul``: a two-digit number times a one-digit number, column by column with the carry;
4. ``mod``: the remainder of a three-digit number divided by a one-digit number, by long division.

Each exercise carries the Python ``expression`` whose value is its answer (the tests evaluate it), a
chain-of-thought in three lengths that do the same computation (``concise``; ``plain``, the digit steps in
words; ``padded``, which restates the question and repeats the result, as over-thinking models do) so that
a length reward has words to remove and nothing to lose, and a TIR trace whose code computes the answer and
whose output block is what the code prints.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field

import numpy as np

from aimo2.prompts import THINK_END, build_messages
from aimo2.sandbox import SandboxResult, format_output_block

__all__ = ["COT_LENGTHS", "KINDS", "LEVELS", "Exercise", "cot_trace", "draw", "tir_trace"]

LEVELS = (1, 2, 3, 4)
KINDS = {1: "add1", 2: "add2", 3: "mul", 4: "mod"}
COT_LENGTHS = ("concise", "plain", "padded")
NAMES = ("Ann", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade", "Kai", "Lea")
ITEMS = ("apples", "stamps", "marbles", "coins", "books", "shells", "cards", "pens")


@dataclass(frozen=True)
class Exercise:
    """One problem: its text, its answer, the expression that computes it, and the steps that derive it."""

    level: int
    statement: str
    answer: int
    expression: str  # Python whose value is ``answer``: the TIR trace's code prints it
    steps: tuple[str, ...]  # the digit-level computation, each step a short sentence
    result: str  # the last line of the computation, e.g. "37 + 45 = 82"
    question: str  # what is asked, restated by the padded trace
    params: dict = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        return KINDS[self.level]


def _column_add(a: int, b: int) -> list[str]:
    ones, tens = a % 10 + b % 10, a // 10 + b // 10
    steps = [f"Ones: {a % 10} + {b % 10} = {ones}" + (f", write {ones % 10}, carry 1." if ones > 9 else ".")]
    carry = " + 1" if ones > 9 else ""
    steps.append(f"Tens: {a // 10} + {b // 10}{carry} = {tens + ones // 10}.")
    return steps


def _column_mul(a: int, b: int) -> list[str]:
    """``a`` two digits, ``b`` one digit."""
    ones = (a % 10) * b
    steps = [
        f"Ones: {a % 10} × {b} = {ones}" + (f", write {ones % 10}, carry {ones // 10}." if ones > 9 else ".")
    ]
    carry = f" + {ones // 10}" if ones > 9 else ""
    steps.append(f"Tens: {a // 10} × {b}{carry} = {(a // 10) * b + ones // 10}.")
    return steps


def _long_division(n: int, m: int) -> list[str]:
    steps, rest = [], 0
    for digit in str(n):
        current = rest * 10 + int(digit)
        rest = current % m
        steps.append(f"{current} = {current // m} × {m} + {rest}.")
    return steps


def _exercise(level: int, rng: np.random.Generator) -> Exercise:
    name, item = NAMES[int(rng.integers(len(NAMES)))], ITEMS[int(rng.integers(len(ITEMS)))]
    if level in (1, 2):
        low, high = (1, 9) if level == 1 else (10, 99)
        a, b = (int(x) for x in rng.integers(low, high + 1, size=2))
        statement = f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
        steps = [f"{a} + {b} = {a + b}."] if level == 1 else _column_add(a, b)
        return Exercise(level, statement, a + b, f"{a} + {b}", tuple(steps), f"{a} + {b} = {a + b}",
                        f"{a} {item} plus {b} more", {"a": a, "b": b})  # fmt: skip
    if level == 3:
        a, b = int(rng.integers(10, 100)), int(rng.integers(2, 10))
        statement = f"{name} has {b} boxes with {a} {item} in each box. How many {item} does {name} have?"
        return Exercise(level, statement, a * b, f"{a} * {b}", tuple(_column_mul(a, b)), f"{a} × {b} = {a * b}",
                        f"{b} boxes of {a} {item}", {"a": a, "b": b})  # fmt: skip
    n, m = int(rng.integers(100, 1000)), int(rng.integers(3, 10))
    statement = f"{name} shares {n} {item} equally among {m} friends. How many {item} are left over?"
    return Exercise(level, statement, n % m, f"{n} % {m}", tuple(_long_division(n, m)),
                    f"{n} mod {m} = {n % m}", f"the remainder of {n} divided by {m}", {"n": n, "m": m})  # fmt: skip


def draw(rng: np.random.Generator, levels: dict[int, int], exclude: set[str] = frozenset()) -> list[Exercise]:
    """``levels[l]`` exercises of each level with statements new to ``exclude`` and to each other (level 1
    has 81 sums and a dozen names and items, so its count must stay in the thousands)."""
    seen, out = set(exclude), []
    for level, count in levels.items():
        if level not in LEVELS:
            raise ValueError(f"level {level} is not one of {LEVELS}")
        for _ in range(count):
            for _ in range(10_000):
                exercise = _exercise(level, rng)
                if exercise.statement not in seen:
                    break
            else:
                raise ValueError(f"level {level}: cannot draw {count} distinct exercises")
            seen.add(exercise.statement)
            out.append(exercise)
    return out


def _assistant(reasoning: str, closing: str) -> str:
    return f"<think>\n{reasoning}\n{THINK_END}\n\n{closing}"


def cot_trace(exercise: Exercise, length: str) -> str:
    """The assistant turn of a chain-of-thought solution; every length does the same computation."""
    steps, result, answer = " ".join(exercise.steps), exercise.result, exercise.answer
    if length == "concise":
        return _assistant(f"{steps} {result}.", f"\\boxed{{{answer}}}")
    if length == "plain":
        return _assistant(f"{steps} So {result}.", f"The answer is \\boxed{{{answer}}}.")
    if length == "padded":
        return _assistant(
            f"We need {exercise.question}. Let me think step by step. {steps} So {result}. "
            f"Let me restate: we needed {exercise.question}, and {result}. So the answer is {answer}.",
            f"So the final answer is \\boxed{{{answer}}}.",
        )
    raise ValueError(f"length {length!r} is not one of {COT_LENGTHS}")


def printed(expression: str) -> str:
    """What ``print(expression)`` writes, run here: the TIR trace's output block is real output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(f"print({expression})", {})  # our own arithmetic expressions only
    return out.getvalue()


def tir_trace(exercise: Exercise) -> str:
    """The assistant turn of a tool-integrated solution: Python computes, the model reads the output. The text
    around the output block is what :func:`aimo2.tir.run_tir` builds (a stop at the closing fence, the block,
    a newline), so a model trained on it continues where inference hands back."""
    output = printed(exercise.expression)
    result = SandboxResult(output, "", 0, timed_out=False, killed_reason=None, seconds=0.0)
    value = output.strip()
    return _assistant(
        f"Let me compute it with Python.\n```python\nprint({exercise.expression})\n```\n"
        f"{format_output_block(result)}\nThe code prints {value}.",
        f"The answer is \\boxed{{{value}}}.",
    )


def trace_records(exercises: list[Exercise], ids: list[str], lengths: tuple[str, ...] = COT_LENGTHS):
    """(CoT records, one per exercise and length; TIR records, one per exercise; GRPO prompt records),
    in the layout of ``train/{cot,tir,grpo}.jsonl``."""
    cot, tir, grpo = [], [], []
    for id_, ex in zip(ids, exercises, strict=True):
        base = {"id": id_, "problem": ex.statement, "answer": ex.answer}
        for length in lengths:
            cot.append(base | {"messages": [*build_messages(ex.statement, "cot"),
                                            {"role": "assistant", "content": cot_trace(ex, length)}]})  # fmt: skip
        tir.append(base | {"messages": [*build_messages(ex.statement, "tir"),
                                        {"role": "assistant", "content": tir_trace(ex)}]})  # fmt: skip
        grpo.append(base | {"prompt": build_messages(ex.statement, "cot")})
    return cot, tir, grpo
