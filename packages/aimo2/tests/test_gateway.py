"""The local gateway: budget cut-off, per-problem time, invalid answers and scoring, on a fake clock."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from aimo2.data import DataError
from aimo2.gateway import (
    ANSWERED,
    INVALID,
    LATE,
    NOT_SERVED,
    UNANSWERED,
    LocalGateway,
    kaggle_predict_adapter,
)


class FakeClock:
    """Time stands still until a fake ``predict`` advances it."""

    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now


def problems(answers=None, n=None):
    n = len(answers) if answers is not None else n
    frame = pd.DataFrame(
        {"id": [f"p{i}" for i in range(1, n + 1)], "problem": [f"Problem {i}" for i in range(1, n + 1)]}
    )
    if answers is not None:
        frame["answer"] = answers
    return frame


def timed_predict(clock, costs, answers, calls):
    """Takes ``costs[id]`` seconds of fake time and answers ``answers[id]`` (raising it if an exception)."""

    def predict(problem_id, problem):
        calls.append((problem_id, problem))
        clock.now += costs[problem_id]
        answer = answers[problem_id]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return predict


def test_budget_cut_off_and_seconds():
    clock, calls = FakeClock(), []
    costs = {"p1": 3, "p2": 4, "p3": 2, "p4": 5, "p5": 1}
    truth = [10, 20, 30, 40, 50]
    predict = timed_predict(clock, costs, dict(zip(costs, truth, strict=True)), calls)
    result = LocalGateway(problems(truth), time_budget_s=10, clock=clock).run(predict)
    frame = result.frame
    # p1..p3 end at 3, 7, 9 s; p4 starts at 9 < 10 but ends at 14 > 10: its answer is discarded; p5 never runs
    assert [c[0] for c in calls] == ["p1", "p2", "p3", "p4"]
    assert calls[0] == ("p1", "Problem 1")
    assert frame["status"].tolist() == [ANSWERED, ANSWERED, ANSWERED, LATE, NOT_SERVED]
    assert frame["seconds"].tolist() == [3.0, 4.0, 2.0, 5.0, 0.0]
    assert frame["answer"].tolist() == [10, 20, 30, pd.NA, pd.NA]
    assert frame["correct"].tolist() == [True, True, True, False, False]
    assert "14.0 s into a time budget of 10.0 s" in frame["reason"][3]
    assert result.elapsed_s == 14.0 and result.score() == 3.0
    assert result.status_counts() == {ANSWERED: 3, INVALID: 0, LATE: 1, NOT_SERVED: 1}


def test_a_budget_used_up_exactly_serves_nothing_more():
    clock, calls = FakeClock(), []
    costs = {"p1": 3, "p2": 4, "p3": 2, "p4": 1}
    predict = timed_predict(clock, costs, dict.fromkeys(costs, 7), calls)
    frame = LocalGateway(problems(n=4), time_budget_s=9, clock=clock).run(predict).frame
    assert frame["status"].tolist() == [ANSWERED, ANSWERED, ANSWERED, NOT_SERVED]  # p3 ends at exactly 9 s
    assert len(calls) == 3


def test_invalid_answers_are_recorded_not_raised():
    returned = {
        "p1": 1000,
        "p2": -1,
        "p3": "42",
        "p4": 3.0,
        "p5": True,
        "p6": None,
        "p7": RuntimeError("out of memory\nlong CUDA trace"),
        "p8": np.int64(7),
        "p9": 0,
    }
    clock, calls = FakeClock(), []
    predict = timed_predict(clock, dict.fromkeys(returned, 1), returned, calls)
    frame = LocalGateway(problems(n=9), clock=clock).run(predict).frame
    assert len(calls) == 9
    assert frame["status"].tolist() == [INVALID] * 7 + [ANSWERED] * 2
    assert frame["answer"].tolist()[-2:] == [7, 0]
    assert frame["correct"].isna().all()  # no answers to compare with
    reasons = frame["reason"].tolist()
    assert "1000" in reasons[0] and "'42' (str)" in reasons[2] and "(bool)" in reasons[4]
    assert reasons[6] == "predict raised RuntimeError: out of memory"
    assert reasons[-1] == ""


def test_score_counts_unanswered_as_wrong_and_submission_fills_them(tmp_path):
    truth = [5, 17, 999, 0, 250]
    returned = {"p1": 5, "p2": 16, "p3": 999, "p4": ValueError("no box"), "p5": 250}
    clock = FakeClock()
    predict = timed_predict(clock, dict.fromkeys(returned, 2), returned, [])
    result = LocalGateway(problems(truth), clock=clock).run(predict)
    assert result.frame["correct"].tolist() == [True, False, True, False, True]
    # p4 has no answer: wrong, although the 0 written for it in the file would match its true answer
    assert result.score() == 3.0
    submission = result.submission()
    assert submission["answer"].tolist() == [5, 16, 999, UNANSWERED, 250]
    path = result.write_submission(tmp_path / "out" / "submission.csv")
    assert path.read_text() == "id,answer\np1,5\np2,16\np3,999\np4,0\np5,250\n"


def test_default_budget_and_bad_inputs():
    assert LocalGateway(problems(n=4)).time_budget_s == 4 * 5 * 3600 / 50
    with pytest.raises(ValueError, match="time_budget_s must be > 0"):
        LocalGateway(problems(n=2), time_budget_s=0)
    duplicated = problems(n=2).assign(id=["p1", "p1"])
    with pytest.raises(DataError, match=r"^problems: row 2 \(id 'p1'\), column 'id': duplicate of row 1"):
        LocalGateway(duplicated)
    with pytest.raises(DataError, match=r"row 1 \(id 'p1'\), column 'answer': 1000"):
        LocalGateway(problems([1000]))


def test_without_answers_there_is_no_score(tmp_path):
    clock = FakeClock()
    result = LocalGateway(problems(n=2), clock=clock).run(lambda problem_id, problem: 1)
    assert result.score() is None
    assert result.frame["seconds"].tolist() == [0.0, 0.0]
    assert result.write_submission(tmp_path / "s.csv").read_text() == "id,answer\np1,1\np2,1\n"


class One:
    """What Kaggle passes: a one-row polars Series, reduced here to its ``.item()``."""

    def __init__(self, value):
        self.value = value

    def item(self):
        return self.value


def test_kaggle_adapter_unpacks_the_row_and_returns_a_one_row_frame(capsys):
    seen = []

    def predict(problem_id, problem):
        seen.append((problem_id, problem))
        return {"What is $1+1$?": 2, "fail": 1000}.get(problem) or int("x")

    kaggle_predict = kaggle_predict_adapter(predict)
    frame = kaggle_predict(One("000aaa"), One("What is $1+1$?"))
    assert seen == [("000aaa", "What is $1+1$?")]
    assert list(frame.columns) == ["id", "answer"]
    assert list(frame["id"]) == ["000aaa"] and list(frame["answer"]) == [2]
    module = "polars" if importlib.util.find_spec("polars") else "pandas"
    assert type(frame).__module__.startswith(module)
    # an invalid answer or an exception would fail the whole Kaggle run: the fallback is answered instead
    assert list(kaggle_predict(One("b"), One("fail"))["answer"]) == [UNANSWERED]
    assert list(kaggle_predict_adapter(predict, fallback=7)(One("c"), One("boom"))["answer"]) == [7]
    assert "problem c: ValueError" in capsys.readouterr().err
    with pytest.raises(ValueError, match="invalid literal"):
        kaggle_predict_adapter(predict, fallback=None)(One("d"), One("boom"))
