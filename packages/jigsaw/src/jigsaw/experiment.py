"""One experiment: K-fold training, out-of-fold predictions, the bias metric per fold and overall.

Test predictions are the mean of the fold models. When the post-competition labelled test files are
present, the same predictions are scored on them too.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from jigsaw import tfidf, transformer
from jigsaw.data import IDENTITY_COLUMNS, SCORED_IDENTITIES, SUBTYPES, JigsawData
from jigsaw.submission import write_submission
from jigsaw.weights import metric_aligned_weights
from shared.cv import make_folds
from shared.metrics import jigsaw_bias_breakdown, jigsaw_bias_summary

MODELS = {"tfidf-lr": tfidf.fit_predict, "transformer": transformer.fit_predict}


@dataclass
class ExperimentConfig:
    """One row of the chapter's ladder; every field is a recipe key and a command-line flag."""

    name: str = field(default="tfidf-lr", metadata={"help": "experiment name, used for the output folder"})
    model: str = field(default="tfidf-lr", metadata={"help": f"one of {sorted(MODELS)}"})
    n_folds: int = field(default=5, metadata={"help": "K of the stratified K-fold CV"})
    seed: int = field(default=42)
    weighting: str = field(
        default="none", metadata={"help": "none | metric (metric-aligned sample weights, §6.5.1)"}
    )
    weight_identities: str = field(
        default="all", metadata={"help": "identity columns the weights look at: all | scored"}
    )
    weight_background: float = 1.0
    weight_subgroup: float = 1.0
    weight_background_positive: float = 1.0
    weight_subgroup_negative: float = 1.0
    soft_targets: bool = field(
        default=False, metadata={"help": "train on the annotator fraction instead of target >= 0.5"}
    )
    tfidf_ngram_max: int = 2
    tfidf_min_df: int = 2
    tfidf_max_features: int | None = None
    lr_c: float = field(default=1.0, metadata={"help": "inverse L2 strength of the logistic regression"})
    # transformer
    backbone: str = field(
        default="bert-base-uncased",
        metadata={
            "help": "HF id or path; 'tiny:deberta-v2' / 'tiny:bert' build a tiny local model, 'minilm' the PyPI MiniLM"
        },
    )
    max_length: int = 220
    head_tokens: int = field(
        default=64, metadata={"help": "head+tail truncation: tokens kept from the start"}
    )
    pooling: str = field(default="mean", metadata={"help": "mean | cls | last (decoders)"})
    aux_targets: str = field(default="none", metadata={"help": "none | subtypes | subtypes+identities"})
    aux_weight: float = 1.0
    learning_rate: float = 2e-5
    llrd: float = field(default=1.0, metadata={"help": "layer-wise LR decay factor (1 = off)"})
    weight_decay: float = 0.01
    epochs: float = 1.0
    batch_size: int = 32
    warmup_ratio: float = 0.05
    bucketing: bool = field(default=True, metadata={"help": "length-grouped batches + dynamic padding"})
    bf16: bool = True


@dataclass
class ExperimentResult:
    name: str
    cv: dict[str, float]  # overall_auc, subgroup_auc, bpsn_auc, bnsp_auc (power means), final
    folds: list[float]  # final metric per fold
    seconds: float
    oof: np.ndarray
    breakdown: pd.DataFrame  # per-identity AUCs of the OOF predictions
    test: np.ndarray  # predictions for test.csv, fold mean
    labelled: dict[str, dict[str, float]] = field(default_factory=dict)  # summary on the labelled test files


def sample_weights(config: ExperimentConfig, train: pd.DataFrame) -> np.ndarray:
    if config.weighting == "none":
        return np.ones(len(train))
    if config.weighting != "metric":
        raise ValueError(f"weighting: {config.weighting!r} is not one of none | metric")
    columns = (
        SCORED_IDENTITIES
        if config.weight_identities == "scored"
        else [c for c in IDENTITY_COLUMNS if c in train.columns]
    )
    return metric_aligned_weights(
        train["target"], train[columns], background=config.weight_background, subgroup=config.weight_subgroup,
        background_positive=config.weight_background_positive, subgroup_negative=config.weight_subgroup_negative,
    )  # fmt: skip


def aux_columns(config: ExperimentConfig, train: pd.DataFrame) -> list[str]:
    """Columns learned as auxiliary outputs (1st/2nd place): the subtypes, optionally the identities."""
    if config.aux_targets == "none":
        return []
    if config.aux_targets not in ("subtypes", "subtypes+identities"):
        raise ValueError(
            f"aux_targets: {config.aux_targets!r} is not one of none | subtypes | subtypes+identities"
        )
    identities = (
        [c for c in IDENTITY_COLUMNS if c in train.columns]
        if config.aux_targets.endswith("identities")
        else []
    )
    return SUBTYPES + identities


def _eval_sets(data: JigsawData) -> dict[str, pd.DataFrame]:
    """Texts to predict besides the validation fold; a labelled file with test.csv's ids reuses its predictions."""
    sets = {"test": data.test}
    for name, frame in data.labelled_test.items():
        if set(frame["id"]) != set(data.test["id"]):
            sets[name] = frame
    return sets


def run_experiment(config: ExperimentConfig, data: JigsawData, out_dir: Path) -> ExperimentResult:
    """Cross-validate ``config`` on ``data.train`` and write its artefacts into ``out_dir``."""
    if config.model not in MODELS:
        raise ValueError(f"model: {config.model!r} is not one of {sorted(MODELS)}")
    start = time.perf_counter()
    train = data.train.assign(label=(data.train["target"] >= 0.5).astype(int))
    train = make_folds(train, config.n_folds, "stratified", target="label", seed=config.seed)
    weights = sample_weights(config, train)
    eval_sets = _eval_sets(data)
    oof = np.zeros(len(train))
    sums = {name: np.zeros(len(frame)) for name, frame in eval_sets.items()}
    folds = []
    for fold in tqdm(range(config.n_folds), desc=config.name, leave=False):
        fit, valid = (train["fold"] != fold).to_numpy(), (train["fold"] == fold).to_numpy()
        predict_on = {"valid": train.loc[valid, "comment_text"].tolist()}
        predict_on |= {name: frame["comment_text"].tolist() for name, frame in eval_sets.items()}
        preds = MODELS[config.model](config, train.loc[fit], weights[fit], predict_on)
        oof[valid] = preds.pop("valid")
        for name, values in preds.items():
            sums[name] += values / config.n_folds
        folds.append(
            jigsaw_bias_summary(train.loc[valid, "target"], oof[valid], train.loc[valid, SCORED_IDENTITIES])[
                "final"
            ]
        )
    identities = train[SCORED_IDENTITIES]
    result = ExperimentResult(
        name=config.name,
        cv=jigsaw_bias_summary(train["target"], oof, identities),
        folds=folds,
        seconds=0.0,
        oof=oof,
        breakdown=jigsaw_bias_breakdown(train["target"], oof, identities),
        test=sums["test"],
    )
    for name, frame in data.labelled_test.items():
        preds = (
            sums[name]
            if name in sums
            else pd.Series(sums["test"], index=data.test["id"]).loc[frame["id"]].to_numpy()
        )
        result.labelled[name] = jigsaw_bias_summary(frame["toxicity"], preds, frame[SCORED_IDENTITIES])
    result.seconds = time.perf_counter() - start
    _write(result, config, train, data, out_dir)
    return result


def _write(
    result: ExperimentResult, config: ExperimentConfig, train: pd.DataFrame, data: JigsawData, out_dir: Path
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    oof = pd.DataFrame(
        {"id": train["id"], "fold": train["fold"], "target": train["target"], "prediction": result.oof}
    )
    oof.to_csv(out_dir / "oof.csv", index=False)
    result.breakdown.to_csv(out_dir / "identity_aucs.csv", index=False)
    scores = {
        "cv": result.cv,
        "folds": result.folds,
        "labelled_test": result.labelled,
        "seconds": result.seconds,
    }
    (out_dir / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    write_submission(data.sample_submission, data.test["id"], result.test, out_dir / "submission.csv")
