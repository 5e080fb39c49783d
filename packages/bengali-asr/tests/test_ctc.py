"""Greedy CTC decoding on hand-made id sequences and emission matrices."""

import numpy as np
import pytest
import torch

from bengali_asr.ctc import collapse, greedy_decode, greedy_decode_batch, ids_to_text

# <pad>=0 (blank), <unk>=1, |=2, then three letters
VOCAB = {"<pad>": 0, "<unk>": 1, "|": 2, "ক": 3, "খ": 4, "া": 5}


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ([], []),
        ([0, 0, 0], []),
        ([3, 3, 3], [3]),  # one letter held over three frames
        ([3, 0, 3], [3, 3]),  # a blank between repeats keeps both: a doubled letter
        ([3, 3, 0, 0, 3, 3], [3, 3]),
        ([3, 4, 3], [3, 4, 3]),  # different neighbours need no blank
        ([0, 3, 0, 0, 4, 4, 0, 5, 0], [3, 4, 5]),
        ([3, 3, 4, 4, 3, 3], [3, 4, 3]),
        ([2, 2, 0, 2], [2, 2]),  # the delimiter collapses like any token
    ],
)
def test_collapse_merges_repeats_then_drops_blanks(ids, expected):
    assert collapse(ids) == expected


def test_collapse_with_another_blank_id_and_numpy_input():
    assert collapse(np.array([5, 5, 3, 5, 5, 4]), blank=5) == [3, 4]
    assert collapse(torch.tensor([0, 3, 3, 0])) == [3]


def emission(frames: list[int], size: int = len(VOCAB)) -> torch.Tensor:
    """Log-probabilities whose best token at frame t is ``frames[t]`` (others share the rest)."""
    probs = torch.full((len(frames), size), 0.1 / (size - 1))
    probs[torch.arange(len(frames)), torch.tensor(frames)] = 0.9
    return probs.log()


def test_greedy_decode_spells_the_best_path():
    # ক ক _ ক া | | খ া _  ->  "ককা খা"
    assert greedy_decode(emission([3, 3, 0, 3, 5, 2, 2, 4, 5, 0]), VOCAB) == "ককা খা"


def test_delimiters_become_single_spaces_and_the_ends_are_stripped():
    assert greedy_decode(emission([2, 3, 2, 0, 2, 4, 2]), VOCAB) == "ক খ"
    assert greedy_decode(emission([0, 2, 0, 2, 0]), VOCAB) == ""


def test_unk_writes_nothing():
    assert greedy_decode(emission([3, 1, 4]), VOCAB) == "কখ"


def test_length_reads_only_the_valid_frames():
    log_probs = emission([3, 0, 4, 4, 5, 5])
    assert greedy_decode(log_probs, VOCAB, length=3) == "কখ"
    assert greedy_decode(log_probs, VOCAB, length=0) == ""
    assert greedy_decode(log_probs.numpy(), VOCAB) == "কখা"  # numpy works as well
    batch = torch.stack([log_probs, emission([4, 4, 0, 4, 0, 0])])
    assert greedy_decode_batch(batch, VOCAB, torch.tensor([2, 6])) == ["ক", "খখ"]
    assert greedy_decode_batch(batch, VOCAB) == ["কখা", "খখ"]


def test_bad_shapes_and_lengths_are_one_line_errors():
    with pytest.raises(ValueError, match=r"expected \[T, V\], got shape \(2, 3, 6\)"):
        greedy_decode(torch.zeros(2, 3, 6), VOCAB)
    with pytest.raises(ValueError, match="5 classes but the vocabulary has 6 tokens"):
        greedy_decode(torch.zeros(3, 5), VOCAB)
    with pytest.raises(ValueError, match=r"length: 4 is outside 0\.\.3 frames"):
        greedy_decode(torch.zeros(3, 6), VOCAB, length=4)
    with pytest.raises(ValueError, match=r"ids: 9 is not an id of the vocabulary \(0\.\.5\)"):
        ids_to_text([3, 9], VOCAB)
    with pytest.raises(ValueError, match="lengths: 1 values for 2 rows"):
        greedy_decode_batch(torch.zeros(2, 3, 6), VOCAB, [3])
