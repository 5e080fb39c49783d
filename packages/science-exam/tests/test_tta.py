"""Option-permutation TTA: the letter bookkeeping is exact for every order, and averaging over the cyclic
shifts cancels a positional bias (hand-computed values)."""

import itertools

import numpy as np
import pandas as pd
import pytest

from science_exam.data import LETTERS
from science_exam.tta import permutations, permute, tta_proba, unpermute

ALL_ORDERS = list(itertools.permutations(range(5)))


def questions() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["q0", "q1"], "prompt": ["first?", "second?"],
        "A": ["a0", "right"], "B": ["right", "b1"], "C": ["c0", "c1"], "D": ["d0", "d1"], "E": ["e0", "e1"],
        "answer": ["B", "A"],
    })  # fmt: skip


def value_of_text(frame: pd.DataFrame) -> np.ndarray:
    """A 'reader' whose score for a position depends only on the option text shown there."""
    return np.vectorize(lambda text: float(sum(map(ord, text))))(frame[list(LETTERS)].to_numpy())


@pytest.mark.parametrize("perm", ALL_ORDERS)
def test_permute_then_unpermute_restores_the_letter_order(perm):
    frame = questions()
    moved = permute(frame, perm)
    for j, source in enumerate(perm):
        assert moved[LETTERS[j]].tolist() == frame[LETTERS[source]].tolist()
    # the answer letter follows its option's text
    for row in range(len(frame)):
        assert moved.loc[row, moved.loc[row, "answer"]] == frame.loc[row, frame.loc[row, "answer"]]
    np.testing.assert_array_equal(unpermute(value_of_text(moved), perm), value_of_text(frame))
    assert frame["A"].tolist() == ["a0", "right"]  # the input is not modified


def biased(frame: pd.DataFrame) -> np.ndarray:
    """Half content (0.6 on the option 'right', 0.1 elsewhere), half position (0.9 on whatever sits at A)."""
    content = np.where(frame[list(LETTERS)].to_numpy() == "right", 0.6, 0.1)
    position = np.array([0.9, 0.025, 0.025, 0.025, 0.025])
    return 0.5 * content + 0.5 * position


def test_tta_averages_a_position_bias_out():
    frame = questions().iloc[:1]  # the right option is B
    # alone, the bias wins: A = 0.5*0.1 + 0.5*0.9 = 0.5 against B = 0.5*0.6 + 0.5*0.025 = 0.3125
    np.testing.assert_allclose(biased(frame), [[0.5, 0.3125, 0.0625, 0.0625, 0.0625]])
    # identity + shift by one: the shifted order shows B at A -> B = 0.75, A (now at E) = 0.0625
    np.testing.assert_allclose(
        tta_proba(biased, frame, [(0, 1, 2, 3, 4), (1, 2, 3, 4, 0)]),
        [[0.28125, 0.53125, 0.0625, 0.0625, 0.0625]],
    )
    # the five cyclic shifts put every option at every position once: position part = 0.5 * 1/5 each
    np.testing.assert_allclose(
        tta_proba(biased, frame, permutations(5, seed=0)), [[0.15, 0.4, 0.15, 0.15, 0.15]]
    )


def test_permutations_identity_first_then_shifts_then_seeded_orders():
    assert permutations(1, seed=3) == [(0, 1, 2, 3, 4)]
    assert permutations(5, seed=3) == [
        (0, 1, 2, 3, 4),
        (1, 2, 3, 4, 0),
        (2, 3, 4, 0, 1),
        (3, 4, 0, 1, 2),
        (4, 0, 1, 2, 3),
    ]
    every = permutations(120, seed=3)
    assert sorted(every) == sorted(ALL_ORDERS)
    assert permutations(12, seed=3) == permutations(12, seed=3)
    assert permutations(12, seed=3)[5:] != permutations(12, seed=4)[5:]


def test_bad_permutations_are_refused():
    with pytest.raises(ValueError, match=r"n=0 must be in \[1, 120\]"):
        permutations(0, seed=0)
    with pytest.raises(ValueError, match=r"n=121"):
        permutations(121, seed=0)
    with pytest.raises(ValueError, match=r"\(0, 0, 1, 2, 3\) is not an order"):
        permute(questions(), (0, 0, 1, 2, 3))
    with pytest.raises(ValueError, match="no permutations"):
        tta_proba(biased, questions(), [])
