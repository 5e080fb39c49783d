"""The claims' metric under bootstrap weights equals MCRMSE on the resampled rows."""

import numpy as np
import pytest

from commonlit.report import weighted_mcrmse
from shared.metrics import mcrmse


def test_weighted_mcrmse_equals_mcrmse_of_the_repeated_rows():
    targets = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    preds = np.array([[2.0, 0.0], [3.0, 2.0], [0.0, 0.0]])
    score = weighted_mcrmse(targets, preds)
    assert score(np.ones(3))[0] == pytest.approx(mcrmse(targets, preds))
    weights = np.array([2.0, 0.0, 1.0])  # row 0 twice, row 1 never
    rows = [0, 0, 2]
    assert score(weights)[0] == pytest.approx(mcrmse(targets[rows], preds[rows]))
    block = score(np.stack([np.ones(3), weights]))
    np.testing.assert_allclose(block, [mcrmse(targets, preds), mcrmse(targets[rows], preds[rows])])
    # hand computed: content errors 1,1,0 -> sqrt(2/3); wording 0,0,1 -> sqrt(1/3)
    assert score(weights)[0] == pytest.approx((np.sqrt(2 / 3) + np.sqrt(1 / 3)) / 2)
