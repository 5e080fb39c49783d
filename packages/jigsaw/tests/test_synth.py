"""The sample is deterministic and carries the unintended bias the chapter is about."""

import hashlib

import numpy as np

from jigsaw.data import IDENTITY_COLUMNS, load
from jigsaw.synth import make_sample


def digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_same_seed_same_bytes(tmp_path):
    a = make_sample(tmp_path / "a", n_train=300, n_test=50, seed=3)
    b = make_sample(tmp_path / "b", n_train=300, n_test=50, seed=3)
    c = make_sample(tmp_path / "c", n_train=300, n_test=50, seed=4)
    assert digest(a) == digest(b)
    assert digest(a)["train.csv"] != digest(c)["train.csv"]


def test_identity_mentions_co_occur_with_toxicity(sample_dir):
    train = load(sample_dir).train
    member = (train[IDENTITY_COLUMNS].fillna(0).to_numpy() >= 0.5).any(axis=1)
    toxic = train["target"].to_numpy() >= 0.5
    # the bias: toxicity is several times more frequent among identity comments...
    assert toxic[member].mean() > 3 * toxic[~member].mean()
    # ...yet civil identity comments exist for the weights to up-weight
    assert (member & ~toxic).sum() > 100
    # subtypes are annotator fractions tied to the toxic comments
    assert (
        train.loc[~toxic, "identity_attack"].mean()
        < 0.05
        < train.loc[toxic & member, "identity_attack"].mean()
    )
    assert np.isin(train["toxicity_annotator_count"].min(), [4, 5])
