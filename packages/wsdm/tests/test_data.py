"""The loaders: hand-made files in the Kaggle and LMSYS layouts load as documented, and every bad input stops
with one line naming the file, the row (data rows counted from 1) and the column."""

import json
import re

import pandas as pd
import pytest

from wsdm.data import (
    TEST_COLUMNS,
    TRAIN_COLUMNS,
    DataError,
    convert_lmsys,
    load_competition,
    load_extra,
    load_submission,
    load_test,
    load_train,
    read_table,
)


def _train(n=3, **overrides):
    frame = pd.DataFrame(
        {
            "id": [f"t{i}" for i in range(n)],
            "prompt": [f"prompt {i}" for i in range(n)],
            "response_a": [f"a {i}" for i in range(n)],
            "response_b": [f"b {i}" for i in range(n)],
            "winner": ["model_a", "model_b", "model_a"][:n],
            "model_a": "gpt-4o",
            "model_b": "gemma-2-9b-it",
            "language": "English",
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def _test(ids=("x0", "x1")):
    return pd.DataFrame(
        {"id": list(ids), "prompt": "p", "response_a": "a", "response_b": "b", "scored": True}
    )


def _lmsys(**overrides):
    frame = pd.DataFrame(
        {
            "id": [101, 102, 103, 104],
            "model_a": ["m1", "m2", "m3", "m4"],
            "model_b": ["n1", "n2", "n3", "n4"],
            "prompt": [
                json.dumps(["Hi", "And then?"]),
                json.dumps(["Q"]),
                json.dumps(["T"]),
                json.dumps(["Z"]),
            ],
            "response_a": [
                json.dumps(["Hello", None]),
                json.dumps(["a"]),
                json.dumps(["t1"]),
                json.dumps(["z1"]),
            ],
            "response_b": [
                json.dumps(["Hey", "Then this."]),
                json.dumps(["b"]),
                json.dumps(["t2"]),
                json.dumps(["z2"]),
            ],
            "winner_model_a": [1, 0, 0, 0],
            "winner_model_b": [0, 1, 0, 1],
            "winner_tie": [0, 0, 1, 0],
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def _folder(tmp_path, train=None, test=None, submission=None, labels=None):
    train = _train() if train is None else train
    test = _test() if test is None else test
    train.to_parquet(tmp_path / "train.parquet", index=False)
    test.to_parquet(tmp_path / "test.parquet", index=False)
    submission = pd.DataFrame({"id": test["id"], "winner": "model_a"}) if submission is None else submission
    submission.to_csv(tmp_path / "sample_submission.csv", index=False)
    if labels is not None:
        labels.to_csv(tmp_path / "test_labels.csv", index=False)
    return tmp_path


def _fails(call, expected: str):
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    assert re.search(expected, message), message
    return message


def test_train_and_test_load_with_string_ids_and_extra_columns_kept(tmp_path):
    path = tmp_path / "train.parquet"
    _train(id=[7, 8, 9], note=["x", "y", "z"]).to_parquet(path, index=False)
    train = load_train(path)
    assert list(train.columns) == [*TRAIN_COLUMNS, "note"]
    assert train["id"].tolist() == ["7", "8", "9"]
    _test().to_parquet(tmp_path / "test.parquet", index=False)
    test = load_test(tmp_path / "test.parquet")
    assert list(test.columns) == [*TEST_COLUMNS, "scored"] and test["scored"].all()


def test_null_texts_become_empty_and_are_counted(tmp_path):
    path = tmp_path / "train.parquet"
    _train(
        prompt=[None, "p", None], response_b=["b", None, "b"], language=[None, "Russian", "English"]
    ).to_parquet(path, index=False)
    notes = []
    train = load_train(path, notes)
    assert train["prompt"].tolist() == ["", "p", ""] and train["response_b"].tolist() == ["b", "", "b"]
    assert train["language"].tolist() == ["unknown", "Russian", "English"]
    assert notes == [
        f"{path}: column 'prompt': 2 null values read as ''",
        f"{path}: column 'response_b': 1 null value read as ''",
        f"{path}: column 'language': 1 null value read as 'unknown'",
    ]


def test_csv_cells_stay_text(tmp_path):
    path = tmp_path / "train.csv"
    _train(prompt=["NA", "None", "null"]).to_csv(path, index=False)
    assert load_train(path)["prompt"].tolist() == ["NA", "None", "null"]


def test_unknown_winner_names_row_and_column(tmp_path):
    path = tmp_path / "train.parquet"
    _train(winner=["model_a", "tie", "model_b"]).to_parquet(path, index=False)
    _fails(lambda: load_train(path), rf"^{re.escape(str(path))}: row 2: column 'winner': 'tie' is not one of")


def test_missing_column(tmp_path):
    path = tmp_path / "train.parquet"
    _train().drop(columns="language").to_parquet(path, index=False)
    _fails(lambda: load_train(path), r"train.parquet: column 'language': missing \(the file has id, prompt")
    _test().drop(columns="response_b").to_parquet(tmp_path / "test.parquet", index=False)
    _fails(lambda: load_test(tmp_path / "test.parquet"), r"test.parquet: column 'response_b': missing")


def test_duplicate_id_within_a_file(tmp_path):
    path = tmp_path / "train.parquet"
    _train(id=["a", "b", "a"]).to_parquet(path, index=False)
    _fails(lambda: load_train(path), r"train.parquet: row 3: column 'id': id 'a' is also in row 1$")


def test_empty_id(tmp_path):
    path = tmp_path / "test.parquet"
    _test(ids=("x0", None)).to_parquet(path, index=False)
    _fails(lambda: load_test(path), r"test.parquet: row 2: column 'id': is empty$")


def test_duplicate_id_between_train_and_test(tmp_path):
    folder = _folder(tmp_path, test=_test(ids=("x0", "t1")))
    _fails(
        lambda: load_competition(folder),
        r"test.parquet: row 2: column 'id': id 't1' is also an id in train.parquet",
    )


def test_unreadable_missing_and_empty_files(tmp_path):
    garbage = tmp_path / "train.parquet"
    garbage.write_bytes(b"PAR1 this is not a parquet file at all")
    _fails(lambda: load_train(garbage), r"train.parquet: cannot be read as parquet \(")
    _fails(lambda: read_table(tmp_path / "nothing.parquet"), r"nothing.parquet: file not found$")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _fails(lambda: read_table(empty), r"empty.csv: file is empty$")
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,winner\n")
    _fails(lambda: load_submission(header_only), r"header.csv: file has no rows$")
    no_rows = tmp_path / "none.parquet"
    _train().iloc[:0].to_parquet(no_rows, index=False)
    _fails(lambda: load_train(no_rows), r"none.parquet: file has no rows$")
    _fails(lambda: read_table(tmp_path / "x.json"), r"x.json: file not found$")
    (tmp_path / "x.json").write_text("{}")
    _fails(lambda: read_table(tmp_path / "x.json"), r"x.json: not a .parquet or .csv file$")


def test_non_text_cell(tmp_path):
    path = tmp_path / "test.parquet"
    _test().assign(prompt=[1.5, 2.5]).to_parquet(path, index=False)
    _fails(lambda: load_test(path), r"test.parquet: row 1: column 'prompt': 1.5 is not text$")


def test_lmsys_conversion_by_hand(tmp_path):
    converted, ties = convert_lmsys(_lmsys(), tmp_path / "arena.csv")
    assert ties == 1
    assert converted["id"].tolist() == ["101", "102", "104"]
    first = converted.iloc[0]
    assert first["prompt"] == "Hi\n\nAnd then?"
    assert first["response_a"] == "Hello\n\n"  # the null turn is ""
    assert first["response_b"] == "Hey\n\nThen this."
    assert converted["winner"].tolist() == ["model_a", "model_b", "model_b"]
    assert converted["model_a"].tolist() == ["m1", "m2", "m4"]
    assert (converted["language"] == "unknown").all()
    assert list(converted.columns) == list(TRAIN_COLUMNS)


def test_lmsys_file_detected_and_noted(tmp_path):
    path = tmp_path / "arena.csv"
    _lmsys().to_csv(path, index=False)
    frame, note = load_extra(path)
    assert len(frame) == 3 and note == f"{path}: 3 rows (LMSYS layout; 1 ties dropped)"
    assert frame.iloc[0]["response_a"] == "Hello\n\n"
    other = tmp_path / "more.parquet"
    _train().to_parquet(other, index=False)
    assert load_extra(other)[1] == f"{other}: 3 rows (train layout)"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('["Hi", ', r"row 2: column 'prompt': not JSON \("),
        ("", r"row 2: column 'prompt': not JSON \("),
        ('{"turn": "Hi"}', r"row 2: column 'prompt': JSON dict, not a list of turns$"),
        ('"Hi"', r"row 2: column 'prompt': JSON str, not a list of turns$"),
        ("[1, 2]", r"row 2: column 'prompt': turn 1 is neither text nor null$"),
    ],
)
def test_lmsys_turn_field_must_be_a_json_list(tmp_path, cell, expected):
    path = tmp_path / "arena.csv"
    frame = _lmsys()
    frame.loc[1, "prompt"] = cell
    frame.to_csv(path, index=False)
    _fails(lambda: load_extra(path), expected)


@pytest.mark.parametrize(
    ("flags", "shown"),
    [
        ((1, 1, 0), "winner_model_a=1, winner_model_b=1, winner_tie=0"),
        ((0, 0, 0), "winner_model_a=0, winner_model_b=0, winner_tie=0"),
    ],
)
def test_lmsys_exactly_one_winner_flag(tmp_path, flags, shown):
    path = tmp_path / "arena.csv"
    frame = _lmsys()
    for column, value in zip(("winner_model_a", "winner_model_b", "winner_tie"), flags, strict=True):
        frame.loc[2, column] = value
    frame.to_csv(path, index=False)
    _fails(lambda: load_extra(path), rf"arena.csv: row 3: column 'winner_model_a': {shown}; exactly one")


def test_lmsys_flag_not_a_number(tmp_path):
    path = tmp_path / "arena.csv"
    _lmsys(winner_tie=["0", "0", "yes", "0"]).to_csv(path, index=False)
    _fails(lambda: load_extra(path), r"arena.csv: row 3: column 'winner_tie': 'yes' is not 0 or 1$")


def test_competition_with_extra_files_and_test_labels(tmp_path):
    labels = pd.DataFrame({"id": ["x1", "x0"], "winner": ["model_b", "model_a"]})
    folder = _folder(tmp_path, train=_train(prompt=[None, "p", "p"]), labels=labels)
    (folder / "extra").mkdir()
    _lmsys().to_csv(folder / "extra" / "arena.csv", index=False)
    _train(id=["101", "b", "c"]).to_parquet(folder / "extra" / "mine.parquet", index=False)
    data = load_competition(folder, extra=["extra/arena.csv", "extra/mine.parquet"])
    assert data.extra["id"].tolist() == [
        "arena-101",
        "arena-102",
        "arena-104",
        "mine-101",
        "mine-b",
        "mine-c",
    ]
    assert data.extra["source"].tolist() == ["extra/arena.csv"] * 3 + ["extra/mine.parquet"] * 3
    assert data.notes == [
        f"{folder / 'train.parquet'}: column 'prompt': 1 null value read as ''",
        "extra/arena.csv: 3 rows (LMSYS layout; 1 ties dropped)",
        "extra/mine.parquet: 3 rows (train layout)",
    ]
    assert data.test_labels.to_dict() == {"x1": "model_b", "x0": "model_a"}
    assert data.submission["winner"].tolist() == ["model_a", "model_a"]
    assert data.train["prompt"].tolist() == ["", "p", "p"]


def test_competition_without_extra_or_labels(tmp_path):
    data = load_competition(_folder(tmp_path))
    assert data.test_labels is None and data.notes == []
    assert len(data.extra) == 0 and list(data.extra.columns) == [*TRAIN_COLUMNS, "source"]


def test_test_label_id_not_in_test(tmp_path):
    folder = _folder(tmp_path, labels=pd.DataFrame({"id": ["x0", "zz"], "winner": ["model_a", "model_b"]}))
    _fails(
        lambda: load_competition(folder),
        r"test_labels.csv: row 2: column 'id': id 'zz' is not in test.parquet$",
    )


def test_every_test_row_needs_a_label_when_there_are_labels(tmp_path):
    folder = _folder(tmp_path, labels=pd.DataFrame({"id": ["x0"], "winner": ["model_a"]}))
    _fails(
        lambda: load_competition(folder),
        r"test_labels.csv: no label for test.parquet's row 2 \(id 'x1'; 1 unlabelled\)",
    )


def test_a_lone_surrogate_escape_becomes_the_replacement_character(tmp_path):
    path = tmp_path / "arena.csv"
    _lmsys(response_a=['["half an emoji \\ud83d"]', '["a"]', '["b"]', '["c"]']).to_csv(path, index=False)
    frame, _ = load_extra(path)
    assert frame["response_a"].iloc[0] == "half an emoji \ufffd"
    frame.to_parquet(tmp_path / "ok.parquet")  # writable now


def test_test_label_unknown_winner(tmp_path):
    folder = _folder(tmp_path, labels=pd.DataFrame({"id": ["x0"], "winner": ["tie"]}))
    _fails(lambda: load_competition(folder), r"test_labels.csv: row 1: column 'winner': 'tie' is not one of")


def test_submission_ids_match_test(tmp_path):
    folder = _folder(tmp_path, submission=pd.DataFrame({"id": ["x0", "x9"], "winner": "model_a"}))
    _fails(
        lambda: load_competition(folder), r"sample_submission.csv: row 2: column 'id': id 'x9' is not in test"
    )
    folder = _folder(tmp_path, submission=pd.DataFrame({"id": ["x1"], "winner": "model_a"}))
    _fails(
        lambda: load_competition(folder),
        r"test.parquet: row 1: column 'id': id 'x0' has no row in sample_sub",
    )


def test_missing_competition_file(tmp_path):
    folder = _folder(tmp_path)
    (folder / "test.parquet").unlink()
    _fails(lambda: load_competition(folder), r"test.parquet: file not found$")


def test_two_extra_files_with_one_stem_collide(tmp_path):
    folder = _folder(tmp_path)
    for sub in ("a", "b"):
        (folder / sub).mkdir()
        _train().to_parquet(folder / sub / "more.parquet", index=False)
    _fails(
        lambda: load_competition(folder, extra=["a/more.parquet", "b/more.parquet"]),
        r"^b/more.parquet: column 'id': prefixed id 'more-t0' is also in another extra file",
    )
