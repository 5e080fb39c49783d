"""``jigsaw-reproduce``: the chapter's ladder in one command, with report.md, results.json and submission.csv.

Ladder so far: TF-IDF + logistic regression, then + metric-aligned weights (§6.5.1), then + soft targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from jigsaw.data import DataError, load
from jigsaw.experiment import ExperimentConfig, ExperimentResult, run_experiment
from jigsaw.paths import resolve_data_dir, run_dir
from jigsaw.report import identity_heatmap, metric_table

LADDER = [
    ExperimentConfig(name="tfidf-lr"),
    ExperimentConfig(name="tfidf-lr-weighted", weighting="metric"),
    ExperimentConfig(name="tfidf-lr-weighted-soft", weighting="metric", soft_targets=True),
]
# (finding of the write-ups, baseline experiment, technique experiment)
CLAIMS = [
    ("metric-aligned weighting raises the final metric", "tfidf-lr", "tfidf-lr-weighted"),
    (
        "soft targets (BCE on the annotator fraction) raise the final metric",
        "tfidf-lr-weighted",
        "tfidf-lr-weighted-soft",
    ),
]


def check_claims(results: dict[str, ExperimentResult]) -> list[dict]:
    return [
        {
            "text": text,
            "baseline": base,
            "technique": tech,
            "holds": bool(results[tech].cv["final"] > results[base].cv["final"]),
        }
        for text, base, tech in CLAIMS
    ]


def write_report(
    out: Path, results: list[ExperimentResult], claims: list[dict], data: str, preset: str
) -> None:
    identity_heatmap(results, out / "identity_aucs.png")
    best = max(results, key=lambda r: r.cv["final"])
    lines = [
        "# Jigsaw Unintended Bias — reproduce",
        "",
        f"Data: {data}. Preset: {preset}. Metric: the competition's final bias-weighted AUC (higher is better),",
        "on out-of-fold predictions of a stratified 5-fold CV. M(·) are the power means (p = -5) over the nine",
        "scored identities.",
        "",
        "## Cross-validation",
        "",
        metric_table(results),
        "",
    ]
    for name in results[0].labelled:
        lines += [f"## Labelled test set: {name}", "", metric_table(results, labelled=name), ""]
    lines += [
        "## Per-identity AUCs (out of fold)",
        "",
        "![per-identity subgroup, BPSN and BNSP AUC](identity_aucs.png)",
        "",
        "## Claims",
        "",
        *[
            f"- {'holds' if c['holds'] else 'does NOT hold'}: {c['text']} ({c['baseline']} → {c['technique']})"
            for c in claims
        ],
        "",
        f"submission.csv comes from the best experiment by CV: **{best.name}** ({best.cv['final']:.4f}).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", help="Kaggle files (default: competitions/jigsaw/data, else the generated sample)"
    )
    parser.add_argument("--output-dir", help="default: outputs/jigsaw/reproduce-<timestamp>")
    parser.add_argument(
        "--preset", choices=["cpu", "full"], default="full" if torch.cuda.is_available() else "cpu"
    )
    args = parser.parse_args(argv)
    try:
        data_dir, data_name = resolve_data_dir(args.data_dir)
        data = load(data_dir)
    except DataError as err:
        sys.exit(f"error: {err}")
    out = run_dir(args.output_dir, "reproduce")
    results = []
    for config in LADDER:
        result = run_experiment(config, data, out / config.name)
        print(f"{config.name:<28} CV final {result.cv['final']:.4f}  ({result.seconds:.1f} s)")
        results.append(result)
    by_name = {r.name: r for r in results}
    claims = check_claims(by_name)
    best = max(results, key=lambda r: r.cv["final"])
    (out / "submission.csv").write_bytes((out / best.name / "submission.csv").read_bytes())
    summary = {
        "chapter": "jigsaw",
        "metric": "jigsaw_bias_auc",
        "higher_is_better": True,
        "data": data_name,
        "preset": args.preset,
        "experiments": [
            {
                "name": r.name,
                "cv": r.cv["final"],
                "folds": r.folds,
                "seconds": r.seconds,
                "parts": r.cv,
                "labelled_test": r.labelled,
            }
            for r in results
        ],
        "claims": claims,
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_report(out, results, claims, data_name, args.preset)
    for claim in claims:
        print(f"claim {'holds' if claim['holds'] else 'does NOT hold'}: {claim['text']}")
    print(f"wrote {out}/report.md, results.json and submission.csv (from {best.name})")
