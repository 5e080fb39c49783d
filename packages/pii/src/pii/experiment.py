"""One experiment: K-fold fine-tuning, out-of-fold and test probabilities, micro F5 per fold and overall.

Folds are stratified on which entity types each essay contains (the rare types, PHONE_NUM and
STREET_ADDRESS, sit in a handful of essays and would otherwise be missing from some folds' validation). External data sets
are added to every fold's training set and never validated on: OOF scores stay comparable with and
without them. Test probabilities are the mean of the fold models. The per-document probabilities are
written as they are, so that ensembles and threshold tuning (``pii.decode``) can work from the files.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer
from transformers.trainer_utils import SchedulerType

from pii.data import DataError, Document, PiiData, label_frame
from pii.decode import argmax_decode, decode_documents, plain_to_bio
from pii.labels import ENTITY_TYPES
from pii.model import fit, predict, resolve_backbone
from pii.submission import submission_rows, write_submission
from shared.cv import make_folds
from shared.metrics import pii_fbeta
from shared.recipes import FieldError

DECODINGS = ("argmax", "threshold")
LABEL_MODES = ("all", "first")
SCHEDULERS = frozenset(s.value for s in SchedulerType)
EXPERIMENT = "experiment.json"  # in models/<name>/: the config and the fold folders


@dataclass
class ExperimentConfig:
    """One rung of the chapter's ladder; every field is a recipe key and a command-line flag."""

    name: str = field(
        default="deberta-v3-large", metadata={"help": "experiment name, used for the output folder"}
    )
    backbone: str = field(
        default="microsoft/deberta-v3-large",
        metadata={
            "help": "HF id or path; 'tiny:deberta-v2' builds a tiny local model, 'minilm' the PyPI MiniLM"
        },
    )
    # Essays run to ~3,000 sub-words. The baseline notebooks trained on 1024-token windows; the 1st place
    # used 1600-2048 (discussion 497374), the 2nd 512/1024/2048 windows with stride 32 (497352).
    max_length: int = field(
        default=1024, metadata={"help": "window size in sub-words, special tokens included"}
    )
    stride: int = field(default=128, metadata={"help": "sub-words shared by consecutive windows"})
    label_mode: str = field(
        default="all",
        metadata={"help": "all: every sub-word carries its token's label | first: only the first"},
    )
    o_weight: float = field(
        default=1.0, metadata={"help": "weight of class 'O' in the cross-entropy (1 = off)"}
    )
    prefix_free: bool = field(
        default=False, metadata={"help": "train on 'O' + the 7 entity types, rebuild B-/I- by rule"}
    )
    negative_ratio: float = field(
        default=1.0, metadata={"help": "share of training windows without any PII that are kept (1 = all)"}
    )
    num_layers: int = field(
        default=0, metadata={"help": "keep only the backbone's first N layers (0 = all; CPU preset)"}
    )
    learning_rate: float = 2e-5
    epochs: float = 3.0
    batch_size: int = field(default=2, metadata={"help": "windows per device and step"})
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    scheduler: str = field(default="linear", metadata={"help": "transformers lr_scheduler_type"})
    gradient_checkpointing: bool = False
    bf16: bool = field(default=True, metadata={"help": "bf16 mixed precision (CUDA only; ignored on CPU)"})
    n_folds: int = 4
    seed: int = 42
    extra_data: list[str] = field(
        default_factory=list,
        metadata={"help": "external JSON data sets in the train.json layout, relative to the data dir"},
    )
    decoding: str = field(
        default="argmax", metadata={"help": "argmax | threshold (non-'O' wherever P(O) < threshold)"}
    )
    threshold: float = field(default=0.99, metadata={"help": "O-threshold; 0.99 in the baseline notebook"})

    def __post_init__(self):
        checks = (
            ("decoding", self.decoding not in DECODINGS, f"is not one of {' | '.join(DECODINGS)}"),
            ("label_mode", self.label_mode not in LABEL_MODES, f"is not one of {' | '.join(LABEL_MODES)}"),
            ("scheduler", self.scheduler not in SCHEDULERS, "is not a transformers lr_scheduler_type"),
            ("threshold", not 0 < self.threshold <= 1, "must be in (0, 1]"),
            ("o_weight", not self.o_weight > 0, "must be > 0"),
            ("negative_ratio", not 0 < self.negative_ratio <= 1, "must be in (0, 1]"),
            ("num_layers", self.num_layers < 0, "must be >= 0"),
            ("max_length", self.max_length < 8, "must be >= 8"),
            ("stride", not 0 <= self.stride < self.max_length - 2, "must be >= 0 and below max_length - 2"),
            ("n_folds", self.n_folds < 2, "must be >= 2"),
            ("epochs", not self.epochs > 0, "must be > 0"),
            ("learning_rate", not self.learning_rate > 0, "must be > 0"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("gradient_accumulation_steps", self.gradient_accumulation_steps < 1, "must be >= 1"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
        )
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")


@dataclass
class ExperimentResult:
    name: str
    cv: float  # micro F5 of all OOF predictions
    folds: list[float]  # micro F5 per fold
    seconds: float
    fold: np.ndarray  # fold of each training document
    oof: list[np.ndarray]  # per training document (n_tokens, n_classes), data.train order
    test: list[np.ndarray]  # per test document, mean of the fold models, data.test order
    test_score: float | None = None  # micro F5 on the test labels, when the data has them


def is_main_process() -> bool:
    """False on the other ranks of an ``accelerate launch``: they train and predict, only rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


def folded(docs: list[Document], n_folds: int, seed: int) -> np.ndarray:
    """Fold (0..n_folds-1) of each document, multilabel-stratified on the entity types it contains.

    Types found in fewer than ``n_folds`` documents cannot be spread over the folds and are left out of
    the stratification; with none left the split is a shuffled K-fold.
    """
    if len(docs) < n_folds:
        raise DataError(
            f"n_folds: {n_folds} folds need at least {n_folds} training documents, got {len(docs)}"
        )
    present = pd.DataFrame(
        [[int(any(label[2:] == entity for label in doc.labels)) for entity in ENTITY_TYPES] for doc in docs],
        columns=list(ENTITY_TYPES),
    )
    columns = [entity for entity in ENTITY_TYPES if present[entity].sum() >= n_folds]
    if len(columns) == 1:  # the multilabel splitter needs two labels; one is a plain stratification
        return make_folds(present, n_folds, "stratified", target=columns[0], seed=seed)["fold"].to_numpy()
    if columns:
        return make_folds(present, n_folds, "multilabel", labels=columns, seed=seed)["fold"].to_numpy()
    return make_folds(present, n_folds, "kfold", seed=seed)["fold"].to_numpy()


def decode(doc_probs: list[np.ndarray], docs: list[Document], config: ExperimentConfig) -> list[np.ndarray]:
    """BIO label ids per document with the config's decoding (prefix-free classes rebuilt into BIO)."""
    if config.decoding == "threshold":
        return decode_documents(doc_probs, docs, config.threshold)
    ids = [argmax_decode(probs) for probs in doc_probs]
    if config.prefix_free:
        ids = [plain_to_bio(plain, doc.tokens) for plain, doc in zip(ids, docs, strict=True)]
    return ids


def score(doc_probs: list[np.ndarray], docs: list[Document], config: ExperimentConfig) -> float:
    """Micro F5 over (document, token, label) of the decoded predictions against the documents' labels."""
    predicted = submission_rows(docs, decode(doc_probs, docs, config))
    return pii_fbeta(label_frame(docs), predicted[["document", "token", "label"]], beta=5.0)


def run_experiment(config: ExperimentConfig, data: PiiData, out_dir: Path,
                   models_dir: Path | None = None) -> ExperimentResult:  # fmt: skip
    """Cross-validate ``config`` on ``data.train`` (plus every fold training on all of ``data.extra``) and
    write its artefacts into ``out_dir``; with ``models_dir`` each fold's model and tokenizer are saved there
    (``fold<k>/``, and ``experiment.json``: what :func:`predict_saved` reads)."""
    start = time.perf_counter()
    train, test = data.train, data.test
    extra = [doc for docs in data.extra.values() for doc in docs]
    fold = folded(train, config.n_folds, config.seed)
    # One tiny checkpoint for all folds (its tokenizer sees no labels); a hub id or path stays as it is.
    run_config = replace(
        config, backbone=resolve_backbone(config.backbone, [d.full_text for d in train + extra])
    )
    save = models_dir is not None and is_main_process()
    oof: list[np.ndarray | None] = [None] * len(train)
    test_sum = None
    for k in range(config.n_folds):
        valid = np.flatnonzero(fold == k)
        desc = f"{config.name} fold {k + 1}/{config.n_folds}"
        model, tokenizer = fit(run_config, [train[i] for i in np.flatnonzero(fold != k)] + extra, desc)
        for i, probs in zip(
            valid, predict(model, tokenizer, [train[i] for i in valid], run_config), strict=True
        ):
            oof[i] = probs
        probs = predict(model, tokenizer, test, run_config)
        test_sum = probs if test_sum is None else [a + b for a, b in zip(test_sum, probs, strict=True)]
        if save:
            model.save_pretrained(models_dir / f"fold{k}")
            tokenizer.save_pretrained(models_dir / f"fold{k}")
        del model, tokenizer  # before the next fold loads its own
    if save:
        saved = {"config": asdict(config), "folds": [f"fold{k}" for k in range(config.n_folds)]}
        (models_dir / EXPERIMENT).write_text(json.dumps(saved, indent=2) + "\n")
    mean_test = [p / np.float32(config.n_folds) for p in test_sum]
    members = [np.flatnonzero(fold == k) for k in range(config.n_folds)]
    result = ExperimentResult(
        name=config.name,
        cv=score(oof, train, config),
        folds=[score([oof[i] for i in rows], [train[i] for i in rows], config) for rows in members],
        seconds=time.perf_counter() - start,
        fold=fold,
        oof=oof,
        test=mean_test,
        test_score=score(mean_test, labelled_test(data), config) if data.test_labels is not None else None,
    )
    if is_main_process():
        write_artifacts(result, config, data, out_dir)
    return result


def predict_saved(models_dir: Path, docs: list[Document]) -> tuple[list[np.ndarray], ExperimentConfig]:
    """An experiment's probabilities for ``docs`` from its saved fold models (their mean, as the run computed its
    test probabilities), and its config."""
    path = models_dir / EXPERIMENT
    if not path.is_file():
        raise DataError(f"{path}: not found (models/ is written by pii-reproduce and pii-train)")
    saved = json.loads(path.read_text())
    config = ExperimentConfig(**saved["config"])
    total = None
    for name in saved["folds"]:
        if not (models_dir / name).is_dir():
            raise DataError(f"{path}: fold folder {models_dir / name} is missing")
        model = AutoModelForTokenClassification.from_pretrained(models_dir / name)
        if torch.cuda.is_available():
            model.to("cuda")
        probs = predict(model, AutoTokenizer.from_pretrained(models_dir / name), docs, config)
        total = probs if total is None else [a + b for a, b in zip(total, probs, strict=True)]
        del model
    return [p / np.float32(len(saved["folds"])) for p in total], config


def labelled_test(data: PiiData) -> list[Document]:
    """``data.test_labels`` in the order of ``data.test``."""
    by_id = {doc.document: doc for doc in data.test_labels}
    return [by_id[doc.document] for doc in data.test]


def save_probs(path: Path, docs: list[Document], probs: list[np.ndarray]) -> None:
    """Per-document probability matrices keyed by document id (``np.load(path)[str(id)]``)."""
    np.savez_compressed(path, **{str(doc.document): p for doc, p in zip(docs, probs, strict=True)})


def write_artifacts(result: ExperimentResult, config: ExperimentConfig, data: PiiData, out_dir: Path) -> None:
    """config.json, folds.csv, oof_probs.npz, test_probs.npz, scores.json and submission.csv."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    pd.DataFrame({"document": [d.document for d in data.train], "fold": result.fold}).to_csv(
        out_dir / "folds.csv", index=False
    )
    save_probs(out_dir / "oof_probs.npz", data.train, result.oof)
    save_probs(out_dir / "test_probs.npz", data.test, result.test)
    scores = {
        "metric": "micro F5",
        "decoding": config.decoding,
        "threshold": config.threshold if config.decoding == "threshold" else None,
        "cv": result.cv,
        "folds": result.folds,
        "test": result.test_score,
        "seconds": result.seconds,
    }
    (out_dir / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    write_submission(out_dir / "submission.csv", data.test, decode(result.test, data.test, config))
