"""The Kaggle submission file (``id, prediction`` with three ranked letters) and the manifest of saved models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from science_exam.scoring import predictions

MANIFEST = "manifest.json"  # in models/: the index, the fold models and how predict combines them


def submission_frame(ids: Sequence[str], proba: np.ndarray) -> pd.DataFrame:
    """One row per question, in the given order; probabilities must be finite (a NaN would rank arbitrarily)."""
    proba = np.asarray(proba, dtype=float)
    if len(proba) != len(ids):
        raise ValueError(f"probabilities: {len(proba)} rows for {len(ids)} questions")
    if not np.isfinite(proba).all():
        raise ValueError("probabilities: NaN or infinite values")
    return pd.DataFrame({"id": list(ids), "prediction": predictions(proba)})


def write_submission(path: Path, ids: Sequence[str], proba: np.ndarray) -> Path:
    submission_frame(ids, proba).to_csv(path, index=False)
    return Path(path)
