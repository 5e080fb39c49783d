"""``report.md``, ``recall.png`` and results.json's content for ``science-exam-reproduce``, with the
write-ups' claims decided beyond their noise.

A claim compares two rungs' out-of-fold MAP@3 (higher is better): ``delta`` is the technique's gain,
``interval`` its 90 % paired bootstrap interval over *questions* — each question's MAP@3 term is independent
of the others', and both rungs are scored on the same resampled questions. The per-question terms make a
block of resamples one matrix product.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shared.report import Claim, bootstrap, claims_markdown, markdown_table, results

METRIC = "MAP@3 of the pooled out-of-fold option rankings"


def mean_ap(ap: np.ndarray):
    """``score(weights)`` for ``shared.report.bootstrap(batched=True)``: MAP@3 with question weights."""

    def score(weights: np.ndarray) -> np.ndarray:
        w = np.atleast_2d(weights)
        return (w @ ap) / w.sum(axis=1)

    return score


def claim(text, baseline, technique, rungs, *, evidence, seed=0) -> Claim:
    """``technique`` against ``baseline`` (rung names) by a paired bootstrap over the training questions."""
    base, tech = mean_ap(rungs[baseline].ap), mean_ap(rungs[technique].ap)
    return bootstrap(text, baseline, technique, lambda w: (base(w), tech(w)), len(rungs[baseline].ap),
                     higher_is_better=True, evidence=evidence, group_name="questions", seed=seed,
                     batched=True)  # fmt: skip


def markdown(frame: pd.DataFrame) -> str:
    """The report's pipe tables: floats with 4 decimals (``shared.report.markdown_table``)."""
    return markdown_table(frame, decimals=4)


def ladder_table(rungs) -> pd.DataFrame:
    """One row per rung: pooled-OOF MAP@3, the folds', the test score, seconds, note."""
    return pd.DataFrame([{"rung": r.name, "CV MAP@3": r.cv, "folds": ", ".join(f"{f:.3f}" for f in r.folds),
                          "test MAP@3": "—" if r.test_score is None else r.test_score,
                          "seconds": f"{r.seconds:.0f}", "note": r.note} for r in rungs])  # fmt: skip


def kind_table(rungs, kinds: pd.Series) -> pd.DataFrame:
    """Out-of-fold MAP@3 of each rung on each kind of question (the sample records what each one needs)."""
    table = pd.DataFrame({"kind": sorted(kinds.unique())})
    table["questions"] = [int((kinds == k).sum()) for k in table["kind"]]
    for r in rungs:
        table[r.name] = [float(r.ap[(kinds == k).to_numpy()].mean()) for k in table["kind"]]
    return table


def plot_recall(recall: pd.DataFrame, path: Path) -> None:
    """Grouped bars: recall@k of each retrieval configuration, one colour per k."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [c for c in recall.columns if c.startswith("recall@")]
    fig, ax = plt.subplots(figsize=(2 + 1.3 * len(recall), 3.8))
    width = 0.8 / len(ks)
    x = np.arange(len(recall))
    for j, k in enumerate(ks):
        ax.bar(x + (j - (len(ks) - 1) / 2) * width, recall[k], width, label=k)
    ax.set_xticks(x, recall["retrieval"], rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of gold passages found")
    ax.set_title("Retriever recall on the training questions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(
    out: Path, rungs, found: list[Claim], artefacts: dict, *, data: str, preset: str, settings: dict
) -> dict:
    """Write report.md into ``out`` (and recall.png when recall was measured); return results.json."""
    best = max(rungs, key=lambda r: r.cv)
    recall = artefacts["recall"]
    if recall is not None:
        plot_recall(recall, out / "recall.png")
        recall_lines = ["![recall@k](recall.png)", "", markdown(recall)]
    else:
        recall_lines = [artefacts["recall_note"]]
    lines = [
        f"# science-exam-reproduce — {data} data, {preset} preset",
        "",
        f"{artefacts['model_line']}. Scores: MAP@3 of the pooled out-of-fold rankings over train.csv's "
        f"{artefacts['n_train']} questions ({artefacts['folds_line']}; the {artefacts['n_extra']} extra questions are "
        "in every fold's training data, never validated on); test: the test labels when the data has them.",
        "",
        f"Corpus: {artefacts['corpus_line']}",
        "",
        "## Ladder",
        "",
        markdown(ladder_table(rungs)),
        "",
    ]
    if artefacts.get("kinds") is not None:
        lines += [
            "## Per kind of question (out of fold)",
            "",
            markdown(kind_table(rungs, artefacts["kinds"])),
            "",
        ]
    lines += [
        "## Retrieval",
        "",
        *recall_lines,
        "",
        "## Cascade and ensemble",
        "",
        artefacts["combine_line"],
        "",
        "## Question generation (§8.5.2)",
        "",
        artefacts["qgen_line"],
        "",
        *claims_markdown(found),
        f"`submission.csv`: test rankings of `{best.name}` (best CV); `models/` holds what "
        "`science-exam-predict` needs to write it again.",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    experiments = [{"name": r.name, "cv": r.cv, "folds": r.folds, "seconds": r.seconds, "test": r.test_score,
                    "note": r.note} for r in rungs]  # fmt: skip
    return results(chapter="science-exam", metric=METRIC, higher_is_better=True, data=data, preset=preset,
                   experiments=experiments, claims=found, best=best.name, settings=settings,
                   recall=None if recall is None else recall.to_dict(orient="records"),
                   question_generation=artefacts["qgen"], n_train=artefacts["n_train"],
                   n_extra=artefacts["n_extra"])  # fmt: skip
