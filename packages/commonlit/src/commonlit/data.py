"""Load and validate the CommonLit – Evaluate Student Summaries files; bad input stops with a one-line error.

Kaggle layout: ``summaries_train.csv`` (``student_id, prompt_id, text, content, wording``; 7,165 summaries of
4 prompts), ``prompts_train.csv`` (``prompt_id, prompt_question, prompt_title, prompt_text``),
``summaries_test.csv`` and ``prompts_test.csv`` (the hidden test set has unseen prompts) and
``sample_submission.csv`` (``student_id, content, wording``). The generated sample also writes
``summaries_test_labels.csv`` (``student_id, content, wording``) so that a run can score its test predictions.

Ids and texts are read as strings, never as numbers or NaN: an empty summary is ``""`` (and valid), and a
prompt text keeps its ``\\r\\n`` paragraph breaks. Every error names the file, the row (1-based, counting
data rows) or the id, and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TARGETS = ("content", "wording")
SUMMARY_COLUMNS = ("student_id", "prompt_id", "text")
PROMPT_COLUMNS = ("prompt_id", "prompt_question", "prompt_title", "prompt_text")
SUBMISSION_COLUMNS = ("student_id", *TARGETS)


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the row or id and the column."""


@dataclass
class CommonlitData:
    """The summaries joined to their prompts, in file order with a fresh RangeIndex."""

    # student_id, prompt_id, text, content, wording, prompt_question, prompt_title, prompt_text
    train: pd.DataFrame
    # the same without content and wording
    test: pd.DataFrame
    # student_id, content, wording in test order, when the data has summaries_test_labels.csv
    test_labels: pd.DataFrame | None = None


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """The CSV with every cell as a string ("" for an empty cell), checked for ``columns``."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be parsed as CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    return frame[list(columns)]


def _check_ids(frame: pd.DataFrame, path: Path, column: str) -> None:
    """Refuse an empty or repeated id, naming the row(s)."""
    empty = np.flatnonzero(frame[column].str.strip() == "")
    if len(empty):
        raise DataError(f"{path}: row {empty[0] + 1}: column {column!r} is empty")
    repeated = frame[column].duplicated(keep=False).to_numpy()
    if repeated.any():
        first = frame[column].iloc[np.flatnonzero(repeated)[0]]
        rows = np.flatnonzero(frame[column].to_numpy() == first)[:2] + 1
        raise DataError(f"{path}: column {column!r} repeats {first!r} at rows {rows[0]} and {rows[1]}")


def _numbers(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The target columns as floats; a missing, non-numeric or infinite value names the student and row."""
    for column in TARGETS:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            row = bad[0]
            raise DataError(
                f"{path}: student_id {frame['student_id'].iloc[row]!r} (row {row + 1}): column {column!r} is "
                f"{frame[column].iloc[row]!r}, expected a number"
            )
        frame = frame.assign(**{column: values.astype(float)})
    return frame


def _read_prompts(path: Path) -> pd.DataFrame:
    prompts = _read(path, PROMPT_COLUMNS)
    _check_ids(prompts, path, "prompt_id")
    return prompts


def _joined(data_dir: Path, split: str, labelled: bool) -> pd.DataFrame:
    """``summaries_<split>.csv`` joined to ``prompts_<split>.csv`` on prompt_id, in the summaries' order."""
    path = data_dir / f"summaries_{split}.csv"
    summaries = _read(path, SUMMARY_COLUMNS + (TARGETS if labelled else ()))
    prompts_path = data_dir / f"prompts_{split}.csv"
    prompts = _read_prompts(prompts_path)
    _check_ids(summaries, path, "student_id")
    empty = np.flatnonzero(summaries["prompt_id"].str.strip() == "")
    if len(empty):
        raise DataError(f"{path}: row {empty[0] + 1}: column 'prompt_id' is empty")
    unknown = np.flatnonzero(~summaries["prompt_id"].isin(prompts["prompt_id"]))
    if len(unknown):
        row = unknown[0]
        raise DataError(
            f"{path}: student_id {summaries['student_id'].iloc[row]!r} (row {row + 1}): column 'prompt_id' is "
            f"{summaries['prompt_id'].iloc[row]!r}, not in {prompts_path.name}"
        )
    if labelled:
        summaries = _numbers(summaries, path)
    return summaries.merge(prompts, on="prompt_id", how="left", validate="many_to_one")


def load_test(data_dir: str | Path) -> pd.DataFrame:
    """``summaries_test.csv`` joined to ``prompts_test.csv`` (what ``commonlit-predict`` needs, and only that)."""
    return _joined(Path(data_dir), "test", labelled=False)


def read_sample_submission(data_dir: str | Path) -> pd.DataFrame | None:
    """``sample_submission.csv`` with float targets, or None when the directory has none."""
    path = Path(data_dir) / "sample_submission.csv"
    if not path.is_file():
        return None
    frame = _read(path, SUBMISSION_COLUMNS)
    _check_ids(frame, path, "student_id")
    return _numbers(frame, path)


def _test_labels(data_dir: Path, test: pd.DataFrame) -> pd.DataFrame | None:
    """``summaries_test_labels.csv`` in test order, when present; it must label exactly the test ids."""
    path = data_dir / "summaries_test_labels.csv"
    if not path.is_file():
        return None
    labels = _read(path, SUBMISSION_COLUMNS)
    _check_ids(labels, path, "student_id")
    labels = _numbers(labels, path)
    extra = np.flatnonzero(~labels["student_id"].isin(test["student_id"]))
    if len(extra):
        raise DataError(
            f"{path}: row {extra[0] + 1}: column 'student_id' is {labels['student_id'].iloc[extra[0]]!r}, "
            "not in summaries_test.csv"
        )
    lacking = test["student_id"][~test["student_id"].isin(labels["student_id"])]
    if len(lacking):
        raise DataError(f"{path}: column 'student_id' lacks {lacking.iloc[0]!r} of summaries_test.csv")
    return labels.set_index("student_id").loc[test["student_id"]].reset_index()


def load_competition(data_dir: str | Path) -> CommonlitData:
    """All five files of a Kaggle download (or of the generated sample), plus the test labels if present."""
    data_dir = Path(data_dir)
    train = _joined(data_dir, "train", labelled=True)
    test = load_test(data_dir)
    if read_sample_submission(data_dir) is None:
        raise DataError(f"{data_dir / 'sample_submission.csv'}: file not found")
    return CommonlitData(train=train, test=test, test_labels=_test_labels(data_dir, test))
