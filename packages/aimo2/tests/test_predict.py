"""``aimo2-predict``: a saved model, the transformers backend and the Solver behind the local gateway, over the
problems of test.csv (not reference.csv), under one budget shared by all of them."""

import pandas as pd
import pytest

from aimo2 import predict
from aimo2.kaggle import InferenceSettings, build_solver
from aimo2.synth import make_sample
from shared.recipes import FieldError
from shared.tiny import tiny_causal_lm

TEXTS = ["Solve: what is 2 + 3? <think> 2 + 3 = 5 </think> The answer is \\boxed{5}."] * 20


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict")
    data = make_sample(root / "data", n_reference=2, n_test=3, n_train=1)
    return data, str(tiny_causal_lm(TEXTS, extra_special_tokens=["<think>", "</think>"]))


def flags(model, data, out, *more):
    return ["--model", model, "--data-dir", str(data), "--output", str(out), "--backend", "transformers",
            "--n_samples", "2", "--batch_size", "2", "--min_agree", "2", "--max_new_tokens", "6", *more]  # fmt: skip


def test_predict_answers_every_test_problem_through_the_gateway(setup, tmp_path, capsys):
    data, model = setup
    out = tmp_path / "submission.csv"
    predict.main(flags(model, data, out))
    submission = pd.read_csv(out)
    test = pd.read_csv(data / "test.csv")
    assert submission["id"].tolist() == test["id"].tolist()  # test.csv's problems, in its order
    assert submission["answer"].between(0, 999).all()
    records = pd.read_csv(tmp_path / "submission.records.csv")
    assert records["id"].tolist() == test["id"].tolist() and (records["n_samples"] <= 2).all()
    assert "3 of 3 problems answered" in capsys.readouterr().out


def test_a_spent_budget_serves_no_problem_and_still_writes_a_valid_submission(setup, tmp_path, capsys):
    data, model = setup
    out = tmp_path / "submission.csv"
    predict.main(flags(model, data, out, "--time_budget_s", "1e-9"))
    assert pd.read_csv(out)["answer"].tolist() == [0, 0, 0]  # UNANSWERED for every problem not served
    assert "0 of 3 problems answered" in capsys.readouterr().out


def test_the_budget_is_shared_by_the_problems_as_kaggle_runs_them():
    settings = InferenceSettings(model="m", backend="transformers")
    assert settings.problems == 50 and settings.budget_s == pytest.approx(0.93 * 5 * 3600)
    ticks = iter(range(1000))
    solver = build_solver(InferenceSettings(model="m", n_problems=4, time_budget_s=100.0), backend=object(),
                          clock=lambda: next(ticks))  # fmt: skip
    assert solver.time_budget_s == 100.0 and solver.n_problems == 4
    with pytest.raises(FieldError, match=r"^model: give the folder"):
        InferenceSettings()
    with pytest.raises(FieldError, match=r"^backend: 'sglang' is not one of vllm \| transformers"):
        InferenceSettings(model="m", backend="sglang")
    # refused before any model loads, not after minutes of it
    with pytest.raises(FieldError, match=r"^min_agree: 5 must be in 1\.\.n_samples \(4\)"):
        InferenceSettings(model="m", n_samples=4)
    with pytest.raises(FieldError, match=r"^margin: 0 must be >= 1"):
        InferenceSettings(model="m", margin=0)
    with pytest.raises(FieldError, match=r"^time_budget_s: 0\.0 must be > 0"):
        InferenceSettings(model="m", time_budget_s=0.0)
