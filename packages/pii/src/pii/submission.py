"""The Kaggle submission: one ``row_id, document, token, label`` row per token predicted non-'O'.

The same rows are what ``shared.metrics.pii_fbeta`` scores, so threshold tuning, the post-processing
report and the submission file all go through :func:`rows_from_flat`: what is scored on the OOF
predictions is exactly what would be submitted. :func:`validate_submission` checks a frame against the
test documents before it is written, so a malformed file is caught here rather than by Kaggle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pii.data import SUBMISSION_COLUMNS, DataError, Document, check_token_rows
from pii.labels import LABELS, O_ID

_LABEL_NAMES = np.array(LABELS, dtype=object)
_ENTITY_LABELS = frozenset(LABELS) - {"O"}


def check_predictions(docs: list[Document], preds) -> None:
    """Raise ValueError unless ``preds`` holds one array of label ids per document, one id per token."""
    if len(preds) != len(docs):
        raise ValueError(f"preds: {len(preds)} documents' predictions for {len(docs)} documents")
    for doc, ids in zip(docs, preds, strict=True):
        ids = np.asarray(ids)
        if ids.shape != (len(doc.tokens),):
            raise ValueError(
                f"preds: document {doc.document} has predictions of shape {ids.shape} "
                f"for {len(doc.tokens)} tokens"
            )
        if not np.issubdtype(ids.dtype, np.integer) and len(ids):
            raise ValueError(f"preds: document {doc.document} holds {ids.dtype} values, expected label ids")
        bad = np.flatnonzero((ids < 0) | (ids >= len(LABELS)))
        if len(bad):
            raise ValueError(f"preds: document {doc.document} token {bad[0]} has label id {ids[bad[0]]}")


def submission_rows(docs: list[Document], preds) -> pd.DataFrame:
    """``row_id, document, token, label`` for every non-'O' prediction, in document then token order.

    ``preds`` holds one array of BIO label ids (``labels.LABELS`` order) per document of ``docs``.
    """
    check_predictions(docs, preds)
    sizes = np.fromiter((len(doc.tokens) for doc in docs), dtype=np.int64, count=len(docs))
    ids = np.concatenate([np.asarray(p, dtype=np.int64) for p in preds]) if docs else np.zeros(0, np.int64)
    document = np.repeat(np.fromiter((doc.document for doc in docs), np.int64, count=len(docs)), sizes)
    token = np.arange(len(ids)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return rows_from_flat(document, token, ids)


def rows_from_flat(document: np.ndarray, token: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    """:func:`submission_rows` from flat per-token arrays of all documents: document id, token, label id."""
    keep = ids != O_ID
    return pd.DataFrame(
        {
            "row_id": np.arange(int(keep.sum()), dtype=np.int64),
            "document": document[keep],
            "token": token[keep],
            "label": _LABEL_NAMES[ids[keep]],
        }
    )


def validate_submission(frame: pd.DataFrame, docs: list[Document], name: str = "submission") -> None:
    """Raise DataError, naming the row and column, unless ``frame`` is a valid submission for ``docs``.

    Valid: exactly the columns ``row_id, document, token, label``; ``row_id`` 0..n-1; every ``document`` one
    of ``docs``; every ``token`` an index inside that document; every ``label`` a B-/I- label (no 'O'); no
    (document, token) twice.
    """
    if list(frame.columns) != SUBMISSION_COLUMNS:
        raise DataError(f"{name}: columns are {list(frame.columns)}, expected {SUBMISSION_COLUMNS}")
    row_id = frame["row_id"].to_numpy()
    wrong = np.flatnonzero(row_id != np.arange(len(frame)))
    if len(wrong):
        raise DataError(
            f"{name}: column 'row_id' at row {wrong[0]} is {row_id[wrong[0]]}, expected {wrong[0]}"
        )
    check_token_rows(frame, docs, name, _ENTITY_LABELS, "a B-/I- label")
    repeated = frame.duplicated(["document", "token"]).to_numpy()
    if repeated.any():
        row = int(np.argmax(repeated))
        raise DataError(
            f"{name}: row {row} repeats document {frame['document'].iat[row]} token {frame['token'].iat[row]}"
        )


def write_submission(path: str | Path, docs: list[Document], preds) -> pd.DataFrame:
    """Build, validate and write the submission CSV at ``path``; returns the frame written."""
    path = Path(path)
    frame = submission_rows(docs, preds)
    validate_submission(frame, docs, name=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return frame
