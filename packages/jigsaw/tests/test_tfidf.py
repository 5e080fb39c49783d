"""TF-IDF + LR: the soft-target trick is the cross-entropy on fractions; sample weights reach the fit."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from jigsaw import tfidf
from jigsaw.experiment import ExperimentConfig

TEXTS = [
    "you idiot",
    "nice article",
    "what a moron",
    "thanks for this",
    "idiot council",
    "good point",
    "stupid idea",
    "fair enough",
] * 3
PROBE = {"probe": ["idiot", "nice point", "moron council"]}
CONFIG = ExperimentConfig(tfidf_min_df=1)


def fit_predict(config, texts, target, weights, probe):
    model = tfidf.fit(config, pd.DataFrame({"comment_text": texts, "target": target}), weights, [])
    return {name: model.predict(values) for name, values in probe.items()}


def test_a_saved_model_predicts_the_same(tmp_path):
    target = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 3, dtype=float)
    model = tfidf.fit(
        CONFIG, pd.DataFrame({"comment_text": TEXTS, "target": target}), np.ones(len(TEXTS)), []
    )
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(tfidf.TfidfModel.load(tmp_path / "m").predict(PROBE["probe"]),
                                  model.predict(PROBE["probe"]))  # fmt: skip


def test_soft_targets_on_hard_labels_match_the_hard_fit():
    target = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 3, dtype=float)
    hard = fit_predict(CONFIG, TEXTS, target, np.ones(len(TEXTS)), PROBE)["probe"]
    soft = fit_predict(replace(CONFIG, soft_targets=True), TEXTS, target, np.ones(len(TEXTS)), PROBE)["probe"]
    assert soft == pytest.approx(hard, abs=1e-4)


def test_soft_targets_use_the_fraction():
    hard_target = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 3, dtype=float)
    mild = np.where(hard_target == 1, 0.55, 0.0)  # barely toxic: the hard label says 1, annotators split
    soft_mild = fit_predict(replace(CONFIG, soft_targets=True), TEXTS, mild, np.ones(len(TEXTS)), PROBE)[
        "probe"
    ]
    hard_mild = fit_predict(CONFIG, TEXTS, mild, np.ones(len(TEXTS)), PROBE)["probe"]
    assert soft_mild[0] < hard_mild[0] - 0.05  # "idiot" is less confidently toxic when taught with 0.55


def test_sample_weights_move_the_fit():
    target = np.array([1, 0, 1, 0, 1, 0, 1, 0] * 3, dtype=float)
    target[4] = 0.0  # one civil "idiot council"
    light, heavy = np.ones(len(TEXTS)), np.ones(len(TEXTS))
    heavy[4] = 20.0
    p_light = fit_predict(CONFIG, TEXTS, target, light, PROBE)["probe"]
    p_heavy = fit_predict(CONFIG, TEXTS, target, heavy, PROBE)["probe"]
    assert (
        p_heavy[2] < p_light[2] - 0.1
    )  # "moron council": the up-weighted civil row teaches "council" is civil
