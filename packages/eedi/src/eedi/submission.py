"""The Kaggle submission: ``QuestionId_Answer, MisconceptionId`` with 25 space-separated ids per row."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from eedi.configs import TOP
from eedi.ranked import Ranked


def submission_frame(keys: Sequence[str], misconception_ids: np.ndarray, ranked: Ranked) -> pd.DataFrame:
    """One row per key (every incorrect answer of every test question, in order) with its ranking's first 25
    misconception ids; a ranking with fewer than 25 distinct columns is an error, not a short row."""
    if len(keys) != len(ranked):
        raise ValueError(f"ranking: {len(ranked)} rows for {len(keys)} submission keys")
    if ranked.cols.shape[1] < TOP:
        raise ValueError(f"ranking: {ranked.cols.shape[1]} misconceptions per row, the submission needs {TOP}")
    ids = np.asarray(misconception_ids)[ranked.cols[:, :TOP]]
    return pd.DataFrame({"QuestionId_Answer": list(keys), "MisconceptionId": [" ".join(map(str, r)) for r in ids]})
