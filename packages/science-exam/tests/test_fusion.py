"""Fusion arithmetic by hand: reciprocal ranks, min-max weighted scores, max over a question's queries."""

import numpy as np
import pytest

from science_exam.fusion import max_merge, rrf, weighted


def test_rrf_sums_reciprocal_ranks():
    ids, scores = rrf([np.array([[10, 20, 30]]), np.array([[20, 40, 10]])], k=60)
    # 10: ranks 1 and 3; 20: ranks 2 and 1; 30: rank 3 in one list; 40: rank 2 in one list
    assert ids.tolist() == [[20, 10, 40]]
    np.testing.assert_allclose(scores, [[1 / 62 + 1 / 61, 1 / 61 + 1 / 63, 1 / 62]], rtol=1e-12)
    ids, scores = rrf([np.array([[10, 20, 30]]), np.array([[20, 40, 10]])], k=60, top=5)
    assert ids.tolist() == [[20, 10, 40, 30, -1]]
    assert scores[0, 3] == pytest.approx(1 / 63) and scores[0, 4] == -np.inf


def test_rrf_ties_go_to_the_lower_id_and_empty_slots_are_skipped():
    ids, scores = rrf([np.array([[7, 5], [3, -1]]), np.array([[5, 7], [4, -1]])], k=1)
    assert ids.tolist() == [[5, 7], [3, 4]]
    np.testing.assert_allclose(scores, [[1 / 2 + 1 / 3, 1 / 2 + 1 / 3], [1 / 2, 1 / 2]])


def test_weighted_min_max_scales_each_row_and_missing_passages_get_zero():
    bm25 = (np.array([[1, 2, 3], [5, 6, -1]]), np.array([[10.0, 6.0, 2.0], [4.0, 4.0, -np.inf]]))
    dense = (np.array([[3, 4], [6, 7]]), np.array([[0.9, 0.5], [0.8, 0.2]]))
    ids, scores = weighted([bm25, dense], [0.4, 0.6])
    # row 0: bm25 scales to 1, 0.5, 0 and dense to 1, 0 -> 1: 0.4, 2: 0.2, 3: 0 + 0.6, 4: 0
    # row 1: bm25's equal scores both scale to 1 -> 5: 0.4, 6: 0.4 + 0.6, 7: 0
    assert ids.tolist() == [[3, 1, 2], [6, 5, 7]]
    np.testing.assert_allclose(scores, [[0.6, 0.4, 0.2], [1.0, 0.4, 0.0]], atol=1e-12)
    with pytest.raises(ValueError, match="2 lists but 1 weights"):
        weighted([bm25, dense], [1.0])


def test_max_merge_keeps_each_passages_best_score_per_question():
    ids = np.array([[1, 2], [2, 3], [9, 8], [8, -1]])
    scores = np.array([[0.5, 0.4], [0.9, 0.1], [2.0, 1.0], [3.0, -np.inf]])
    merged_ids, merged_scores = max_merge(ids, scores, group=2, top=3)
    assert merged_ids.tolist() == [[2, 1, 3], [8, 9, -1]]
    np.testing.assert_allclose(merged_scores, [[0.9, 0.5, 0.1], [3.0, 2.0, -np.inf]])
    with pytest.raises(ValueError, match="4 query rows do not split into groups of 3"):
        max_merge(ids, scores, group=3)


def test_lists_must_cover_the_same_queries():
    with pytest.raises(ValueError, match=r"different numbers of queries \[1, 2\]"):
        rrf([np.array([[1]]), np.array([[1], [2]])])
