"""Loading: LaTeX problems round-trip; broken files stop with one line naming file, row and column."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aimo2.data import (
    DataError,
    load_competition,
    load_problems,
    load_traces,
    validate_problems,
    validate_submission,
)
from aimo2.paths import OUTPUT_ROOT, SAMPLE_DIR, resolve_data_dir, run_dir
from aimo2.synth import make_sample

LATEX_PROBLEM = (
    'Call a positive integer $n$ "good" if\n'
    "$$f(n) = \\frac{n^{2} + 1}{2}, \\quad f(n) \\equiv 1 \\pmod{7},$$\n\n"
    'and let $S = \\{1, 2, \\ldots, 100\\}$. How many "good" elements does $S$ have?'
)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("aimo2") / "sample", n_reference=10, n_test=3, n_train=4)


def copy_of(sample_dir, tmp_path):
    target = tmp_path / "data"
    shutil.copytree(sample_dir, target)
    return target


def write_reference(tmp_path, last_answer):
    path = tmp_path / "reference.csv"
    path.write_text(f'id,problem,answer\naaa111,"What is $1+1$?",2\nbbb222,"Find $x$.",{last_answer}\n')
    return path


def test_sample_loads_with_kaggle_columns_and_types(sample_dir):
    data = load_competition(sample_dir)
    assert list(data.reference.columns) == ["id", "problem", "answer"]
    assert data.reference["answer"].dtype == np.int64
    assert data.reference["answer"].between(0, 999).all()
    assert data.reference["id"].str.fullmatch(r"[0-9a-f]{6}").all()
    assert list(data.test.columns) == ["id", "problem"]
    assert not set(data.test["id"]) & set(data.reference["id"])
    assert list(data.sample_submission["id"]) == list(data.test["id"])
    assert set(data.metadata["id"]) == set(data.reference["id"]) | set(data.test["id"])
    assert data.metadata["level"].between(1, 5).all()


def test_latex_problem_round_trips_through_csv(tmp_path):
    frame = pd.DataFrame({"id": ["000aaa", "NA"], "problem": [LATEX_PROBLEM, "None"], "answer": [0, 17]})
    frame.to_csv(tmp_path / "reference.csv", index=False)
    loaded = load_problems(tmp_path / "reference.csv", with_answers=True)
    assert loaded["problem"].tolist() == [LATEX_PROBLEM, "None"]
    assert loaded["id"].tolist() == ["000aaa", "NA"]  # "NA" and "None" stay text, never NaN
    assert loaded["answer"].tolist() == [0, 17]


@pytest.mark.parametrize("raw", ["1000", "-1", "3.5", "abc", "", "1e3"])
def test_answer_outside_0_999_is_named(tmp_path, raw):
    path = write_reference(tmp_path, raw)
    with pytest.raises(DataError) as info:
        load_problems(path, with_answers=True)
    message = str(info.value)
    assert message == f"{path}: row 2 (id 'bbb222'), column 'answer': {raw!r} is not an integer in 0..999"


def test_answer_with_plus_sign_or_spaces_is_an_integer(tmp_path):
    assert load_problems(write_reference(tmp_path, '" 7"'), with_answers=True)["answer"].tolist() == [2, 7]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,problem\na,b\n", r"reference\.csv: missing column\(s\) \['answer'\]"),
        ("id,problem,answer\nabc,x,1\nabc,y,2\n", r"row 2 \(id 'abc'\), column 'id': duplicate of row 1"),
        ("id,problem,answer\nabc,x,1\n,y,2\n", r"reference\.csv: row 2, column 'id': empty"),
        ('id,problem,answer\nabc,x,1\ndef," ",2\n', r"row 2 \(id 'def'\), column 'problem': empty"),
    ],
)
def test_broken_reference_is_named(tmp_path, text, message):
    (tmp_path / "reference.csv").write_text(text)
    with pytest.raises(DataError, match=message):
        load_problems(tmp_path / "reference.csv", with_answers=True)


def test_optional_and_required_files(sample_dir, tmp_path):
    data_dir = copy_of(sample_dir, tmp_path)
    (data_dir / "metadata.csv").unlink()
    assert load_competition(data_dir).metadata is None
    (data_dir / "reference.csv").unlink()
    data = load_competition(data_dir)  # test.csv alone is what Kaggle's rerun sees
    assert data.reference is None and len(data.test) == 3
    (data_dir / "test.csv").unlink()
    with pytest.raises(DataError, match=r"test\.csv: file not found \(nor reference\.csv"):
        load_competition(data_dir)
    shutil.copy(sample_dir / "reference.csv", data_dir)
    with pytest.raises(DataError, match=r"test\.csv: file not found$"):
        load_competition(data_dir)


def test_sample_submission_must_hold_the_test_ids(sample_dir, tmp_path):
    data_dir = copy_of(sample_dir, tmp_path)
    submission = pd.read_csv(data_dir / "sample_submission.csv", dtype=str)
    submission.loc[1, "id"] = "ffffff"
    submission.to_csv(data_dir / "sample_submission.csv", index=False)
    with pytest.raises(
        DataError, match=r"sample_submission\.csv: row 2 \(id 'ffffff'\), column 'id': not one"
    ):
        load_competition(data_dir)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.assign(level=f["level"].where(f.index != 2, "6")), r"row 3 .*column 'level': '6'"),
        (lambda f: f.iloc[1:], r"metadata\.csv: column 'id': no row for 1 problem"),
        (lambda f: f.assign(topic=f["topic"].where(f.index != 0, "")), r"row 1 .*column 'topic': empty"),
    ],
)
def test_broken_metadata_is_named(sample_dir, tmp_path, edit, message):
    data_dir = copy_of(sample_dir, tmp_path)
    edit(pd.read_csv(data_dir / "metadata.csv", dtype=str)).to_csv(data_dir / "metadata.csv", index=False)
    with pytest.raises(DataError, match=message):
        load_competition(data_dir)


def test_sample_traces_load(sample_dir):
    cot = load_traces(sample_dir / "train" / "cot.jsonl")
    grpo = load_traces(sample_dir / "train" / "grpo.jsonl")
    assert len(cot) == 3 * 4 and len(grpo) == 4
    assert [m["role"] for m in cot[0]["messages"]] == ["user", "assistant"]
    assert [m["role"] for m in grpo[0]["prompt"]] == ["user"]


def trace(**changes):
    record = {
        "id": "t1",
        "problem": "Find $1+1$.",
        "answer": 2,
        "messages": [
            {"role": "user", "content": "Find $1+1$."},
            {"role": "assistant", "content": "\\boxed{2}"},
        ],
    }
    record.update(changes)
    return json.dumps(record)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([trace(), "{not json"], r"line 2: invalid JSON"),
        ([trace(answer=1000)], r"line 1, field 'answer': 1000 is not an integer in 0\.\.999"),
        ([trace(answer="2")], r"line 1, field 'answer': '2'"),
        (
            [trace(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": 3}])],
            r"line 1, field 'messages\[1\]\.content': expected a string, got int",
        ),
        (
            [trace(messages=[{"role": "user", "content": "q"}])],
            r"field 'messages\[0\]\.role': the last message",
        ),
        (
            [trace(), "", trace(answer=3)],
            r"line 3, field 'answer': differs from line 1, which has the same id",
        ),
        ([json.dumps({"id": "t", "problem": "p", "answer": 1})], r"line 1: missing field 'messages'"),
    ],
)
def test_broken_traces_are_named(tmp_path, lines, message):
    path = tmp_path / "cot.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=message):
        load_traces(path)


def test_validate_submission():
    ids = ["a", "b", "c"]
    good = validate_submission(pd.DataFrame({"id": ["c", "a", "b"], "answer": [3, np.int64(0), "999"]}), ids)
    assert good["answer"].tolist() == [3, 0, 999] and good["answer"].dtype == np.int64
    with pytest.raises(DataError, match=r"submission: column 'id': no row for 1 problem\(s\), e\.g\. 'c'"):
        validate_submission(pd.DataFrame({"id": ["a", "b"], "answer": [1, 2]}), ids)
    with pytest.raises(DataError, match=r"submission: row 3 \(id 'x'\), column 'id': not one"):
        validate_submission(pd.DataFrame({"id": ["a", "b", "x"], "answer": [1, 2, 3]}), ids)
    for bad in (1000, True, 2.5):
        with pytest.raises(DataError, match=r"row 2 \(id 'b'\), column 'answer'"):
            validate_submission(
                pd.DataFrame({"id": ["a", "b", "c"], "answer": [1, bad, 3]}, dtype=object), ids
            )


def test_validate_problems_on_a_frame():
    frame = pd.DataFrame({"id": ["p1", "p2"], "problem": ["x", "y"], "answer": [5, 1000]})
    with pytest.raises(DataError, match=r"^problems: row 2 \(id 'p2'\), column 'answer': 1000"):
        validate_problems(frame, with_answers=True)
    assert validate_problems(frame, with_answers=False)["id"].tolist() == ["p1", "p2"]


def test_default_data_dir_is_the_sample_made_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = []

    def fake_make_sample(out_dir):
        made.append(out_dir)
        (tmp_path / out_dir).mkdir(parents=True)
        (tmp_path / out_dir / "reference.csv").write_text("id,problem,answer\n")

    monkeypatch.setattr("aimo2.synth.make_sample", fake_make_sample)
    assert resolve_data_dir(None) == (SAMPLE_DIR, "sample")
    assert resolve_data_dir(None) == (SAMPLE_DIR, "sample")
    assert made == [SAMPLE_DIR]  # made on first use only
    assert resolve_data_dir("elsewhere") == (Path("elsewhere"), "elsewhere")
    (tmp_path / "competitions/aimo2/data/reference.csv").write_text("id,problem,answer\n")
    assert resolve_data_dir(None)[1] == "kaggle"
    assert run_dir(None, "gateway").parent == OUTPUT_ROOT and run_dir("mine", "x") == Path("mine")
