"""``jigsaw-reproduce``: the chapter's ladder in one command, with report.md, results.json and submission.csv.

Ladder so far: TF-IDF + logistic regression, + metric-aligned weights (§6.5.1), + soft targets; then a
transformer classifier unweighted, + metric-aligned weights, + auxiliary and soft targets; a BiLSTM on
word2vec vectors (3rd place); an LLM classifier with QLoRA (§6.8; plain LoRA on a tiny base with the cpu
preset, mechanics only); then blends of all of them (mean, rank, power 3.5, Optuna weights). Each finding
of the write-ups is then decided beyond its noise (``jigsaw.claims``).

Flags are spelled ``--data-dir``, ``--output-dir`` (``--data_dir``/``--output_dir`` work too), ``--preset``
and ``--verbose`` (keep the libraries' own output on the console instead of ``run.log``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from jigsaw.blend import METHODS, combine, cross_fitted, optimize_weights
from jigsaw.claims import check_claims
from jigsaw.data import SCORED_IDENTITIES, DataError, JigsawData, load
from jigsaw.experiment import (
    ExperimentConfig,
    ExperimentResult,
    check_scorable,
    folded_train,
    holdout_halves,
    run_experiment,
    summarize,
    write_artifacts,
)
from jigsaw.paths import resolve_data_dir, run_dir
from jigsaw.predict import write_manifest
from jigsaw.report import identity_heatmap, metric_table
from shared import report
from shared.console import log_to_file, progress
from shared.metrics import jigsaw_bias_auc
from shared.report import Claim, claims_markdown, print_claims, write_results

BLEND_TRIALS = 100

TFIDF = [
    ExperimentConfig(name="tfidf-lr"),
    ExperimentConfig(name="tfidf-lr-weighted", weighting="metric"),
    ExperimentConfig(name="tfidf-lr-weighted-soft", weighting="metric", soft_targets=True),
]
# The transformer rungs at full scale (bert-base-uncased, as the 3rd-place and public BERT solutions) ...
TRANSFORMER = [
    ExperimentConfig(name="bert", model="transformer", backbone="bert-base-uncased", max_length=220, head_tokens=64,
                     learning_rate=2e-5, llrd=0.95, epochs=2, batch_size=32),
    ExperimentConfig(name="bert-weighted", model="transformer", weighting="metric", backbone="bert-base-uncased",
                     max_length=220, head_tokens=64, learning_rate=2e-5, llrd=0.95, epochs=2, batch_size=32),
    ExperimentConfig(name="bert-weighted-aux", model="transformer", weighting="metric", soft_targets=True,
                     aux_targets="subtypes+identities", backbone="bert-base-uncased", max_length=220, head_tokens=64,
                     learning_rate=2e-5, llrd=0.95, epochs=2, batch_size=32),
]  # fmt: skip
# ... and on a CPU: a tiny DeBERTa-v2 trained from scratch on the fold (it proves the mechanics, not BERT's quality).
CPU_TRANSFORMER = {
    "backbone": "tiny:deberta-v2",
    "max_length": 96,
    "head_tokens": 32,
    "learning_rate": 1e-3,
    "llrd": 1.0,
    "epochs": 1,
}

# The 3rd-place family: a BiLSTM on word vectors with identity weights and auxiliary targets.
LSTM = [
    ExperimentConfig(name="lstm-weighted-aux", model="lstm", weighting="metric", soft_targets=True,
                     aux_targets="subtypes+identities", embedding_dim=300, lstm_hidden=128, max_length=220, epochs=4,
                     learning_rate=1e-3, batch_size=256),
]  # fmt: skip
CPU_LSTM = {
    "embedding_dim": 32,
    "lstm_hidden": 32,
    "max_length": 64,
    "epochs": 2,
    "batch_size": 64,
    "learning_rate": 2e-3,
}

# §6.8: an LLM classifier, QLoRA on Gemma-2 2B; on a CPU a tiny Qwen2 with LoRA in full precision.
LLM = [
    ExperimentConfig(name="llm-qlora", model="transformer", weighting="metric", soft_targets=True,
                     aux_targets="subtypes+identities", backbone="google/gemma-2-2b", max_length=256, head_tokens=64,
                     pooling="last", lora_r=16, lora_alpha=32, load_in_4bit=True, learning_rate=1e-4, llrd=1.0,
                     weight_decay=0.0, epochs=1, batch_size=8),
]  # fmt: skip
CPU_LLM = {
    "name": "llm-lora",  # no 4-bit on the CPU preset: plain LoRA, named for what it is
    "backbone": "tiny:qwen2",
    "load_in_4bit": False,
    "max_length": 64,
    "head_tokens": 16,
    "learning_rate": 2e-3,
    "batch_size": 32,
}

# Experiments that only show the mechanics on a preset: LoRA on a tiny random, frozen Qwen2 cannot say
# anything about an LLM classifier's quality (ARCHITECTURE.md, CPU stand-ins). No claim compares it.
MECHANICS = {"cpu": {"llm-lora"}, "full": set()}


def ladder(preset: str) -> list[ExperimentConfig]:
    """The experiments in order; the cpu preset shrinks the transformer, LSTM and LLM rungs (and keeps their
    5 folds); the full preset trains the transformer and LLM rungs once each (``validation: holdout``: the
    5-fold LLM alone would be about 100 GPU-hours)."""
    if preset == "full":  # the large models train once, as the top teams did, and are scored on fold 0
        return TFIDF + [replace(c, validation="holdout") for c in TRANSFORMER] + LSTM + \
            [replace(c, validation="holdout") for c in LLM]  # fmt: skip
    cpu = [replace(c, **CPU_TRANSFORMER) for c in TRANSFORMER] + [replace(c, **CPU_LSTM) for c in LSTM]
    return TFIDF + cpu + [replace(c, **CPU_LLM) for c in LLM]


def run_blends(
    results: list[ExperimentResult], data: JigsawData, train: pd.DataFrame, out: Path, seed: int = 42
) -> list[ExperimentResult]:
    """Blend every experiment's predictions four ways (mean, rank, power 3.5, Optuna weights); ``train`` is
    the folded training frame the experiments were cross-validated on. The blends' out-of-fold rows are those every
    experiment predicted (fold 0 alone when one was a holdout); the Optuna weights are cross-fitted over their folds,
    or over two seeded halves of fold 0 when it is the only one."""
    rows = np.isfinite(np.column_stack([r.oof for r in results])).all(axis=1)
    target, identities = train["target"][rows], train[SCORED_IDENTITIES][rows]

    def score(mask: np.ndarray, blended: np.ndarray) -> float:
        return jigsaw_bias_auc(target[mask], blended, identities[mask])

    oof = np.column_stack([r.oof[rows] for r in results])
    folds = train["fold"].to_numpy()[rows]
    if len(np.unique(folds)) < 2:  # only the holdout fold is shared: cross-fit over its two halves
        folds = holdout_halves(len(folds), seed)
    stacked = {
        name: np.column_stack([r.predictions[name] for r in results]) for name in results[0].predictions
    }
    blends = []
    for method in progress(METHODS, desc="blends", unit="blend"):
        start = time.perf_counter()
        if method == "optuna":
            blended = cross_fitted(oof, folds, score, n_trials=BLEND_TRIALS, seed=seed)
            weights = optimize_weights(
                oof, lambda b: score(np.ones(len(b), dtype=bool), b), BLEND_TRIALS, seed
            )
            predictions = {name: combine(p, weights) for name, p in stacked.items()}
        else:
            weights, blended = None, combine(oof, method=method)
            predictions = {name: combine(p, method=method) for name, p in stacked.items()}
        full = np.full(len(train), np.nan)
        full[rows] = blended
        result = summarize(f"blend-{method}", train, full, predictions, data, time.perf_counter() - start)
        config = {
            "method": method,
            "models": [r.name for r in results],
            "weights": None if weights is None else weights.tolist(),
        }
        write_artifacts(result, config, train, data, out / result.name)
        blends.append(result)
    return blends


def comparable_cv(results: list[ExperimentResult], train: pd.DataFrame) -> dict[str, float]:
    """Each experiment's final metric on the rows every experiment predicted: its own CV when all predicted every
    row (k-fold), else its score on the holdout fold, so that a holdout rung is never ranked against another
    rung's score on other rows."""
    rows = np.isfinite(np.column_stack([r.oof for r in results])).all(axis=1)
    if rows.all():
        return {r.name: r.cv["final"] for r in results}
    target, identities = train["target"][rows], train[SCORED_IDENTITIES][rows]
    return {r.name: jigsaw_bias_auc(target, r.oof[rows], identities) for r in results}


def write_report(
    out: Path,
    results: list[ExperimentResult],
    claims: list[Claim],
    data: str,
    preset: str,
    best: ExperimentResult,
) -> None:
    identity_heatmap(results, out / "identity_aucs.png")
    lines = [
        "# Jigsaw Unintended Bias — reproduce",
        "",
        f"Data: {data}. Preset: {preset}. "
        + (
            "Transformer rungs: a tiny DeBERTa-v2 (2 layers, hidden 64, random init) trained from scratch per fold; "
            "LSTM: word2vec of size 32. The mechanics are real, the quality is not BERT's. "
            "LLM rung (llm-lora): LoRA on a tiny random, frozen Qwen2 in full precision (no 4-bit on CPU): "
            "mechanics only, no claim rests on it (it is one of the blend's inputs)."
            if preset == "cpu"
            else "Transformer rungs: bert-base-uncased; LSTM: word2vec 300; LLM: Gemma-2 2B with QLoRA."
        ),
        "",
        "Metric: the competition's final bias-weighted AUC (higher is better),",
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
        *claims_markdown(claims),
        f"submission.csv comes from the best experiment by CV: **{best.name}** ({best.cv['final']:.4f}).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", "--data_dir", dest="data_dir",
        help="Kaggle files (default: competitions/jigsaw/data, else the generated sample)",
    )  # fmt: skip
    parser.add_argument(
        "--output-dir",
        "--output_dir",
        dest="output_dir",
        help="default: outputs/jigsaw/reproduce-<timestamp>",
    )
    parser.add_argument(
        "--preset", choices=["cpu", "full"], default="full" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show the libraries' own output (also KLS_VERBOSE=1)"
    )
    args = parser.parse_args(argv)
    configs, mechanics = ladder(args.preset), MECHANICS[args.preset]
    try:
        data_dir, data_name = resolve_data_dir(args.data_dir)
        data = load(data_dir)
        train = folded_train(data, configs[0].n_folds, configs[0].seed)  # every rung shares the folds
        holdout = any(c.validation == "holdout" for c in configs)
        check_scorable(train, str(Path(data_dir) / "train.csv"), holdout=holdout)
    except DataError as err:
        sys.exit(f"error: {err}")
    out = run_dir(args.output_dir, "reproduce")
    log = log_to_file(out / "run.log", verbose=args.verbose)
    models = out / "models"
    singles = [run_experiment(config, data, out / config.name, models / config.name) for config in configs]
    results = singles + run_blends(singles, data, train, out)
    comparable = comparable_cv(results, train)  # the holdout rows when a rung is a holdout (full preset)
    claims = check_claims(
        {r.name: r.oof for r in results}, comparable, train["target"], train[SCORED_IDENTITIES], mechanics=mechanics,
    )  # fmt: skip
    best = max(results, key=lambda r: comparable[r.name])
    (out / "submission.csv").write_bytes((out / best.name / "submission.csv").read_bytes())
    if best.name in {r.name for r in singles}:
        write_manifest(models, [best.name])
    else:  # a blend: its config.json names the method, the members and the weights
        blend = json.loads((out / best.name / "config.json").read_text())
        write_manifest(models, blend["models"], blend["method"], blend["weights"])
    experiments = [
        {
            "name": r.name,
            "cv": r.cv["final"],
            "folds": r.folds,
            "seconds": r.seconds,
            "parts": r.cv,
            "labelled_test": r.labelled,
            "evidence": "mechanics" if r.name in mechanics else "model",
        }
        for r in results
    ]
    content = report.results(
        chapter="jigsaw", metric="jigsaw_bias_auc", higher_is_better=True, data=data_name, preset=args.preset,
        experiments=experiments, claims=claims,
    )  # fmt: skip
    write_results(out / "results.json", content)
    write_report(out, results, claims, data_name, args.preset, best)
    print(metric_table(results))
    print_claims(claims)
    print(f"wrote {out}: report.md, results.json, submission.csv (from {best.name}), models/ for jigsaw-predict; "
          f"library output in {log}")  # fmt: skip
