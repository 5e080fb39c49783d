"""The run's report: a table of the metric's parts per experiment and a per-identity AUC heatmap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from jigsaw.experiment import ExperimentResult

PARTS = [
    ("overall_auc", "overall AUC"),
    ("subgroup_auc", "M(subgroup)"),
    ("bpsn_auc", "M(BPSN)"),
    ("bnsp_auc", "M(BNSP)"),
    ("final", "final"),
]
AUC_KINDS = [("subgroup_auc", "subgroup AUC"), ("bpsn_auc", "BPSN AUC"), ("bnsp_auc", "BNSP AUC")]


def metric_table(results: list[ExperimentResult], labelled: str | None = None) -> str:
    """Markdown table of the metric's parts: out of fold (with folds and time), or on a labelled test file."""
    extra = [] if labelled else ["folds (final)", "seconds"]
    lines = [
        "| experiment | " + " | ".join([label for _, label in PARTS] + extra) + " |",
        "|---" * (len(PARTS) + len(extra) + 1) + "|",
    ]
    for r in results:
        scores = r.labelled[labelled] if labelled else r.cv
        cells = [f"{scores[k]:.4f}" for k, _ in PARTS]
        if not labelled:
            cells += [", ".join(f"{f:.4f}" for f in r.folds), f"{r.seconds:.1f}"]
        lines.append(f"| {r.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def identity_heatmap(results: list[ExperimentResult], path: Path) -> None:
    """One panel per AUC kind, stacked vertically so the figure stays readable at normal size; rows: the
    scored identities, columns: experiments. Low (red) cells are the bias."""
    identities = results[0].breakdown["identity"].tolist()
    panel_height = 0.3 * len(identities) + 0.6
    fig = Figure(figsize=(3.2 + 0.62 * len(results), 3 * panel_height + 1.6), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    for ax, (kind, title) in zip(axes, AUC_KINDS, strict=True):
        grid = np.column_stack([r.breakdown[kind].to_numpy() for r in results])
        image = ax.imshow(grid, vmin=0.5, vmax=1.0, cmap="RdYlGn", aspect="auto")
        for (i, j), value in np.ndenumerate(grid):
            ax.text(j, i, "n/a" if np.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title(title, fontsize=10)
        ax.set_yticks(range(len(identities)), identities, fontsize=8)
    axes[-1].set_xticks(range(len(results)), [r.name for r in results], rotation=35, ha="right", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.6, label="AUC")
    fig.savefig(path, dpi=100)
