"""The Kaggle submission file (``student_id, content, wording``) and the manifest of saved models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from commonlit.data import TARGETS

MANIFEST = "manifest.json"  # in models/: which saved models make the submission, and their weights


def submission_frame(student_ids: Sequence[str], preds: np.ndarray) -> pd.DataFrame:
    """One row per summary, in the given order, with finite predictions (Kaggle rejects NaN)."""
    preds = np.asarray(preds, dtype=float)
    if preds.shape != (len(student_ids), len(TARGETS)):
        raise ValueError(f"predictions: shape {preds.shape}, expected ({len(student_ids)}, {len(TARGETS)})")
    if not np.isfinite(preds).all():
        raise ValueError("predictions: NaN or infinite values")
    return pd.DataFrame({"student_id": list(student_ids), **{t: preds[:, j] for j, t in enumerate(TARGETS)}})


def write_submission(path: Path, student_ids: Sequence[str], preds: np.ndarray) -> Path:
    submission_frame(student_ids, preds).to_csv(path, index=False)
    return Path(path)
