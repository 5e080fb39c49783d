"""One experiment: K-fold training, out-of-fold predictions, the bias metric per fold and overall.

Test predictions are the mean of the fold models. When the post-competition labelled test files are
present, the same predictions are scored on them too.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from jigsaw import lstm, tfidf, transformer
from jigsaw.data import AUX_TARGETS, IDENTITY_COLUMNS, SCORED_IDENTITIES, DataError, JigsawData
from jigsaw.submission import write_submission
from jigsaw.weights import metric_aligned_weights
from shared.console import progress
from shared.cv import make_folds
from shared.metrics import jigsaw_bias_breakdown, jigsaw_bias_summary
from shared.recipes import FieldError

# each model kind: fit(config, train, weights, unlabelled, desc) -> a model with predict(texts), save(dir); and load(dir)
MODELS = {"tfidf-lr": tfidf.fit, "transformer": transformer.fit, "lstm": lstm.fit}
LOADERS = {"tfidf-lr": tfidf.TfidfModel.load, "transformer": transformer.TransformerModel.load,
           "lstm": lstm.LstmModel.load}  # fmt: skip
EXPERIMENT = "experiment.json"  # in models/<name>/: the model kind and its fold folders
WEIGHTINGS = ("none", "metric")
VALIDATIONS = ("kfold", "holdout")
WEIGHT_IDENTITIES = ("all", "scored")
POOLINGS = ("mean", "cls", "last")
NON_NEGATIVE = (
    "weight_background", "weight_subgroup", "weight_background_positive", "weight_subgroup_negative", "aux_weight",
)  # fmt: skip


def _one_of(value, allowed) -> str | None:
    return None if value in allowed else f"is not one of {' | '.join(allowed)}"


@dataclass
class ExperimentConfig:
    """One row of the chapter's ladder; every field is a recipe key and a command-line flag."""

    name: str = field(default="tfidf-lr", metadata={"help": "experiment name, used for the output folder"})
    model: str = field(default="tfidf-lr", metadata={"help": f"one of {sorted(MODELS)}"})
    n_folds: int = field(default=5, metadata={"help": "K of the stratified K-fold CV"})
    validation: str = field(default="kfold", metadata={"help": "kfold: one model per fold | holdout: one model, "
        "trained on the other folds, scored on fold 0 (1/n_folds of train) and predicting the test alone"})  # fmt: skip
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
    lora_r: int = field(
        default=0, metadata={"help": "LoRA rank on every linear layer of the backbone (0 = full fine-tuning)"}
    )
    lora_alpha: int = 32
    load_in_4bit: bool = field(
        default=False, metadata={"help": "QLoRA: NF4 4-bit frozen weights (bitsandbytes)"}
    )
    # lstm (learning_rate, epochs, batch_size, max_length, soft/aux targets are shared with the transformer)
    embedding_dim: int = field(
        default=300, metadata={"help": "size of the word2vec vectors trained on the corpus"}
    )
    embedding_path: str | None = field(
        default=None, metadata={"help": "pretrained GloVe/fastText vectors (text format) to concatenate"}
    )
    lstm_hidden: int = 128

    def __post_init__(self):
        """Refuse a bad value when the recipe is parsed, before any data is loaded (shared.recipes turns
        the FieldError into one line naming the recipe or the command line)."""
        checks = (
            ("model", _one_of(self.model, sorted(MODELS))),
            ("validation", _one_of(self.validation, VALIDATIONS)),
            ("weighting", _one_of(self.weighting, WEIGHTINGS)),
            ("weight_identities", _one_of(self.weight_identities, WEIGHT_IDENTITIES)),
            ("aux_targets", _one_of(self.aux_targets, AUX_TARGETS)),
            ("pooling", _one_of(self.pooling, POOLINGS)),
            ("n_folds", None if self.n_folds >= 2 else "must be >= 2"),
            ("epochs", None if self.epochs > 0 else "must be > 0"),
            ("learning_rate", None if self.learning_rate > 0 else "must be > 0"),
            ("batch_size", None if self.batch_size >= 1 else "must be >= 1"),
            ("max_length", None if self.max_length >= 4 else "must be >= 4"),
            ("head_tokens", None if self.head_tokens >= 0 else "must be >= 0"),
            ("llrd", None if 0 < self.llrd <= 1 else "must be in (0, 1]"),
            ("warmup_ratio", None if 0 <= self.warmup_ratio < 1 else "must be in [0, 1)"),
            ("lora_r", None if self.lora_r >= 0 else "must be >= 0 (0 = full fine-tuning)"),
            ("load_in_4bit", None if self.lora_r or not self.load_in_4bit else "needs LoRA (lora_r > 0)"),
            ("lr_c", None if self.lr_c > 0 else "must be > 0"),
            ("tfidf_ngram_max", None if self.tfidf_ngram_max >= 1 else "must be >= 1"),
            *((name, None if getattr(self, name) >= 0 else "must be >= 0") for name in NON_NEGATIVE),
        )
        for name, why in checks:
            if why:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")


@dataclass
class ExperimentResult:
    name: str
    cv: dict[str, float]  # overall_auc, subgroup_auc, bpsn_auc, bnsp_auc (power means), final
    folds: list[float]  # final metric per fold
    seconds: float
    oof: np.ndarray
    breakdown: pd.DataFrame  # per-identity AUCs of the OOF predictions
    predictions: dict[str, np.ndarray]  # "test" (test.csv order) and any labelled set with other ids
    labelled: dict[str, dict[str, float]] = field(default_factory=dict)  # summary on the labelled test files

    @property
    def test(self) -> np.ndarray:
        return self.predictions["test"]


def summarize(
    name: str,
    train: pd.DataFrame,
    oof: np.ndarray,
    predictions: dict[str, np.ndarray],
    data: JigsawData,
    seconds: float,
) -> ExperimentResult:
    """Score out-of-fold predictions (overall and per ``train['fold']``) and the labelled test files. Rows without
    a prediction (NaN: outside a holdout experiment's fold 0) are left out of every score."""
    scored = np.isfinite(oof)
    target, identities = train["target"][scored], train[SCORED_IDENTITIES][scored]
    folds = [
        jigsaw_bias_summary(target[mask], oof[scored][mask], identities[mask])["final"]
        for mask in (train["fold"][scored] == k for k in sorted(train["fold"][scored].unique()))
    ]
    result = ExperimentResult(
        name=name, cv=jigsaw_bias_summary(target, oof[scored], identities), folds=folds, seconds=seconds, oof=oof,
        breakdown=jigsaw_bias_breakdown(target, oof[scored], identities), predictions=predictions,
    )  # fmt: skip
    for set_name, frame in data.labelled_test.items():
        if set_name in predictions:
            preds = predictions[set_name]
        else:  # the labelled copy of test.csv
            preds = pd.Series(predictions["test"], index=data.test["id"]).loc[frame["id"]].to_numpy()
        result.labelled[set_name] = jigsaw_bias_summary(frame["toxicity"], preds, frame[SCORED_IDENTITIES])
    return result


def folded_train(data: JigsawData, n_folds: int, seed: int) -> pd.DataFrame:
    """The training frame with a ``fold`` column: stratified on target >= 0.5, the same for every experiment."""
    train = data.train.assign(label=(data.train["target"] >= 0.5).astype(int))
    return make_folds(train, n_folds, "stratified", target="label", seed=seed)


def holdout_halves(n: int, seed: int) -> np.ndarray:
    """Two seeded halves (0/1) of ``n`` holdout rows: the folds over which a blend's weights are cross-fitted when
    fold 0 is the only fold every experiment predicted."""
    return np.random.default_rng(seed).permutation(n) % 2


def check_scorable(train: pd.DataFrame, source: str, holdout: bool = False, seed: int = 42) -> None:
    """Stop before any training when the out-of-fold metric or a cross-fitted blend cannot be scored: the
    bias AUC is undefined (NaN) where an identity's comments are all toxic or all civil, and a blend's
    weights are fitted on all folds but one. With ``holdout`` (some experiment predicts fold 0 only), each half
    of fold 0 (:func:`holdout_halves`) must be scorable too. (A single small fold may still score NaN; its CV
    entry says so.)"""
    toxic = train["target"] >= 0.5
    groups = [
        (f"the folds other than fold {k}", (train["fold"] != k).to_numpy())
        for k in sorted(train["fold"].unique())
    ]
    if holdout:
        fold0 = np.flatnonzero((train["fold"] == 0).to_numpy())
        half = holdout_halves(len(fold0), seed)
        for h in (0, 1):
            rows = np.zeros(len(train), dtype=bool)
            rows[fold0[half == h]] = True
            groups.append((f"half {h + 1} of the holdout fold 0", rows))
    for where, rows in groups:
        for name in SCORED_IDENTITIES:
            member = rows & (train[name] >= 0.5).to_numpy()
            if toxic[member].nunique() < 2:
                kind = (
                    "no comments"
                    if not member.any()
                    else f"only {'toxic' if toxic[member].all() else 'civil'} comments"
                )
                raise DataError(
                    f"{source}: column {name!r}: {where} have {kind} for this identity, so "
                    f"the bias AUC is undefined; the ladder needs more rows ({len(train):,} here; the sample has "
                    "20,000)"
                )


def sample_weights(config: ExperimentConfig, train: pd.DataFrame) -> np.ndarray:
    if config.weighting == "none":
        return np.ones(len(train))
    columns = (
        SCORED_IDENTITIES
        if config.weight_identities == "scored"
        else [c for c in IDENTITY_COLUMNS if c in train.columns]
    )
    return metric_aligned_weights(
        train["target"], train[columns], background=config.weight_background, subgroup=config.weight_subgroup,
        background_positive=config.weight_background_positive, subgroup_negative=config.weight_subgroup_negative,
    )  # fmt: skip


def _eval_sets(data: JigsawData) -> dict[str, pd.DataFrame]:
    """Texts to predict besides the validation fold; a labelled file with test.csv's ids reuses its predictions."""
    sets = {"test": data.test}
    for name, frame in data.labelled_test.items():
        if set(frame["id"]) != set(data.test["id"]):
            sets[name] = frame
    return sets


def run_experiment(config: ExperimentConfig, data: JigsawData, out_dir: Path,
                   models_dir: Path | None = None) -> ExperimentResult:  # fmt: skip
    """Cross-validate ``config`` on ``data.train`` and write its artefacts into ``out_dir``; with ``models_dir``,
    each fold's model is saved there (``fold<k>/`` and ``experiment.json``: what :func:`load_folds` reads).

    One bar per rung counts the folds; the transformer and the LSTM add one bar per fold over its steps."""
    start = time.perf_counter()
    train = folded_train(data, config.n_folds, config.seed)
    weights = sample_weights(config, train)
    eval_sets = _eval_sets(data)
    oof = np.full(len(train), np.nan)  # a holdout experiment predicts fold 0 only
    sums = {name: np.zeros(len(frame)) for name, frame in eval_sets.items()}
    save = models_dir is not None and is_main_process()
    fitted = range(config.n_folds) if config.validation == "kfold" else [0]
    for fold in progress(fitted, desc=config.name, unit="fold"):
        fit, valid = (train["fold"] != fold).to_numpy(), (train["fold"] == fold).to_numpy()
        predict_on = {"valid": train.loc[valid, "comment_text"].tolist()}
        predict_on |= {name: frame["comment_text"].tolist() for name, frame in eval_sets.items()}
        desc = f"{config.name} fold {fold + 1}/{config.n_folds}"
        unlabelled = [t for texts in predict_on.values() for t in texts]
        model = MODELS[config.model](config, train.loc[fit], weights[fit], unlabelled, desc=desc)
        oof[valid] = model.predict(predict_on.pop("valid"))
        for name, texts in predict_on.items():
            sums[name] += model.predict(texts) / len(fitted)
        if save:
            model.save(models_dir / f"fold{fold}")
    if save:
        (models_dir / EXPERIMENT).write_text(json.dumps(
            {"name": config.name, "model": config.model, "folds": [f"fold{k}" for k in fitted]},
            indent=2) + "\n")  # fmt: skip
    result = summarize(config.name, train, oof, sums, data, time.perf_counter() - start)
    if is_main_process():
        write_artifacts(result, asdict(config), train, data, out_dir)
    return result


def predict_saved(models_dir: Path, texts: list[str], base: str | None = None) -> np.ndarray:
    """P(toxic) of ``texts`` from an experiment's saved fold models: their mean, as the run computed its test
    predictions (``base``: where a LoRA model's base lies on this machine)."""
    path = models_dir / EXPERIMENT
    if not path.is_file():
        raise DataError(f"{path}: not found (models/ is written by jigsaw-reproduce and jigsaw-train)")
    saved = json.loads(path.read_text())
    kind = saved.get("model")
    if kind not in LOADERS:
        raise DataError(f"{path}: model {kind!r} is not one of {' | '.join(sorted(LOADERS))}")
    total = np.zeros(len(texts))
    for fold in progress(saved["folds"], desc=f"{saved['name']}", unit="fold"):
        if not (models_dir / fold).is_dir():
            raise DataError(f"{path}: fold folder {models_dir / fold} is missing")
        model = (
            LOADERS[kind](models_dir / fold, base)
            if kind == "transformer"
            else LOADERS[kind](models_dir / fold)
        )
        total += model.predict(texts) / len(saved["folds"])
    return total


def is_main_process() -> bool:
    """False on the other ranks of an ``accelerate launch``: they train and predict, only rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


def write_artifacts(
    result: ExperimentResult, config: dict, train: pd.DataFrame, data: JigsawData, out_dir: Path
) -> None:
    """config.json, oof.csv, identity_aucs.csv, scores.json and submission.csv of one experiment."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
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
