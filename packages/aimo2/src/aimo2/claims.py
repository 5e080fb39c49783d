"""The write-ups' findings, checked on the rungs of ``aimo2-reproduce`` and decided beyond their noise.

Every rung serves the same problems with the same seeds per repeat, so two rungs pair up record by record,
(repeat, problem). A claim's interval is a paired bootstrap (``shared.report.bootstrap``) that resamples
whole problems, all repeats of a problem together: the problems are what varies between contests.

Each claim names the baseline a practitioner would use instead of the technique:

- voting against one sample;
- early stopping against voting over all N samples: a *non-inferiority* claim (accuracy at most
  ``margin_points`` of 100 below), stated in its text, and apart from it a claim that it uses fewer tokens;
- time allocation against the two things one would do under the same Kaggle budget without it: a fixed N
  sized to fit the budget, and early stopping that ignores the budget. (A fixed N that cannot fit, such
  as the budget-blind rung, would be a crippled baseline; it stays in the table, not in a claim.)

``evidence`` is ``"simulated"`` for the simulated backend, whose constants make the right answer the most
frequent one and wrong samples longer, so that voting and early stopping must look good on it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from shared.report import Claim, bootstrap

NONINFERIORITY_POINTS = 2.0  # early stopping may lose at most 2 points of accuracy (1 answer in 50)
REPORTED_SAVING = 0.30  # "about 30% fewer tokens" (Fast-Math-R1; NemoSkills' early stop)
# The rungs a claim needs, by role (aimo2.reproduce.inference_ladder names them).
ROLES = ("single", "vote", "early", "fitted", "early_budget", "allocation")


def paired(baseline, technique, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(baseline's values, technique's values, problem ids), one row per (repeat, problem) of the technique."""
    a = pd.DataFrame(baseline.records).set_index(["repeat", "id"])[column].astype(float)
    b = pd.DataFrame(technique.records).set_index(["repeat", "id"])[column].astype(float)
    missing = b.index.difference(a.index)
    if len(missing):
        raise ValueError(
            f"{baseline.name}: no record for (repeat, id) {missing[0]} that {technique.name} has"
        )
    return a.loc[b.index].to_numpy(), b.to_numpy(), b.index.get_level_values("id").to_numpy()


def compare(text: str, baseline, technique, *, evidence: str, column: str = "correct", per_run: bool = True,
            higher_is_better: bool = True, margin: float = 0.0, scale: float | None = None) -> Claim:  # fmt: skip
    """A claim on the mean of ``column``: per run of all problems (``per_run``: correct answers out of
    ``n_problems``, the metric of results.json), per problem (tokens), or times ``scale`` (100: points)."""
    a, b, ids = paired(baseline, technique, column)
    scale = scale if scale is not None else technique.n_problems if per_run else 1.0

    def score(weights: np.ndarray) -> tuple[float, float]:
        total = weights.sum()
        return scale * (weights @ a) / total, scale * (weights @ b) / total

    return bootstrap(text, baseline.name, technique.name, score, len(a), higher_is_better=higher_is_better,
                     evidence=evidence, groups=ids, group_name="problems", margin=margin)  # fmt: skip


def claims(ladder: Mapping, *, evidence: str, margin_points: float = NONINFERIORITY_POINTS,
           budget: str = "time budget") -> list[Claim]:  # fmt: skip
    """The five claims on the inference ladder (``ladder``: role -> rung, see :data:`ROLES`); ``budget`` names
    what the budget counts ("budget of decoding steps" on the CPU model)."""
    single, vote, early, fitted, early_budget, allocation = (ladder[role] for role in ROLES)
    n = vote.n_problems
    margin = margin_points / 100 * n
    tokens = [pd.DataFrame(r.records)["tokens"].mean() for r in (vote, early)]
    saving = 1 - tokens[1] / tokens[0] if tokens[0] else 0.0
    return [
        compare("majority voting beats a single sample", single, vote, evidence=evidence),
        compare(f"early stopping keeps the accuracy of voting over all samples: non-inferior with a margin of "
                f"{margin:.3g} of {n} correct answers ({margin_points:g} points)", vote, early, evidence=evidence,
                margin=margin),
        compare(f"early stopping uses fewer tokens per problem ({saving:.0%} fewer here; the write-ups report "
                f"about {REPORTED_SAVING:.0%})", vote, early, evidence=evidence, column="tokens", per_run=False,
                higher_is_better=False),
        compare(f"sharing the {budget} among the problems (with early stopping) beats a fixed N sized to fit "
                "the same budget", fitted, allocation, evidence=evidence),
        compare(f"sharing the {budget} among the problems beats early stopping that ignores the budget, "
                "under the same budget", early_budget, allocation, evidence=evidence),
    ]  # fmt: skip
