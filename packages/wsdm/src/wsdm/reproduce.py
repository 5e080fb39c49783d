"""``wsdm-reproduce``: the chapter's ladder in one command (§12.5 baselines → §12.6–12.7 top solutions).

1. ``features``: TF-IDF and length differences under a logistic regression (the pre-LLM baseline);
2. ``zero-shot``: the LLM as a judge, p(A) from the logits of "A" and "B" (§12.5.1);
3. ``classifier``: the LLM fine-tuned with a 2-label classification head (§12.5.2; QLoRA in the full recipe);
4. ``generation``: the same LLM trained to answer "A" or "B", the loss on the answer token only (§12.6.2);
5. ``teacher``: a larger LLM trained on the pairs plus the extra arena data (LMSYS layout); its out-of-fold
   probabilities are the soft labels of
6. ``distilled``: the classifier trained on KL(teacher || student) plus cross-entropy (§12.6.3);
7. ``+tta`` rungs: each trained model's predictions averaged with those of the swapped pairs (§12.6.4);
8. ``ensemble``: the classifier, generation head and distilled student (each with TTA), weights cross-fitted;
9. ``cascade``: the distilled student, its least certain rows sent to the teacher (§12.7);
10. ``distilled+tta-int8`` / ``-nf4``: the student's fold models reloaded with bitsandbytes 8-bit and 4-bit
    weights and run again (§12.7.1): accuracy, size and speed.

Every score is the accuracy of the out-of-fold predictions of train.parquet's pairs (and of the test when its
labels are known: the sample's). Claims compare rungs by a paired bootstrap over pairs (``wsdm.report``).
``models/`` keeps what the submitted rung needs and ``manifest.json`` says how ``wsdm-predict`` runs it.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from shared.console import progress
from shared.recipes import ConfigError, FieldError, parse_config
from shared.report import print_claims, write_results
from wsdm import cascade, ensemble, report
from wsdm import model as models
from wsdm.baseline import FeatureBaseline
from wsdm.configs import ExperimentConfig
from wsdm.data import DataError, load_competition
from wsdm.experiment import (
    Predictions,
    Prepared,
    accuracy,
    prepare,
    requantised,
    run_experiment,
    submission_of,
    write_soft_labels,
)
from wsdm.manifest import MANIFEST, needed_folders
from wsdm.paths import open_run, resolve_data_dir
from wsdm.quantize import AUTOROUND, autoround_fold, footprint

# CPU preset: a tiny Qwen2 pretrained on the data's own text (prompts and responses, no labels), fully
# fine-tuned (lora_r 0: LoRA on a base this small learns nothing in the time); the teacher is the same model
# (a wider one's pretraining takes too long) reading longer inputs, trained also on the extra arena set.
CPU = dict(n_folds=3, backbone="tiny:qwen2-pretrained", template="plain", max_length=192, truncation="ratio",
           lora_r=0, lora_alpha=32, lora_target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], load_in_4bit=False,
           bf16=False, learning_rate=1e-3, epochs=2.0, batch_size=16, gradient_accumulation_steps=1,
           warmup_ratio=0.1, eval_batch_size=32, tta=True)  # fmt: skip
CPU_TEACHER = dict(backbone="tiny:qwen2-pretrained", max_length=256)
# Full preset: the write-ups' models (competitions/wsdm/recipes/*.yaml).
FULL = dict(n_folds=5, backbone="google/gemma-2-9b-it", template="plain", max_length=2048, truncation="ratio",
            lora_r=64, lora_alpha=128, load_in_4bit=True, bf16=True, learning_rate=2e-4, epochs=1.0, batch_size=4,
            gradient_accumulation_steps=4, eval_batch_size=16, tta=True)  # fmt: skip
FULL_TEACHER = dict(backbone="Qwen/Qwen2.5-72B-Instruct", max_length=2048, lora_r=64, batch_size=1,
                    gradient_accumulation_steps=16, gradient_checkpointing=True)  # fmt: skip
PRESETS = ("auto", "cpu", "full")
EXTRA = (
    "extra/lmsys_arena.csv"  # the sample's stand-in for the LMSYS arena data; a Kaggle user adds the real one
)
SOFT_LABELS = "teacher/soft_labels.parquet"
# The weights each preset reloads the student in, after a timed run as trained: float32 on CPU; on GPU the
# adapters were trained on an NF4 base (QLoRA), so bf16 is the reference the quantised ones are compared with.
CPU_MODES = ("int8", "nf4")
FULL_MODES = ("bf16", "int8", "nf4")
# AutoRound on CPU: a short tuning on a few blocks of the fold's own inputs (the 3rd place: 3000 iterations,
# 512 samples of 6144 tokens, the defaults of wsdm.quantize.autoround); group 128 divides the tiny LM's widths.
CPU_AUTOROUND = dict(iters=50, nsamples=32, seqlen=192, group_size=128)


@dataclass
class ReproduceArguments:
    """``wsdm-reproduce``'s flags; each spelled with dashes (``--data-dir``) or underscores."""

    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/wsdm/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/wsdm/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    extra: list[str] = field(
        default_factory=list,
        metadata={"help": f"extra arena sets for the teacher, relative to the data dir; default {EXTRA} when it exists"},
    )  # fmt: skip
    backbone: str | None = field(default=None, metadata={"help": "replace the preset's student LLM"})
    teacher: str | None = field(default=None, metadata={"help": "replace the preset's teacher LLM"})
    cascade_share: float = field(default=0.3, metadata={"help": "share of the least certain rows the cascade sends "
                                                                 "to the teacher"})  # fmt: skip
    seed: int = 42
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise FieldError("preset", f"--preset: {self.preset!r} is not one of {' | '.join(PRESETS)}")
        if not 0 < self.cascade_share < 1:
            raise FieldError("cascade_share", f"--cascade-share: {self.cascade_share} must be in (0, 1)")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments, description="The chapter's ladder in one command.")


def resolve_preset(args: ReproduceArguments) -> str:
    return args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")


@dataclass
class Rung:
    """One row of the ladder: out-of-fold and test p(A wins), and how ``wsdm-predict`` rebuilds the test's
    (``recipe``, an entry of manifest.json)."""

    name: str
    predictions: Predictions
    seconds: float
    note: str
    recipe: dict
    evidence: str = "model"
    before_tta: str | None = None  # the rung this one adds swap TTA to


class Ladder:
    def __init__(self, prep: Prepared, out: Path, base: ExperimentConfig, evidence: str):
        """``evidence``: what the LLM rungs' numbers are (``model``, or ``mechanics`` for a tiny stand-in)."""
        self.prep, self.out, self.base, self.evidence = prep, out, base, evidence
        self.rungs: dict[str, Rung] = {}
        self.results: dict = {}
        self.quantised: list[dict] = []  # the size, speed and accuracy table

    @property
    def models(self) -> Path:
        return self.out / "models"

    def add(self, rung: Rung) -> Rung:
        self.rungs[rung.name] = rung
        return rung

    def features(self) -> Rung:
        """The TF-IDF + length logistic regression, cross-validated like every rung."""
        start, prep = time.time(), self.prep
        oof, test = np.zeros(len(prep.train)), np.zeros(len(prep.test))
        for k in progress(range(prep.n_folds), desc="features", unit="fold"):
            train = prep.fold != k
            model = FeatureBaseline(seed=self.base.seed).fit(prep.train[train], prep.y[train])
            oof[~train] = model.predict(prep.train[~train])
            test += model.predict(prep.test) / prep.n_folds
            model.save(self.models / "features" / f"fold-{k}")
        return self.add(Rung("features", Predictions(oof, test), time.time() - start,
                             "char TF-IDF + length differences, logistic regression", {"kind": "features"}))  # fmt: skip

    def experiment(self, name: str, note: str, teacher: np.ndarray | None = None, evidence: str | None = None,
                   **changes) -> Rung:  # fmt: skip
        """Cross-validate one experiment into ``out/<name>``: rung ``name``, and ``name+tta`` when it predicts
        the swapped pairs too."""
        config = replace(self.base, name=name, **changes)
        result = run_experiment(config, self.prep, self.out / name, self.models, desc=name, teacher=teacher)
        self.results[name] = result
        recipe = {
            "kind": "model",
            "experiment": name,
            "head": config.head,
            "tta": False,
            "quantisation": None,  # as trained
        }
        evidence = evidence or self.evidence
        rung = self.add(Rung(name, result.predictions, result.seconds, note, recipe, evidence))
        if config.tta:
            self.add(Rung(f"{name}+tta", result.predictions.merged(), result.seconds, f"{name}, A/B swap averaged",
                          recipe | {"tta": True}, evidence, before_tta=name))  # fmt: skip
        return rung

    def quantise(
        self, source: str, mode: str | None, saved: str | None = None, spent: float = 0.0
    ) -> Rung | None:
        """``source``'s fold models reloaded with ``mode`` weights (``None``: as they were trained) and run again
        on their validation rows and the test, timed and sized for the quantisation table; a rung
        ``<source>-<mode>`` for a mode other than ``None``. ``saved``: another folder of the same experiment's
        fold models (AutoRound's copies), ``spent`` the seconds it took to make them."""
        rung = self.rungs[source]
        result = self.results[rung.recipe["experiment"]]
        result = replace(result, saved=saved or result.saved)
        start = time.time()
        predictions = requantised(
            result, self.prep, self.models, mode, desc=f"{source} {mode or 'as trained'}"
        )
        seconds = time.time() - start
        if rung.recipe["tta"]:
            predictions = predictions.merged()
        views = 2 if result.config.tta else 1
        rows = (
            len(self.prep.train) + len(self.prep.test) * self.prep.n_folds
        ) * views  # one test pass per fold
        fold = models.load(self.models / result.saved / "fold-0", quantisation=mode)
        name = f"{source}-{mode}" if mode else source
        self.quantised.append({"rung": name, "weights": mode or f"as trained ({fold.precision})", "seconds": seconds,
                               "rows": rows, "weights MB": footprint(fold.model) / 2**20})  # fmt: skip
        models.release(fold)
        if mode is None:
            return None
        recipe = rung.recipe | {"experiment": result.saved, "quantisation": mode}
        how = "AutoRound 4-bit" if mode == AUTOROUND else f"bitsandbytes {mode}"
        return self.add(Rung(name, predictions, seconds + spent, f"{source} with {how} weights", recipe,
                             rung.evidence))  # fmt: skip

    def autoround(self, source: str, **options) -> Rung:
        """``source``'s fold models quantised by AutoRound, each calibrated on its own training pairs, into
        ``models/<experiment>-autoround/``, then run again (:meth:`quantise`)."""
        result = self.results[self.rungs[source].recipe["experiment"]]
        saved = f"{result.saved}-{AUTOROUND}"
        start = time.time()
        for k in progress(range(self.prep.n_folds), desc=f"{source} {AUTOROUND}", unit="fold"):
            autoround_fold(self.models / result.saved / f"fold-{k}", self.models / saved / f"fold-{k}",
                           self.prep.train[self.prep.fold != k], seed=self.base.seed, **options)  # fmt: skip
        return self.quantise(source, AUTOROUND, saved=saved, spent=time.time() - start)

    def blend(self, members: list[str]) -> Rung:
        """The members' probabilities blended, each fold's weights chosen on the other folds."""
        prep = self.prep
        oof = [self.rungs[m].predictions.oof for m in members]
        _, weights, blended = ensemble.tune_weights(oof, prep.y == 0, prep.fold, 0.1)  # 1 = A wins
        test = ensemble.blend([self.rungs[m].predictions.test for m in members], weights)
        seconds = sum(self.rungs[m].seconds for m in members)
        shown = ", ".join(f"{m} {w:.1f}" for m, w in zip(members, weights, strict=True))
        recipe = {
            "kind": "ensemble",
            "members": [self.rungs[m].recipe for m in members],
            "weights": list(map(float, weights)),
        }
        evidence = report.worst(self.rungs[m].evidence for m in members)
        return self.add(Rung("ensemble", Predictions(blended, test), seconds, f"weights {shown} (cross-fitted)", recipe,
                             evidence))  # fmt: skip

    def cascade(self, small: str, big: str, share: float) -> Rung:
        """``small``'s predictions, its ``share`` least certain rows replaced by ``big``'s."""
        s, b = self.rungs[small].predictions, self.rungs[big].predictions
        oof = cascade.apply(s.oof, b.oof, cascade.route(s.oof, share))
        test = cascade.apply(s.test, b.test, cascade.route(s.test, share))
        recipe = {
            "kind": "cascade",
            "small": self.rungs[small].recipe,
            "big": self.rungs[big].recipe,
            "share": share,
        }
        return self.add(Rung("cascade", Predictions(oof, test), self.rungs[small].seconds + self.rungs[big].seconds,
                             f"{small}; its least certain {share:.0%} of rows to {big}", recipe,
                             report.worst((self.rungs[small].evidence, self.rungs[big].evidence))))  # fmt: skip


def score(rung: Rung, prep: Prepared) -> float:
    return float(accuracy(rung.predictions.oof, prep.y).mean())


def run_ladder(args: ReproduceArguments, preset: str, data_dir: Path, out: Path) -> tuple[Ladder, dict]:
    extra = args.extra or ([EXTRA] if (data_dir / EXTRA).is_file() else [])
    data = load_competition(data_dir, extra=extra)
    settings = dict(CPU if preset == "cpu" else FULL)
    teacher_settings = dict(CPU_TEACHER if preset == "cpu" else FULL_TEACHER)
    if args.backbone:
        settings["backbone"] = args.backbone
    if args.teacher:
        teacher_settings["backbone"] = args.teacher
    base = ExperimentConfig(name="base", seed=args.seed, **settings)
    prep = prepare(data, base.n_folds, args.seed, data_dir)
    # The tiny LM stand-in (2 layers, hidden 128) does not learn the sample's preferences in the CPU budget
    # (measured: fold-0 accuracy 0.50-0.55 against 0.57 for the TF-IDF baseline, for either head, with or
    # without swap augmentation or more epochs), and as a judge it was never taught to follow an instruction:
    # its rungs show the mechanics only.
    llm_evidence = "mechanics" if base.backbone.startswith("tiny:") else "model"
    ladder = Ladder(prep, out, base, llm_evidence)

    ladder.features()
    judge_template = "plain" if base.backbone.startswith("tiny:") else "chat"
    ladder.experiment("zero-shot", f"`{base.backbone}` untrained, logits of 'A'/'B'", head="judge",
                      template=judge_template)  # fmt: skip
    ladder.experiment("classifier", "2-label classification head, fine-tuned", head="classification")
    ladder.experiment("generation", "answer-token head, loss on 'A'/'B' only", head="generation")
    sources = [s for s in extra]
    ladder.experiment("teacher", f"`{teacher_settings['backbone']}` classifier, trained also on {', '.join(sources) or 'no extra set'}",
                      head="classification", extra=[s for s in extra], **teacher_settings)  # fmt: skip
    soft = ladder.rungs["teacher+tta"].predictions.oof
    write_soft_labels(out / SOFT_LABELS, prep.train["id"], soft)
    ladder.experiment("distilled", f"the classifier + KL to the teacher's out-of-fold p(A) (T={base.temperature:g}, "
                      f"alpha={base.distill_alpha:g})", head="classification", teacher=soft,
                      teacher_file=str((out / SOFT_LABELS).resolve()))  # fmt: skip
    ladder.blend(["classifier+tta", "generation+tta", "distilled+tta"])
    ladder.cascade("distilled+tta", "teacher+tta", args.cascade_share)
    for mode in (None, *(CPU_MODES if preset == "cpu" else FULL_MODES)):
        ladder.quantise("distilled+tta", mode)
    if base.lora_r == 0:  # AutoRound quantises whole weights: LoRA adapters would have to be merged first
        ladder.autoround("distilled+tta", **(CPU_AUTOROUND if preset == "cpu" else {}))
    artefacts = {"base": base, "data": data, "extra": extra, "quantised": ladder.quantised}
    return ladder, artefacts


def write_models(out: Path, best: Rung) -> None:
    """Keep in ``models/`` only what ``best`` needs, and write its manifest."""
    models = out / "models"
    needed = set(needed_folders(best.recipe))
    for path in models.iterdir():
        if path.is_dir() and path.name not in needed:
            shutil.rmtree(path)
    (models / MANIFEST).write_text(json.dumps({"rung": best.name, **best.recipe}, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = parse_config(make_parser(), argv)
        preset = resolve_preset(args)
        data_dir, data_name = resolve_data_dir(args.data_dir)
        out = open_run(args.output_dir, "reproduce", args.verbose)
        print(f"wsdm-reproduce: {data_name} data, {preset} preset; library logs in {out / 'run.log'}")
        ladder, artefacts = run_ladder(args, preset, data_dir, out)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    prep = ladder.prep
    rungs = list(ladder.rungs.values())
    best = max(rungs, key=lambda r: score(r, prep))
    submission_of(prep, best.predictions.test).to_csv(out / "submission.csv", index=False)
    pd.DataFrame({"id": prep.test["id"].to_numpy(), "p_model_a": best.predictions.test}).to_parquet(
        out / "test_probabilities.parquet", index=False
    )
    write_models(out, best)
    found = report.claims(ladder.rungs, prep, args.seed)
    results = report.write(
        out, rungs, found, prep, artefacts, data=data_name, preset=preset, settings=asdict(args)
    )
    write_results(out / "results.json", results)
    print(report.markdown(report.ladder_table(rungs, prep)))
    print_claims(found)
    print(f"wrote {out}: report.md, results.json, submission.csv (from {best.name}), models/, run.log")
