"""Loading: the sample round-trips; broken files stop with one line naming file, column and row."""

import shutil

import pandas as pd
import pytest

from jigsaw import train
from jigsaw.data import IDENTITY_COLUMNS, TRAIN_COLUMNS, DataError, load


def test_sample_loads_with_original_columns_and_nan_pattern(sample_dir):
    data = load(sample_dir)
    assert list(pd.read_csv(sample_dir / "train.csv", nrows=1).columns) == TRAIN_COLUMNS
    assert len(TRAIN_COLUMNS) == 45 and len(IDENTITY_COLUMNS) == 24
    annotated = data.train[IDENTITY_COLUMNS].notna().all(axis=1)
    assert 0.1 < annotated.mean() < 0.4  # identities labelled for a minority of rows, NaN elsewhere
    assert (data.train[IDENTITY_COLUMNS].isna().all(axis=1) == ~annotated).all()
    assert set(data.labelled_test) == {"public", "private"}
    assert set(data.labelled_test["public"]["id"]) == set(data.test["id"])
    assert data.train["target"].between(0, 1).all()
    assert len(set(data.train["target"].round(6))) > 20  # fractions of annotators, not 0/1


def broken_copy(sample_dir, tmp_path, edit, file="train.csv"):
    target = tmp_path / "data"
    shutil.copytree(sample_dir, target)
    frame = pd.read_csv(target / file)
    edit(frame)
    frame.to_csv(target / file, index=False)
    return target


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.pop("target"), r"train.csv: missing column\(s\) \['target'\]"),
        (
            lambda f: f.__setitem__("target", f["target"].astype(object).where(f.index != 7, "high")),
            "column 'target' is not numeric at row 7",
        ),
        (
            lambda f: f.__setitem__("target", f["target"].where(f.index != 3, 1.5)),
            "column 'target' is 1.5 at row 3",
        ),
        (
            lambda f: f.__setitem__("id", f["id"].where(f.index != 9, f["id"][2])),
            "column 'id' has duplicate value .* at row 9",
        ),
        (
            lambda f: f.__setitem__("muslim", f["muslim"].astype(object).where(f.index != 4, "yes")),
            "column 'muslim' is not numeric at row 4",
        ),
    ],
)
def test_broken_train_file_is_named(sample_dir, tmp_path, edit, message):
    with pytest.raises(DataError, match=message):
        load(broken_copy(sample_dir, tmp_path, edit))


def test_empty_comment_is_valid(sample_dir, tmp_path):
    data = load(
        broken_copy(
            sample_dir,
            tmp_path,
            lambda f: f.__setitem__("comment_text", f["comment_text"].where(f.index != 0, "")),
        )
    )
    assert data.train["comment_text"].iloc[0] == ""


def test_missing_file_and_cli_error_is_one_line(tmp_path):
    with pytest.raises(DataError, match=r"test\.csv: file not found"):
        load(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "out")])
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and "test.csv: file not found" in message and "\n" not in message


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        ("test.csv", lambda f: f.pop("comment_text"), r"test\.csv: missing column\(s\) \['comment_text'\]"),
        (
            "sample_submission.csv",
            lambda f: f.__setitem__("id", f["id"] + 10**9),
            r"sample_submission\.csv: column 'id' does not hold the same ids as test\.csv",
        ),
        (
            "test_private_expanded.csv",
            lambda f: f.__setitem__("toxicity", f["toxicity"].where(f.index != 5, -0.2)),
            r"test_private_expanded\.csv: column 'toxicity' is -0\.2 at row 5",
        ),
    ],
)
def test_broken_test_files_are_named(sample_dir, tmp_path, file, edit, message):
    with pytest.raises(DataError, match=message):
        load(broken_copy(sample_dir, tmp_path, edit, file))
