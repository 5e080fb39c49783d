"""The curriculum: answers right by construction, traces that compute what they claim, and a data folder in the
competition's layout with no problem in two splits."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from aimo2 import curriculum
from aimo2.answers import extract_answer
from aimo2.data import load_competition, load_traces
from aimo2.sandbox import PythonSandbox
from aimo2.synth import make_curriculum
from aimo2.tir import CODE_STOP, pending_code

EXERCISES = curriculum.draw(np.random.default_rng(3), dict.fromkeys(curriculum.LEVELS, 150))


def test_every_answer_is_the_value_of_its_expression_and_an_integer_of_0_to_999():
    for ex in EXERCISES:
        assert eval(ex.expression) == ex.answer, ex
        assert 0 <= ex.answer <= 999
    # and the statement states the expression's numbers: the answer follows from the text
    for ex in EXERCISES:
        numbers = [int(x) for x in re.findall(r"\d+", ex.statement)]
        assert sorted(int(x) for x in re.findall(r"\d+", ex.expression)) == sorted(numbers), ex


def test_levels_are_the_kinds_they_say_with_the_sizes_they_say():
    by_level = {lv: [e for e in EXERCISES if e.level == lv] for lv in curriculum.LEVELS}
    assert all(e.params["a"] + e.params["b"] == e.answer and e.params["a"] < 10 for e in by_level[1])
    assert all(10 <= e.params["a"] <= 99 and 10 <= e.params["b"] <= 99 for e in by_level[2])
    assert all(e.params["a"] * e.params["b"] == e.answer and e.params["b"] < 10 for e in by_level[3])
    assert all(e.params["n"] % e.params["m"] == e.answer and e.params["n"] >= 100 for e in by_level[4])
    # levels 2 and 3 both exercise the carry: some do, some do not
    assert {(e.params["a"] % 10 + e.params["b"] % 10) > 9 for e in by_level[2]} == {True, False}


@pytest.mark.parametrize("length", curriculum.COT_LENGTHS)
def test_every_cot_length_boxes_the_answer_and_its_steps_are_true(length):
    for ex in EXERCISES:
        text = curriculum.cot_trace(ex, length)
        assert extract_answer(text) == ex.answer and text.startswith("<think>\n") and "\n</think>\n\n" in text
        # every "x op y (+ c) = z" and long-division step in the trace is arithmetic that holds
        for left, right in re.findall(r"((?:\d+ [+×] \d+(?: \+ \d+)?)|\d+ mod \d+) = (\d+)", text):
            assert eval(left.replace("×", "*").replace("mod", "%")) == int(right), (left, right)
        for whole, quotient, divisor, rest in re.findall(r"(\d+) = (\d+) × (\d+) \+ (\d+)\.", text):
            assert int(whole) == int(quotient) * int(divisor) + int(rest) and int(rest) < int(divisor)


def test_the_lengths_differ_but_compute_the_same_thing():
    ex = EXERCISES[200]
    texts = {length: curriculum.cot_trace(ex, length) for length in curriculum.COT_LENGTHS}
    assert len(texts["concise"]) < len(texts["plain"]) < len(texts["padded"])
    assert all(all(step in text for step in ex.steps) for text in texts.values())


def test_the_tir_trace_runs_as_inference_runs_it():
    """The code block stops where ``run_tir`` stops generation, and its output block is what the sandbox prints."""
    sandbox = PythonSandbox()
    for ex in EXERCISES[::100]:
        text = curriculum.tir_trace(ex)
        head = text[: text.index(CODE_STOP) + len(CODE_STOP)]
        code = pending_code(head)
        assert code == f"print({ex.expression})\n"
        result = sandbox.run(code)
        assert text[len(head) :].startswith(f"```output\n{result.output}\n```\n")
        assert extract_answer(text) == ex.answer


def test_draw_refuses_an_unknown_level_and_never_repeats_a_statement():
    with pytest.raises(ValueError, match="level 5"):
        curriculum.draw(np.random.default_rng(0), {5: 1})
    statements = [e.statement for e in EXERCISES]
    assert len(set(statements)) == len(statements)
    with pytest.raises(ValueError, match="cannot draw"):
        curriculum.draw(np.random.default_rng(0), {1: 81 * len(curriculum.NAMES) * len(curriculum.ITEMS) + 1})


def test_make_curriculum_writes_the_competition_layout_with_disjoint_splits(tmp_path):
    out = make_curriculum(tmp_path / "c", seed=1, n_train=6, n_reference=3, n_test=2)
    competition = load_competition(out)
    reference, test, metadata = competition.reference, competition.test, competition.metadata
    assert len(reference) == 12 and len(test) == 8
    assert metadata.set_index("id").loc[reference["id"], "level"].value_counts().to_dict() == {1: 3, 2: 3, 3: 3, 4: 3}
    cot, tir, grpo = (load_traces(out / "train" / f"{n}.jsonl") for n in ("cot", "tir", "grpo"))
    assert len(cot) == 3 * 24 and len(tir) == 24 and len(grpo) == 24
    train = {r["problem"] for r in grpo}
    assert not train & set(reference["problem"]) and not train & set(test["problem"])
    assert not set(reference["problem"]) & set(test["problem"])
    assert all(extract_answer(r["messages"][-1]["content"]) == r["answer"] for r in cot + tir)
    assert pd.read_csv(out / "sample_submission.csv")["id"].tolist() == test["id"].tolist()
    # the same seed writes the same files
    again = make_curriculum(tmp_path / "d", seed=1, n_train=6, n_reference=3, n_test=2)
    for name in ("train/cot.jsonl", "reference.csv", "test.csv"):
        assert (out / name).read_bytes() == (again / name).read_bytes()
    assert json.loads((out / "train" / "grpo.jsonl").read_text().splitlines()[0])["prompt"][0]["role"] == "user"


def test_make_sample_writes_the_curriculum_when_asked(tmp_path, capsys):
    from aimo2.synth import main

    main(["--curriculum", "--out", str(tmp_path / "c"), "--n-train", "2", "--n-reference", "1", "--n-test", "1"])
    assert len(pd.read_csv(tmp_path / "c" / "reference.csv")) == 4 and len(load_traces(tmp_path / "c" / "train" / "tir.jsonl")) == 8
    assert "wrote the AIMO2 curriculum" in capsys.readouterr().out
