"""Swap TTA: the merge arithmetic by hand, and simulated judges — a position-biased one
whose share of A picks moves to the labels' A-rate without losing accuracy, and an unbiased one that
loses nothing."""

import numpy as np
import pytest

from wsdm.tta import merge, picks_a


def test_merge_by_hand_and_an_additive_bias_cancels_exactly():
    np.testing.assert_allclose(merge([0.9, 0.5, 0.2], [0.3, 0.5, 0.6]), [0.8, 0.5, 0.3])
    s = np.array([0.35, 0.4, 0.45, 0.55, 0.7])  # the unbiased preference for A
    biased, biased_swapped = s + 0.2, (1 - s) + 0.2  # a judge that always adds 0.2 to the first position
    np.testing.assert_allclose(merge(biased, biased_swapped), s)
    assert picks_a(biased) == 1.0 and picks_a(merge(biased, biased_swapped)) == 0.4
    with pytest.raises(ValueError, match="3 rows but p_a_swapped 2"):
        merge([0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"p_a_swapped: probabilities must lie in \[0, 1\]"):
        merge([0.5], [1.2])
    with pytest.raises(ValueError, match="p_a: no rows"):
        picks_a([])


def simulate(bias: float, n: int = 20000, seed: int = 0):
    """A latent preference z (label: A wins with probability sigmoid(z)), read by a judge twice with
    independent noise and a logit shift ``bias`` towards whichever response is shown first."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, n)
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    p_a = sigmoid(z + rng.normal(0, 1, n) + bias)
    p_a_swapped = sigmoid(-z + rng.normal(0, 1, n) + bias)
    return y, p_a, p_a_swapped


def accuracy(p, y):
    return float(np.mean((p > 0.5) == y))


def test_biased_judge_picks_a_at_the_label_rate_after_tta():
    y, p_a, p_sw = simulate(bias=1.0)
    rate = y.mean()
    merged = merge(p_a, p_sw)
    assert abs(rate - 0.5) < 0.02
    assert picks_a(p_a) > rate + 0.1  # the bias shows
    assert abs(picks_a(merged) - rate) < 0.02  # and is gone
    assert accuracy(merged, y) > accuracy(p_a, y) + 0.02


def test_unbiased_judge_loses_no_accuracy():
    y, p_a, p_sw = simulate(bias=0.0, seed=1)
    merged = merge(p_a, p_sw)
    assert abs(picks_a(merged) - picks_a(p_a)) < 0.02
    assert accuracy(merged, y) >= accuracy(p_a, y)  # two noisy views beat one
