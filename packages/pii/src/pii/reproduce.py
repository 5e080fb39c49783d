"""``pii-reproduce``: the chapter's ladder in one command (§10.5 baseline → §10.6–10.7 top solutions).

1. ``argmax``: a token classifier over strided windows, each token labelled by its most probable class;
2. ``o-threshold``: the same probabilities, non-O wherever P(O) < threshold (the baseline notebook's rule;
   threshold tuned on the other folds' OOF predictions, so each fold's score is honest);
3. ``external-data``: a second model trained with an external data set mixed into every training fold
   (the top teams' practice). Without ``--external-data`` the cpu preset generates one that differs from
   the competition's essays as the LLM-written sets did (``pii.synth_external``: another essay family,
   PII style and density); the LLM pipeline itself (``pii-augment``) runs on the tiny CPU model only for
   its mechanics, whose text is noise. The full preset needs ``--external-data`` (or an explicit
   ``--n-external``): it never stands generated essays in for the winners' sets unasked;
4. ``post-processing``: the rules of ``pii.postprocess`` on the external-data model's decoded labels;
5. ``ensemble``: token probabilities of both models averaged, thresholded, post-processed.

Every score is micro F5 over (document, token, label) on the pooled out-of-fold predictions of all
folds (per-fold scores beside it), and on the held-out test labels when the data has them (the sample
does). Each claim compares two rungs by a paired bootstrap over the training documents (``pii.report``).
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from pii import report
from pii.data import DataError, Document, PiiData, load_competition
from pii.decode import Thresholds, argmax_decode, average_probs, tune_thresholds
from pii.experiment import ExperimentConfig, labelled_test, run_experiment
from pii.paths import open_run, resolve_data_dir
from pii.postprocess import apply_rules
from pii.predict import write_manifest
from pii.scores import document_counts, fold_f5, micro_f5
from pii.submission import write_submission
from pii.synth import write_documents
from pii.synth_external import DESCRIPTION, generate_external
from shared.recipes import ConfigError, FieldError, parse_config
from shared.report import print_claims, write_results

# CPU preset: the real all-MiniLM-L6-v2 (shipped on PyPI; tiny random encoders only learn the class prior
# in this budget) cut to its first 2 layers, 128-sub-word windows, 20 % of the all-'O' windows, 2 folds,
# on 400 of the sample's essays (+ 200 external ones for model B): about 4 min per model on 2 cores.
CPU = dict(backbone="minilm", num_layers=2, max_length=128, stride=16, negative_ratio=0.2, epochs=3.0,
           learning_rate=3e-4, batch_size=8, warmup_ratio=0.1, n_folds=2, bf16=False)  # fmt: skip
# Full preset: the first-place recipes' backbone and window (competitions/pii/recipes/deberta-v3-large*.yaml),
# with the public notebooks' 30 % of the essays without PII.
FULL = dict(backbone="microsoft/deberta-v3-large", max_length=1800, stride=128, negative_ratio=0.3,
            epochs=3.0, learning_rate=2e-5, batch_size=2, gradient_accumulation_steps=4, n_folds=4)  # fmt: skip
# (training essays used, 0 = all; generated external essays, None = the user must name the external data)
SIZES = {"cpu": (400, 200), "full": (0, None)}
PRESETS = ("auto", "cpu", "full")


@dataclass
class ReproduceArguments:
    """``pii-reproduce``'s flags; each is spelled with dashes (``--data-dir``) or underscores (``--data_dir``)."""

    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/pii/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/pii/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    external_data: list[str] = field(
        default_factory=list,
        metadata={
            "help": "external data sets (train.json layout) for model B; required by the "
            "full preset; default on cpu: generated essays of another family (pii.synth_external)"
        },
    )
    n_external: int | None = field(
        default=None,
        metadata={"help": "generated external essays instead of --external-data (cpu: 200)"},
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
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise FieldError("preset", f"--preset: {self.preset!r} is not one of {' | '.join(PRESETS)}")
        if self.n_external is not None and self.n_external < 1:
            raise FieldError("n_external", f"--n-external: {self.n_external} must be >= 1")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(
        ReproduceArguments,
        description="The chapter's ladder in one command. Flags take dashes or underscores (--data-dir, "
        "--data_dir).",
    )


def resolve_preset(args: ReproduceArguments) -> str:
    """The preset to run (``auto``: full with CUDA); the full preset needs the external data named."""
    preset = args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")
    if preset == "full" and not args.external_data and args.n_external is None:
        raise ConfigError(
            "--external-data: the full preset needs the external data sets the winners trained on (e.g. "
            "nbroad's Mixtral essays, or pii-augment's output, in the train.json layout); or pass "
            "--n-external N to use N generated essays of pii.synth_external instead"
        )
    return preset


@dataclass
class Rung:
    """One row of the ladder: OOF predictions (BIO ids per training document), their per-document counts,
    and test predictions."""

    name: str
    counts: np.ndarray  # (n_train_documents, 3): OOF TP, FP, FN of each training document
    folds: list[float]
    oof_pred: list[np.ndarray]
    test_pred: list[np.ndarray]
    seconds: float
    test_score: float | None = None
    note: str = ""

    @property
    def cv(self) -> float:
        """Micro F5 of the pooled out-of-fold predictions (not the mean of the folds' F5)."""
        return micro_f5(self.counts)


def scored(name: str, data: PiiData, fold: np.ndarray, oof, test, seconds: float, note: str = "") -> Rung:
    """A rung of these OOF and test predictions, scored once into per-document counts."""
    counts = document_counts(data.train, oof)
    tested = micro_f5(document_counts(labelled_test(data), test)) if data.test_labels is not None else None
    return Rung(name, counts, fold_f5(counts, fold), oof, test, seconds, tested, note)


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


def threshold_rung(name, oof_probs, test_probs, fold, data, note="", seconds=0.0) -> tuple[Rung, Thresholds]:
    """Probabilities decoded with cross-fitted thresholds (OOF) and with all-fold thresholds (test); the
    rung's time is the tuning's plus ``seconds`` (its model's training)."""
    start = time.perf_counter()
    oof, tuned = cross_fitted(data.train, oof_probs, fold, per_label=True)
    test = tuned.decode_documents(test_probs, data.test)
    return scored(name, data, fold, oof, test, seconds + time.perf_counter() - start, note), tuned


def with_rules(
    name: str, rung: Rung, data, fold, note: str, seconds: float = 0.0
) -> tuple[Rung, pd.DataFrame]:
    """A rung's predictions after the post-processing rules, and what each rule changed on OOF; the new
    rung's time is the rules' plus ``seconds`` (its own earlier steps)."""
    start = time.perf_counter()
    oof, counts = apply_rules(data.train, rung.oof_pred)
    test, _ = apply_rules(data.test, rung.test_pred)
    return scored(name, data, fold, oof, test, seconds + time.perf_counter() - start, note), counts


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
    """``n`` generated external essays (``pii.synth_external``), ids above every train/test id so they
    never clash."""
    first = 1 + max(doc.document for doc in [*data.train, *data.test])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_documents([essay.document for essay in generate_external(n, first_id=first)], path, labelled=True)
    return path


def external_set(args: ReproduceArguments, preset: str, data: PiiData, data_dir: Path, out: Path):
    """(the external data sets by name, what they are for results.json): the given files, else generated
    essays written to ``out/external.json``."""
    if args.external_data:
        paths = [str(Path(p).resolve()) for p in args.external_data]
        about = {"source": "files", "description": "the data sets given with --external-data"}
    else:
        n = SIZES[preset][1] if args.n_external is None else args.n_external
        paths = [str(write_external(out / "external.json", n, data).resolve())]
        about = {"source": "generated", "description": DESCRIPTION}
    loaded = load_competition(data_dir, extra=paths)  # absolute: not read relative to data_dir
    converted = [c.summary() for c in loaded.conversions if c.renumbered or c.relabelled]
    for line in converted:
        print(f"pii-reproduce: external set {line}")
    return loaded.extra, {**about, "files": paths, "essays": sum(map(len, loaded.extra.values())),
                          "converted": converted}  # fmt: skip


def ladder(args: ReproduceArguments, preset: str, data_dir: Path, out: Path):
    """Run the five rungs; returns (rungs, artefacts for the report)."""
    n_train = SIZES[preset][0] if args.train_docs is None else args.train_docs
    whole = load_competition(data_dir)
    data = subset(whole, n_train, args.seed)
    extra, external = external_set(args, preset, whole, data_dir, out)
    base = ExperimentConfig(name="model-a", seed=args.seed, decoding="argmax", **settings_for(args, preset))
    models = out / "models"
    a = run_experiment(base, data, out / "model-a", models / "model-a")
    fold = a.fold
    argmax = scored("argmax", data, fold, [argmax_decode(p) for p in a.oof], [argmax_decode(p) for p in a.test],
                    a.seconds, "model A")  # fmt: skip
    threshold, tuned_a = threshold_rung(
        "o-threshold", a.oof, a.test, fold, data, "model A, thresholds cross-fitted"
    )
    b = run_experiment(
        replace(base, name="model-b"), replace(data, extra=extra), out / "model-b", models / "model-b"
    )
    extdata, tuned_b = threshold_rung("external-data", b.oof, b.test, fold, data,
                                f"model B: + {external['essays']} external essays", b.seconds)  # fmt: skip
    rules, counts = with_rules("post-processing", extdata, data, fold, "model B + rules")
    probs, test_probs = average_probs([a.oof, b.oof]), average_probs([a.test, b.test])
    mean, tuned = threshold_rung("ensemble", probs, test_probs, fold, data)
    ensemble, _ = with_rules(
        "ensemble", mean, data, fold, "mean of A and B probabilities, thresholds, rules", mean.seconds
    )
    rungs = [argmax, threshold, extdata, rules, ensemble]
    # what pii-predict rebuilds each rung from: (members averaged, decoding, rules, thresholds)
    systems = {"argmax": (["model-a"], "experiment", False, None),
               "o-threshold": (["model-a"], "thresholds", False, limits(tuned_a)),
               "external-data": (["model-b"], "thresholds", False, limits(tuned_b)),
               "post-processing": (["model-b"], "thresholds", True, limits(tuned_b)),
               "ensemble": (["model-a", "model-b"], "thresholds", True, limits(tuned))}  # fmt: skip
    return rungs, {"data": data, "counts": counts, "thresholds": tuned, "model": base, "external": external,
                   "systems": systems}  # fmt: skip


def limits(tuned: Thresholds) -> dict:
    """The part of tuned thresholds that decoding needs, as the manifest stores it."""
    return {
        "threshold": float(tuned.threshold),
        "per_label": {k: float(v) for k, v in tuned.per_label.items()},
    }


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = parse_config(make_parser(), argv)
        preset = resolve_preset(args)
        data_dir, data_name = resolve_data_dir(args.data_dir)
        out = open_run(args.output_dir, "reproduce", args.verbose)
        print(f"pii-reproduce: {data_name} data, {preset} preset; library logs in {out / 'run.log'}")
        rungs, artefacts = ladder(args, preset, data_dir, out)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    data = artefacts["data"]
    best = max(rungs, key=lambda r: r.cv)
    write_submission(out / "submission.csv", data.test, best.test_pred)
    members, decoding, rules, thresholds = artefacts["systems"][best.name]
    write_manifest(out / "models", members, decoding, rules, thresholds)
    evidence = "mechanics" if artefacts["model"].backbone.startswith("tiny:") else "model"
    found = report.claims(rungs, [d.document for d in data.train], evidence=evidence, seed=args.seed)
    results = report.write(out, rungs, artefacts, found, data=data_name, preset=preset, settings=asdict(args))
    write_results(out / "results.json", results)
    print(report.markdown(report.ladder_table(rungs)))
    print_claims(found)
    print(
        f"wrote {out}: report.md, results.json, submission.csv (from {best.name}), models/ for pii-predict, run.log"
    )
