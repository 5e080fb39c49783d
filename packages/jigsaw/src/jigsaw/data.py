"""Load and validate the Jigsaw Unintended Bias files; a broken file stops with a one-line error.

Kaggle layout: ``train.csv`` (1,804,874 rows), ``test.csv`` (``id, comment_text``), ``sample_submission.csv``
(``id, prediction``) and, released after the competition, ``test_public_expanded.csv`` /
``test_private_expanded.csv`` with the labels in ``toxicity``. An empty ``comment_text`` is valid data
(pandas reads it as NaN; it becomes "").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

SUBTYPES = ["severe_toxicity", "obscene", "identity_attack", "insult", "threat", "sexual_explicit"]
IDENTITY_COLUMNS = [
    "asian", "atheist", "bisexual", "black", "buddhist", "christian", "female", "heterosexual", "hindu",
    "homosexual_gay_or_lesbian", "intellectual_or_learning_disability", "jewish", "latino", "male", "muslim",
    "other_disability", "other_gender", "other_race_or_ethnicity", "other_religion", "other_sexual_orientation",
    "physical_disability", "psychiatric_or_mental_illness", "transgender", "white",
]  # fmt: skip
# The nine identities the metric scores (those with more than 500 test examples).
SCORED_IDENTITIES = [
    "male", "female", "homosexual_gay_or_lesbian", "christian", "jewish", "muslim", "black", "white",
    "psychiatric_or_mental_illness",
]  # fmt: skip
METADATA_COLUMNS = [
    "created_date", "publication_id", "parent_id", "article_id", "rating", "funny", "wow", "sad", "likes",
    "disagree",
]  # fmt: skip
TRAIN_COLUMNS = [
    "id", "target", "comment_text", *SUBTYPES[:5], *IDENTITY_COLUMNS, *METADATA_COLUMNS, "sexual_explicit",
    "identity_annotator_count", "toxicity_annotator_count",
]  # fmt: skip
AUX_TARGETS = ("none", "subtypes", "subtypes+identities")
LABELLED_TEST_FILES = {"public": "test_public_expanded.csv", "private": "test_private_expanded.csv"}
LABELLED_TEST_COLUMNS = [
    "id", "comment_text", *METADATA_COLUMNS, "toxicity", *SUBTYPES, *IDENTITY_COLUMNS,
    "identity_annotator_count", "toxicity_annotator_count",
]  # fmt: skip


class DataError(ValueError):
    """A data file is missing or malformed; the message names the file, the column and the row."""


@dataclass
class JigsawData:
    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame
    labelled_test: dict[str, pd.DataFrame] = field(default_factory=dict)  # "public"/"private" when present


def _read(path: Path, required: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path, dtype={"comment_text": "string"}, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path}: cannot be parsed as CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    return frame


def _check_ids(frame: pd.DataFrame, path: Path) -> None:
    ids = frame["id"]
    if ids.isna().any():
        raise DataError(f"{path}: column 'id' is empty at row {int(np.argmax(ids.isna().to_numpy()))}")
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = int(np.argmax(dup))
        raise DataError(f"{path}: column 'id' has duplicate value {ids.iloc[row]!r} at row {row}")


def _numeric(frame: pd.DataFrame, column: str, path: Path, *, allow_missing: bool, bounds=(0.0, 1.0)) -> None:
    """Coerce a column to float in place, or name the first row that is not a number in ``bounds``."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = (values.isna() & frame[column].notna()).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(
            f"{path}: column {column!r} is not numeric at row {row} ({frame[column].iloc[row]!r})"
        )
    if not allow_missing and values.isna().any():
        raise DataError(
            f"{path}: column {column!r} is empty at row {int(np.argmax(values.isna().to_numpy()))}"
        )
    if bounds is not None:
        outside = ((values < bounds[0]) | (values > bounds[1])).to_numpy()
        if outside.any():
            row = int(np.argmax(outside))
            raise DataError(
                f"{path}: column {column!r} is {values.iloc[row]} at row {row}, outside {list(bounds)}"
            )
    frame[column] = values.astype(np.float64)


def _text(frame: pd.DataFrame) -> None:
    frame["comment_text"] = frame["comment_text"].fillna("").astype(str)


def load_train(path: Path) -> pd.DataFrame:
    frame = _read(path, ["id", "target", "comment_text", *SUBTYPES, *SCORED_IDENTITIES])
    _check_ids(frame, path)
    _text(frame)
    _numeric(frame, "target", path, allow_missing=False)
    for col in SUBTYPES:
        _numeric(frame, col, path, allow_missing=False)
    for col in [c for c in IDENTITY_COLUMNS if c in frame.columns]:
        _numeric(frame, col, path, allow_missing=True)
    return frame


def load_test(path: Path) -> pd.DataFrame:
    frame = _read(path, ["id", "comment_text"])
    _check_ids(frame, path)
    _text(frame)
    return frame


def load_sample_submission(path: Path, test: pd.DataFrame) -> pd.DataFrame:
    frame = _read(path, ["id", "prediction"])
    _check_ids(frame, path)
    if set(frame["id"]) != set(test["id"]):
        raise DataError(f"{path}: column 'id' does not hold the same ids as test.csv")
    return frame


def load_labelled_test(path: Path) -> pd.DataFrame:
    """A post-competition test file with labels (``toxicity``) and identity columns."""
    frame = _read(path, ["id", "comment_text", "toxicity", *SCORED_IDENTITIES])
    _check_ids(frame, path)
    _text(frame)
    _numeric(frame, "toxicity", path, allow_missing=False)
    for col in [c for c in IDENTITY_COLUMNS if c in frame.columns]:
        _numeric(frame, col, path, allow_missing=True)
    return frame


def aux_columns(aux_targets: str, train: pd.DataFrame) -> list[str]:
    """Columns learned as auxiliary outputs (1st/2nd place): none, the subtypes, or subtypes and identities."""
    if aux_targets == "none":
        return []
    if aux_targets not in AUX_TARGETS:
        raise ValueError(f"aux_targets: {aux_targets!r} is not one of {' | '.join(AUX_TARGETS)}")
    identities = (
        [c for c in IDENTITY_COLUMNS if c in train.columns] if aux_targets.endswith("identities") else []
    )
    return SUBTYPES + identities


def load(data_dir: str | Path) -> JigsawData:
    """All files of a Kaggle download (or of the generated sample) in ``data_dir``."""
    data_dir = Path(data_dir)
    test = load_test(data_dir / "test.csv")
    labelled = {
        name: load_labelled_test(data_dir / file)
        for name, file in LABELLED_TEST_FILES.items()
        if (data_dir / file).is_file()
    }
    return JigsawData(
        train=load_train(data_dir / "train.csv"),
        test=test,
        sample_submission=load_sample_submission(data_dir / "sample_submission.csv", test),
        labelled_test=labelled,
    )
