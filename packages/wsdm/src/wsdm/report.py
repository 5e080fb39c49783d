"""``report.md`` and results.json's content for ``wsdm-reproduce``, with the write-ups' claims decided beyond
their noise.

A claim compares two rungs' out-of-fold accuracy: ``delta`` is the technique's gain and ``interval`` its 90 %
paired bootstrap interval over pairs (both rungs scored on the same resampled pairs). The quantisation claim
is a non-inferiority claim: it holds when the whole interval lies above -1 point of accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shared import metrics
from shared.report import EVIDENCE, Claim, bootstrap, claims_markdown, markdown_table, results
from wsdm.experiment import accuracy
from wsdm.tta import picks_a

METRIC = "accuracy of the out-of-fold predictions of train.parquet's pairs"
NON_INFERIORITY = 0.01  # one point of accuracy
TOP_LANGUAGES = 8  # columns of the per-language table


def weighted_mean(values: np.ndarray):
    """``score(weights)`` for ``shared.report.bootstrap(batched=True)``: the weighted mean of ``values``."""

    def score(weights: np.ndarray) -> np.ndarray:
        w = np.atleast_2d(weights)
        return (w @ values) / w.sum(axis=1)

    return score


def worst(evidence) -> str:
    """The weakest of several rungs' evidence: a comparison is only as good as its weaker side."""
    return max(evidence, key=EVIDENCE.index)


def claim(
    text: str, baseline: str, technique: str, rungs: dict, prep, *, margin: float = 0.0, seed: int = 0
) -> Claim:
    """``technique`` against ``baseline`` on the out-of-fold pairs; the evidence is the weaker of the two."""
    base = weighted_mean(accuracy(rungs[baseline].predictions.oof, prep.y))
    tech = weighted_mean(accuracy(rungs[technique].predictions.oof, prep.y))
    evidence = worst((rungs[baseline].evidence, rungs[technique].evidence))
    return bootstrap(text, baseline, technique, lambda w: (base(w), tech(w)), len(prep.y), higher_is_better=True,
                     evidence=evidence, margin=margin, seed=seed, batched=True)  # fmt: skip


def claims(rungs: dict, prep, seed: int) -> list[Claim]:
    """The write-ups' findings, each checked on this run (a claim whose rungs did not run is left out)."""
    members = [m for m in ("classifier+tta", "generation+tta", "distilled+tta") if m in rungs]
    # on GPU the student was trained on a 4-bit base (QLoRA): its bf16 reload is the reference there
    reference = "distilled+tta-bf16" if "distilled+tta-bf16" in rungs else "distilled+tta"
    best_member = max(members, key=lambda m: accuracy(rungs[m].predictions.oof, prep.y).mean(), default=None)
    specs = [
        ("the fine-tuned classifier beats the zero-shot judge", "zero-shot", "classifier", 0.0),
        ("the fine-tuned classifier beats the TF-IDF/length baseline", "features", "classifier", 0.0),
        ("the generation head beats the classification head", "classifier", "generation", 0.0),
        ("distillation from the teacher's soft labels raises accuracy", "classifier", "distilled", 0.0),
        ("swap TTA raises accuracy", "distilled", "distilled+tta", 0.0),
        ("the ensemble beats its best member", best_member, "ensemble", 0.0),
        ("the cascade (least certain rows to the teacher) beats the student alone", "distilled+tta", "cascade", 0.0),
        ("8-bit weights cost less than 1 point of accuracy", reference, "distilled+tta-int8", NON_INFERIORITY),
        ("4-bit weights cost less than 1 point of accuracy", reference, "distilled+tta-nf4", NON_INFERIORITY),
        ("AutoRound 4-bit weights cost less than 1 point of accuracy", reference, "distilled+tta-autoround",
         NON_INFERIORITY),
    ]  # fmt: skip
    return [claim(text, base, tech, rungs, prep, margin=margin, seed=seed) for text, base, tech, margin in specs
            if base in rungs and tech in rungs and base != tech]  # fmt: skip


def cv_accuracy(p_a: np.ndarray, prep) -> float:
    """The competition's metric (``shared.metrics.accuracy``) of the out-of-fold winners."""
    return metrics.accuracy(prep.train["winner"].tolist(), np.where(p_a > 0.5, "model_a", "model_b").tolist())


def test_score(rung, prep) -> float | None:
    """Accuracy on the test when its labels are known (the sample), else None."""
    return None if prep.test_y is None else float(accuracy(rung.predictions.test, prep.test_y).mean())


def ladder_table(rungs, prep) -> pd.DataFrame:
    rows = []
    for rung in rungs:
        right = accuracy(rung.predictions.oof, prep.y)
        folds = [right[prep.fold == k].mean() for k in range(prep.n_folds)]
        test = test_score(rung, prep)
        rows.append({"rung": rung.name, "CV accuracy": cv_accuracy(rung.predictions.oof, prep), "folds": ", ".join(f"{f:.3f}" for f in folds),
                     "test": "—" if test is None else test, "picks A": picks_a(rung.predictions.oof),
                     "seconds": f"{rung.seconds:.0f}", "evidence": rung.evidence, "note": rung.note})  # fmt: skip
    return pd.DataFrame(rows)


def language_table(rungs, prep) -> pd.DataFrame:
    """Out-of-fold accuracy per language (the most frequent ones), one row per rung."""
    language = prep.train["language"].fillna("unknown").to_numpy()
    top = pd.Series(language).value_counts().index[:TOP_LANGUAGES]
    rows = []
    for rung in rungs:
        right = accuracy(rung.predictions.oof, prep.y)
        rows.append({"rung": rung.name, **{f"{lang} ({(language == lang).sum()})": float(right[language == lang].mean())
                                           for lang in top}})  # fmt: skip
    return pd.DataFrame(rows)


def bias_table(rungs, prep) -> pd.DataFrame:
    """How often each model picks A, before and after swap TTA, against how often A won."""
    rows = []
    for rung in rungs:
        if rung.before_tta is None:
            continue
        before = next(r for r in rungs if r.name == rung.before_tta)
        rows.append({"model": before.name, "picks A": picks_a(before.predictions.oof),
                     "picks A with TTA": picks_a(rung.predictions.oof), "A won": float((prep.y == 0).mean()),
                     "accuracy": float(accuracy(before.predictions.oof, prep.y).mean()),
                     "accuracy with TTA": float(accuracy(rung.predictions.oof, prep.y).mean())})  # fmt: skip
    return pd.DataFrame(rows)


def quantisation_table(rungs, prep, quantised: list[dict]) -> pd.DataFrame:
    """Size, speed and accuracy of the student's fold models in each precision (``Ladder.quantise``)."""
    by_name = {r.name: r for r in rungs}
    return pd.DataFrame([{"weights": q["weights"], "CV accuracy": float(accuracy(by_name[q["rung"]].predictions.oof,
                                                                                  prep.y).mean()),
                          "weights MB (one fold)": q["weights MB"], "rows/s": q["rows"] / q["seconds"]}
                         for q in quantised if q["rung"] in by_name])  # fmt: skip


def markdown(frame: pd.DataFrame) -> str:
    return markdown_table(frame, decimals=4)


def write(out: Path, rungs, found: list[Claim], prep, artefacts: dict, *, data: str, preset: str,
          settings: dict) -> dict:  # fmt: skip
    """report.md in ``out``; returns results.json's content."""
    base = artefacts["base"]
    quant = quantisation_table(rungs, prep, artefacts["quantised"])
    lines = [
        "# wsdm-reproduce", "",
        f"Data: {data} ({len(prep.train)} training pairs, {len(prep.test)} test pairs); preset {preset}; "
        f"{prep.n_folds} folds stratified on `winner`; student `{base.backbone}`, max length {base.max_length} "
        f"({base.truncation} truncation). Metric: {METRIC}. A won {float((prep.y == 0).mean()):.1%} of the pairs.", "",
        *[f"- {note}" for note in artefacts["data"].notes], "",
        "## Ladder", "", markdown(ladder_table(rungs, prep)), "",
        "## Accuracy per language (out of fold)", "", markdown(language_table(rungs, prep)), "",
        "## Position bias: how often the model picks A", "", markdown(bias_table(rungs, prep)), "",
        "## Quantised weights (bitsandbytes, AutoRound; the student's fold models run again)", "", markdown(quant), "",
        "rows/s counts every prediction of the reload (each fold's validation rows and the whole test, swapped "
        "too) over its wall time on this machine, loading included; a tiny model's embeddings (kept in full "
        "precision) are a large share of its weights, so the size ratio of a 9B model is larger. On CPU, "
        "bitsandbytes dequantises on the fly and is slower than float32; the benchmark is "
        "`packages/wsdm/benchmarks/quantization.py`.", "",
        "Distillation: each fold's student learns from the teacher's out-of-fold probabilities of its training "
        "pairs; the teachers that made them trained on the student's validation fold, so a little of its labels "
        "reach the student (as in the write-ups, who distilled the same way).", "",
        *claims_markdown(found),
    ]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
    experiments = []
    for rung in rungs:
        right = accuracy(rung.predictions.oof, prep.y)
        experiments.append({"name": rung.name, "cv": cv_accuracy(rung.predictions.oof, prep),
                            "folds": [float(right[prep.fold == k].mean()) for k in range(prep.n_folds)],
                            "seconds": rung.seconds, "test": test_score(rung, prep), "evidence": rung.evidence,
                            "picks_a": picks_a(rung.predictions.oof)})  # fmt: skip
    return results(chapter="wsdm", metric=METRIC, higher_is_better=True, data=data, preset=preset,
                   experiments=experiments, claims=found, settings=settings,
                   quantisation=quant.to_dict(orient="records"))  # fmt: skip
