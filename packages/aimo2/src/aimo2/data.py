"""Load and validate the AIMO2 files; a broken file stops with a one-line error naming file, row and column.

Kaggle layout: ``reference.csv`` (``id, problem, answer``: 10 problems with answers), ``test.csv``
(``id, problem``; at submission time the hidden problems arrive through the evaluation API instead),
``sample_submission.csv`` (``id, answer``). The generated sample adds ``metadata.csv`` (``id, topic,
level``) and the training traces ``train/{cot,tir,grpo}.jsonl`` (see ``aimo2.synth``).

Problems are LaTeX: quotes, commas, backslashes and newlines are ordinary content, so every column is
read as text and nothing is turned into NaN. An answer is an integer 0..999 written as one ("3.5",
"1e3" and "" are errors), because the metric compares integers exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "METADATA_COLUMNS",
    "PROBLEM_COLUMNS",
    "REFERENCE_COLUMNS",
    "SUBMISSION_COLUMNS",
    "Competition",
    "DataError",
    "is_answer",
    "load_competition",
    "load_problems",
    "load_traces",
    "validate_problems",
    "validate_submission",
]

PROBLEM_COLUMNS = ["id", "problem"]
REFERENCE_COLUMNS = ["id", "problem", "answer"]
SUBMISSION_COLUMNS = ["id", "answer"]
METADATA_COLUMNS = ["id", "topic", "level"]
LEVELS = range(1, 6)
ROLES = ("system", "user", "assistant")
_INTEGER = re.compile(r"[+-]?\d+")


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the row and the column."""


@dataclass
class Competition:
    """The files of one data directory; ``reference`` may be absent from a test-only directory."""

    reference: pd.DataFrame | None
    test: pd.DataFrame
    sample_submission: pd.DataFrame
    metadata: pd.DataFrame | None = None


def is_answer(value: object) -> bool:
    """Whether ``value`` is an integer 0..999 (Python or NumPy int; bools and floats are not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and 0 <= value <= 999


def _where(source: str, row: int, id_: object = None) -> str:
    """``file: row 3 (id 'abc123')``; rows count data rows from 1, as a person reading the file would."""
    label = f" (id {id_!r})" if isinstance(id_, str) and id_ else ""
    return f"{source}: row {row}{label}"


def _integer(value: object) -> int | None:
    """An int from an int or from text that spells one; None otherwise."""
    if isinstance(value, str):
        return int(value) if _INTEGER.fullmatch(value.strip()) else None
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return None


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be parsed as CSV ({str(err).splitlines()[0]})") from None
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    return frame


def _check_ids(ids: Iterable[object], source: str) -> None:
    first_row: dict[str, int] = {}
    for row, id_ in enumerate(ids, 1):
        if not isinstance(id_, str) or not id_.strip():
            raise DataError(f"{_where(source, row)}, column 'id': empty or not text ({id_!r})")
        if id_ in first_row:
            raise DataError(f"{_where(source, row, id_)}, column 'id': duplicate of row {first_row[id_]}")
        first_row[id_] = row


def _answers(frame: pd.DataFrame, source: str) -> list[int]:
    values = []
    for row, (id_, raw) in enumerate(zip(frame["id"], frame["answer"], strict=True), 1):
        value = _integer(raw)
        if value is None or not 0 <= value <= 999:
            raise DataError(
                f"{_where(source, row, id_)}, column 'answer': {raw!r} is not an integer in 0..999"
            )
        values.append(value)
    return values


def validate_problems(frame: pd.DataFrame, *, with_answers: bool, source: str = "problems") -> pd.DataFrame:
    """A checked copy of a problems table: unique ids, non-empty problems, int64 answers if asked for."""
    missing = [c for c in (REFERENCE_COLUMNS if with_answers else PROBLEM_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; found {list(frame.columns)}")
    frame = frame.reset_index(drop=True).copy()
    _check_ids(frame["id"], source)
    for row, (id_, problem) in enumerate(zip(frame["id"], frame["problem"], strict=True), 1):
        if not isinstance(problem, str) or not problem.strip():
            raise DataError(f"{_where(source, row, id_)}, column 'problem': empty or not text ({problem!r})")
    frame["id"] = frame["id"].astype(str)
    frame["problem"] = frame["problem"].astype(str)
    if with_answers:
        frame["answer"] = np.array(_answers(frame, source), dtype=np.int64)
    return frame


def load_problems(path: str | Path, *, with_answers: bool) -> pd.DataFrame:
    """``reference.csv`` (``with_answers=True``) or ``test.csv``, validated."""
    path = Path(path)
    frame = _read_csv(path, REFERENCE_COLUMNS if with_answers else PROBLEM_COLUMNS)
    return validate_problems(frame, with_answers=with_answers, source=str(path))


def validate_submission(
    frame: pd.DataFrame, ids: Iterable[str], *, source: str = "submission"
) -> pd.DataFrame:
    """``id, answer`` for exactly ``ids`` (any order), answers integers 0..999; returns a checked copy."""
    missing = [c for c in SUBMISSION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {missing}; found {list(frame.columns)}")
    frame = frame[SUBMISSION_COLUMNS].reset_index(drop=True)
    _check_ids(frame["id"], source)
    expected = list(ids)
    wanted = set(expected)
    for row, id_ in enumerate(frame["id"], 1):
        if id_ not in wanted:
            raise DataError(f"{_where(source, row, id_)}, column 'id': not one of the problems' ids")
    present = set(frame["id"])
    absent = [id_ for id_ in expected if id_ not in present]
    if absent:
        raise DataError(f"{source}: column 'id': no row for {len(absent)} problem(s), e.g. {absent[0]!r}")
    return pd.DataFrame(
        {"id": frame["id"].astype(str), "answer": np.array(_answers(frame, source), dtype=np.int64)}
    )


def _load_metadata(path: Path, problem_ids: list[str]) -> pd.DataFrame:
    frame = _read_csv(path, METADATA_COLUMNS)
    source = str(path)
    _check_ids(frame["id"], source)
    levels = []
    for row, (id_, topic, level) in enumerate(
        zip(frame["id"], frame["topic"], frame["level"], strict=True), 1
    ):
        if not topic.strip():
            raise DataError(f"{_where(source, row, id_)}, column 'topic': empty")
        value = _integer(level)
        if value not in LEVELS:
            raise DataError(
                f"{_where(source, row, id_)}, column 'level': {level!r} is not an integer in 1..5"
            )
        levels.append(value)
    frame["level"] = np.array(levels, dtype=np.int64)
    known = set(problem_ids)
    for row, id_ in enumerate(frame["id"], 1):
        if id_ not in known:
            raise DataError(
                f"{_where(source, row, id_)}, column 'id': not a problem of reference.csv or test.csv"
            )
    described = set(frame["id"])
    absent = [id_ for id_ in problem_ids if id_ not in described]
    if absent:
        raise DataError(f"{source}: column 'id': no row for {len(absent)} problem(s), e.g. {absent[0]!r}")
    return frame


def load_competition(data_dir: str | Path) -> Competition:
    """All files of a Kaggle download (or of the generated sample) in ``data_dir``.

    ``test.csv`` and ``sample_submission.csv`` are required; ``reference.csv`` and ``metadata.csv`` are
    optional (None when absent).
    """
    data_dir = Path(data_dir)
    test_path, reference_path = data_dir / "test.csv", data_dir / "reference.csv"
    if not test_path.is_file():
        also = "" if reference_path.is_file() else " (nor reference.csv: is this an AIMO2 data directory?)"
        raise DataError(f"{test_path}: file not found{also}")
    test = load_problems(test_path, with_answers=False)
    reference = load_problems(reference_path, with_answers=True) if reference_path.is_file() else None
    submission_path = data_dir / "sample_submission.csv"
    sample_submission = validate_submission(
        _read_csv(submission_path, SUBMISSION_COLUMNS), test["id"], source=str(submission_path)
    )
    metadata_path = data_dir / "metadata.csv"
    metadata = None
    if metadata_path.is_file():
        ids = [*(reference["id"] if reference is not None else []), *test["id"]]
        metadata = _load_metadata(metadata_path, ids)
    return Competition(reference=reference, test=test, sample_submission=sample_submission, metadata=metadata)


def _check_messages(value: object, field: str, where: str, *, last_role: str) -> None:
    if not isinstance(value, list) or not value:
        raise DataError(f"{where}, field '{field}': expected a non-empty list of messages")
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise DataError(f"{where}, field '{field}[{i}]': expected an object with 'role' and 'content'")
        if message.get("role") not in ROLES:
            raise DataError(
                f"{where}, field '{field}[{i}].role': {message.get('role')!r} is not one of {ROLES}"
            )
        if not isinstance(message.get("content"), str):
            kind = type(message.get("content")).__name__
            raise DataError(f"{where}, field '{field}[{i}].content': expected a string, got {kind}")
    if value[-1]["role"] != last_role:
        raise DataError(
            f"{where}, field '{field}[{len(value) - 1}].role': the last message must be {last_role!r}"
        )


def _check_trace(record: object, where: str) -> None:
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for field in ("id", "problem"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise DataError(f"{where}, field '{field}': missing, empty or not a string")
    if not is_answer(record.get("answer")):
        raise DataError(f"{where}, field 'answer': {record.get('answer')!r} is not an integer in 0..999")
    if "messages" in record:  # an SFT trace: the conversation ends with the model's solution
        _check_messages(record["messages"], "messages", where, last_role="assistant")
    elif "prompt" in record:  # a GRPO prompt: the conversation ends with the question
        _check_messages(record["prompt"], "prompt", where, last_role="user")
    else:
        raise DataError(f"{where}: missing field 'messages' (a trace) or 'prompt' (a GRPO prompt)")


def load_traces(path: str | Path) -> list[dict]:
    """Records of ``train/cot.jsonl``, ``train/tir.jsonl`` or ``train/grpo.jsonl``, validated.

    Several records may share an id (several traces per problem) but must then agree on the problem and
    the answer. Blank lines are skipped.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    records, seen = [], {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path}: line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{where}: invalid JSON ({err.msg} at column {err.colno})") from None
            _check_trace(record, where)
            first = seen.setdefault(record["id"], (number, record["problem"], record["answer"]))
            for i, field in ((1, "problem"), (2, "answer")):
                if record[field] != first[i]:
                    raise DataError(
                        f"{where}, field '{field}': differs from line {first[0]}, which has the same id "
                        f"{record['id']!r}"
                    )
            records.append(record)
    return records
