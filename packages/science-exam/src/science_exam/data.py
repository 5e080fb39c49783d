"""Load and validate the LLM Science Exam files and a retrieval corpus; bad input stops with a one-line error.

Kaggle layout: ``train.csv`` (``id, prompt, A, B, C, D, E, answer``), ``test.csv`` (the same without
``answer``) and ``sample_submission.csv`` (``id, prediction``: three space-separated letters). Extra MCQ
sets (the generated question sets the top teams trained on) share the train layout; a file without ``id``
gets ids ``<stem>-<row>`` (the public 60k set has none), and each row gets ``source`` = the file's stem.

The corpus is parquet or JSONL files of ``title, text`` articles (the shape of the Wikipedia STEM dumps):
``<data_dir>/corpus/*.parquet|*.jsonl``, or the folder or file named by ``corpus``. Nothing else is ever
read as a corpus, so the generated sample's articles can never slip into a run on the user's data. A
missing ``title`` reads as ``""``; a missing or empty ``text`` is an error.

The generated sample also writes ``test_labels.csv`` (``id, answer``), ``gold.csv`` (``id, evidence``: the
sentence(s) a question needs, 0-2 rows per train or test id) and ``question_kinds.csv`` (``id, kind``);
each is read when present. Cells are read as strings (an id ``"007"`` stays ``"007"``). Every error
names the file, the row (1-based, counting data rows; the line for JSONL) or the id, and the column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

LETTERS = ("A", "B", "C", "D", "E")
MCQ_COLUMNS = ("id", "prompt", *LETTERS)
CORPUS_SUFFIXES = (".parquet", ".jsonl")


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the row or id and the column."""


@dataclass
class ScienceData:
    """Everything a run reads, each frame with a fresh RangeIndex in file order."""

    train: pd.DataFrame  # id, prompt, A..E, answer
    test: pd.DataFrame  # id, prompt, A..E
    extra: pd.DataFrame  # id, prompt, A..E, answer, source (empty when no extra set is named)
    test_labels: pd.DataFrame | None  # id, answer in test order
    gold: pd.DataFrame | None  # id, evidence
    articles: pd.DataFrame | None  # title, text
    corpus_source: str  # the corpus folder or file(s) read, or "none"
    kinds: pd.DataFrame | None = None  # id, kind (the generated sample's question kinds)
    extra_overlap: int = 0  # extra questions dropped because train.csv or test.csv has the same prompt


def _separate(train: pd.DataFrame, test: pd.DataFrame, extra: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """``extra`` without the questions whose prompt is one of train.csv's or test.csv's (public sets often
    include the competition's own questions: trained on, a validation question's answer would leak into
    its fold; the count is reported), after checking that no id is shared across the files."""
    train_ids = set(train["id"].astype(str))
    for row, qid in enumerate(test["id"].astype(str), start=1):
        if qid in train_ids:
            raise DataError(f"test.csv: row {row}: column id: {qid!r} is also an id in train.csv")
    known = dict.fromkeys(train_ids, "train.csv") | dict.fromkeys(test["id"].astype(str), "test.csv")
    rows = extra.groupby("source", sort=False).cumcount() + 1 if len(extra) else []
    for qid, source, row in zip(extra["id"].astype(str), extra["source"], rows, strict=True):
        if qid in known:
            raise DataError(f"{source}.csv: row {row}: column id: {qid!r} is also an id in {known[qid]}")
        known[qid] = f"{source}.csv"
    prompts = set(train["prompt"].str.strip().str.lower()) | set(test["prompt"].str.strip().str.lower())
    same = extra["prompt"].astype(str).str.strip().str.lower().isin(prompts).to_numpy()
    return extra[~same].reset_index(drop=True), int(same.sum())


def _read_csv(path: Path, columns: Iterable[str]) -> pd.DataFrame:
    """The CSV with every cell a string ("" for an empty cell), checked for ``columns``."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be parsed as CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    return frame


def _where(frame: pd.DataFrame, row: int) -> str:
    """``id 'x' (row n)`` when the frame has ids, else ``row n``."""
    if "id" in frame.columns:
        return f"id {frame['id'].iloc[row]!r} (row {row + 1})"
    return f"row {row + 1}"


def _check_filled(frame: pd.DataFrame, path: Path, columns: Iterable[str]) -> None:
    for column in columns:
        empty = np.flatnonzero(frame[column].str.strip() == "")
        if len(empty):
            raise DataError(f"{path}: {_where(frame, empty[0])}: column {column!r} is empty")


def _check_unique(frame: pd.DataFrame, path: Path, column: str = "id") -> None:
    repeated = frame[column].duplicated(keep=False).to_numpy()
    if repeated.any():
        first = frame[column].iloc[np.flatnonzero(repeated)[0]]
        rows = np.flatnonzero(frame[column].to_numpy() == first)[:2] + 1
        raise DataError(f"{path}: column {column!r} repeats {first!r} at rows {rows[0]} and {rows[1]}")


def _check_letters(frame: pd.DataFrame, path: Path, column: str = "answer") -> pd.DataFrame:
    answers = frame[column].str.strip()
    bad = np.flatnonzero(~answers.isin(LETTERS))
    if len(bad):
        raise DataError(
            f"{path}: {_where(frame, bad[0])}: column {column!r} is {frame[column].iloc[bad[0]]!r}, "
            f"expected one of {', '.join(LETTERS)}"
        )
    return frame.assign(**{column: answers})


def load_mcq(path: str | Path, *, labelled: bool = True, require_id: bool = True) -> pd.DataFrame:
    """One MCQ file: ``id, prompt, A..E`` (+ ``answer`` when ``labelled``), other columns dropped.

    Ids must be unique and non-empty; a prompt or an option may not be empty. With ``require_id=False``
    a file without an ``id`` column gets ids ``<stem>-<row>``.
    """
    path = Path(path)
    columns = [*MCQ_COLUMNS, "answer"] if labelled else list(MCQ_COLUMNS)
    frame = _read_csv(path, columns[1:] if not require_id else columns)
    if "id" not in frame.columns:
        frame.insert(0, "id", [f"{path.stem}-{row + 1}" for row in range(len(frame))])
    frame = frame[columns].reset_index(drop=True)
    _check_filled(frame, path, ["id", "prompt", *LETTERS])
    _check_unique(frame, path)
    return _check_letters(frame, path) if labelled else frame


def load_test(data_dir: str | Path) -> pd.DataFrame:
    """``test.csv`` alone (what ``science-exam-predict`` needs, and only that)."""
    return load_mcq(Path(data_dir) / "test.csv", labelled=False)


def read_sample_submission(data_dir: str | Path, test: pd.DataFrame) -> pd.DataFrame | None:
    """``sample_submission.csv`` (``id, prediction``), or None when absent; its ids must be the test ids."""
    path = Path(data_dir) / "sample_submission.csv"
    if not path.is_file():
        return None
    frame = _read_csv(path, ("id", "prediction"))[["id", "prediction"]]
    _check_unique(frame, path)
    _check_known(frame, path, set(test["id"]), "test.csv")
    return frame


def _check_known(frame: pd.DataFrame, path: Path, known: set[str], where: str) -> None:
    unknown = np.flatnonzero(~frame["id"].isin(known).to_numpy())
    if len(unknown):
        row = unknown[0]
        raise DataError(f"{path}: row {row + 1}: column 'id' is {frame['id'].iloc[row]!r}, not in {where}")


def _test_labels(data_dir: Path, test: pd.DataFrame) -> pd.DataFrame | None:
    """``test_labels.csv`` in test order, when present; it must label exactly the test ids."""
    path = data_dir / "test_labels.csv"
    if not path.is_file():
        return None
    labels = _read_csv(path, ("id", "answer"))[["id", "answer"]]
    _check_unique(labels, path)
    _check_known(labels, path, set(test["id"]), "test.csv")
    labels = _check_letters(labels, path)
    lacking = test["id"][~test["id"].isin(labels["id"])]
    if len(lacking):
        raise DataError(f"{path}: column 'id' lacks {lacking.iloc[0]!r} of test.csv")
    return labels.set_index("id").loc[test["id"]].reset_index()


def _optional_table(path: Path, columns: tuple[str, str], known: set[str]) -> pd.DataFrame | None:
    """``gold.csv`` or ``question_kinds.csv`` when present: ids of train/test, the second column filled."""
    if not path.is_file():
        return None
    frame = _read_csv(path, columns)[list(columns)]
    _check_known(frame, path, known, "train.csv or test.csv")
    _check_filled(frame, path, columns[1:])
    return frame


def _corpus_files(corpus: Path) -> list[Path]:
    """The parquet/JSONL files of a corpus folder, or the single file named."""
    if corpus.is_dir():
        files = sorted(p for p in corpus.iterdir() if p.suffix in CORPUS_SUFFIXES)
        if not files:
            raise DataError(f"{corpus}: no *.parquet or *.jsonl corpus files")
        return files
    if not corpus.is_file():
        raise DataError(f"{corpus}: corpus not found")
    if corpus.suffix not in CORPUS_SUFFIXES:
        raise DataError(f"{corpus}: a corpus file must be .parquet or .jsonl")
    return [corpus]


def _not_text(value) -> str:
    """What is wrong with a ``text`` cell that is not a non-empty string."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "is missing"
    if isinstance(value, str):
        return "is empty"
    return f"is {value!r}, expected text"


def _read_jsonl(path: Path) -> pd.DataFrame:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}: line {line_no}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}: line {line_no}: expected a JSON object")
            rows.append((line_no, row.get("title", ""), row.get("text")))
    if rows and all(text is None for _, _, text in rows):
        raise DataError(f"{path}: missing column 'text'")
    for line_no, _, text in rows:
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}: line {line_no}: column 'text' {_not_text(text)}")
    titles = ["" if title is None else str(title) for _, title, _ in rows]
    return pd.DataFrame({"title": titles, "text": [text for _, _, text in rows]}, dtype=object)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as err:  # pyarrow raises several types for a file that is not parquet
        raise DataError(f"{path}: cannot be read as parquet ({str(err).splitlines()[0]})") from None
    if "text" not in names:
        raise DataError(f"{path}: missing column 'text'")
    frame = pd.read_parquet(path, columns=[c for c in ("title", "text") if c in names])
    bad = np.flatnonzero([not isinstance(t, str) or not t.strip() for t in frame["text"]])
    if len(bad):
        raise DataError(f"{path}: row {bad[0] + 1}: column 'text' {_not_text(frame['text'].iloc[bad[0]])}")
    titles = frame["title"] if "title" in frame.columns else pd.Series([""] * len(frame))
    titles = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in titles]
    return pd.DataFrame({"title": titles, "text": frame["text"].tolist()}, dtype=object)


def load_articles(paths: Iterable[str | Path]) -> pd.DataFrame:
    """``title, text`` articles of the parquet/JSONL files, in file then row order."""
    paths = [Path(p) for p in paths]
    frames = [_read_parquet(p) if p.suffix == ".parquet" else _read_jsonl(p) for p in paths]
    articles = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["title", "text"])
    if articles.empty:
        raise DataError(f"{', '.join(map(str, paths))}: the corpus has no articles")
    return articles


def _corpus(data_dir: Path, corpus: str | Path | None) -> tuple[pd.DataFrame | None, str]:
    """The articles and where they came from: ``corpus`` if given, else ``<data_dir>/corpus`` if it has files."""
    if corpus is None:
        folder = data_dir / "corpus"
        if not folder.is_dir() or not any(p.suffix in CORPUS_SUFFIXES for p in folder.iterdir()):
            return None, "none"
        corpus = folder
    corpus = Path(corpus)
    return load_articles(_corpus_files(corpus)), str(corpus)


def load_extra(data_dir: str | Path, extra: Iterable[str | Path]) -> pd.DataFrame:
    """The named extra MCQ sets (paths absolute or relative to ``data_dir``), with ``source`` = file stem."""
    frames = []
    for name in [extra] if isinstance(extra, str | Path) else extra:
        path = Path(name) if Path(name).is_absolute() else Path(data_dir) / name
        frames.append(load_mcq(path, require_id=False).assign(source=path.stem))
    if not frames:
        return pd.DataFrame(columns=[*MCQ_COLUMNS, "answer", "source"], dtype=object)
    return pd.concat(frames, ignore_index=True)


def load_competition(data_dir: str | Path, extra: Iterable[str | Path] = (),
                     corpus: str | Path | None = None) -> ScienceData:  # fmt: skip
    """The Kaggle files (or the generated sample), the named extra sets and the corpus, all validated."""
    data_dir = Path(data_dir)
    train = load_mcq(data_dir / "train.csv")
    test = load_test(data_dir)
    read_sample_submission(data_dir, test)
    known = set(train["id"]) | set(test["id"])
    articles, source = _corpus(data_dir, corpus)
    extra_frame, overlap = _separate(train, test, load_extra(data_dir, extra))
    return ScienceData(
        train=train,
        test=test,
        extra=extra_frame,
        extra_overlap=overlap,
        test_labels=_test_labels(data_dir, test),
        gold=_optional_table(data_dir / "gold.csv", ("id", "evidence"), known),
        articles=articles,
        corpus_source=source,
        kinds=_optional_table(data_dir / "question_kinds.csv", ("id", "kind"), known),
    )
