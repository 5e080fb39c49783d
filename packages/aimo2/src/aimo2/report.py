"""``report.md``, ``results.json``, ``accuracy_vs_samples.png``, ``records.csv`` and ``submission.csv`` of
``aimo2-reproduce``: what each rung scored, what it cost in tokens and time, and which claims held."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from shared.report import claims_markdown, markdown_table, results, write_results

# The columns of the results table printed at the end of a run (report.md has them all).
CONSOLE_COLUMNS = ["rung", "correct", "samples/problem", "tokens/problem", "seconds/problem",
                   "unanswered in time (per run)"]  # fmt: skip


def markdown(frame: pd.DataFrame) -> str:
    """The report's pipe tables: floats with 3 decimals (``shared.report.markdown_table``)."""
    return markdown_table(frame, decimals=3)


def rung_table(rungs) -> pd.DataFrame:
    """One row per rung: score over repeats and what it cost per problem."""
    rows = []
    for rung in rungs:
        records = pd.DataFrame(rung.records)
        scores = np.asarray(rung.scores, dtype=float)
        status = records["status"].value_counts()
        rows.append({
            "rung": rung.name,
            "correct": f"{scores.mean():.2f} ± {scores.std():.2f} / {rung.n_problems}",
            "accuracy": scores.mean() / rung.n_problems,
            "samples/problem": records["n_samples"].mean(),
            "tokens/problem": records["tokens"].mean(),
            "tool calls/problem": records.get("tool_calls", pd.Series([0])).fillna(0).mean(),
            "seconds/problem": records.get("seconds", pd.Series([0.0])).fillna(0.0).mean(),
            "unanswered in time (per run)": (status.get("late", 0) + status.get("not_served", 0)) / len(scores),
            "wall s": rung.seconds,
            "note": rung.note,
        })  # fmt: skip
    return pd.DataFrame(rows)


def experiment(rung) -> dict:
    """results.json's entry of one rung: the repeats are its folds."""
    tokens = pd.DataFrame(rung.records)["tokens"].mean()
    return {
        "name": rung.name,
        "cv": float(np.mean(rung.scores)),
        "folds": [float(s) for s in rung.scores],
        "seconds": rung.seconds,
        "tokens_per_problem": float(tokens),
        "note": rung.note,
    }


def plot_curve(curve: dict, path: Path) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(curve["samples"], curve["accuracy"], marker="o", markersize=3)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("samples per problem (majority vote)")
    ax.set_ylabel("fraction of problems correct")
    ax.set_title("Accuracy vs samples")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _training_section(trained, logs: dict) -> list[str]:
    lines = ["## Training ladder (SFT → GRPO → merge)", ""]
    for name in ("sft-cot", "sft-tir"):
        losses = [e["loss"] for e in logs.get(name, []) if "loss" in e]
        if losses:
            lines.append(
                f"- `{name}`: training loss {losses[0]:.3f} → {losses[-1]:.3f} over {len(losses)} logged steps"
            )
    grpo = logs.get("grpo", {})
    if grpo.get("steps"):
        lines += ["", "GRPO rewards per step (mean over the group's completions):", ""]
        lines.append(markdown(pd.DataFrame(grpo["steps"])))
    lines += ["", markdown(rung_table(trained)), ""]
    return lines


def write(out: Path, rungs, trained, curve: dict, logs: dict, claims, *, data: str, preset: str, backend: str,
          settings: dict) -> dict:  # fmt: skip
    """Write every artefact into ``out`` and return results.json's content."""
    table = rung_table(rungs)
    content = results(chapter="aimo2", metric="correct answers (aimo2_score), mean over repeats",
                      higher_is_better=True, data=data, preset=preset,
                      experiments=[experiment(r) for r in [*rungs, *trained]], claims=claims, backend=backend,
                      settings=settings)  # fmt: skip
    best = max(rungs, key=lambda r: np.mean(r.scores))
    best.submission.to_csv(out / "submission.csv", index=False)
    pd.DataFrame([rec | {"rung": r.name} for r in [*rungs, *trained] for rec in r.records]).to_csv(
        out / "records.csv", index=False
    )
    plot_curve(curve, out / "accuracy_vs_samples.png")
    simulated = backend == "simulated"
    lines = [
        f"# aimo2-reproduce — {data} data, {preset} preset, {backend} backend",
        "",
        "Simulated backend: no model ran; answers and lengths were drawn per problem from level-dependent "
        "distributions, and seconds are simulated decoding time."
        if simulated
        else f"Real generations from `{settings['model']}`.",
        "",
        "## Inference ladder",
        "",
        markdown(table),
        "",
        "![accuracy vs samples](accuracy_vs_samples.png)",
        "",
        *claims_markdown(claims),
        f"`submission.csv`: the answers of `{best.name}` (first repeat) in Kaggle's `id,answer` layout.",
        "",
    ]
    if trained:
        lines += _training_section(trained, logs)
    (out / "report.md").write_text("\n".join(lines))
    write_results(out / "results.json", content)
    return content
