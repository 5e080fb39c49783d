r"""The ``predict(id, problem) -> int`` the evaluation gateway calls: sample, vote, stop early, mind the clock.

Inference-time scaling of the top solutions (NemoSkills §13.6.5, Fast-Math-R1 §13.7.5): samples are drawn
in batches; after each batch the answers (read with :func:`~aimo2.answers.extract_answer`) go to an
:class:`~aimo2.answers.EarlyStopVoter` in completion order (shortest first, as parallel decoding finishes
them), and sampling stops once enough samples agree or ``n_samples`` are drawn. The answer is the
majority over every sample drawn, since the whole last batch was paid for.

Time: with ``time_budget_s`` (Kaggle: about 5 h for 50 problems, minus model loading) each problem gets
``remaining budget / remaining problems`` when it starts, the budget being counted from the Solver's
creation. Time an easy problem leaves unused is thereby carried over to the problems after it. A
problem always gets its first batch while any budget is left; a further batch starts only if the time
spent on the problem plus the previous batch's duration stays within its allocation. With the budget
spent, a problem gets no sample at all. A problem with no readable answer gets ``fallback_answer``
(0 by default: any fixed guess is as good as another, and it keeps the submission valid).

Tokens: with ``token_budget`` instead, the budget is in decoding steps, the length of the longest sample
of each batch (a batch decodes in parallel, so that is what its time grows with), and it is never
exceeded: a problem's allocation is shared out the same way, and each batch may generate at most the
steps its problem has left (``max_new_tokens`` is cut to them), so a batch that would overrun is cut off
instead. A batch starts only with at least ``min_batch_tokens`` steps left. This is the budget the CPU
ladder measures, since it does not depend on how fast the machine is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from aimo2.answers import EarlyStopVoter, extract_answer, majority_vote
from aimo2.backends import Backend, Sample
from aimo2.prompts import STYLES, build_messages
from aimo2.sandbox import PythonSandbox
from aimo2.tir import run_tir

__all__ = ["ProblemRecord", "Solver"]


@dataclass(frozen=True)
class ProblemRecord:
    """What solving one problem cost and how the vote went."""

    id: str
    answer: int
    used_fallback: bool  # no sample had a readable answer
    n_samples: int
    n_batches: int
    tokens: int
    tool_calls: int
    seconds: float
    allocation_s: float | None  # the problem's time allocation; None without a time budget
    votes: dict[int, int]
    stopped_early: bool  # agreement stopped sampling before n_samples
    out_of_time: bool  # the allocation stopped sampling before n_samples
    decoding_steps: int = 0  # the longest sample of each batch, summed: what a token budget counts
    allocation_tokens: int | None = None  # the problem's share of ``token_budget``; None without one

    def to_dict(self) -> dict:
        return asdict(self)


class Solver:
    """Majority voting over sampled solutions with early stopping and a time budget (module docstring)."""

    def __init__(
        self,
        backend: Backend,
        *,
        n_samples: int = 32,
        batch_size: int = 8,
        min_agree: int | None = None,
        margin: int = 1,
        style: str = "cot",
        max_new_tokens: int = 16384,
        temperature: float = 0.6,
        top_p: float = 0.95,
        time_budget_s: float | None = None,
        n_problems: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        seed: int = 0,
        fallback_answer: int = 0,
        sandbox: PythonSandbox | None = None,
        max_tool_calls: int = 4,
        tool_format: str = "markdown",
        min_p: float = 0.0,
        stop: Sequence[str] = (),
        token_budget: int | None = None,
        min_batch_tokens: int = 1,
    ) -> None:
        if n_samples < 1 or batch_size < 1:
            raise ValueError(f"n_samples and batch_size must be >= 1, got {n_samples} and {batch_size}")
        if min_agree is not None and min_agree > n_samples:
            raise ValueError(f"min_agree={min_agree} > n_samples={n_samples}: agreement could never stop it")
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; expected one of {sorted(STYLES)}")
        if (time_budget_s is not None or token_budget is not None) and (n_problems is None or n_problems < 1):
            raise ValueError("a time or token budget needs n_problems >= 1 to share the budget out")
        if time_budget_s is not None and token_budget is not None:
            raise ValueError("time_budget_s and token_budget: give one budget, not both")
        if (token_budget is not None and token_budget < 0) or min_batch_tokens < 1:
            raise ValueError(
                f"token_budget={token_budget} must be >= 0 and min_batch_tokens={min_batch_tokens} >= 1"
            )
        if not 0 <= fallback_answer <= 999:
            raise ValueError(f"fallback_answer must be in 0..999, got {fallback_answer}")
        self.backend = backend
        self.n_samples = n_samples
        self.batch_size = batch_size
        self.min_agree = min_agree
        self.margin = margin
        self.style = style
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.time_budget_s = time_budget_s
        self.n_problems = n_problems
        self.clock = clock
        self.seed = seed
        self.fallback_answer = fallback_answer
        self.sandbox = sandbox or (PythonSandbox() if style == "tir" else None)
        self.max_tool_calls = max_tool_calls
        self.tool_format = tool_format  # markdown (```python blocks) or tool_call (OpenMath-Nemotron's tags)
        # CoT sampling only: min-p filtering, and stop strings (Fast-Math-R1 stops at </think>: its model boxes the
        # answer inside the thinking, so the summary after it is time not spent on other samples)
        self.min_p, self.stop = min_p, list(stop)
        self.token_budget, self.min_batch_tokens = token_budget, min_batch_tokens
        self.start_time = clock()
        self.records: list[ProblemRecord] = []

    def allocation(self) -> float | None:
        """Seconds for the next problem: the remaining budget shared by the remaining problems."""
        if self.time_budget_s is None:
            return None
        remaining = self.time_budget_s - (self.clock() - self.start_time)
        return remaining / max(self.n_problems - len(self.records), 1)

    def token_allocation(self) -> int | None:
        """Decoding steps for the next problem: the steps left shared by the problems left, rounded down."""
        if self.token_budget is None:
            return None
        left = self.token_budget - sum(r.decoding_steps for r in self.records)
        return left // max(self.n_problems - len(self.records), 1)

    def predict(self, id: str, problem: str) -> int:
        """The answer to one problem, in 0..999; its :class:`ProblemRecord` is appended to ``records``."""
        start = self.clock()
        allocation = self.allocation()
        steps_allocated, steps = self.token_allocation(), 0
        voter = EarlyStopVoter(self.min_agree, margin=self.margin) if self.min_agree else None
        answers: list[int | None] = []
        tokens = tool_calls = n_batches = 0
        last_batch_s = 0.0
        out_of_time = False
        while len(answers) < self.n_samples and not (voter and voter.stopped):
            if allocation is not None and (
                allocation <= 0 or (n_batches and self.clock() - start + last_batch_s > allocation)
            ):
                out_of_time = True
                break
            limit = self.max_new_tokens
            if steps_allocated is not None:
                limit = min(limit, steps_allocated - steps)
                if limit < self.min_batch_tokens:
                    out_of_time = True
                    break
            batch_start = self.clock()
            samples = self._sample(
                problem, min(self.batch_size, self.n_samples - len(answers)), n_batches, limit
            )
            last_batch_s = self.clock() - batch_start
            n_batches += 1
            steps += max(s.n_tokens for s in samples)
            for sample in sorted(samples, key=lambda s: s.n_tokens):
                answer = extract_answer(sample.text)
                answers.append(answer)
                if voter and not voter.stopped:
                    voter.add(answer)
                tokens += sample.n_tokens
                tool_calls += sample.tool_calls
        voted = majority_vote(answers)
        record = ProblemRecord(
            id=id,
            answer=self.fallback_answer if voted is None else voted,
            used_fallback=voted is None,
            n_samples=len(answers),
            n_batches=n_batches,
            tokens=tokens,
            tool_calls=tool_calls,
            seconds=self.clock() - start,
            allocation_s=allocation,
            votes={a: answers.count(a) for a in sorted({a for a in answers if a is not None})},
            stopped_early=bool(voter and voter.stopped) and len(answers) < self.n_samples,
            out_of_time=out_of_time,
            decoding_steps=steps,
            allocation_tokens=steps_allocated,
        )
        self.records.append(record)
        return record.answer

    def _sample(self, problem: str, n: int, batch: int, max_new_tokens: int) -> list[Sample]:
        """One batch; its seed depends on (seed, problem number, batch number) only, so runs pair up."""
        seed = int(np.random.SeedSequence([self.seed, len(self.records), batch]).generate_state(1)[0])
        sampling = dict(n=n, max_new_tokens=max_new_tokens, temperature=self.temperature, top_p=self.top_p)
        if self.style == "tir":
            return run_tir(
                self.backend,
                problem,
                sandbox=self.sandbox,
                max_tool_calls=self.max_tool_calls,
                seed=seed,
                tool_format=self.tool_format,
                **sampling,
            )
        extra = {"min_p": self.min_p} if self.min_p else {}
        extra |= {"stop": self.stop} if self.stop else {}
        return self.backend.generate([build_messages(problem, self.style)], seed=seed, **sampling, **extra)[0]
