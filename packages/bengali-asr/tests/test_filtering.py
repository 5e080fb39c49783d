"""The WER filter drops the clips whose label the first model cannot reproduce, and counts what it caught."""

import numpy as np
import pytest

from bengali_asr.filtering import filter_by_wer


def test_the_filter_drops_the_planted_corrupted_clips():
    truth = ["আমি ভাত খাই।", "তুমি কোথায় যাও?", "সে বই পড়ে।", "আমরা স্কুলে যাই।", "তারা গান গায়।"]
    labels = list(truth)
    labels[1] = "আজ বৃষ্টি হবে।"  # another sentence
    labels[3] = "আমরা যাই।"  # a dropped word: 1 of 2 label words -> WER 0.5 against a right hypothesis
    hypotheses = ["আমি ভাত খাই", "তুমি কোথায় যাও", "সে বই পড়ে", "আমরা স্কুলে যাই", "তারা গান গাই"]
    result = filter_by_wer(labels, hypotheses, threshold=0.4, min_keep=0.2)
    np.testing.assert_array_equal(result.keep, [True, False, True, False, True])
    np.testing.assert_allclose(result.wers, [0, 1, 0, 0.5, 1 / 3])  # marks never count here
    caught = result.caught(np.array([False, True, False, True, False]))
    assert caught == {
        "floored": False,
        "corrupted": 2,
        "dropped": 2,
        "caught": 2,
        "recall": 1.0,
        "precision": 1.0,
    }
    assert filter_by_wer(labels, hypotheses, threshold=0.75).dropped == 1  # only the wrong sentence


def test_a_model_too_weak_to_judge_keeps_the_best_share_instead_of_nothing():
    labels = ["ক খ গ", "ক খ", "খ গ ঘ ঙ", "ক"]
    result = filter_by_wer(labels, ["ক", "ঘ", "খ গ", "ঘ"], threshold=0.5, min_keep=0.5)
    # WERs 2/3, 1, 1/2, 1: the threshold keeps one clip, the floor two: the two lowest WERs
    np.testing.assert_array_equal(result.keep, [True, False, True, False])
    assert result.floored and not filter_by_wer(labels, ["ক খ গ", "ক খ", "খ গ ঘ ঙ", "ক"], 0.5).floored
    assert filter_by_wer(labels, ["x"] * 4, threshold=0.5, min_keep=0.5).keep.tolist() == [
        True,
        True,
        False,
        False,
    ]


def test_a_negative_threshold_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        filter_by_wer(["a"], ["a"], -0.1)
