"""``report.md``, ``results.json``, ``accuracy_vs_samples.png``, ``records.csv`` and ``submission.csv`` of
``aimo2-reproduce``: what each rung scored, what it cost in tokens and time, and which claims held."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from shared.report import claims_markdown, markdown_table, results, write_results

# The columns of the results tables printed at the end of a run (report.md has them all).
CONSOLE_COLUMNS = ["rung", "correct", "samples/problem", "tokens/problem", "seconds/problem",
                   "unanswered in time (per run)"]  # fmt: skip
EVALUATION_COLUMNS = ["model", "style", "mode", "accuracy", "level 1", "level 2", "level 3", "level 4",
                      "tokens/completion", "tokens/correct answer"]  # fmt: skip


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


def evaluation_table(evaluations) -> pd.DataFrame:
    """One row per (model, style, mode): accuracy overall and per level, tokens per completion and per
    correct answer."""
    return pd.DataFrame([e.summary() for e in evaluations])


def evaluation_experiment(evaluation) -> dict:
    """results.json's entry of one model evaluation: accuracy, its samples as the folds."""
    frame = pd.DataFrame(evaluation.records)
    folds = frame.groupby("repeat")["correct"].mean()
    return {"name": evaluation.name, "cv": float(frame["correct"].mean()), "folds": [float(f) for f in folds],
            "seconds": evaluation.seconds, "tokens_per_completion": float(frame["tokens"].mean()),
            "evidence": "model"}  # fmt: skip


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


def _training_logs(logs: dict) -> list[str]:
    """The SFT losses and the GRPO rewards and lengths, as the trainers logged them."""
    lines = []
    for name in ("sft-cot", "sft-tir"):
        losses = [e["loss"] for e in logs.get(name, []) if "loss" in e]
        if losses:
            lines.append(
                f"- `{name}`: training loss {losses[0]:.3f} → {losses[-1]:.3f} over {len(losses)} logged steps"
            )
    grpo = logs.get("grpo", {})
    if grpo.get("steps"):
        lines += ["", "GRPO rewards per logged step (mean over the group's completions):", ""]
        lines.append(markdown(pd.DataFrame(grpo["steps"])))
    return [*lines, ""]


def _training_section(trained, logs: dict) -> list[str]:
    return ["## Training ladder (SFT → GRPO → merge)", "", *_training_logs(logs), markdown(rung_table(trained)), ""]


def _model_section(model) -> list[str]:
    """The model ladder: how it was trained, what each model scored, the voting rungs on it, the submission."""
    preset = model.settings
    lines = ["## Training ladder on the CPU model (base → SFT → GRPO → merge)", "",
             f"The curriculum is in `{model.curriculum.name}/` (held-out problems: reference.csv, levels in "
             "metadata.csv). Accuracy per level, greedy and sampled; tokens per completion and per correct answer.",
             "", markdown(evaluation_table(model.evaluations)), ""]  # fmt: skip
    lines += _training_logs(model.logs)
    lines += [f"## Inference ladder on the {model.chosen} model (budget in decoding steps)", "",
              markdown(rung_table(model.rungs.values())), "",
              f"`submission.csv`: the {model.chosen} model's early-stopped vote (N = {preset.n_samples}, batches of "
              f"{preset.batch_size}, {preset.min_agree} agreeing with a lead of {preset.margin}) over the "
              "curriculum's test.csv through the gateway; `models/` holds the model and `inference.yaml`, from which "
              "`aimo2-predict --config models/inference.yaml --data-dir curriculum` answers the same.", ""]  # fmt: skip
    return lines


def write(out: Path, rungs, trained, curve: dict, logs: dict, claims, *, data: str, preset: str, backend: str,
          settings: dict, model=None) -> dict:  # fmt: skip
    """Write every artefact into ``out`` and return results.json's content. With ``model`` (the cpu preset's
    :class:`~aimo2.model_ladder.ModelLadder`), its claims are the chapter's and the simulated rungs a what-if."""
    table = rung_table(rungs)
    simulated = backend == "simulated"
    if model is not None:
        experiments = [*(experiment(r) for r in model.rungs.values()),
                       *(evaluation_experiment(e) for e in model.evaluations),
                       *(experiment(r) | {"name": f"simulated: {r.name}", "evidence": "simulated"} for r in rungs)]  # fmt: skip
        content = results(chapter="aimo2", metric="correct answers (aimo2_score), mean over repeats; model "
                          "evaluations: fraction correct", higher_is_better=True, data=data, preset=preset,
                          experiments=experiments, claims=model.claims, backend=backend, settings=settings,
                          what_if_claims=[c.to_dict() for c in claims])  # fmt: skip
        model.submission.to_csv(out / "submission.csv", index=False)
        every = [
            *((r.name, r.records) for r in model.rungs.values()),
            *((f"simulated: {r.name}", r.records) for r in rungs),
        ]
    else:
        content = results(chapter="aimo2", metric="correct answers (aimo2_score), mean over repeats",
                          higher_is_better=True, data=data, preset=preset,
                          experiments=[experiment(r) for r in [*rungs, *trained]], claims=claims, backend=backend,
                          settings=settings)  # fmt: skip
        best = max(rungs, key=lambda r: np.mean(r.scores))
        best.submission.to_csv(out / "submission.csv", index=False)
        every = [(r.name, r.records) for r in [*rungs, *trained]]
    pd.DataFrame([rec | {"rung": name} for name, records in every for rec in records]).to_csv(
        out / "records.csv", index=False
    )
    plot_curve(curve, out / "accuracy_vs_samples.png")
    lines = [f"# aimo2-reproduce — {data} data, {preset} preset, {backend} backend", ""]
    if model is not None:
        lines += _model_section(model)
        lines += claims_markdown(model.claims)
        lines += ["## What-if: the simulated backend on the olympiad problems", ""]
    lines += [
        "Simulated backend: no model ran; answers and lengths were drawn per problem from level-dependent "
        "distributions, and seconds are simulated decoding time."
        if simulated
        else f"Real generations from `{settings['model']}`.",
        "",
        "## Inference ladder" if model is None else "",
        "",
        markdown(table),
        "",
        "![accuracy vs samples](accuracy_vs_samples.png)",
        "",
        *claims_markdown(claims),
    ]
    if model is None:
        lines += [
            f"`submission.csv`: the answers of `{best.name}` (first repeat) in Kaggle's `id,answer` layout.",
            "",
        ]
    if trained:
        lines += _training_section(trained, logs)
    (out / "report.md").write_text("\n".join(lines))
    write_results(out / "results.json", content)
    return content
