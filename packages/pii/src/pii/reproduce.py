"""``pii-reproduce``: the chapter's ladder in one command (§10.5 baseline → §10.6–10.7 top solutions).

1. ``argmax``: a token classifier over strided windows, each token labelled by its most probable class;
2. ``o-threshold``: the same probabilities, non-O wherever P(O) < threshold (the baseline notebook's rule;
   threshold tuned on the other folds' OOF predictions, so each fold's score is honest);
3. ``external-data``: a second model trained with an external data set mixed into every training fold
   (the top teams' practice). On the sample the external set is more Faker-template essays from another
   seed, standing in for the LLM-written sets: the LLM pipeline itself (``pii-augment``) runs on the tiny
   CPU model only for its mechanics, whose text is noise;
4. ``post-processing``: the rules of ``pii.postprocess`` on the external-data model's decoded labels;
5. ``ensemble``: token probabilities of both models averaged, thresholded, post-processed.

Every score is micro F5 over (document, token, label) on out-of-fold predictions, and on the held-out
test labels when the data has them (the sample does).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from pii import report
from pii.data import DataError, Document, PiiData, label_frame, load_competition
from pii.decode import Thresholds, argmax_decode, average_probs, tune_thresholds
from pii.experiment import ExperimentConfig, labelled_test, run_experiment
from pii.paths import resolve_data_dir, run_dir
from pii.postprocess import apply_rules
from pii.submission import submission_rows, write_submission
from pii.synth import generate, write_documents
from shared.metrics import pii_fbeta

# CPU preset: the real all-MiniLM-L6-v2 (shipped on PyPI; tiny random encoders only learn the class prior
# in this budget) cut to its first 2 layers, 128-sub-word windows, 20 % of the all-'O' windows, 2 folds,
# on 400 of the sample's essays (+ 200 external ones for model B): about 4 min per model on 2 cores.
CPU = dict(backbone="minilm", num_layers=2, max_length=128, stride=16, negative_ratio=0.2, epochs=3.0,
           learning_rate=3e-4, batch_size=8, warmup_ratio=0.1, n_folds=2, bf16=False)  # fmt: skip
# Full preset: the first-place recipes' backbone and window (competitions/pii/recipes/deberta-v3-large*.yaml),
# with the public notebooks' 30 % of the essays without PII.
FULL = dict(backbone="microsoft/deberta-v3-large", max_length=1024, stride=128, negative_ratio=0.3,
            epochs=3.0, learning_rate=2e-5, batch_size=2, gradient_accumulation_steps=4, n_folds=4)  # fmt: skip
# (training essays used, 0 = all; generated external essays) per preset
SIZES = {"cpu": (400, 200), "full": (0, 2000)}


@dataclass
class ReproduceArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/pii/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/pii/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    external_data: list[str] = field(
        default_factory=list,
        metadata={"help": "external data sets (train.json layout); default: generated Faker essays, seed 1"},
    )
    n_external: int | None = field(
        default=None, metadata={"help": "essays in the generated external set (preset: cpu 200, full 2000)"}
    )
    train_docs: int | None = field(
        default=None,
        metadata={
            "help": "a seeded random subset of this many training essays, 0 = all (preset: cpu 400, full 0)"
        },
    )
    backbone: str | None = field(
        default=None,
        metadata={"help": "replace the preset's backbone (e.g. tiny:bert for a mechanics-only run)"},
    )
    seed: int = 42


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments)


@dataclass
class Rung:
    """One row of the ladder: OOF predictions (BIO ids per training document) and test predictions."""

    name: str
    folds: list[float]
    oof_pred: list[np.ndarray]
    test_pred: list[np.ndarray]
    seconds: float
    test_score: float | None = None
    note: str = ""

    @property
    def cv(self) -> float:
        return float(np.mean(self.folds))


def f5(docs: list[Document], preds: list[np.ndarray]) -> float:
    return pii_fbeta(
        label_frame(docs), submission_rows(docs, preds)[["document", "token", "label"]], beta=5.0
    )


def fold_scores(docs: list[Document], preds: list[np.ndarray], fold: np.ndarray) -> list[float]:
    return [f5([docs[i] for i in rows], [preds[i] for i in rows]) for rows in (np.flatnonzero(fold == k)
            for k in range(fold.max() + 1))]  # fmt: skip


def cross_fitted(docs: list[Document], probs: list[np.ndarray], fold: np.ndarray, per_label: bool):
    """Each fold decoded with thresholds tuned on the other folds (an honest CV of the tuning), and the
    thresholds tuned on all folds (for the test predictions and the report's curve)."""
    preds: list[np.ndarray | None] = [None] * len(docs)
    for k in range(fold.max() + 1):
        fit, held = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        tuned = tune_thresholds([probs[i] for i in fit], [docs[i] for i in fit], per_label=per_label)
        for i, pred in zip(held, tuned.decode_documents([probs[i] for i in held], [docs[i] for i in held]),
                           strict=True):  # fmt: skip
            preds[i] = pred
    return preds, tune_thresholds(probs, docs, per_label=per_label)


def test_score(data, preds) -> float | None:
    return f5(labelled_test(data), preds) if data.test_labels is not None else None


def threshold_rung(name, oof_probs, test_probs, fold, data, note="") -> tuple[Rung, Thresholds]:
    """Probabilities decoded with cross-fitted thresholds (OOF) and with all-fold thresholds (test)."""
    start = time.perf_counter()
    oof, tuned = cross_fitted(data.train, oof_probs, fold, per_label=True)
    test = tuned.decode_documents(test_probs, data.test)
    rung = Rung(name, fold_scores(data.train, oof, fold), oof, test, time.perf_counter() - start,
                test_score(data, test), note)  # fmt: skip
    return rung, tuned


def with_rules(
    name: str, rung: Rung, data, fold, note: str, seconds: float = 0.0
) -> tuple[Rung, pd.DataFrame]:
    """A rung's predictions after the post-processing rules, and what each rule changed on OOF; the new
    rung's time is the rules' plus ``seconds`` (its own earlier steps)."""
    start = time.perf_counter()
    oof, counts = apply_rules(data.train, rung.oof_pred)
    test, _ = apply_rules(data.test, rung.test_pred)
    seconds += time.perf_counter() - start
    fixed = Rung(name, fold_scores(data.train, oof, fold), oof, test, seconds, test_score(data, test), note)
    return fixed, counts


def settings_for(args: ReproduceArguments, preset: str) -> dict:
    """The preset's experiment fields; a replaced backbone runs whole (``num_layers`` belongs to MiniLM)."""
    settings = dict(CPU if preset == "cpu" else FULL)
    if args.backbone:
        settings.update(backbone=args.backbone, num_layers=0)
    return settings


def subset(data: PiiData, n: int, seed: int) -> PiiData:
    """``data`` with a seeded random ``n`` of its training essays (in file order); all of them when ``n``
    is 0 or at least their number."""
    if n <= 0 or n >= len(data.train):
        return data
    keep = np.sort(np.random.default_rng(seed).choice(len(data.train), n, replace=False))
    return replace(data, train=[data.train[i] for i in keep])


def write_external(path: Path, n: int, data: PiiData) -> Path:
    """``n`` more synthetic essays (another seed), ids above every train/test id so they never clash."""
    first = 1 + max(doc.document for doc in [*data.train, *data.test])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_documents([essay.document for essay in generate(n, seed=1, first_id=first)], path, labelled=True)
    return path


def external_set(args: ReproduceArguments, data: PiiData, data_dir: Path, out: Path, n: int) -> dict:
    """The external data sets by name: the given files, else ``n`` generated essays in ``out``."""
    paths = args.external_data or [str(write_external(out / "external.json", n, data))]
    return load_competition(data_dir, extra=[str(Path(p).resolve()) for p in paths]).extra


def ladder(args: ReproduceArguments, preset: str, data_dir: Path, out: Path):
    """Run the five rungs; returns (rungs, artefacts for the report)."""
    n_train, n_external = SIZES[preset]
    n_train = n_train if args.train_docs is None else args.train_docs
    whole = load_competition(data_dir)
    data = subset(whole, n_train, args.seed)
    n_external = n_external if args.n_external is None else args.n_external
    extra = external_set(args, whole, data_dir, out, n_external)
    base = ExperimentConfig(name="model-a", seed=args.seed, decoding="argmax", **settings_for(args, preset))
    a = run_experiment(base, data, out / "model-a")
    argmax = Rung("argmax", a.folds, [argmax_decode(p) for p in a.oof], [argmax_decode(p) for p in a.test],
                  a.seconds, a.test_score, "model A")  # fmt: skip
    threshold, _ = threshold_rung(
        "o-threshold", a.oof, a.test, a.fold, data, "model A, thresholds cross-fitted"
    )
    b = run_experiment(replace(base, name="model-b"), replace(data, extra=extra), out / "model-b")
    n_ext = sum(map(len, extra.values()))
    extdata, _ = threshold_rung(
        "external-data", b.oof, b.test, a.fold, data, f"model B: + {n_ext} external essays"
    )
    extdata.seconds = b.seconds
    rules, counts = with_rules("post-processing", extdata, data, a.fold, "model B + rules")
    probs, test_probs = average_probs([a.oof, b.oof]), average_probs([a.test, b.test])
    mean, tuned = threshold_rung("ensemble", probs, test_probs, a.fold, data)
    ensemble, _ = with_rules(
        "ensemble", mean, data, a.fold, "mean of A and B probabilities, thresholds, rules", mean.seconds
    )
    rungs = [argmax, threshold, extdata, rules, ensemble]
    return rungs, {"data": data, "counts": counts, "thresholds": tuned, "model": base}


def main(argv: list[str] | None = None) -> None:
    (args,) = make_parser().parse_args_into_dataclasses(args=argv)
    preset = args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")
    try:
        if preset not in ("cpu", "full"):
            raise DataError(f"--preset: {args.preset!r} is not one of auto | cpu | full")
        data_dir, data_name = resolve_data_dir(args.data_dir)
        out = run_dir(args.output_dir, "reproduce")
        out.mkdir(parents=True, exist_ok=True)
        print(f"pii-reproduce: {data_name} data, {preset} preset")
        rungs, artefacts = ladder(args, preset, data_dir, out)
    except DataError as err:
        sys.exit(f"error: {err}")
    data = artefacts["data"]
    best = max(rungs, key=lambda r: r.cv)
    write_submission(out / "submission.csv", data.test, best.test_pred)
    results = report.write(out, rungs, artefacts, data=data_name, preset=preset, settings=asdict(args))
    for claim in results["claims"]:
        print(f"[{'holds' if claim['holds'] else 'does not hold'}] {claim['text']}")
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
