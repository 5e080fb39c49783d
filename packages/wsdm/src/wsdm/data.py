"""Load and validate the WSDM Cup files; bad input stops with a one-line error naming file, row and column.

Kaggle layout: ``train.parquet`` (``id, prompt, response_a, response_b, winner, model_a, model_b,
language``; ``winner`` is ``model_a`` or ``model_b``, the competition has no ties), ``test.parquet``
(``id, prompt, response_a, response_b`` plus ``scored``; extra columns are kept) and
``sample_submission.csv`` (``id, winner``). Extra preference sets, the data the top teams added, come in
either train's layout or the LMSYS Chatbot Arena layout (``id, model_a, model_b, prompt, response_a,
response_b, winner_model_a, winner_model_b, winner_tie``, the text fields JSON lists of turns); an LMSYS
file is recognised by its ``winner_model_a`` column and converted: turns joined with a blank line (a null
turn is ""), ``language`` "unknown", ties dropped and counted. The generated sample also writes
``test_labels.csv`` (``id, winner``), read when present.

Row numbers count data rows from 1 in every file, parquet and CSV alike (in a CSV, row ``r`` sits on
spreadsheet line ``r + 1`` when no cell spans lines). Every error is one line:
``<file>: row <r>: column '<c>': <what is wrong>`` (file-wide problems leave out the row).

Ids load as strings (an integer id ``30192`` becomes ``"30192"``) and must be unique within a file and
across train and test; the extra sets get ``<file stem>-`` in front of theirs so they never collide. A
null prompt or response becomes "" and is counted in the notes: nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

WINNERS = ("model_a", "model_b")
TRAIN_COLUMNS = ("id", "prompt", "response_a", "response_b", "winner", "model_a", "model_b", "language")
TEST_COLUMNS = ("id", "prompt", "response_a", "response_b")
TEXT = ("prompt", "response_a", "response_b")
LMSYS_FLAGS = ("winner_model_a", "winner_model_b", "winner_tie")
LMSYS_COLUMNS = ("id", *TEXT, *LMSYS_FLAGS)
UNKNOWN_LANGUAGE = "unknown"


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the row and the column."""


@dataclass
class Competition:
    """Everything a run reads, each frame with a fresh RangeIndex in file order."""

    train: pd.DataFrame  # TRAIN_COLUMNS (+ any extra columns of the file)
    test: pd.DataFrame  # TEST_COLUMNS (+ scored, ...)
    submission: pd.DataFrame  # id, winner
    extra: pd.DataFrame  # TRAIN_COLUMNS + source (the file as named); ids "<file stem>-<id>"; may be empty
    test_labels: pd.Series | None  # winner by test id; the sample's only
    notes: list[str] = field(default_factory=list)  # one line per extra file and per text-null fix


def _at(path: Path, row: int, column: str) -> str:
    """``<file>: row <r>: column '<c>'`` for the 0-based data row ``row``."""
    return f"{path}: row {row + 1}: column '{column}'"


def read_table(path: str | Path) -> pd.DataFrame:
    """A ``.parquet`` (read with pyarrow) or ``.csv`` file (every cell a string, "" for an empty cell: no
    text such as "NA" turns into a missing value) with at least one row."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"{path}: not a .parquet or .csv file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: file is empty")
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path, engine="pyarrow")
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as err:
        kind = "parquet" if suffix == ".parquet" else "CSV"
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise DataError(f"{path}: cannot be read as {kind} ({first})") from None
    if frame.empty:
        raise DataError(f"{path}: file has no rows")
    return frame.reset_index(drop=True)


def _require(frame: pd.DataFrame, path: Path, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: column '{missing[0]}': missing (the file has {', '.join(map(str, frame.columns))})"
        )


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _ids(frame: pd.DataFrame, path: Path, column: str = "id") -> pd.Series:
    """The ids as unique, non-empty strings (an integral number ``7`` or ``7.0`` reads as ``"7"``)."""
    out = []
    for row, value in enumerate(frame[column].tolist()):
        if isinstance(value, float | np.floating) and not math.isnan(value) and value == int(value):
            value = int(value)
        text = "" if _is_null(value) else str(value).strip()
        if not text:
            raise DataError(f"{_at(path, row, column)}: is empty")
        out.append(text)
    ids = pd.Series(out, index=frame.index, dtype=object)
    repeated = np.flatnonzero(ids.duplicated().to_numpy())
    if len(repeated):
        row = int(repeated[0])
        first = int(np.flatnonzero((ids == ids.iloc[row]).to_numpy())[0])
        raise DataError(f"{_at(path, row, column)}: id {ids.iloc[row]!r} is also in row {first + 1}")
    return ids


def _texts(
    frame: pd.DataFrame, path: Path, columns: Sequence[str], notes: list[str] | None, fill: str = ""
) -> None:
    """Each column as str in place: a null becomes ``fill`` (counted in ``notes``), a non-string stops."""
    for column in columns:
        values = frame[column].tolist()
        nulls = 0
        for row, value in enumerate(values):
            if _is_null(value):
                values[row] = fill
                nulls += 1
            elif not isinstance(value, str):
                raise DataError(f"{_at(path, row, column)}: {value!r} is not text")
        frame[column] = pd.Series(values, index=frame.index, dtype=object)
        if nulls and notes is not None:
            notes.append(
                f"{path}: column '{column}': {nulls} null value{'s' * (nulls != 1)} read as {fill!r}"
            )


def _winners(frame: pd.DataFrame, path: Path, column: str = "winner") -> None:
    values = frame[column].map(lambda v: v.strip() if isinstance(v, str) else v)
    bad = np.flatnonzero(~values.isin(WINNERS).to_numpy())
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{_at(path, row, column)}: {frame[column].iloc[row]!r} is not one of {', '.join(WINNERS)}"
        )
    frame[column] = values.astype(object)


def load_train(path: str | Path, notes: list[str] | None = None) -> pd.DataFrame:
    """A labelled file in train's layout: ``TRAIN_COLUMNS`` first, any other columns kept after them. A null
    text becomes "", a null model name "" and a null language "unknown", each counted in ``notes``."""
    path = Path(path)
    frame = read_table(path)
    _require(frame, path, TRAIN_COLUMNS)
    frame = frame[[*TRAIN_COLUMNS, *(c for c in frame.columns if c not in TRAIN_COLUMNS)]].copy()
    frame["id"] = _ids(frame, path)
    _winners(frame, path)
    _texts(frame, path, (*TEXT, "model_a", "model_b"), notes)
    _texts(frame, path, ("language",), notes, fill=UNKNOWN_LANGUAGE)
    return frame


def load_test(path: str | Path, notes: list[str] | None = None) -> pd.DataFrame:
    """``test.parquet``: ``TEST_COLUMNS`` first, the others (``scored``, ...) kept after them."""
    path = Path(path)
    frame = read_table(path)
    _require(frame, path, TEST_COLUMNS)
    frame = frame[[*TEST_COLUMNS, *(c for c in frame.columns if c not in TEST_COLUMNS)]].copy()
    frame["id"] = _ids(frame, path)
    _texts(frame, path, TEXT, notes)
    return frame


def load_submission(path: str | Path) -> pd.DataFrame:
    """``sample_submission.csv`` (or a written submission): ``id`` (unique), ``winner`` (one of WINNERS)."""
    path = Path(path)
    frame = read_table(path)
    _require(frame, path, ("id", "winner"))
    frame = frame[["id", "winner"]].copy()
    frame["id"] = _ids(frame, path)
    _winners(frame, path)
    return frame


def _turns(cell: object, path: Path, row: int, column: str) -> str:
    """One LMSYS text field: a JSON list of turns (strings or null) joined with a blank line."""
    if not isinstance(cell, str):
        raise DataError(f"{_at(path, row, column)}: {cell!r} is not a JSON list of turns")
    try:
        turns = json.loads(cell)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{_at(path, row, column)}: not JSON ({err.msg} at char {err.pos}): {cell[:40]!r}"
        ) from None
    if not isinstance(turns, list):
        raise DataError(f"{_at(path, row, column)}: JSON {type(turns).__name__}, not a list of turns")
    for turn in turns:
        if turn is not None and not isinstance(turn, str):
            raise DataError(f"{_at(path, row, column)}: turn {turn!r} is neither text nor null")
    text = "\n\n".join("" if turn is None else turn for turn in turns)
    # A lone UTF-16 surrogate escape ("\\ud83d", half an emoji cut by the arena's logger) decodes to a str that
    # no tokenizer or parquet writer accepts: it becomes U+FFFD, the replacement character.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _flag(value: object, path: Path, row: int, column: str) -> int:
    """A winner flag: 0 or 1 (also "0"/"1", "0.0"/"1.0", booleans)."""
    if isinstance(value, str):
        value = value.strip()
        value = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "True": 1, "False": 0}.get(value, value)
    if isinstance(value, bool | np.bool_) or (
        isinstance(value, int | float | np.integer | np.floating) and not _is_null(value) and value in (0, 1)
    ):
        return int(value)
    raise DataError(f"{_at(path, row, column)}: {value!r} is not 0 or 1")


def convert_lmsys(frame: pd.DataFrame, path: str | Path) -> tuple[pd.DataFrame, int]:
    """An LMSYS Chatbot Arena frame (read from ``path``, named in errors) in train's layout, and the number
    of ties dropped. Each text field is a JSON list of turns joined with "\\n\\n" (a null turn is ""); the
    winner comes from the one flag of ``winner_model_a, winner_model_b, winner_tie`` that is 1;
    ``model_a``/``model_b`` are kept ("" when the file has none), ``language`` is kept when the file has it,
    else "unknown"."""
    path = Path(path)
    _require(frame, path, LMSYS_COLUMNS)
    frame = frame.reset_index(drop=True)
    ids = _ids(frame, path)
    columns = zip(*(frame[c].tolist() for c in LMSYS_FLAGS), strict=True)
    flags = np.array(
        [
            [_flag(v, path, row, c) for c, v in zip(LMSYS_FLAGS, values, strict=True)]
            for row, values in enumerate(columns)
        ],
        dtype=int,
    ).reshape(len(frame), 3)
    wrong = np.flatnonzero(flags.sum(axis=1) != 1)
    if len(wrong):
        row = int(wrong[0])
        shown = ", ".join(f"{c}={v}" for c, v in zip(LMSYS_FLAGS, flags[row], strict=True))
        raise DataError(
            f"{path}: row {row + 1}: column '{LMSYS_FLAGS[0]}': {shown}; exactly one of the "
            "three winner flags must be 1"
        )
    texts = {c: [_turns(cell, path, row, c) for row, cell in enumerate(frame[c].tolist())] for c in TEXT}
    out = pd.DataFrame(
        {
            "id": ids,
            **{c: pd.Series(texts[c], dtype=object) for c in TEXT},
            "winner": np.where(flags[:, 0] == 1, WINNERS[0], WINNERS[1]).astype(object),
        }
    )
    for column in ("model_a", "model_b"):
        out[column] = frame[column].astype(object) if column in frame.columns else ""
    out["language"] = frame["language"].astype(object) if "language" in frame.columns else UNKNOWN_LANGUAGE
    _texts(out, path, ("model_a", "model_b"), None)
    _texts(out, path, ("language",), None, fill=UNKNOWN_LANGUAGE)
    ties = flags[:, 2] == 1
    return out[~ties].reset_index(drop=True), int(ties.sum())


def load_extra(path: str | Path, notes: list[str] | None = None) -> tuple[pd.DataFrame, str]:
    """An extra preference set in train's layout, or in the LMSYS layout (recognised by its
    ``winner_model_a`` column, converted by :func:`convert_lmsys`), and a one-line note such as
    ``extra/lmsys_arena.csv: 512 rows (LMSYS layout; 88 ties dropped)``. Ids are the file's own."""
    path = Path(path)
    frame = read_table(path)
    if LMSYS_FLAGS[0] in frame.columns:
        converted, ties = convert_lmsys(frame, path)
        return converted, f"{path}: {len(converted)} rows (LMSYS layout; {ties} ties dropped)"
    loaded = load_train(path, notes)
    return loaded, f"{path}: {len(loaded)} rows (train layout)"


def _check_disjoint(frame: pd.DataFrame, path: Path, taken: dict[str, str]) -> None:
    """No id of ``frame`` is a key of ``taken`` (id -> the file that has it)."""
    clash = np.flatnonzero(frame["id"].isin(list(taken)).to_numpy())
    if len(clash):
        row = int(clash[0])
        value = frame["id"].iloc[row]
        raise DataError(f"{_at(path, row, 'id')}: id {value!r} is also an id in {taken[value]}")


def _check_same_ids(submission: pd.DataFrame, path: Path, test: pd.DataFrame, test_path: Path) -> None:
    test_ids = set(test["id"])
    stray = np.flatnonzero(~submission["id"].isin(test_ids).to_numpy())
    if len(stray):
        row = int(stray[0])
        raise DataError(
            f"{_at(path, row, 'id')}: id {submission['id'].iloc[row]!r} is not in {test_path.name}"
        )
    lacking = np.flatnonzero(~test["id"].isin(set(submission["id"])).to_numpy())
    if len(lacking):
        row = int(lacking[0])
        raise DataError(f"{_at(test_path, row, 'id')}: id {test['id'].iloc[row]!r} has no row in {path.name}")


def _test_labels(path: Path, test: pd.DataFrame, test_path: Path) -> pd.Series | None:
    """``test_labels.csv`` when present: ``winner`` by test id (each id once, each a test id)."""
    if not path.is_file():
        return None
    labels = load_submission(path)
    unknown = np.flatnonzero(~labels["id"].isin(set(test["id"])).to_numpy())
    if len(unknown):
        row = int(unknown[0])
        raise DataError(f"{_at(path, row, 'id')}: id {labels['id'].iloc[row]!r} is not in {test_path.name}")
    unlabelled = np.flatnonzero(~test["id"].isin(set(labels["id"])).to_numpy())
    if len(unlabelled):
        row = int(unlabelled[0])
        raise DataError(f"{path}: no label for {test_path.name}'s row {row + 1} (id {test['id'].iloc[row]!r}; "
                        f"{len(unlabelled)} unlabelled): the test is scored only when every row has one")  # fmt: skip
    return pd.Series(labels["winner"].to_numpy(), index=pd.Index(labels["id"], name="id"), name="winner")


def load_competition(data_dir: str | Path, extra: Sequence[str | Path] = ()) -> Competition:
    """The Kaggle files (or the generated sample) and the named extra sets (paths relative to
    ``data_dir``), all validated. An id belongs to one of train and test; the submission lists exactly
    test's ids; each extra set's ids get ``<file stem>-`` in front, and its rows ``source`` = the path as
    named."""
    data_dir = Path(data_dir)
    notes: list[str] = []
    train_path, test_path = data_dir / "train.parquet", data_dir / "test.parquet"
    train = load_train(train_path, notes)
    test = load_test(test_path, notes)
    _check_disjoint(test, test_path, dict.fromkeys(train["id"].tolist(), train_path.name))
    submission_path = data_dir / "sample_submission.csv"
    submission = load_submission(submission_path)
    _check_same_ids(submission, submission_path, test, test_path)
    frames = []
    for name in extra:
        frame, note = load_extra(data_dir / name, notes)
        frame["id"] = f"{Path(name).stem}-" + frame["id"]
        frames.append(frame.assign(source=str(name)))
        notes.append(note.replace(str(data_dir / name), str(name), 1))
    if frames:
        extra_frame = pd.concat(frames, ignore_index=True)
        _check_ids_unique_across(extra_frame, [str(n) for n in extra])
    else:
        extra_frame = pd.DataFrame({c: pd.Series(dtype=object) for c in (*TRAIN_COLUMNS, "source")})
    return Competition(
        train=train,
        test=test,
        submission=submission,
        extra=extra_frame,
        test_labels=_test_labels(data_dir / "test_labels.csv", test, test_path),
        notes=notes,
    )


def _check_ids_unique_across(frame: pd.DataFrame, names: list[str]) -> None:
    """Two extra files with the same stem (``a/x.csv``, ``b/x.parquet``) would share prefixed ids."""
    repeated = np.flatnonzero(frame["id"].duplicated().to_numpy())
    if len(repeated):
        value = frame["id"].iloc[int(repeated[0])]
        raise DataError(
            f"{frame['source'].iloc[int(repeated[0])]}: column 'id': prefixed id {value!r} is also "
            f"in another extra file ({', '.join(names)}): give the files different names"
        )
