"""Claims are decided beyond their noise: built from constructed out-of-fold predictions through
``jigsaw.claims``, a gain inside the noise is not decided, a clear gain holds, a clear loss does not."""

import numpy as np
import pandas as pd
import pytest

from jigsaw.claims import BLEND, BLEND_CLAIM, CLAIMS, bias_claim, check_claims, comparisons
from jigsaw.data import SCORED_IDENTITIES

N = 3000


@pytest.fixture(scope="module")
def rows():
    """Targets, identities (10 % members per identity) and a latent toxicity score the predictions see."""
    rng = np.random.default_rng(0)
    identities = pd.DataFrame({c: (rng.random(N) < 0.1).astype(float) for c in SCORED_IDENTITIES})
    target = (rng.random(N) < 0.2).astype(float)
    return target, identities, rng


def predictions(target, rng, noise: float) -> np.ndarray:
    """A model whose logit is the label plus Gaussian noise: more noise, lower AUC."""
    logit = 2.0 * (target - 0.5) + rng.normal(scale=noise, size=len(target))
    return 1.0 / (1.0 + np.exp(-logit))


def claim(rows, base_noise, tech_noise, seed=0):
    target, identities, rng = rows
    base, tech = predictions(target, rng, base_noise), predictions(target, rng, tech_noise)
    return bias_claim("t", ("base", base), ("tech", tech), target, identities, n_resamples=300, seed=seed)


def test_gain_inside_the_noise_is_not_decided(rows):
    # two equally good models (independent noise of the same size): any difference is noise
    result = claim(rows, 1.5, 1.5)
    lo, hi = result.interval
    assert result.holds is None and lo < 0 < hi
    assert abs(result.delta) < 0.01 < hi - lo


def test_clear_gain_holds_and_clear_loss_does_not(rows):
    gain = claim(rows, 2.0, 0.8)
    assert gain.holds is True and gain.interval[0] > 0.02 and gain.delta > 0.05
    loss = claim(rows, 0.8, 2.0)
    assert loss.holds is False and loss.interval[1] < -0.02
    assert gain.method == "paired bootstrap over 3,000 rows, 300 resamples" and gain.evidence == "model"


def test_same_seed_same_interval(rows):
    target, identities, rng = rows
    base, tech = predictions(target, rng, 1.5), predictions(target, rng, 1.3)
    first = bias_claim("t", ("a", base), ("b", tech), target, identities, n_resamples=100, seed=3)
    again = bias_claim("t", ("a", base), ("b", tech), target, identities, n_resamples=100, seed=3)
    other = bias_claim("t", ("a", base), ("b", tech), target, identities, n_resamples=100, seed=4)
    assert first == again and first.interval != other.interval and first.delta == other.delta


def test_claims_compare_what_ran_and_the_blend_against_the_best_single_model():
    cv = {"tfidf-lr": 0.90, "tfidf-lr-weighted": 0.93, "bert": 0.91, "bert-weighted": 0.92, BLEND: 0.935}
    pairs = comparisons(list(cv), cv)
    assert pairs == [
        CLAIMS[0],  # bert -> bert-weighted
        CLAIMS[1],  # tfidf-lr -> tfidf-lr-weighted
        (BLEND_CLAIM, "tfidf-lr-weighted", BLEND),  # best single by CV, not the first or the last rung
    ]


def test_a_claim_on_a_mechanics_stand_in_says_so(rows):
    target, identities, rng = rows
    oof = {
        name: predictions(target, rng, 1.0)
        for name in ("tfidf-lr", "tfidf-lr-weighted", "bert", "bert-weighted")
    }
    cv = dict.fromkeys(oof, 0.9)
    claims = {c.baseline: c for c in check_claims(oof, cv, target, identities, mechanics={"bert"})}
    assert claims["bert"].evidence == "mechanics" and claims["tfidf-lr"].evidence == "model"
    assert "[mechanics: not a finding]" in claims["bert"].line()
