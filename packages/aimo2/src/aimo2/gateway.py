"""A local stand-in for Kaggle's AIMO2 evaluation gateway: one problem at a time, under a global time budget.

AIMO2 is scored by running the submitted notebook against hidden problems: Kaggle's gateway calls the
notebook's ``predict`` once per problem and the whole run must fit in about 5 hours for 50 problems, so
how a solution spends its time (samples per problem, early stopping) is part of its score. This module
runs the same ``predict(id: str, problem: str) -> int`` locally, with the same shape of contract:

* problems are served one at a time, in the order of the table given (Kaggle shuffles test.csv: shuffle
  the table to imitate it), each call timed by ``clock``;
* once the budget (default: 5 h scaled to the number of problems) is used up, the remaining problems
  are not served and get no answer. An answer that arrives after the budget ran out is discarded too.
  Kaggle is harsher (a notebook that runs out of time fails the whole submission); discarding keeps the
  answers that did arrive in time measurable;
* an answer that is not an int in 0..999, or an exception raised by ``predict``, is recorded as
  invalid with the reason instead of stopping the run.

A problem without a valid answer counts as wrong; in the submission file it gets ``UNANSWERED`` (0),
since Kaggle's file format has no "no answer".

The same ``predict`` runs unchanged on Kaggle through :func:`kaggle_predict_adapter`. Kaggle's gateway
(``kaggle_evaluation.aimo_2_inference_server``) reads test.csv with polars, takes one row at a time and
calls the notebook's function with that row's columns, ``(id_, question)``, each a one-row polars
Series, and expects back a one-row DataFrame with columns ``id`` and ``answer`` (an int 0..999), within
30 minutes per problem::

    import os
    import kaggle_evaluation.aimo_2_inference_server
    from aimo2.gateway import kaggle_predict_adapter

    server = kaggle_evaluation.aimo_2_inference_server.AIMO2InferenceServer(kaggle_predict_adapter(predict))
    if os.getenv("KAGGLE_IS_COMPETITION_RERUN"):
        server.serve()
    else:
        server.run_local_gateway(("/kaggle/input/ai-mathematical-olympiad-progress-prize-2/test.csv",))
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from aimo2.data import is_answer, validate_problems, validate_submission
from shared.metrics import aimo2_score

__all__ = [
    "ANSWERED",
    "INVALID",
    "KAGGLE_SECONDS_PER_PROBLEM",
    "LATE",
    "NOT_SERVED",
    "UNANSWERED",
    "GatewayResult",
    "LocalGateway",
    "kaggle_predict_adapter",
]

KAGGLE_SECONDS_PER_PROBLEM = 5 * 3600 / 50  # about 5 hours for the 50 hidden problems
UNANSWERED = 0  # the answer written to the submission for a problem without a valid answer

# Status of a problem after a run.
ANSWERED = "answered"  # a valid answer in time
INVALID = "invalid"  # predict raised, or returned something other than an int 0..999
LATE = "late"  # served, but the answer came after the budget ran out: discarded
NOT_SERVED = "not_served"  # the budget ran out before this problem

Predict = Callable[[str, str], int]


@dataclass
class GatewayResult:
    """What a run produced: ``frame`` has one row per problem, in serving order.

    Columns: ``id``, ``answer`` (Int64, <NA> without a valid answer), ``correct`` (boolean, <NA> when
    the problems had no answers), ``seconds`` (by the gateway's clock; 0 when not served), ``status``
    (ANSWERED, INVALID, LATE or NOT_SERVED) and ``reason`` (why there is no answer; "" otherwise).
    """

    frame: pd.DataFrame
    time_budget_s: float
    elapsed_s: float
    truth: np.ndarray | None = None  # the known answers, aligned with ``frame``

    def submission(self) -> pd.DataFrame:
        """``id, answer`` in Kaggle's format, ``UNANSWERED`` where there is no valid answer."""
        answers = self.frame["answer"].fillna(UNANSWERED).astype(np.int64)
        submission = pd.DataFrame({"id": self.frame["id"], "answer": answers})
        return validate_submission(submission, self.frame["id"])

    def write_submission(self, path: str | Path) -> Path:
        """Write :meth:`submission` as CSV (``id,answer``); returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.submission().to_csv(path, index=False)
        return path

    def score(self) -> float | None:
        """Number of correct answers (``shared.metrics.aimo2_score``); None when the answers are unknown.

        A problem without a valid answer counts as wrong, whatever ``UNANSWERED`` would have scored.
        """
        if self.truth is None:
            return None
        answers = self.frame["answer"].to_numpy(dtype=object)
        given = [
            int(a) if a is not pd.NA else (int(t) + 1) % 1000
            for a, t in zip(answers, self.truth, strict=True)
        ]
        return aimo2_score(self.truth.tolist(), [given])

    def status_counts(self) -> dict[str, int]:
        """How many problems ended in each status."""
        return {
            status: int((self.frame["status"] == status).sum())
            for status in (ANSWERED, INVALID, LATE, NOT_SERVED)
        }


class LocalGateway:
    """Serve ``problems`` (``id, problem[, answer]``) to a ``predict(id, problem) -> int`` function."""

    def __init__(
        self,
        problems: pd.DataFrame,
        *,
        time_budget_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.problems = validate_problems(problems, with_answers="answer" in problems.columns)
        if self.problems.empty:
            raise ValueError("problems: no problems to serve")
        budget = (
            KAGGLE_SECONDS_PER_PROBLEM * len(self.problems) if time_budget_s is None else float(time_budget_s)
        )
        if not budget > 0:
            raise ValueError(f"time_budget_s must be > 0, got {time_budget_s}")
        self.time_budget_s = budget
        self.clock = clock

    def run(self, predict: Predict, *, show_progress: bool = True) -> GatewayResult:
        """Call ``predict`` once per problem, in order, until the budget is used up (``show_progress``: the
        gateway's own "problems" bar; off where the caller keeps its own)."""
        budget = self.time_budget_s
        start = now = self.clock()
        exhausted = False
        rows = []
        pairs = zip(self.problems["id"], self.problems["problem"], strict=True)
        for problem_id, problem in tqdm(
            pairs, total=len(self.problems), desc="problems", disable=None if show_progress else True
        ):
            if not exhausted:
                now = self.clock()
                exhausted = now - start >= budget
            if exhausted:
                rows.append(
                    (problem_id, None, 0.0, NOT_SERVED, "the time budget was used up before this problem")
                )
                continue
            begin = now
            answer, status, reason = _ask(predict, problem_id, problem)
            now = self.clock()
            if now - start > budget:
                answer, status = None, LATE
                reason = f"answered {now - start:.1f} s into a time budget of {budget:.1f} s"
                exhausted = True
            rows.append((problem_id, answer, now - begin, status, reason))
        ids, answers, seconds, statuses, reasons = (list(column) for column in zip(*rows, strict=True))
        truth = self.problems["answer"].to_numpy() if "answer" in self.problems.columns else None
        correct = (
            [pd.NA] * len(rows)
            if truth is None
            else [a is not None and a == t for a, t in zip(answers, truth, strict=True)]
        )
        frame = pd.DataFrame(
            {
                "id": ids,
                "answer": pd.array(answers, dtype="Int64"),
                "correct": pd.array(correct, dtype="boolean"),
                "seconds": np.array(seconds, dtype=np.float64),
                "status": statuses,
                "reason": reasons,
            }
        )
        return GatewayResult(frame=frame, time_budget_s=budget, elapsed_s=now - start, truth=truth)


def _ask(predict: Predict, problem_id: str, problem: str) -> tuple[int | None, str, str]:
    """(answer, status, reason) of one call; anything ``predict`` does wrong becomes INVALID."""
    try:
        raw = predict(problem_id, problem)
    except Exception as err:
        first_line = str(err).splitlines()[0] if str(err) else ""
        return (
            None,
            INVALID,
            f"predict raised {type(err).__name__}" + (f": {first_line}" if first_line else ""),
        )
    if not is_answer(raw):
        return None, INVALID, f"predict returned {raw!r} ({type(raw).__name__}), not an int in 0..999"
    return int(raw), ANSWERED, ""


def _scalar(value: object) -> object:
    """The single value of a one-row polars Series/DataFrame (anything with ``.item()``), else the value."""
    return value.item() if hasattr(value, "item") else value


def _one_row_frame(problem_id: str, answer: int):
    """A polars DataFrame, as Kaggle's examples return; pandas (also accepted) when polars is missing."""
    data = {"id": [problem_id], "answer": [answer]}
    try:
        import polars as pl  # installed on Kaggle; not a dependency of this package
    except ImportError:
        return pd.DataFrame(data)
    return pl.DataFrame(data)


def kaggle_predict_adapter(predict: Predict, *, fallback: int | None = UNANSWERED):
    """Wrap ``predict(id, problem) -> int`` into the function Kaggle's AIMO2 inference server calls.

    The wrapper unpacks the one-row polars arguments, calls ``predict``, and returns a one-row
    DataFrame ``id, answer``. On Kaggle an exception stops the whole submission, so by default an
    exception or an invalid answer is reported on stderr and ``fallback`` is answered instead; with
    ``fallback=None`` the error propagates.
    """

    def kaggle_predict(id_, question):
        problem_id, problem = str(_scalar(id_)), str(_scalar(question))
        try:
            answer = predict(problem_id, problem)
            if not is_answer(answer):
                raise ValueError(f"predict returned {answer!r}, not an int in 0..999")
        except Exception as err:
            if fallback is None:
                raise
            print(f"problem {problem_id}: {type(err).__name__}: {err}; answering {fallback}", file=sys.stderr)
            answer = fallback
        return _one_row_frame(problem_id, int(answer))

    return kaggle_predict
