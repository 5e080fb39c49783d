"""Load and validate the Eedi files; bad input stops with a one-line error naming file, row and column.

Kaggle layout: ``train.csv`` (``QuestionId, ConstructId, ConstructName, SubjectId, SubjectName,
CorrectAnswer, QuestionText, AnswerAText..AnswerDText, MisconceptionAId..MisconceptionDId``; the ids are
floats with NaN where a wrong answer has no label), ``test.csv`` (the same without the misconception
columns; extra columns are ignored), ``misconception_mapping.csv`` (``MisconceptionId, MisconceptionName``)
and the optional ``sample_submission.csv`` (``QuestionId_Answer, MisconceptionId``). Extra question sets
(the synthetic, LLM-written questions the winners trained on) share train's layout and get ``source`` = the
file's name. The generated sample also writes ``test_labels.csv`` (long: ``QuestionId_Answer,
MisconceptionId``, the labelled test rows only), read when present.

Row numbers count as a spreadsheet shows the file: the header is row 1, the first question row 2 (a
question text with a line break makes this differ from the line number). Every error is one line:
``<file>: row <n> (QuestionId <id>): column <column>: <what is wrong>``.

The competition never labels the correct answer, so a misconception id in the correct answer's column is
an error; so are a QuestionId used twice (in one file, or in two of train, test and the extra sets) and a
misconception id that the mapping lacks. Misconception ids load as pandas ``Int64`` (``<NA>`` = no label).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

LETTERS = ("A", "B", "C", "D")
ANSWER_COLUMNS = tuple(f"Answer{letter}Text" for letter in LETTERS)
MISCONCEPTION_COLUMNS = tuple(f"Misconception{letter}Id" for letter in LETTERS)
QUESTION_COLUMNS = ("QuestionId", "ConstructId", "ConstructName", "SubjectId", "SubjectName", "CorrectAnswer",
                    "QuestionText", *ANSWER_COLUMNS)  # fmt: skip
TRAIN_COLUMNS = (*QUESTION_COLUMNS, *MISCONCEPTION_COLUMNS)
LONG_COLUMNS = ("QuestionId_Answer", "QuestionId", "Answer", "ConstructId", "ConstructName", "SubjectId",
                "SubjectName", "QuestionText", "CorrectAnswer", "CorrectAnswerText", "AnswerText")  # fmt: skip


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the row and the column."""


@dataclass
class EediData:
    """Everything a run reads, each frame with a fresh RangeIndex in file order."""

    train: pd.DataFrame  # TRAIN_COLUMNS; misconception ids Int64
    test: pd.DataFrame  # QUESTION_COLUMNS
    misconceptions: pd.DataFrame  # MisconceptionId (int64), MisconceptionName, in file order
    extra: pd.DataFrame  # TRAIN_COLUMNS + source (the file name); empty when no extra set is named
    test_labels: pd.DataFrame | None  # QuestionId_Answer, MisconceptionId (int64); the sample's only
    source: str  # the data directory read


def read_csv(path: Path, columns: Iterable[str]) -> pd.DataFrame:
    """The CSV with every cell a string ("" for an empty cell), checked for ``columns``."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be read as CSV ({str(err).strip().splitlines()[0]})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: column {missing[0]}: missing (the file has {', '.join(frame.columns)})")
    return frame.reset_index(drop=True)


def _where(path: Path, frame: pd.DataFrame, row: int, key: str = "QuestionId") -> str:
    """``<file>: row <n> (QuestionId <id>)`` for the 0-based data row ``row`` (spreadsheet row ``row + 2``)."""
    return f"{path}: row {row + 2} ({key} {str(frame[key].iloc[row]).strip()})"


def _integers(frame: pd.DataFrame, path: Path, column: str, key: str, *, optional: bool = False) -> pd.Series:
    """The column as integers (``Int64`` when ``optional``: an empty cell is ``<NA>``); ``"12.0"`` reads as 12."""
    text = frame[column].str.strip()
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    whole = values.notna() & np.isfinite(values) & (values == np.round(values))
    bad = np.flatnonzero(~whole & ((text != "") | (not optional)))
    if len(bad):
        row = bad[0]
        what = "is empty" if text.iloc[row] == "" else f"{frame[column].iloc[row]!r} is not an integer"
        where = f"{path}: row {row + 2}" if column == key else _where(path, frame, row, key)
        raise DataError(f"{where}: column {column}: {what}")
    return values.astype("Int64") if optional else values.astype("int64")


def _check_unique(frame: pd.DataFrame, path: Path, column: str) -> None:
    repeated = np.flatnonzero(frame[column].duplicated().to_numpy())
    if len(repeated):
        row = repeated[0]
        first = int(np.flatnonzero((frame[column] == frame[column].iloc[row]).to_numpy())[0])
        raise DataError(f"{_where(path, frame, row, column)}: column {column}: "
                        f"{frame[column].iloc[row]} is also in row {first + 2}")  # fmt: skip


def _check_filled(frame: pd.DataFrame, path: Path, columns: Iterable[str], key: str = "QuestionId") -> None:
    for column in columns:
        empty = np.flatnonzero((frame[column].str.strip() == "").to_numpy())
        if len(empty):
            raise DataError(f"{_where(path, frame, empty[0], key)}: column {column}: is empty")


def _check_known(frame: pd.DataFrame, path: Path, column: str, known: set[int], key: str) -> None:
    """Every id in ``column`` (``<NA>`` allowed) is a MisconceptionId of the mapping."""
    ids = frame[column]
    unknown = np.flatnonzero((ids.notna() & ~ids.isin(known)).to_numpy())
    if len(unknown):
        row = unknown[0]
        raise DataError(f"{_where(path, frame, row, key)}: column {column}: misconception {ids.iloc[row]} "
                        "is not in misconception_mapping.csv")  # fmt: skip


def _questions(path: Path, labelled: bool, misconceptions: pd.DataFrame | None) -> pd.DataFrame:
    columns = TRAIN_COLUMNS if labelled else QUESTION_COLUMNS
    frame = read_csv(path, columns)[list(columns)].copy()
    frame["QuestionId"] = _integers(frame, path, "QuestionId", "QuestionId")
    _check_unique(frame, path, "QuestionId")
    for column in ("ConstructId", "SubjectId"):
        frame[column] = _integers(frame, path, column, "QuestionId")
    _check_filled(frame, path, ("QuestionText", *ANSWER_COLUMNS))
    frame["CorrectAnswer"] = frame["CorrectAnswer"].str.strip()
    bad = np.flatnonzero(~frame["CorrectAnswer"].isin(LETTERS).to_numpy())
    if len(bad):
        raise DataError(f"{_where(path, frame, bad[0])}: column CorrectAnswer: "
                        f"{frame['CorrectAnswer'].iloc[bad[0]]!r} is not one of {', '.join(LETTERS)}")  # fmt: skip
    if not labelled:
        return frame
    known = None if misconceptions is None else set(misconceptions["MisconceptionId"].tolist())
    for letter, column in zip(LETTERS, MISCONCEPTION_COLUMNS, strict=True):
        frame[column] = _integers(frame, path, column, "QuestionId", optional=True)
        on_correct = np.flatnonzero((frame[column].notna() & (frame["CorrectAnswer"] == letter)).to_numpy())
        if len(on_correct):
            raise DataError(f"{_where(path, frame, on_correct[0])}: column {column}: answer {letter} is the "
                            "correct answer, which never has a misconception")  # fmt: skip
        if known is not None:
            _check_known(frame, path, column, known, "QuestionId")
    return frame


def load_train(path: str | Path, misconceptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """A labelled question file (train layout), with its misconception ids checked against
    ``misconceptions`` (the mapping) when given."""
    return _questions(Path(path), True, misconceptions)


def load_test(path: str | Path) -> pd.DataFrame:
    """``test.csv``: the question columns only (misconception columns and any others are dropped)."""
    return _questions(Path(path), False, None)


def load_misconceptions(path: str | Path) -> pd.DataFrame:
    """``misconception_mapping.csv``: ``MisconceptionId`` (int64, unique) and a non-empty ``MisconceptionName``."""
    path = Path(path)
    key = "MisconceptionId"
    frame = read_csv(path, (key, "MisconceptionName"))[[key, "MisconceptionName"]].copy()
    frame[key] = _integers(frame, path, key, key)
    _check_unique(frame, path, key)
    _check_filled(frame, path, ("MisconceptionName",), key)
    return frame


def _check_new_ids(frame: pd.DataFrame, path: Path, taken: Mapping[int, str]) -> None:
    """No QuestionId of ``frame`` is one of ``taken`` (id -> the file that has it)."""
    clash = np.flatnonzero(frame["QuestionId"].isin(list(taken)).to_numpy())
    if len(clash):
        qid = int(frame["QuestionId"].iloc[clash[0]])
        raise DataError(f"{_where(path, frame, clash[0])}: column QuestionId: {qid} is also a QuestionId "
                        f"in {taken[qid]}")  # fmt: skip


def load_extra(paths: Iterable[str | Path], misconceptions: pd.DataFrame,
               taken_ids: Mapping[int, str] | None = None) -> pd.DataFrame:  # fmt: skip
    """Train-layout question sets with ``source`` = the file's name, in the order given. A QuestionId may
    not repeat one of ``taken_ids`` (id -> the file that holds it) nor one of an earlier extra file."""
    taken = dict(taken_ids or {})
    frames = []
    for name in paths:
        path = Path(name)
        frame = load_train(path, misconceptions)
        _check_new_ids(frame, path, taken)
        taken.update(dict.fromkeys(frame["QuestionId"].tolist(), path.name))
        frames.append(frame.assign(source=path.name))
    if not frames:
        empty = _empty_questions()
        return empty.assign(source=pd.Series(dtype=object))
    return pd.concat(frames, ignore_index=True)


def _empty_questions() -> pd.DataFrame:
    dtypes = {"QuestionId": "int64", "ConstructId": "int64", "SubjectId": "int64"}
    dtypes |= dict.fromkeys(MISCONCEPTION_COLUMNS, "Int64")
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in TRAIN_COLUMNS})


def _test_labels(path: Path, test: pd.DataFrame, misconceptions: pd.DataFrame) -> pd.DataFrame | None:
    """``test_labels.csv`` when present: each row a wrong answer of a test question, once, with a mapped id."""
    if not path.is_file():
        return None
    key = "QuestionId_Answer"
    labels = read_csv(path, (key, "MisconceptionId"))[[key, "MisconceptionId"]].copy()
    _check_unique(labels, path, key)
    correct = dict(zip(test["QuestionId"].astype(str), test["CorrectAnswer"], strict=True))
    for row, cell in enumerate(labels[key].str.strip()):
        qid, _, letter = cell.rpartition("_")
        if qid not in correct or letter not in LETTERS:
            raise DataError(f"{_where(path, labels, row, key)}: column {key}: not <QuestionId>_<letter> "
                            "of a question in test.csv")  # fmt: skip
        if correct[qid] == letter:
            raise DataError(f"{_where(path, labels, row, key)}: column {key}: answer {letter} is the "
                            "correct answer, which never has a misconception")  # fmt: skip
    labels[key] = labels[key].str.strip()
    labels["MisconceptionId"] = _integers(labels, path, "MisconceptionId", key)
    _check_known(labels, path, "MisconceptionId", set(misconceptions["MisconceptionId"].tolist()), key)
    return labels


def _check_sample_submission(path: Path) -> None:
    if path.is_file():
        read_csv(path, ("QuestionId_Answer", "MisconceptionId"))


def load_competition(data_dir: str | Path, extra: Sequence[str | Path] = ()) -> EediData:
    """The Kaggle files (or the generated sample) and the named extra sets, all validated. A relative
    ``extra`` path is relative to ``data_dir``. A QuestionId may belong to one of train, test and the
    extra sets only, and every misconception id must be in the mapping."""
    data_dir = Path(data_dir)
    misconceptions = load_misconceptions(data_dir / "misconception_mapping.csv")
    train = load_train(data_dir / "train.csv", misconceptions)
    test = load_test(data_dir / "test.csv")
    _check_new_ids(test, data_dir / "test.csv", dict.fromkeys(train["QuestionId"].tolist(), "train.csv"))
    _check_sample_submission(data_dir / "sample_submission.csv")
    taken = dict.fromkeys(train["QuestionId"].tolist(), "train.csv")
    taken |= dict.fromkeys(test["QuestionId"].tolist(), "test.csv")
    return EediData(
        train=train,
        test=test,
        misconceptions=misconceptions,
        extra=load_extra([data_dir / p for p in extra], misconceptions, taken),
        test_labels=_test_labels(data_dir / "test_labels.csv", test, misconceptions),
        source=str(data_dir),
    )


def to_long(frame: pd.DataFrame, labelled: bool) -> pd.DataFrame:
    """One row per (question, wrong answer), in question then letter order; the correct answer never has a
    row. Columns: ``LONG_COLUMNS`` (+ ``MisconceptionId`` as Int64 when ``labelled``, + ``source`` when the
    frame has it). ``QuestionId_Answer`` is ``f"{QuestionId}_{letter}"``, the submission's key."""
    n = len(frame)
    texts = frame[list(ANSWER_COLUMNS)].to_numpy(dtype=object)
    correct_col = frame["CorrectAnswer"].map({letter: i for i, letter in enumerate(LETTERS)}).to_numpy()
    order = np.repeat(np.arange(n), len(LETTERS))
    letter_idx = np.tile(np.arange(len(LETTERS)), n)
    keep = letter_idx != correct_col[order]
    order, letter_idx = order[keep], letter_idx[keep]
    rows = frame.iloc[order].reset_index(drop=True)
    letters = np.asarray(LETTERS)[letter_idx]
    out = pd.DataFrame({
        "QuestionId_Answer": [f"{q}_{x}" for q, x in zip(rows["QuestionId"], letters, strict=True)],
        "QuestionId": rows["QuestionId"],
        "Answer": letters,
        **{c: rows[c] for c in ("ConstructId", "ConstructName", "SubjectId", "SubjectName", "QuestionText",
                                "CorrectAnswer")},
        "CorrectAnswerText": texts[order, correct_col[order]] if n else [],
        "AnswerText": texts[order, letter_idx] if n else [],
    })  # fmt: skip
    if labelled:
        ids = frame[list(MISCONCEPTION_COLUMNS)].astype("Int64").to_numpy(dtype=object)
        out["MisconceptionId"] = pd.array(ids[order, letter_idx] if n else [], dtype="Int64")
    if "source" in frame.columns:
        out["source"] = rows["source"]
    return out
