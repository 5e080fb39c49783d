"""The feature baseline: it learns a planted length preference, has no position bias, and reloads."""

import numpy as np
import pandas as pd

from wsdm.baseline import FeatureBaseline, length_features


def frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The longer, listed answer wins, wherever it stands."""
    rng = np.random.default_rng(seed)
    long = ["Here are the steps:\n- first, read it\n- then, check it\n- finally, answer it."] * n
    short = ["No."] * n
    a_long = rng.random(n) < 0.5
    return pd.DataFrame({"prompt": ["How?"] * n, "response_a": np.where(a_long, long, short),
                         "response_b": np.where(a_long, short, long)}), (~a_long).astype(np.int64)  # fmt: skip


def test_length_features_count_characters_words_lines_and_list_lines():
    got = length_features(pd.Series(["a b\n- c\n1. d", None]))
    np.testing.assert_allclose(got[0], np.log1p([12, 6, 3, 2]))  # "-" and "1." are words too
    np.testing.assert_allclose(got[1], np.log1p([0, 0, 1, 0]))


def test_it_learns_the_planted_preference_without_position_bias(tmp_path):
    x, y = frame(60, 0)
    model = FeatureBaseline().fit(x, y)
    test, y_test = frame(40, 1)
    p = model.predict(test)
    assert ((p <= 0.5) == y_test).all()
    # both orders of every pair were seen with flipped labels: a swapped pair gets the complementary probability
    np.testing.assert_allclose(model.predict(test, swap=True), 1 - p, atol=1e-9)
    model.save(tmp_path)
    np.testing.assert_array_equal(FeatureBaseline.load(tmp_path).predict(test), p)
