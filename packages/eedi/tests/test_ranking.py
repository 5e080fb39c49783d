"""Rankings and MAP@25 over score matrices, checked by hand and against shared.metrics.map_at_k."""

import time

import numpy as np
import pytest

from eedi.ranking import average_precision, map_at_k, ranks, recall_at_k, top_k
from shared import metrics


def test_hand_case_with_ties_and_a_truth_outside_the_top_k():
    scores = np.array(
        [
            [0.1, 0.9, 0.5, 0.9],  # ranking 1, 3, 2, 0 (the tie 1/3 by column)
            [0.3, 0.3, 0.3, 0.3],  # all tied: ranking 0, 1, 2, 3
            [0.0, 0.2, 0.4, 0.6],  # ranking 3, 2, 1, 0
        ],
        dtype=np.float32,
    )
    truth = np.array([3, 2, 0])
    assert top_k(scores, 3).tolist() == [[1, 3, 2], [0, 1, 2], [3, 2, 1]]
    assert ranks(scores, truth).tolist() == [2, 3, 4]
    np.testing.assert_allclose(average_precision(scores, truth, k=3), [1 / 2, 1 / 3, 0.0])
    assert map_at_k(scores, truth, k=3) == pytest.approx((1 / 2 + 1 / 3) / 3)
    assert map_at_k(scores, truth, k=4) == pytest.approx((1 / 2 + 1 / 3 + 1 / 4) / 3)
    assert recall_at_k(scores, truth, [1, 3, 4]) == {1: 0.0, 3: pytest.approx(2 / 3), 4: 1.0}
    # the shared metric on the ranked ids gives the same numbers
    for k in (1, 3, 4):
        assert map_at_k(scores, truth, k) == pytest.approx(metrics.map_at_k(truth, top_k(scores, k), k))


def test_top_k_equals_a_stable_full_sort_with_many_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(200, 30)).astype(np.float32)  # ties everywhere, also across the k-th
    for k in (1, 5, 25, 30, 40):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k(scores, k), expected)


def test_ranks_agree_with_the_position_in_top_k():
    rng = np.random.default_rng(1)
    scores = np.round(rng.standard_normal((300, 50)), 1).astype(np.float32)
    truth = rng.integers(0, 50, size=300)
    order = top_k(scores, 50)
    np.testing.assert_array_equal(ranks(scores, truth), 1 + np.argmax(order == truth[:, None], axis=1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_matches_the_shared_metric_on_random_scores(seed):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((400, 120)).astype(np.float32)
    scores[:, 7] = scores[:, 3]  # a tied pair of columns
    truth = rng.integers(0, 120, size=400)
    truth[:50] = 7
    scores[np.arange(50), 7] += 3.0  # some truths at the top, the rest spread (many beyond 25)
    ids = top_k(scores, 25)
    assert map_at_k(scores, truth) == pytest.approx(metrics.map_at_k(truth, ids, 25), abs=1e-12)
    recall = recall_at_k(scores, truth, [25])[25]
    assert 0 < recall < 1
    assert recall == pytest.approx(np.mean([t in row for t, row in zip(truth, ids, strict=True)]))


def test_vectorised_at_competition_size():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((5000, 2600)).astype(np.float32)
    truth = rng.integers(0, 2600, size=5000)
    start = time.perf_counter()
    top_k(scores, 25)
    map_at_k(scores, truth)
    assert time.perf_counter() - start < 5  # a Python loop over the rows takes far longer


def test_bad_input():
    with pytest.raises(ValueError, match="NaN in row 1"):
        ranks(np.array([[0.0, 1.0], [np.nan, 0.0]]), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"row 1 is 5, outside 0\.\.1"):
        ranks(np.zeros((2, 2)), np.array([0, 5]))
    with pytest.raises(ValueError, match="expected 2 column indices"):
        map_at_k(np.zeros((2, 2)), np.array([0]))
    with pytest.raises(ValueError, match="integer column indices"):
        map_at_k(np.zeros((2, 2)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="positive integer"):
        top_k(np.zeros((2, 2)), 0)
