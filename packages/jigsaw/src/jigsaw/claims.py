"""The write-ups' findings checked on this run, each decided beyond its noise with ``shared.report``.

A claim compares two experiments' out-of-fold predictions on the competition metric: ``delta`` is the
technique's gain in final bias AUC, ``interval`` its 90 % paired bootstrap interval over the training rows
(both experiments scored on the same resampled rows; comments are independent, so rows are resampled, not
groups). ``shared.metrics.jigsaw_bias_scorer`` sorts each experiment's predictions once and scores a block
of resamples at a time. The blend's out-of-fold predictions are cross-fitted, so its claim is not flattered by weights
fitted on the rows it is scored on; the bootstrap keeps those weights fixed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from shared.console import progress
from shared.metrics import jigsaw_bias_scorer
from shared.report import N_RESAMPLES, Claim, bootstrap

# (finding of the write-ups, baseline experiment, technique experiment); checked when both ran
CLAIMS = [
    ("metric-aligned weighting raises the final metric", "bert", "bert-weighted"),
    ("metric-aligned weighting raises the final metric (TF-IDF + LR)", "tfidf-lr", "tfidf-lr-weighted"),
    (
        "auxiliary targets (subtypes, identities) with soft targets raise the final metric",
        "bert-weighted",
        "bert-weighted-aux",
    ),
    ("soft targets raise the final metric (TF-IDF + LR)", "tfidf-lr-weighted", "tfidf-lr-weighted-soft"),
]
BLEND_CLAIM = "the blend beats its best single model"
BLEND = "blend-optuna"


def bias_claim(
    text: str,
    baseline: tuple[str, np.ndarray],
    technique: tuple[str, np.ndarray],
    target,
    identities: pd.DataFrame,
    *,
    evidence: str = "model",
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Claim:
    """``technique`` (name, out-of-fold predictions) against ``baseline`` on the final bias AUC, over the rows both
    predicted (all of them, unless one is a holdout experiment: its fold 0)."""
    (base_name, base_oof), (tech_name, tech_oof) = baseline, technique
    rows = np.isfinite(base_oof) & np.isfinite(tech_oof)  # a holdout experiment predicts only its fold
    target, identities = np.asarray(target)[rows], identities[rows]
    base = jigsaw_bias_scorer(target, base_oof[rows], identities)
    tech = jigsaw_bias_scorer(target, tech_oof[rows], identities)
    return bootstrap(
        text, base_name, tech_name, lambda w: (base(w), tech(w)), int(rows.sum()),
        evidence=evidence, n_resamples=n_resamples, seed=seed, batched=True,
    )  # fmt: skip


def comparisons(names: Sequence[str], cv: dict[str, float]) -> list[tuple[str, str, str]]:
    """The claims whose two experiments ran; the blend against the best single model by CV (the sensible
    alternative to blending: submit that model alone)."""
    pairs = [(text, base, tech) for text, base, tech in CLAIMS if base in names and tech in names]
    singles = [n for n in names if not n.startswith("blend-")]
    if BLEND in names and singles:
        pairs.append((BLEND_CLAIM, max(singles, key=cv.__getitem__), BLEND))
    return pairs


def check_claims(
    oof: dict[str, np.ndarray],
    cv: dict[str, float],
    target,
    identities: pd.DataFrame,
    mechanics: Collection[str] = (),
) -> list[Claim]:
    """Every claim of :func:`comparisons`; a claim resting on an experiment in ``mechanics`` (a stand-in
    too small to learn, such as LoRA on a tiny random base) says so in its ``evidence``."""

    def evidence(*names: str) -> str:
        return "mechanics" if set(names) & set(mechanics) else "model"

    pairs = progress(comparisons(list(oof), cv), desc="claims (paired bootstrap)", unit="claim")
    return [
        bias_claim(
            text, (base, oof[base]), (tech, oof[tech]), target, identities, evidence=evidence(base, tech)
        )
        for text, base, tech in pairs
    ]
