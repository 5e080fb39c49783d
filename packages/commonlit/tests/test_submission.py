"""The submission file is exactly Kaggle's layout and refuses what Kaggle would."""

import numpy as np
import pandas as pd
import pytest

from commonlit.submission import submission_frame, write_submission


def test_layout_and_order(tmp_path):
    path = write_submission(tmp_path / "s.csv", ["b1", "a2"], np.array([[0.5, -1.0], [2.0, 3.0]]))
    frame = pd.read_csv(path, dtype={"student_id": str})
    assert list(frame.columns) == ["student_id", "content", "wording"]
    assert list(frame["student_id"]) == ["b1", "a2"]
    np.testing.assert_allclose(frame[["content", "wording"]].to_numpy(), [[0.5, -1.0], [2.0, 3.0]])


def test_refuses_nan_and_wrong_shapes():
    with pytest.raises(ValueError, match="NaN"):
        submission_frame(["a"], np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="shape"):
        submission_frame(["a", "b"], np.zeros((1, 2)))
