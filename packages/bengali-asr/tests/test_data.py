"""The loader: a tiny generated sample loads as documented, and broken copies of it stop with one line naming
the file and the row (data rows counted from 1): missing, empty and unreadable mp3s, an unknown split, an
empty sentence, duplicate ids, a missing column, a submission that does not match test_mp3s/."""

import re
import shutil

import pandas as pd
import pytest

from bengali_asr.audio import AudioError, load_audio
from bengali_asr.data import SPLITS, TRAIN_COLUMNS, DataError, load_competition, read_extra_text
from bengali_asr.sample.synth import make_sample

CSV = {"index": False, "lineterminator": "\n"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("bengali") / "sample"
    make_sample(out, seed=3, n_train=6, n_valid=2, n_test=2, n_examples=1, n_extra=20)
    return out


@pytest.fixture
def copy(sample, tmp_path):
    """A fresh copy of the sample to break."""
    return shutil.copytree(sample, tmp_path / "data")


def _fails(call, expected: str) -> str:
    with pytest.raises(DataError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    assert re.search(expected, message), message
    return message


def _train(folder) -> pd.DataFrame:
    return pd.read_csv(folder / "train.csv", dtype=str, keep_default_na=False)


def _edit(folder, name: str, change) -> None:
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False)
    changed = change(frame)  # edits in place, or returns a new frame
    (frame if changed is None else changed).to_csv(folder / name, **CSV)


def test_the_sample_loads(sample):
    data = load_competition(sample)
    assert list(data.train.columns) == [*TRAIN_COLUMNS, "path"]
    assert data.train["split"].value_counts().to_dict() == {"train": 6, "valid": 2}
    assert set(data.train["split"]) <= set(SPLITS)
    assert all(
        p.endswith(f"train_mp3s/{i}.mp3") for i, p in zip(data.train["id"], data.train["path"], strict=True)
    )
    assert list(data.test.columns) == ["id", "path"] and len(data.test) == 2
    assert data.test["id"].tolist() == data.sample_submission["id"].tolist()
    assert sorted(p.stem for p in (sample / "test_mp3s").glob("*.mp3")) == sorted(data.test["id"])
    assert data.test_labels["id"].tolist() == data.test["id"].tolist()
    assert [p.name for p in data.examples] == ["example_01.mp3"]
    assert data.extra_text == [sample / "extra" / "text.txt"]
    assert len(read_extra_text(data.extra_text)) == 20
    assert data.data_dir == sample


def test_cells_stay_text_and_are_stripped(copy):
    def change(frame):
        frame.loc[0, "sentence"] = "NA"
        frame.loc[1, "split"] = " valid "

    _edit(copy, "train.csv", change)
    data = load_competition(copy)
    assert data.train["sentence"].iloc[0] == "NA" and data.train["split"].iloc[1] == "valid"


def test_missing_mp3_names_file_and_row(copy):
    victim = _train(copy)["id"].iloc[2]
    (copy / "train_mp3s" / f"{victim}.mp3").unlink()
    _fails(
        lambda: load_competition(copy),
        rf"^\S+/train_mp3s/{victim}.mp3: mp3 not found \(train.csv row 3, id '{victim}'\)$",
    )


def test_empty_mp3_names_file_and_row_unless_audio_is_not_checked(copy):
    victim = _train(copy)["id"].iloc[4]
    (copy / "train_mp3s" / f"{victim}.mp3").write_bytes(b"")
    _fails(
        lambda: load_competition(copy),
        rf"train_mp3s/{victim}.mp3: mp3 is empty, 0 bytes \(train.csv row 5, id '{victim}'\)$",
    )
    assert len(load_competition(copy, check_audio=False).train) == 8


def test_empty_test_mp3(copy):
    test_id = pd.read_csv(copy / "sample_submission.csv")["id"].iloc[1]
    (copy / "test_mp3s" / f"{test_id}.mp3").write_bytes(b"")
    _fails(
        lambda: load_competition(copy),
        rf"test_mp3s/{test_id}.mp3: mp3 is empty, 0 bytes \(sample_submission.csv row 2, id '{test_id}'\)$",
    )


def test_unreadable_mp3_is_found_when_decoded(copy):
    data = load_competition(copy)
    row = 3
    path = data.train["path"].iloc[row - 1]
    with open(path, "wb") as out:
        out.write(b"\x00garbage, not an mp3\xff" * 50)
    data = load_competition(copy)  # it has bytes: the loader does not decode
    with pytest.raises(AudioError) as info:
        load_audio(data.train["path"].iloc[row - 1], row=row)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: cannot be decoded as audio (")
    assert message.endswith("(row 3)")
    assert load_audio(data.train["path"].iloc[0]).size > 0  # the others still decode


def test_unknown_split(copy):
    _edit(copy, "train.csv", lambda f: f.__setitem__("split", ["train", "test", *f["split"].iloc[2:]]))
    _fails(
        lambda: load_competition(copy),
        r"train.csv: row 2: column 'split': 'test' is not one of train, valid$",
    )


@pytest.mark.parametrize("split", ["train", "valid"])
def test_empty_sentence_in_training(copy, split):
    frame = _train(copy)
    row = int((frame["split"] == split).to_numpy().nonzero()[0][-1])
    frame.loc[row, "sentence"] = "   "
    frame.to_csv(copy / "train.csv", **CSV)
    _fails(
        lambda: load_competition(copy),
        rf"train.csv: row {row + 1}: column 'sentence': empty sentence for id '{frame['id'].iloc[row]}' \(1 empty",
    )


def test_duplicate_id_in_train(copy):
    frame = _train(copy)
    frame.loc[5, "id"] = frame["id"].iloc[1]
    frame.to_csv(copy / "train.csv", **CSV)
    _fails(
        lambda: load_competition(copy),
        rf"train.csv: row 6: column 'id': id '{frame['id'].iloc[1]}' is also in row 2$",
    )


def test_duplicate_id_in_submission(copy):
    _edit(copy, "sample_submission.csv", lambda f: f.__setitem__("id", [f["id"].iloc[0]] * 2))
    _fails(
        lambda: load_competition(copy),
        r"sample_submission.csv: row 2: column 'id': id '\w+' is also in row 1$",
    )


def test_id_in_both_train_and_test(copy):
    train_id = _train(copy)["id"].iloc[3]
    old = pd.read_csv(copy / "sample_submission.csv")["id"].iloc[1]
    (copy / "test_mp3s" / f"{old}.mp3").rename(copy / "test_mp3s" / f"{train_id}.mp3")
    _edit(copy, "sample_submission.csv", lambda f: f.__setitem__("id", [f["id"].iloc[0], train_id]))
    (copy / "test_labels.csv").unlink()
    _fails(
        lambda: load_competition(copy),
        rf"sample_submission.csv: row 2: column 'id': id '{train_id}' is also in train.csv \(row 4\)$",
    )


@pytest.mark.parametrize(("name", "column"), [("train.csv", "split"), ("sample_submission.csv", "sentence")])
def test_missing_column(copy, name, column):
    frame = pd.read_csv(copy / name, dtype=str)
    frame.drop(columns=column).to_csv(copy / name, **CSV)
    _fails(lambda: load_competition(copy), rf"{name}: column '{column}': missing \(the file has id")


def test_missing_and_empty_files(copy):
    (copy / "train.csv").write_text("id,sentence,split\n")
    _fails(lambda: load_competition(copy), r"train.csv: file has no rows$")
    (copy / "train.csv").unlink()
    _fails(lambda: load_competition(copy), r"train.csv: file not found$")


def test_submission_must_match_test_mp3s(copy):
    first = pd.read_csv(copy / "sample_submission.csv")["id"].iloc[0]
    shutil.copy(copy / "test_mp3s" / f"{first}.mp3", copy / "test_mp3s" / "stray0001.mp3")
    _fails(
        lambda: load_competition(copy),
        r"test_mp3s/stray0001.mp3: test mp3 has no row in sample_submission.csv \(1 such",
    )
    (copy / "test_mp3s" / "stray0001.mp3").unlink()
    (copy / "test_mp3s" / f"{first}.mp3").unlink()
    _fails(
        lambda: load_competition(copy),
        rf"test_mp3s/{first}.mp3: mp3 not found \(sample_submission.csv row 1, id '{first}'\)$",
    )


def test_test_labels_must_cover_the_test_ids(copy):
    _edit(copy, "test_labels.csv", lambda f: f.__setitem__("id", [f["id"].iloc[0], "zz"]))
    _fails(
        lambda: load_competition(copy),
        r"test_labels.csv: row 2: column 'id': id 'zz' is not in sample_submission",
    )
    _edit(copy, "test_labels.csv", lambda f: f.iloc[:1])
    _fails(
        lambda: load_competition(copy), r"test_labels.csv: no label for sample_submission.csv's row 2 \(id"
    )


def test_read_extra_text(tmp_path):
    (tmp_path / "a.txt").write_text("  আমি ভাত খাই।  \n\n   \nসে কোথায় যায়?\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("ঢাকা একটি বড় শহর।", encoding="utf-8")
    assert read_extra_text([tmp_path / "a.txt", tmp_path / "b.txt"]) == [
        "আমি ভাত খাই।",
        "সে কোথায় যায়?",
        "ঢাকা একটি বড় শহর।",
    ]
    _fails(lambda: read_extra_text([tmp_path / "c.txt"]), r"c.txt: file not found$")
    (tmp_path / "d.txt").write_bytes("ঠিক আছে\n".encode() + b"\xff\xfe broken\n")
    _fails(lambda: read_extra_text([tmp_path / "d.txt"]), r"d.txt: line 2: not UTF-8")
