"""Loading: summaries are joined to their own prompt with the text intact; each broken file stops with one line
naming the file, the row or id, and the column."""

import csv

import pandas as pd
import pytest

from commonlit.data import DataError, load_competition, load_test, read_sample_submission

PASSAGE = 'First paragraph, with "quotes".\r\n\r\nSecond paragraph.'


def tiny_files() -> dict[str, pd.DataFrame]:
    return {
        "prompts_train.csv": pd.DataFrame(
            {"prompt_id": ["p1", "p2"], "prompt_question": ["Q1?", "Q2?"], "prompt_title": ["One", "Two"],
             "prompt_text": [PASSAGE, "Short text."]}
        ),
        "summaries_train.csv": pd.DataFrame(
            {"student_id": ["s1", "s2", "s3"], "prompt_id": ["p2", "p1", "p1"],
             "text": ["About two.", "", "NA"], "content": ["1.5", "-0.25", "3"], "wording": ["-0.5", "0.2", "1e-1"]}
        ),
        "prompts_test.csv": pd.DataFrame(
            {"prompt_id": ["p3"], "prompt_question": ["Q3?"], "prompt_title": ["Three"], "prompt_text": ["T3"]}
        ),
        "summaries_test.csv": pd.DataFrame(
            {"student_id": ["t1", "t2"], "prompt_id": ["p3", "p3"], "text": ["x", "y"]}
        ),
        "sample_submission.csv": pd.DataFrame({"student_id": ["t1", "t2"], "content": [0.0, 0.0], "wording": [0.0, 0.0]}),
        "summaries_test_labels.csv": pd.DataFrame(
            {"student_id": ["t2", "t1"], "content": [2.0, 1.0], "wording": [-2.0, -1.0]}
        ),
    }  # fmt: skip


def write(directory, files):
    directory.mkdir(exist_ok=True)
    for name, frame in files.items():
        if frame is not None:
            frame.to_csv(directory / name, index=False, lineterminator="\n")
    return directory


def raw_rows(path):
    """The CSV as the csv module reads it (no pandas), for comparison."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sample_joins_each_summary_to_its_own_prompt(sample_dir):
    data = load_competition(sample_dir)
    assert list(data.train.columns) == ["student_id", "prompt_id", "text", "content", "wording",
                                        "prompt_question", "prompt_title", "prompt_text"]  # fmt: skip
    assert list(data.test.columns) == ["student_id", "prompt_id", "text", "prompt_question", "prompt_title",
                                       "prompt_text"]  # fmt: skip
    assert len(data.train) == 8 * 60 and len(data.test) == 2 * 20
    prompts = {row["prompt_id"]: row for row in raw_rows(sample_dir / "prompts_train.csv")}
    summaries = raw_rows(sample_dir / "summaries_train.csv")
    assert data.train["student_id"].tolist() == [row["student_id"] for row in summaries]  # file order
    assert data.train.index.tolist() == list(range(len(summaries)))
    for (_, row), raw in zip(data.train.iterrows(), summaries, strict=True):
        assert row["text"] == raw["text"] and row["content"] == float(raw["content"])
        assert row["prompt_text"] == prompts[raw["prompt_id"]]["prompt_text"]
        assert row["prompt_title"] == prompts[raw["prompt_id"]]["prompt_title"]
    assert all("\r\n\r\n" in text for text in data.train["prompt_text"])
    assert data.test_labels["student_id"].tolist() == data.test["student_id"].tolist()


def test_tiny_set_is_read_as_written(tmp_path):
    data = load_competition(write(tmp_path / "data", tiny_files()))
    assert data.train["text"].tolist() == ["About two.", "", "NA"]  # empty and "NA" are texts, not NaN
    assert data.train["content"].tolist() == [1.5, -0.25, 3.0]
    assert data.train["wording"].tolist() == [-0.5, 0.2, 0.1]
    assert data.train["prompt_title"].tolist() == ["Two", "One", "One"]
    assert data.train["prompt_text"].tolist() == ["Short text.", PASSAGE, PASSAGE]
    assert data.test["prompt_question"].tolist() == ["Q3?", "Q3?"]
    # the labels file lists t2 first; they come back in test order
    assert data.test_labels.values.tolist() == [["t1", 1.0, -1.0], ["t2", 2.0, -2.0]]


def test_test_files_alone_are_enough_for_prediction(tmp_path):
    files = tiny_files()
    only_test = {name: files[name] for name in ("summaries_test.csv", "prompts_test.csv")}
    directory = write(tmp_path / "kaggle", only_test)
    assert load_test(directory)["student_id"].tolist() == ["t1", "t2"]
    assert read_sample_submission(directory) is None
    with pytest.raises(DataError, match=r"summaries_train\.csv: file not found"):
        load_competition(directory)


def test_labels_are_optional(tmp_path):
    files = tiny_files()
    files["summaries_test_labels.csv"] = None
    assert load_competition(write(tmp_path / "data", files)).test_labels is None


def put(column, row, value):
    """A change that sets one cell."""
    return lambda frame: frame.assign(**{column: frame[column].where(frame.index != row, value)})


BROKEN = {
    "missing file": ("prompts_train.csv", lambda f: None, r"prompts_train\.csv: file not found"),
    "missing submission": ("sample_submission.csv", lambda f: None, r"sample_submission\.csv: file not found"),
    "missing target column": ("summaries_train.csv", lambda f: f.drop(columns="wording"),
                              r"summaries_train\.csv: missing column\(s\) \['wording'\]"),
    "missing prompt column": ("prompts_test.csv", lambda f: f.drop(columns="prompt_text"),
                              r"prompts_test\.csv: missing column\(s\) \['prompt_text'\]"),
    "non-numeric target": ("summaries_train.csv", put("content", 1, "high"),
                           r"summaries_train\.csv: student_id 's2' \(row 2\): column 'content' is 'high', expected a number"),
    "missing target": ("summaries_train.csv", put("wording", 2, ""),
                       r"summaries_train\.csv: student_id 's3' \(row 3\): column 'wording' is '', expected a number"),
    "unknown prompt": ("summaries_train.csv", put("prompt_id", 2, "zz"),
                       r"summaries_train\.csv: student_id 's3' \(row 3\): column 'prompt_id' is 'zz', not in prompts_train\.csv"),
    "training prompt in test": ("summaries_test.csv", put("prompt_id", 1, "p1"),
                                r"summaries_test\.csv: student_id 't2' \(row 2\): column 'prompt_id' is 'p1', not in prompts_test\.csv"),
    "duplicate student": ("summaries_train.csv", put("student_id", 2, "s1"),
                          r"summaries_train\.csv: column 'student_id' repeats 's1' at rows 1 and 3"),
    "duplicate prompt": ("prompts_train.csv", put("prompt_id", 1, "p1"),
                         r"prompts_train\.csv: column 'prompt_id' repeats 'p1' at rows 1 and 2"),
    "empty student_id": ("summaries_test.csv", put("student_id", 0, ""),
                         r"summaries_test\.csv: row 1: column 'student_id' is empty"),
    "empty prompt_id": ("summaries_train.csv", put("prompt_id", 1, ""),
                        r"summaries_train\.csv: row 2: column 'prompt_id' is empty"),
    "label for unknown id": ("summaries_test_labels.csv", put("student_id", 0, "t9"),
                             r"summaries_test_labels\.csv: row 1: column 'student_id' is 't9', not in summaries_test\.csv"),
    "test id without label": ("summaries_test_labels.csv", lambda f: f.drop(index=1),
                              r"summaries_test_labels\.csv: column 'student_id' lacks 't1' of summaries_test\.csv"),
    "non-numeric label": ("summaries_test_labels.csv", put("content", 1, "n/a"),
                          r"summaries_test_labels\.csv: student_id 't1' \(row 2\): column 'content' is 'n/a', expected a number"),
    "duplicate submission id": ("sample_submission.csv", put("student_id", 1, "t1"),
                                r"sample_submission\.csv: column 'student_id' repeats 't1' at rows 1 and 2"),
}  # fmt: skip


@pytest.mark.parametrize(("name", "change", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_input_is_named_in_one_line(tmp_path, name, change, message):
    files = tiny_files()
    files[name] = change(files[name])
    with pytest.raises(DataError, match=rf"^\S*{message}$") as err:
        load_competition(write(tmp_path / "data", files))
    assert "\n" not in str(err.value)
    assert str(tmp_path / "data") in str(err.value)  # the full path of the file


def test_unparsable_csv(tmp_path):
    directory = write(tmp_path / "data", tiny_files())
    (directory / "prompts_train.csv").write_bytes(b"\xff\xfe\x00 not utf-8")
    with pytest.raises(DataError, match=r"prompts_train\.csv: cannot be parsed as CSV"):
        load_competition(directory)
