"""``report.md``, ``seed_spread.png`` and results.json's content for ``commonlit-reproduce``, with the
write-ups' claims decided beyond their noise.

A claim compares two rungs' out-of-fold predictions on MCRMSE (lower is better): ``delta`` is the
technique's change in MCRMSE (negative = better), ``interval`` its 90 % paired bootstrap interval over
*prompts* — the CV holds out whole prompts and the hidden test set is new prompts, so the prompt is the unit
of the noise, and a gain that shows on three prompts of eight is not decided. Both rungs are scored on the
same resampled prompts; the weighted squared errors make a block of resamples one matrix product.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from commonlit.data import TARGETS
from commonlit.experiment import rmse_by, target_rmse
from shared.report import Claim, bootstrap, claims_markdown, markdown_table, results

METRIC = "MCRMSE of the pooled out-of-fold predictions (content, wording)"
# Non-inferiority margin of the "does not beat" claim: naive concatenation may not gain more than this.
NAIVE_MARGIN = 0.01


def weighted_mcrmse(targets: np.ndarray, preds: np.ndarray):
    """``score(weights)`` for ``shared.report.bootstrap(batched=True)``: MCRMSE with row weights, for one
    (n,) or a block (B, n) of weight vectors."""
    squared = (targets - preds) ** 2  # (n, 2)

    def score(weights: np.ndarray) -> np.ndarray:
        w = np.atleast_2d(weights)
        mse = (w @ squared) / w.sum(axis=1, keepdims=True)
        return np.sqrt(mse).mean(axis=1)

    return score


def claim(text, baseline, technique, rungs, targets, prompts, *, evidence, seed=0, margin=0.0) -> Claim:
    """``technique`` against ``baseline`` (rung names) by a paired bootstrap over the training prompts."""
    base = weighted_mcrmse(targets, rungs[baseline].oof)
    tech = weighted_mcrmse(targets, rungs[technique].oof)
    return bootstrap(text, baseline, technique, lambda w: (base(w), tech(w)), len(targets),
                     higher_is_better=False, evidence=evidence, groups=prompts, group_name="prompts",
                     margin=margin, seed=seed, batched=True)  # fmt: skip


def markdown(frame: pd.DataFrame) -> str:
    """The report's pipe tables: floats with 4 decimals (``shared.report.markdown_table``)."""
    return markdown_table(frame, decimals=4)


def ladder_table(rungs, targets: np.ndarray) -> pd.DataFrame:
    """One row per rung: pooled-OOF MCRMSE, each target's RMSE, the folds', the test score, seconds, note."""
    rows = []
    for r in rungs:
        err = target_rmse(targets, r.oof)
        rows.append({"rung": r.name, "CV MCRMSE": r.cv, **{f"{t} RMSE": float(e) for t, e in zip(TARGETS, err, strict=True)},
                     "folds": ", ".join(f"{f:.3f}" for f in r.folds),
                     "test MCRMSE": "—" if r.test_score is None else r.test_score,
                     "seconds": f"{r.seconds:.0f}", "note": r.note})  # fmt: skip
    return pd.DataFrame(rows)


def prompt_table(rungs, targets: np.ndarray, prompts: np.ndarray) -> pd.DataFrame:
    """MCRMSE of each rung on each training prompt (the folds hold whole prompts)."""
    table = pd.DataFrame({"prompt": pd.unique(prompts)})
    for r in rungs:
        table[r.name] = rmse_by(targets, r.oof, prompts)["mcrmse"].to_numpy()
    return table


def fold_table(rungs, targets: np.ndarray, fold: np.ndarray) -> pd.DataFrame:
    """Content and wording RMSE of each rung on each fold, as "content / wording"."""
    table = pd.DataFrame({"rung": [r.name for r in rungs]})
    for k in range(int(fold.max()) + 1):
        table[f"fold {k}"] = [
            " / ".join(f"{e:.3f}" for e in target_rmse(targets[fold == k], r.oof[fold == k])) for r in rungs
        ]  # fmt: skip
    return table


def write(
    out: Path, rungs, found: list[Claim], artefacts: dict, *, data: str, preset: str, settings: dict
) -> dict:
    """Write report.md into ``out`` (the seed-spread plot is written by the caller); return results.json."""
    targets, prompts = artefacts["targets"], artefacts["prompts"]
    best = min(rungs, key=lambda r: r.cv)
    lines = [
        f"# commonlit-reproduce — {data} data, {preset} preset",
        "",
        f"Models: {artefacts['model_line']}. Scores: MCRMSE (mean of the content and wording RMSEs; lower is "
        f"better) of the pooled out-of-fold predictions; folds hold whole prompts ({artefacts['folds_line']}); "
        "test: the held-out test labels when the data has them (the sample does, on prompts unseen in training).",
        "",
        "## Ladder",
        "",
        markdown(ladder_table(rungs, targets)),
        "",
        "## Per fold (out of fold): content / wording RMSE",
        "",
        markdown(fold_table(rungs, targets, artefacts["fold"])),
        "",
        "## Per prompt (out of fold): MCRMSE",
        "",
        markdown(prompt_table(rungs, targets, prompts)),
        "",
        "## Seeds",
        "",
        "![CV over seeds](seed_spread.png)",
        "",
        markdown(pd.DataFrame(artefacts["seeds"])),
        "",
        "## Ensemble weights (fitted on all folds; the CV above uses weights fitted on the other folds)",
        "",
        markdown(pd.DataFrame(artefacts["weights"])),
        "",
        "## Fold models against a full-data model (test labels)",
        "",
        artefacts["full_data_line"],
        "",
        "## LLM-generated data",
        "",
        artefacts["generated_line"],
        "",
        *claims_markdown(found),
        f"`submission.csv`: test predictions of `{best.name}` (best CV); `models/` holds what "
        "`commonlit-predict` needs to write it again.",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    experiments = [{"name": r.name, "cv": r.cv, "folds": r.folds, "seconds": r.seconds, "test": r.test_score,
                    **{f"{t}_rmse": float(e) for t, e in zip(TARGETS, target_rmse(targets, r.oof), strict=True)}, "note": r.note} for r in rungs]  # fmt: skip
    return results(chapter="commonlit", metric=METRIC, higher_is_better=False, data=data, preset=preset,
                   experiments=experiments, claims=found, best=best.name, settings=settings,
                   seeds=artefacts["seeds"], ensemble_weights=artefacts["weights"],
                   generated=artefacts["generated"], n_summaries=len(targets),
                   n_prompts=len(np.unique(prompts)))  # fmt: skip
