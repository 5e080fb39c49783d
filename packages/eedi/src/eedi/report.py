"""``report.md``, ``recall.png`` and results.json's content for ``eedi-reproduce``, with the write-ups' claims
decided beyond their noise.

A claim compares two rungs' out-of-fold MAP@25 (higher is better): ``delta`` is the technique's gain and
``interval`` its 90 % paired bootstrap interval over *questions* — a question's three incorrect answers
share its text and its fold, so they are resampled together, and both rungs are scored on the same draw.
A claim about unseen misconceptions is measured on the rows whose misconception no training row of their
fold has.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from eedi.configs import TOP
from shared.report import Claim, bootstrap, claims_markdown, markdown_table, results

METRIC = "MAP@25 of the out-of-fold rankings of train.csv's labelled (question, incorrect answer) rows"


def mean_ap(ap: np.ndarray):
    """``score(weights)`` for ``shared.report.bootstrap(batched=True)``: the mean of ``ap`` under row weights."""

    def score(weights: np.ndarray) -> np.ndarray:
        w = np.atleast_2d(weights)
        return (w @ ap) / w.sum(axis=1)

    return score


def claim(text: str, baseline: str, technique: str, rungs: dict, prep, *, rows: np.ndarray | None = None,
          seed: int = 0) -> Claim:  # fmt: skip
    """``technique`` against ``baseline`` on the out-of-fold rows (``rows``: a boolean subset), resampling
    questions; the evidence is the weaker of the two rungs'."""
    keep = np.ones(len(prep.truth), dtype=bool) if rows is None else rows
    base = rungs[baseline].oof.average_precision(prep.truth)[keep]
    tech = rungs[technique].oof.average_precision(prep.truth)[keep]
    base_score, tech_score = mean_ap(base), mean_ap(tech)
    order = ("model", "simulated", "mechanics")
    evidence = max(rungs[baseline].evidence, rungs[technique].evidence, key=order.index)
    groups = prep.train["QuestionId"].to_numpy()[keep]
    return bootstrap(text, baseline, technique, lambda w: (base_score(w), tech_score(w)), int(keep.sum()),
                     higher_is_better=True, evidence=evidence, groups=groups, group_name="questions", seed=seed,
                     batched=True)  # fmt: skip


def claims(rungs: dict, prep, seed: int, boosted: dict[str, str] | None = None) -> list[Claim]:
    """The write-ups' findings, each checked on this run (a claim whose rungs did not run is left out);
    ``boosted`` maps each boosted rung to the rung it boosts."""
    retrievers = [n for n in ("tfidf", "pretrained", "finetuned") if n in rungs]
    best_member = max(retrievers, key=lambda n: rungs[n].oof.average_precision(prep.truth).mean(), default=None)
    unseen = prep.row_unseen
    specs = [
        ("fine-tuning the retriever (MNRL, hard negatives) raises MAP@25", "pretrained", "finetuned", None),
        ("the retriever ensemble beats its best member", best_member, "ensemble", None),
        ("pointwise LLM reranking raises MAP@25", "ensemble", "pointwise", None),
        ("listwise reranking of the pointwise top raises MAP@25", "pointwise", "listwise", None),
        ("synthetic questions raise MAP@25 on unseen misconceptions", "ensemble", "ensemble+synthetic", unseen),
        ("synthetic questions raise the reranked pipeline's MAP@25 on unseen misconceptions", "listwise",
         "synthetic", unseen),
    ]
    specs += [(f"the unseen boost raises {source}'s MAP@25", source, name, None)
              for name, source in (boosted or {}).items()]
    found = []
    for text, base, tech, rows in specs:
        if base in rungs and tech in rungs and base != tech and (rows is None or rows.sum() >= 2):
            found.append(claim(text, base, tech, rungs, prep, rows=rows, seed=seed))
    return found


def markdown(frame: pd.DataFrame) -> str:
    return markdown_table(frame, decimals=4)


def test_score(ranked, prep) -> float | None:
    """MAP@25 on the test rows that the test labels (the sample's) give a misconception; None without them."""
    if prep.test_truth is None:
        return None
    known = prep.test_truth >= 0
    return float(ranked.subset(known).average_precision(prep.test_truth[known]).mean())


def _mean(values: np.ndarray, rows: np.ndarray) -> float:
    return float(values[rows].mean()) if rows.any() else float("nan")


def rung_row(rung, prep) -> dict:
    """One rung's scores: MAP@25 and recall@25 over every out-of-fold row, the seen and the unseen ones."""
    ap = rung.oof.average_precision(prep.truth)
    found = rung.oof.recall(prep.truth, TOP).astype(float)
    unseen = prep.row_unseen
    every = np.ones_like(unseen)
    return {"rung": rung.name, "CV MAP@25": _mean(ap, every), "MAP seen": _mean(ap, ~unseen),
            "MAP unseen": _mean(ap, unseen), "recall@25": _mean(found, every), "recall seen": _mean(found, ~unseen),
            "recall unseen": _mean(found, unseen), "folds": [_mean(ap, prep.fold == k) for k in range(prep.n_folds)],
            "test MAP@25": test_score(rung.test, prep), "seconds": rung.seconds, "evidence": rung.evidence,
            "note": rung.note}  # fmt: skip


def ladder_table(rungs, prep) -> pd.DataFrame:
    rows = []
    for rung in rungs:
        row = rung_row(rung, prep)
        row["folds"] = ", ".join(f"{f:.3f}" for f in row["folds"])
        row["test MAP@25"] = "—" if row["test MAP@25"] is None else row["test MAP@25"]
        row["seconds"] = f"{row['seconds']:.0f}"
        rows.append(row)
    return pd.DataFrame(rows)


def plot_recall(recall: pd.DataFrame, path: Path) -> None:
    """Recall@k curves of the retrieval rungs (out of fold): where a reranker's candidate count should sit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [int(c.removeprefix("recall@")) for c in recall.columns if c.startswith("recall@")]
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for _, row in recall.iterrows():
        ax.plot(ks, [row[f"recall@{k}"] for k in ks], marker="o", label=row["retriever"])
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_ylim(0, 1)
    ax.set_xlabel("candidates k")
    ax.set_ylabel("share of rows whose misconception is in the top k")
    ax.set_title("Retriever recall@k (out of fold)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(out: Path, rungs, found: list[Claim], prep, artefacts: dict, *, data: str, preset: str,
          settings: dict) -> dict:  # fmt: skip
    """Write report.md (and recall.png) into ``out``; return results.json's content."""
    best = max(rungs, key=lambda r: r.oof.average_precision(prep.truth).mean())
    recall, base = artefacts["recall"], artefacts["base"]
    lines = [f"# eedi-reproduce — {data} data, {preset} preset", ""]
    unseen = prep.row_unseen
    lines += [
        f"Embedder `{base.embedder}`; rerankers `{base.pointwise_backbone}` (pointwise, top "
        f"{base.pointwise_candidates}) and `{base.listwise_backbone}` (listwise, top {base.listwise_candidates}), "
        f"LoRA r={base.lora_r}. Scores: MAP@25 of the out-of-fold rankings of train.csv's {len(prep.truth)} labelled "
        f"rows of {prep.train['QuestionId'].nunique()} questions ({prep.n_folds} folds; {unseen.mean():.0%} of the rows "
        f"have a misconception that no training row of their fold has: `unseen`); {len(prep.synthetic)} synthetic "
        f"rows ({', '.join(artefacts['synthetic']) or 'none'}) are training data only; test: the test labels when the "
        "data has them.",
        "",
        "## Ladder",
        "",
        markdown(ladder_table(rungs, prep)),
        "",
        "## Recall of the retrievers",
        "",
    ]
    if recall is not None and len(recall):
        plot_recall(recall, out / "recall.png")
        lines += ["![recall@k](recall.png)", "", markdown(recall), ""]
    if artefacts.get("templated"):
        lines += ["## Synthetic questions", "", "The sample's `extra/synthetic.csv` is written by the templates that "
                  "wrote its test questions, standing in for an LLM writer (`eedi-generate`): the synthetic claims are "
                  "`simulated` — they show what questions like the test's, for misconceptions without any, do to the "
                  "retriever, not what an LLM's questions would.", ""]  # fmt: skip
    lines += ["## Unseen boost", "", artefacts["boost_line"], "", *claims_markdown(found),
              f"`submission.csv`: test rankings of `{best.name}` (best CV); `models/` holds what `eedi-predict` "
              "needs to write it again.", ""]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines))
    experiments = []
    for r in rungs:
        row = rung_row(r, prep)
        experiments.append({"name": r.name, "cv": row["CV MAP@25"], "folds": row["folds"], "seconds": r.seconds,
                            "cv_seen": row["MAP seen"], "cv_unseen": row["MAP unseen"], "recall@25": row["recall@25"],
                            "recall@25_seen": row["recall seen"], "recall@25_unseen": row["recall unseen"],
                            "test": row["test MAP@25"], "evidence": r.evidence, "note": r.note})  # fmt: skip
    return results(chapter="eedi", metric=METRIC, higher_is_better=True, data=data, preset=preset,
                   experiments=experiments, claims=found, best=best.name, settings=settings,
                   recall=None if recall is None else recall.to_dict(orient="records"),
                   unseen_share=float(unseen.mean()), n_rows=len(prep.truth), n_synthetic=len(prep.synthetic),
                   boost=artefacts["boost_line"])  # fmt: skip
