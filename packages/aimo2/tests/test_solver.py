"""The solver: early stopping, time allocation, records, and the gateway contract, on hand-built answers."""

import numpy as np
import pandas as pd
import pytest

from aimo2.backends import Sample, SimulatedBackend, SimulatedClock, partial_turn
from aimo2.gateway import ANSWERED, LocalGateway
from aimo2.sandbox import PythonSandbox
from aimo2.solver import Solver

TOKENS = 100  # per sample


class AnswerStream:
    """Returns the next answers of a fixed stream (None: no box), 100 tokens each; a call takes 10 s."""

    def __init__(self, answers: list[int | None], seconds_per_call: float = 10.0) -> None:
        self.answers = list(answers)
        self.seconds_per_call = seconds_per_call
        self.clock = SimulatedClock()
        self.calls = 0

    def generate(self, prompts, *, n, max_new_tokens, temperature=0.6, top_p=0.95, stop=None, seed=None):
        self.calls += 1
        self.clock.advance(self.seconds_per_call)
        taken, self.answers = self.answers[:n], self.answers[n:]
        texts = ["I give up." if a is None else f"<think>\n...\n</think>\n\n\\boxed{{{a}}}" for a in taken]
        return [[Sample(text, TOKENS, self.seconds_per_call, "stop") for text in texts]]


class Recorder(AnswerStream):
    """An AnswerStream that also keeps the keyword arguments of each call."""

    def __init__(self, answers):
        super().__init__(answers)
        self.kwargs = []

    def generate(self, prompts, **kwargs):
        self.kwargs.append({k: v for k, v in kwargs.items() if k in ("min_p", "stop")})
        return super().generate(prompts, **{k: v for k, v in kwargs.items() if k not in ("min_p", "stop")})


def test_min_p_and_stop_strings_reach_the_backend_only_when_set():
    plain = Recorder([7, 7])
    solver(plain, n_samples=2, batch_size=2).predict("a", "p")
    assert plain.kwargs == [{}]  # a backend without them (the simulated one) is called as before
    fast_math = Recorder([7, 7])
    solver(fast_math, n_samples=2, batch_size=2, min_p=0.05, stop=["</think>"]).predict("a", "p")
    assert fast_math.kwargs == [{"min_p": 0.05, "stop": ["</think>"]}]


def solver(backend, **kwargs) -> Solver:
    return Solver(backend, clock=backend.clock, max_new_tokens=1000, **kwargs)


def test_early_stop_after_the_batch_where_enough_samples_agree():
    stream = [5, 5, 7, 5, 9, 9, 9, 9]
    early = solver(AnswerStream(stream), n_samples=8, batch_size=2, min_agree=3)
    assert early.predict("a", "p") == 5
    [record] = early.records
    assert (record.n_samples, record.n_batches, record.tokens) == (4, 2, 4 * TOKENS)
    assert record.votes == {5: 3, 7: 1} and record.stopped_early and not record.out_of_time
    full = solver(AnswerStream(stream), n_samples=8, batch_size=2)
    assert full.predict("a", "p") == 9  # four 9s outvote three 5s when all eight are drawn
    assert full.records[0].tokens == 8 * TOKENS and not full.records[0].stopped_early


def test_every_sample_of_the_last_batch_votes():
    # The voter is satisfied after two 5s, but the batch's other samples were paid for and count.
    s = solver(AnswerStream([5, 5, 1, 1, 1]), n_samples=8, batch_size=5, min_agree=2)
    assert s.predict("a", "p") == 1
    assert s.records[0].votes == {1: 3, 5: 2} and s.records[0].stopped_early


def test_agreement_at_the_last_sample_is_not_an_early_stop():
    s = solver(AnswerStream([3, 3]), n_samples=2, batch_size=2, min_agree=2)
    assert s.predict("a", "p") == 3 and not s.records[0].stopped_early


def test_a_problem_stops_sampling_when_its_allocation_is_spent():
    # 25 s for one problem, 10 s a batch: after two batches, 20 s spent + 10 s for a third > 25 s.
    s = solver(AnswerStream(list(range(100))), n_samples=64, batch_size=4, time_budget_s=25, n_problems=1)
    s.predict("a", "p")
    [record] = s.records
    assert (record.n_batches, record.n_samples, record.allocation_s) == (2, 8, 25.0)
    assert record.out_of_time and record.seconds == 20.0


def test_unused_time_carries_over_to_the_next_problems():
    backend = AnswerStream([4] * 4 + list(range(100)))
    s = solver(backend, n_samples=16, batch_size=4, min_agree=3, time_budget_s=40, n_problems=2)
    s.predict("a", "p")  # 20 s allocated, agreement after one batch: 10 s used
    s.predict("b", "q")  # (40 - 10) / 1 = 30 s allocated: three batches fit exactly, a fourth would not
    first, second = s.records
    assert first.allocation_s == 20.0 and first.n_batches == 1
    assert second.allocation_s == 30.0 and second.n_batches == 3 and second.out_of_time


def test_no_sampling_once_the_whole_budget_is_spent():
    s = solver(
        AnswerStream([1] * 100),
        n_samples=8,
        batch_size=4,
        time_budget_s=10,
        n_problems=2,
        fallback_answer=123,
    )
    assert s.predict("a", "p") == 1  # 5 s allocated: the first batch always runs (10 s)
    assert s.predict("b", "q") == 123  # nothing left: no sample, the fallback answer
    second = s.records[1]
    assert (
        second.allocation_s == 0.0 and second.n_samples == 0 and second.used_fallback and second.out_of_time
    )


def test_fallback_when_no_sample_has_an_answer():
    s = solver(AnswerStream([None] * 4), n_samples=4, batch_size=2, fallback_answer=7)
    assert s.predict("a", "p") == 7
    assert s.records[0].used_fallback and s.records[0].votes == {} and s.records[0].n_samples == 4


def test_settings_are_checked():
    backend = AnswerStream([])
    with pytest.raises(ValueError, match="n_problems"):
        solver(backend, time_budget_s=100)
    with pytest.raises(ValueError, match="min_agree=9 > n_samples=8"):
        solver(backend, n_samples=8, min_agree=9)
    with pytest.raises(ValueError, match="unknown style"):
        solver(backend, style="pal")


PROBLEMS = pd.DataFrame(
    {
        "id": [f"{i:06x}" for i in range(30)],
        "problem": [f"Problem {i}: find the remainder of $N_{{{i}}}$ modulo 1000." for i in range(30)],
        "answer": [(37 * i + 11) % 1000 for i in range(30)],
    }
)
METADATA = pd.DataFrame({"id": PROBLEMS["id"], "topic": "algebra", "level": [1 + i % 5 for i in range(30)]})


def simulated_run(seed=0, **kwargs) -> Solver:
    backend = SimulatedBackend.from_problems(PROBLEMS, METADATA, seed=seed)
    s = Solver(
        backend, n_samples=16, batch_size=4, max_new_tokens=20000, clock=backend.clock, seed=seed, **kwargs
    )
    for problem_id, problem in zip(PROBLEMS["id"], PROBLEMS["problem"], strict=True):
        s.predict(problem_id, problem)
    return s


def test_simulated_early_stopping_draws_a_prefix_of_the_full_run_with_fewer_tokens():
    full, early = simulated_run(), simulated_run(min_agree=4)
    assert sum(r.tokens for r in early.records) < 0.8 * sum(r.tokens for r in full.records)
    for f, e in zip(full.records, early.records, strict=True):
        assert e.n_samples <= f.n_samples
        assert all(e.votes[a] <= f.votes.get(a, 0) for a in e.votes)  # the same first batches, then fewer
        assert sum(e.votes.values()) <= e.n_samples  # samples without a box cast no vote
    assert any(r.stopped_early for r in early.records)


def test_simulated_runs_are_deterministic_by_seed():
    assert simulated_run(seed=3).records == simulated_run(seed=3).records
    assert simulated_run(seed=3).records != simulated_run(seed=4).records


def test_records_add_up_with_the_backends_clock():
    s = simulated_run(min_agree=4)
    assert s.clock() == pytest.approx(sum(r.seconds for r in s.records))  # only generation moves the clock
    for record in s.records:
        assert record.n_samples == min(16, 4 * record.n_batches)
        top = max(record.votes.values(), default=0)
        assert record.answer in ({a for a, v in record.votes.items() if v == top} or {0})


def test_the_solver_serves_the_local_gateway():
    backend = SimulatedBackend.from_problems(PROBLEMS, METADATA, seed=0)
    budget = 50 * 3600  # ample: this test is about the contract, the allocation tests are above
    s = Solver(backend, n_samples=8, batch_size=4, min_agree=3, max_new_tokens=20000, clock=backend.clock,
               time_budget_s=budget, n_problems=len(PROBLEMS))  # fmt: skip
    result = LocalGateway(PROBLEMS, time_budget_s=budget, clock=backend.clock).run(s.predict)
    assert (result.frame["status"] == ANSWERED).all()
    assert result.frame["answer"].tolist() == [r.answer for r in s.records]
    assert result.score() == sum(r.answer == a for r, a in zip(s.records, PROBLEMS["answer"], strict=True))
    assert result.score() > 15  # most of the 30 problems, a mix of levels 1-5


class CodeThenBox:
    """Writes a Python block on a fresh turn, then boxes what the block printed."""

    def generate(self, prompts, *, n, max_new_tokens, temperature=0.6, top_p=0.95, stop=None, seed=None):
        rows = []
        for prompt in prompts:
            done = partial_turn(prompt)
            if done is None:
                rows.append([Sample("```python\nprint(3 * 4)\n```\n", 10, 0.0, "stop")] * n)
            else:
                printed = done.split("```output\n")[1].split("\n")[0]
                rows.append([Sample(f"\\boxed{{{printed}}}", 5, 0.0, "stop")] * n)
        return rows


def test_tir_style_runs_the_code_and_records_the_tool_calls():
    s = Solver(CodeThenBox(), style="tir", n_samples=2, batch_size=2, sandbox=PythonSandbox(timeout_s=5))
    assert s.predict("a", "What is 3 times 4?") == 12
    assert s.records[0].tool_calls == 2 and s.records[0].tokens == 2 * (10 + 5)


class _Lengths:
    """A backend whose samples want ``wanted`` tokens each, cut at the limit it is given; answers ``answer``."""

    def __init__(self, wanted, answer=7):
        self.wanted, self.answer, self.limits = wanted, answer, []

    def generate(self, prompts, *, n, max_new_tokens, seed=None, **kwargs):
        self.limits.append(max_new_tokens)
        rng = np.random.default_rng(seed)
        lengths = [min(int(rng.choice(self.wanted)), max_new_tokens) for _ in range(n)]
        return [[Sample(f"\\boxed{{{self.answer}}}", k, 0.0, "stop") for k in lengths]]


@pytest.mark.parametrize("seed", range(20))
def test_token_budget_is_never_exceeded(seed):
    rng = np.random.default_rng(seed)
    n_problems, budget = int(rng.integers(1, 12)), int(rng.integers(0, 3000))
    backend = _Lengths(wanted=[int(x) for x in rng.integers(1, 400, size=5)])
    n_samples = int(rng.integers(1, 33))
    solver = Solver(backend, n_samples=n_samples, batch_size=int(rng.integers(1, 9)),
                    min_agree=None if seed % 2 else min(3, n_samples), max_new_tokens=int(rng.integers(50, 500)), seed=seed,
                    token_budget=budget, n_problems=n_problems, min_batch_tokens=int(rng.integers(1, 30)))  # fmt: skip
    for i in range(n_problems):
        solver.predict(str(i), "p")
        spent = sum(r.decoding_steps for r in solver.records)
        assert spent <= budget
        record = solver.records[-1]
        assert record.decoding_steps <= record.allocation_tokens
    assert all(limit >= solver.min_batch_tokens for limit in backend.limits)


def test_token_budget_carries_unused_steps_over():
    """An easy problem that stops early leaves its steps to the next: 100 steps for 2 problems, the first
    stops after one batch of 10 steps, so the second may use 90 (two more batches of 40 fit, not three)."""
    backend = _Lengths(wanted=[10, 40])
    solver = Solver(backend, n_samples=8, batch_size=2, min_agree=2, margin=2, token_budget=100, n_problems=2)
    backend.wanted = [10]
    solver.predict("a", "p")
    backend.wanted = [40]
    solver.min_agree = None
    solver.predict("b", "p")
    first, second = solver.records
    assert (first.allocation_tokens, first.decoding_steps, first.n_batches) == (50, 10, 1)
    assert second.allocation_tokens == 90 and second.decoding_steps == 90 and second.n_batches == 3
    assert backend.limits[-1] == 10 and second.out_of_time  # the third batch was cut to the 10 steps left


def test_one_budget_only():
    with pytest.raises(ValueError, match="one budget"):
        Solver(_Lengths([1]), time_budget_s=10, token_budget=10, n_problems=1)
