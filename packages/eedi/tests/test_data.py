"""Loading: the Kaggle files are read with nullable misconception ids, the long format has one row per wrong
answer, and each broken input stops with one line naming the file, the row (as a spreadsheet counts it:
header = row 1) and the column."""

import numpy as np
import pandas as pd
import pytest

from eedi.data import (
    LETTERS,
    LONG_COLUMNS,
    MISCONCEPTION_COLUMNS,
    QUESTION_COLUMNS,
    TRAIN_COLUMNS,
    DataError,
    load_competition,
    load_extra,
    load_misconceptions,
    to_long,
)


def questions(ids, correct, labels=None, **cells):
    """A question frame; ``labels`` is one list of four ids (None = empty) per question."""
    frame = pd.DataFrame({
        "QuestionId": ids, "ConstructId": [100 + i for i in range(len(ids))],
        "ConstructName": "Add fractions", "SubjectId": 7, "SubjectName": "Fractions", "CorrectAnswer": correct,
        "QuestionText": [rf"Q{q}: \( \frac{{1}}{{2}}+\frac{{1}}{{3}} \)" for q in ids],
        **{f"Answer{x}Text": [f"{x}{q}" for q in ids] for x in LETTERS},
    })  # fmt: skip
    if labels is not None:
        for i, column in enumerate(MISCONCEPTION_COLUMNS):
            frame[column] = [np.nan if row[i] is None else float(row[i]) for row in labels]
    for column, (row, value) in cells.items():
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
    return frame


def mapping(ids, names):
    return pd.DataFrame({"MisconceptionId": ids, "MisconceptionName": names})


MAPPING = mapping([0, 1, 2, 3], ["m0", "m1", "m2", "m3"])
TRAIN = questions([7, 9, 11], ["B", "D", "A"], [[3, None, None, 1], [None, 2, None, None], [None, 0, 0, None]])
TEST = questions([10000, 10001], ["A", "C"])


def write_dir(directory, **files):
    """A valid data dir, with files replaced (a frame or raw text) or left out (None)."""
    base = {"misconception_mapping.csv": MAPPING, "train.csv": TRAIN, "test.csv": TEST,
            "sample_submission.csv": pd.DataFrame({"QuestionId_Answer": ["10000_B"],
                                                   "MisconceptionId": ["0 1"]})}  # fmt: skip
    for name, content in {**base, **files}.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        elif content is not None:
            content.to_csv(path, index=False, lineterminator="\n")
    return directory


def test_long_format_has_one_row_per_wrong_answer_with_its_label():
    frame = questions([7, 9], ["B", "D"], [[3, None, None, 1], [None, 2, None, None]])
    frame["MisconceptionAId"] = frame["MisconceptionAId"].astype("Int64")  # mixed dtypes are fine
    long = to_long(frame, labelled=True)
    assert list(long.columns) == [*LONG_COLUMNS, "MisconceptionId"]
    assert long["QuestionId_Answer"].tolist() == ["7_A", "7_C", "7_D", "9_A", "9_B", "9_C"]
    assert long["Answer"].tolist() == ["A", "C", "D", "A", "B", "C"]
    assert long["AnswerText"].tolist() == ["A7", "C7", "D7", "A9", "B9", "C9"]
    assert long["CorrectAnswerText"].tolist() == ["B7"] * 3 + ["D9"] * 3
    assert (long["Answer"] != long["CorrectAnswer"]).all()
    assert str(long["MisconceptionId"].dtype) == "Int64"
    assert long["MisconceptionId"].tolist() == [3, pd.NA, 1, pd.NA, 2, pd.NA]
    assert long["ConstructId"].tolist() == [100] * 3 + [101] * 3
    unlabelled = to_long(frame[list(QUESTION_COLUMNS)], labelled=False)
    assert list(unlabelled.columns) == list(LONG_COLUMNS)
    assert unlabelled["QuestionId_Answer"].tolist() == long["QuestionId_Answer"].tolist()
    assert to_long(frame.iloc[:0], labelled=True).empty


def test_competition_loads_with_nullable_ids_and_an_empty_extra(tmp_path):
    test = TEST.assign(Notes="ignored")  # other columns in test.csv are dropped
    data = load_competition(write_dir(tmp_path, **{"test.csv": test}))
    assert list(data.train.columns) == list(TRAIN_COLUMNS)
    assert list(data.test.columns) == list(QUESTION_COLUMNS)
    assert str(data.train["MisconceptionAId"].dtype) == "Int64"
    assert data.train["MisconceptionDId"].tolist() == [1, pd.NA, pd.NA]
    assert data.train["QuestionId"].dtype == np.int64 and data.test["QuestionId"].tolist() == [10000, 10001]
    assert data.misconceptions["MisconceptionId"].dtype == np.int64
    assert data.test_labels is None and data.source == str(tmp_path)
    assert data.extra.empty and list(data.extra.columns) == [*TRAIN_COLUMNS, "source"]
    # sample_submission.csv is optional (a hidden-test rerun has none)
    assert len(load_competition(write_dir(tmp_path, **{"sample_submission.csv": None})).train) == 3


def test_extra_sets_get_their_file_name_and_test_labels_load(tmp_path):
    extra = questions([100000, 100001], ["C", "A"], [[1, 2, None, None], [None, 3, None, None]])
    labels = pd.DataFrame({"QuestionId_Answer": ["10000_B", "10001_D"], "MisconceptionId": [2, 0]})
    write_dir(tmp_path, **{"extra/synthetic.csv": extra, "test_labels.csv": labels})
    data = load_competition(tmp_path, extra=["extra/synthetic.csv"])
    assert data.extra["source"].tolist() == ["synthetic.csv"] * 2
    assert data.extra["MisconceptionBId"].tolist() == [2, 3]
    assert to_long(data.extra, labelled=True)["source"].tolist() == ["synthetic.csv"] * 6
    assert data.test_labels.to_dict("list") == {"QuestionId_Answer": ["10000_B", "10001_D"], "MisconceptionId": [2, 0]}


def test_an_extra_set_may_not_reuse_an_id_of_another_extra_set(tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    questions([500, 501], ["A", "A"], [[None] * 4] * 2).to_csv(one, index=False)
    questions([502, 500], ["A", "A"], [[None] * 4] * 2).to_csv(two, index=False)
    with pytest.raises(DataError) as err:
        load_extra([one, two], MAPPING, {7: "train.csv"})
    assert str(err.value) == f"{two}: row 3 (QuestionId 500): column QuestionId: 500 is also a QuestionId in one.csv"


BROKEN = [
    ("train.csv", questions([7, 9], ["B", "D"], [[5, None, None, None], [None] * 4]),
     "train.csv: row 2 (QuestionId 7): column MisconceptionAId: misconception 5 is not in misconception_mapping.csv"),
    ("train.csv", questions([7, 9], ["B", "E"], [[None] * 4] * 2),
     "train.csv: row 3 (QuestionId 9): column CorrectAnswer: 'E' is not one of A, B, C, D"),
    ("train.csv", questions([7, 9], ["B", "D"], [[None] * 4] * 2).drop(columns="MisconceptionCId"),
     "train.csv: column MisconceptionCId: missing"),
    ("test.csv", questions([10000, 10001], ["A", "B"]).drop(columns="QuestionText"),
     "test.csv: column QuestionText: missing"),
    ("train.csv", questions([7, 9, 7], ["B", "D", "A"], [[None] * 4] * 3),
     "train.csv: row 4 (QuestionId 7): column QuestionId: 7 is also in row 2"),
    ("test.csv", questions([10000, 9], ["A", "B"]),
     "test.csv: row 3 (QuestionId 9): column QuestionId: 9 is also a QuestionId in train.csv"),
    ("train.csv", questions([7, 9], ["B", "D"], [[None, 2, None, None], [None] * 4]),
     "train.csv: row 2 (QuestionId 7): column MisconceptionBId: answer B is the correct answer, which never has a "
     "misconception"),
    ("train.csv", questions([7, 9], ["B", "D"], [[None] * 4] * 2, QuestionText=(1, "  ")),
     "train.csv: row 3 (QuestionId 9): column QuestionText: is empty"),
    ("train.csv", questions([7, 9], ["B", "D"], [[None] * 4] * 2, AnswerCText=(0, "")),
     "train.csv: row 2 (QuestionId 7): column AnswerCText: is empty"),
    ("train.csv", questions([7, 9], ["B", "D"], [[None] * 4] * 2, MisconceptionAId=(1, 1.5)),
     "train.csv: row 3 (QuestionId 9): column MisconceptionAId: '1.5' is not an integer"),
    ("train.csv", questions([7, 9], ["B", "D"], [[None] * 4] * 2, QuestionId=(1, "nine")),
     "train.csv: row 3: column QuestionId: 'nine' is not an integer"),
    ("train.csv", 'QuestionId,CorrectAnswer\n1,"A\n', "train.csv: cannot be read as CSV"),
    ("train.csv", "", "train.csv: cannot be read as CSV"),
    ("train.csv", None, "train.csv: file not found"),
    ("misconception_mapping.csv", mapping([0, 1, 2, 3, 1], list("abcde")),
     "misconception_mapping.csv: row 6 (MisconceptionId 1): column MisconceptionId: 1 is also in row 3"),
    ("misconception_mapping.csv", mapping([0, 1, 2, 3], ["a", "b", "", "d"]),
     "misconception_mapping.csv: row 4 (MisconceptionId 2): column MisconceptionName: is empty"),
    ("misconception_mapping.csv", mapping(["0", "1.0", "x", "3"], list("abcd")),
     "misconception_mapping.csv: row 4: column MisconceptionId: 'x' is not an integer"),
    ("sample_submission.csv", pd.DataFrame({"QuestionId_Answer": ["10000_B"]}),
     "sample_submission.csv: column MisconceptionId: missing"),
    ("test_labels.csv", pd.DataFrame({"QuestionId_Answer": ["10000_B", "10000_A"], "MisconceptionId": [1, 2]}),
     "test_labels.csv: row 3 (QuestionId_Answer 10000_A): column QuestionId_Answer: answer A is the correct answer, "
     "which never has a misconception"),
    ("test_labels.csv", pd.DataFrame({"QuestionId_Answer": ["10000_B", "7_A"], "MisconceptionId": [1, 2]}),
     "test_labels.csv: row 3 (QuestionId_Answer 7_A): column QuestionId_Answer: not <QuestionId>_<letter> of a "
     "question in test.csv"),
    ("test_labels.csv", pd.DataFrame({"QuestionId_Answer": ["10000_B", "10001_A"], "MisconceptionId": [1, 9]}),
     "test_labels.csv: row 3 (QuestionId_Answer 10001_A): column MisconceptionId: misconception 9 is not in "
     "misconception_mapping.csv"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "expected"), BROKEN,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BROKEN)])  # fmt: skip
def test_each_broken_input_gives_its_one_line_message(tmp_path, name, content, expected):
    write_dir(tmp_path, **{name: content})
    with pytest.raises(DataError) as err:
        load_competition(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / name))
    assert expected.split(": ", 1)[1] in message


def test_a_broken_extra_set_names_its_own_file_and_clashes_with_test_ids(tmp_path):
    write_dir(tmp_path, **{"extra/gen.csv": questions([100000, 10001], ["A", "B"], [[None] * 4] * 2)})
    with pytest.raises(DataError) as err:
        load_competition(tmp_path, extra=["extra/gen.csv"])
    assert str(err.value) == (f"{tmp_path / 'extra' / 'gen.csv'}: row 3 (QuestionId 10001): column QuestionId: "
                              "10001 is also a QuestionId in test.csv")  # fmt: skip
    with pytest.raises(DataError, match=r"nowhere\.csv: file not found"):
        load_competition(tmp_path, extra=["nowhere.csv"])


def test_misconception_ids_read_as_floats_or_integers(tmp_path):
    path = tmp_path / "mapping.csv"
    path.write_text("MisconceptionId,MisconceptionName\n4.0,Adds the numerators\n12,Thinks a negative times\n")
    mapping = load_misconceptions(path)
    assert mapping["MisconceptionId"].tolist() == [4, 12] and mapping["MisconceptionId"].dtype == np.int64
