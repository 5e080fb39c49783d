"""The Kaggle submission file: ``id,prediction`` in sample_submission's row order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def write_submission(sample_submission: pd.DataFrame, ids, predictions, path: Path) -> pd.DataFrame:
    """Write predictions aligned to ``sample_submission``'s ids; refuse NaN, missing ids or values outside [0, 1]."""
    predictions = np.asarray(predictions, dtype=np.float64)
    by_id = pd.Series(predictions, index=pd.Index(ids, name="id"))
    if by_id.index.has_duplicates:
        raise ValueError("submission: duplicate ids among the predictions")
    missing = ~sample_submission["id"].isin(by_id.index)
    if missing.any():
        raise ValueError(f"submission: no prediction for id {sample_submission['id'][missing].iloc[0]!r}")
    values = by_id.loc[sample_submission["id"]].to_numpy()
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError("submission: predictions must be finite probabilities in [0, 1]")
    frame = pd.DataFrame({"id": sample_submission["id"].to_numpy(), "prediction": values})
    frame.to_csv(path, index=False)
    return frame
