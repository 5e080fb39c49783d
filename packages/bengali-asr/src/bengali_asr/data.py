"""Load and validate the Bengali.AI Speech Recognition files; bad input stops with one line naming file and row.

Kaggle layout (the generated sample writes the same):

- ``train.csv`` (``id, sentence, split``; ``split`` is ``train`` or ``valid``) and ``train_mp3s/<id>.mp3``;
- ``test_mp3s/<id>.mp3`` and ``sample_submission.csv`` (``id, sentence``: one row per test mp3);
- ``examples/*.mp3``: unlabelled out-of-domain clips (may be absent);
- the sample's only: ``test_labels.csv`` (``id, sentence`` for every test id) and ``extra/*.txt`` (LM text,
  one sentence per line).

Row numbers count data rows from 1 (row ``r`` sits on spreadsheet line ``r + 1``). A table error reads
``<file>: row <r>: column '<c>': <what is wrong>``; an mp3 error names the mp3 and the table row that points
at it: ``<mp3>: <what is wrong> (train.csv row <r>)``. Audio is not decoded here (that is the model's
loading step, :func:`bengali_asr.audio.load_audio`, whose :class:`~bengali_asr.audio.AudioError` names the
file); with ``check_audio`` each mp3 must exist and have bytes.

Cells are read as text ("NA" stays "NA"), stripped; ids must be unique within train.csv, within the
submission, and between the two (a clip is either training or test data). Every training sentence (train
and valid) must be non-empty: an empty label would teach the model to say nothing. The test ids are the
submission's ids, which must be exactly the stems of ``test_mp3s/*.mp3``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

TRAIN_COLUMNS = ("id", "sentence", "split")
SUBMISSION_COLUMNS = ("id", "sentence")
SPLITS = ("train", "valid")


class DataError(ValueError):
    """A data file is missing or malformed; the one-line message names the file, the row and the column."""


@dataclass
class Competition:
    """Everything a run reads. ``train``: id, sentence, split, path (str, the mp3); ``test``: id, path in the
    submission's order; ``test_labels``: id, sentence (the sample's only, else None)."""

    data_dir: Path
    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame
    examples: list[Path] = field(default_factory=list)
    test_labels: pd.DataFrame | None = None
    extra_text: list[Path] = field(default_factory=list)


def _at(path: Path, row: int, column: str) -> str:
    """``<file>: row <r>: column '<c>'`` for the 0-based data row ``row``."""
    return f"{path}: row {row + 1}: column '{column}'"


def read_csv(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """A UTF-8 CSV with at least ``columns`` and one row; every cell a stripped string ("" when empty)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise DataError(f"{path}: cannot be read as UTF-8 CSV ({first})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: column '{missing[0]}': missing (the file has {', '.join(map(str, frame.columns))})"
        )
    if frame.empty:
        raise DataError(f"{path}: file has no rows")
    frame = frame.reset_index(drop=True)
    for column in columns:
        frame[column] = frame[column].str.strip()
    return frame


def _unique_ids(frame: pd.DataFrame, path: Path) -> None:
    ids = frame["id"]
    empty = np.flatnonzero((ids == "").to_numpy())
    if len(empty):
        raise DataError(f"{_at(path, int(empty[0]), 'id')}: is empty")
    repeated = np.flatnonzero(ids.duplicated().to_numpy())
    if len(repeated):
        row = int(repeated[0])
        first = int(np.flatnonzero((ids == ids.iloc[row]).to_numpy())[0])
        raise DataError(f"{_at(path, row, 'id')}: id {ids.iloc[row]!r} is also in row {first + 1}")


def _mp3s(ids: pd.Series, folder: Path, table: Path, check_audio: bool) -> list[str]:
    """The mp3 path of each id; each must exist (and, with ``check_audio``, have bytes)."""
    paths = []
    for row, value in enumerate(ids.tolist()):
        path = folder / f"{value}.mp3"
        if not path.is_file():
            raise DataError(f"{path}: mp3 not found ({table.name} row {row + 1}, id {value!r})")
        if check_audio and path.stat().st_size == 0:
            raise DataError(f"{path}: mp3 is empty, 0 bytes ({table.name} row {row + 1}, id {value!r})")
        paths.append(str(path))
    return paths


def load_train(data_dir: str | Path, check_audio: bool = True) -> pd.DataFrame:
    """``train.csv`` with a ``path`` column (its mp3 in ``train_mp3s/``): ids unique and non-empty, split
    one of :data:`SPLITS`, sentence non-empty."""
    data_dir = Path(data_dir)
    path = data_dir / "train.csv"
    frame = read_csv(path, TRAIN_COLUMNS)
    frame = frame[list(TRAIN_COLUMNS)].copy()
    _unique_ids(frame, path)
    bad = np.flatnonzero(~frame["split"].isin(SPLITS).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{_at(path, row, 'split')}: {frame['split'].iloc[row]!r} is not one of {', '.join(SPLITS)}"
        )
    empty = np.flatnonzero((frame["sentence"] == "").to_numpy())
    if len(empty):
        row = int(empty[0])
        raise DataError(
            f"{_at(path, row, 'sentence')}: empty sentence for id {frame['id'].iloc[row]!r} "
            f"({len(empty)} empty in all)"
        )
    frame["path"] = _mp3s(frame["id"], data_dir / "train_mp3s", path, check_audio)
    return frame


def load_test(data_dir: str | Path, check_audio: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``sample_submission.csv`` and the test clips (id, path; the submission's order). The submission's
    ids must be exactly the stems of ``test_mp3s/*.mp3``."""
    data_dir = Path(data_dir)
    path = data_dir / "sample_submission.csv"
    submission = read_csv(path, SUBMISSION_COLUMNS)
    submission = submission[list(SUBMISSION_COLUMNS)].copy()
    _unique_ids(submission, path)
    folder = data_dir / "test_mp3s"
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    paths = _mp3s(submission["id"], folder, path, check_audio)
    listed = set(submission["id"])
    stray = sorted(p for p in folder.glob("*.mp3") if p.stem not in listed)
    if stray:
        raise DataError(f"{stray[0]}: test mp3 has no row in {path.name} ({len(stray)} such mp3s)")
    return pd.DataFrame({"id": submission["id"], "path": paths}), submission


def _test_labels(path: Path, test: pd.DataFrame, submission_path: Path) -> pd.DataFrame | None:
    """``test_labels.csv`` when present: id, sentence for exactly the test ids, each sentence non-empty."""
    if not path.is_file():
        return None
    labels = read_csv(path, SUBMISSION_COLUMNS)[list(SUBMISSION_COLUMNS)].copy()
    _unique_ids(labels, path)
    unknown = np.flatnonzero(~labels["id"].isin(set(test["id"])).to_numpy())
    if len(unknown):
        row = int(unknown[0])
        raise DataError(
            f"{_at(path, row, 'id')}: id {labels['id'].iloc[row]!r} is not in {submission_path.name}"
        )
    unlabelled = np.flatnonzero(~test["id"].isin(set(labels["id"])).to_numpy())
    if len(unlabelled):
        row = int(unlabelled[0])
        raise DataError(
            f"{path}: no label for {submission_path.name}'s row {row + 1} (id {test['id'].iloc[row]!r}; "
            f"{len(unlabelled)} unlabelled)"
        )
    empty = np.flatnonzero((labels["sentence"] == "").to_numpy())
    if len(empty):
        raise DataError(f"{_at(path, int(empty[0]), 'sentence')}: empty sentence")
    return labels.reset_index(drop=True)


def read_extra_text(paths: Iterable[str | Path]) -> list[str]:
    """The non-empty, stripped lines of each text file, in order."""
    lines: list[str] = []
    for path in map(Path, paths):
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            line = _line(path, err.start)
            raise DataError(f"{path}: line {line}: not UTF-8 ({err.reason})") from None
        lines.extend(s for s in (raw.strip() for raw in text.splitlines()) if s)
    return lines


def _line(path: Path, offset: int) -> int:
    """The 1-based line of byte ``offset`` in ``path``."""
    return path.read_bytes()[:offset].count(b"\n") + 1


def load_competition(data_dir: str | Path, check_audio: bool = True) -> Competition:
    """The Kaggle files (or the generated sample) in ``data_dir``, validated (module docstring)."""
    data_dir = Path(data_dir)
    train = load_train(data_dir, check_audio)
    test, submission = load_test(data_dir, check_audio)
    submission_path = data_dir / "sample_submission.csv"
    train_rows = {value: row for row, value in enumerate(train["id"].tolist())}
    clash = np.flatnonzero(submission["id"].isin(train_rows).to_numpy())
    if len(clash):
        row = int(clash[0])
        value = submission["id"].iloc[row]
        raise DataError(
            f"{_at(submission_path, row, 'id')}: id {value!r} is also in train.csv (row {train_rows[value] + 1})"
        )
    examples = sorted((data_dir / "examples").glob("*.mp3")) if (data_dir / "examples").is_dir() else []
    if check_audio:
        for path in examples:
            if path.stat().st_size == 0:
                raise DataError(f"{path}: mp3 is empty, 0 bytes")
    extra = sorted((data_dir / "extra").glob("*.txt")) if (data_dir / "extra").is_dir() else []
    return Competition(
        data_dir=data_dir,
        train=train,
        test=test,
        sample_submission=submission,
        examples=examples,
        test_labels=_test_labels(data_dir / "test_labels.csv", test, submission_path),
        extra_text=extra,
    )
