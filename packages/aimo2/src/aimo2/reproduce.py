r"""``aimo2-reproduce``: the chapter's story in one command, on the reference problems (answers known).

Inference ladder, every rung served by :class:`~aimo2.gateway.LocalGateway` to a
:class:`~aimo2.solver.Solver` and repeated over ``repeats`` seeds:

1. ``single-sample``: one sample per problem (the baseline notebook's first try);
2. ``vote-N``: majority vote over N samples (§13.5);
3. ``vote-N-early-stop``: batches of 8, stop once ``min_agree`` samples agree with a lead of ``margin``
   (NemoSkills §13.6.5, Fast-Math-R1 §13.7.5);
4. under Kaggle's budget (5 hours per 50 problems; the gateway cuts a run off when it is spent):
   ``vote-N-kaggle-budget``, fixed N spent blindly (table only: it cannot fit, so it is no baseline);
   ``vote-K-fits-budget``, a fixed K sized from ``vote-N``'s seconds per batch to fit the budget;
   ``vote-N-early-stop-kaggle-budget``, early stopping that ignores the budget; and
   ``early-stop-time-allocation``, early stopping with the remaining budget shared among the remaining
   problems. The claims (:mod:`aimo2.claims`) compare the last one with the two before it.

With ``--backend simulated`` (the CPU default) no model runs: answers and lengths are drawn per problem
(:class:`~aimo2.backends.SimulatedBackend`), which is what makes voting, early stopping and the budget
measurable on a laptop. With ``vllm`` (the full preset) the same rungs come from real generations.

Training ladder (§13.6–13.7): SFT on CoT traces and on TIR traces from one base model, GRPO from the CoT
checkpoint, the 0.3 CoT / 0.7 TIR linear merge, each evaluated through the same gateway (the TIR and
merged models with tool calls in the sandbox). On CPU these are tiny random models trained for a few
steps: the rows prove the pipeline runs and the losses and rewards are logged, not that it helps.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from aimo2 import model_ladder, report, sft, train_grpo
from aimo2.answers import extract_answer, majority_vote
from aimo2.backends import SimulatedBackend, SimulatedClock, TransformersBackend, VLLMBackend
from aimo2.claims import NONINFERIORITY_POINTS, claims
from aimo2.configs import DASHES, VERBOSE_HELP, ConfigError, parse_run
from aimo2.constrained import BoxForcing
from aimo2.data import DataError, load_competition
from aimo2.gateway import KAGGLE_SECONDS_PER_PROBLEM
from aimo2.learner import CurriculumPreset
from aimo2.merge import linear_merge
from aimo2.paths import RECIPES, resolve_data_dir, run_dir
from aimo2.prompts import build_messages
from aimo2.rungs import Rung, fitted_samples, run_rung
from aimo2.sandbox import PythonSandbox
from aimo2.solver import Solver
from shared.console import is_verbose, log_to_file
from shared.report import print_claims

FULL_MODEL = "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B"


@dataclass
class ReproduceArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/aimo2/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/aimo2/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    backend: str = field(
        default="auto",
        metadata={"help": "simulated | vllm | transformers (auto: simulated on cpu, vllm on full)"},
    )
    model: str = field(default=FULL_MODEL, metadata={"help": "the model of the vllm/transformers backends"})
    n_samples: int = field(default=32, metadata={"help": "N of the voting rungs"})
    batch_size: int = 8
    min_agree: int = field(default=5, metadata={"help": "early stop once this many samples agree"})
    margin: int = field(default=3, metadata={"help": "... and lead the runner-up by this many"})
    max_new_tokens: int = 16384
    repeats: int = field(default=3, metadata={"help": "seeds per inference rung (the folds of results.json)"})
    training: str = field(default="auto", metadata={
        "help": "on | off (auto: on with the cpu preset when the data has the training traces)"})  # fmt: skip
    eval_problems: int = field(default=6, metadata={"help": "problems that evaluate each trained CPU model"})
    noninferiority_points: float = field(
        default=NONINFERIORITY_POINTS,
        metadata={
            "help": "early stopping's accuracy may be at most this many points (of 100) below voting's"
        },
    )
    verbose: bool = field(default=False, metadata={"help": VERBOSE_HELP})


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(
        ReproduceArguments,
        prog="aimo2-reproduce",
        usage="aimo2-reproduce [--data-dir DIR] [--output-dir DIR] [--preset auto|cpu|full] [--verbose] [...]",
        description=DASHES,
    )


TRACES = ("train/cot.jsonl", "train/tir.jsonl", "train/grpo.jsonl")  # what the training ladder reads


def missing_traces(data_dir: Path) -> list[str]:
    return [name for name in TRACES if not (Path(data_dir) / name).is_file()]


def resolve(args: ReproduceArguments, data_dir: Path | None = None) -> tuple[str, str, bool]:
    """(preset, backend, training) with ``auto`` resolved. ``auto`` training is on with the cpu preset, whose
    model ladder writes its own curriculum; the full preset trains when asked (``--training on``) and then
    needs the data's traces (Kaggle's download has none: it says which, and how to make them)."""
    preset = args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")
    backend = args.backend if args.backend != "auto" else ("simulated" if preset == "cpu" else "vllm")
    for name, value, choices in (
        ("preset", preset, ("cpu", "full")),
        ("backend", backend, ("simulated", "vllm", "transformers")),
        ("training", args.training, ("auto", "on", "off")),
    ):
        if value not in choices:
            raise ConfigError(f"--{name}: {value!r} is not one of {list(choices)}")
    training = args.training == "on" or (args.training == "auto" and preset == "cpu")
    if training and preset == "full" and data_dir is not None and missing_traces(data_dir):
        raise ConfigError(f"--training on: {data_dir} has no {', '.join(missing_traces(data_dir))}: make them with "
                          "aimo2-prepare-data (README, Data)")  # fmt: skip
    return preset, backend, training


def inference_ladder(args, problems, metadata, backend_name) -> tuple[dict[str, Rung], dict]:
    """The voting rungs by role (:data:`aimo2.claims.ROLES`, plus ``blind``) and the accuracy-vs-samples curve."""
    n, kaggle = args.n_samples, KAGGLE_SECONDS_PER_PROBLEM * len(problems)
    if backend_name == "simulated":

        def factory(repeat, budget=None, **solver_kwargs):
            clock = SimulatedClock()
            backend = SimulatedBackend.from_problems(problems, metadata, seed=repeat, clock=clock)
            n_problems = len(problems) if budget else None
            return Solver(backend, clock=clock, seed=repeat, time_budget_s=budget, n_problems=n_problems,
                          max_new_tokens=args.max_new_tokens, **solver_kwargs), clock  # fmt: skip
    else:
        backend = load_backend(backend_name, args.model)

        def factory(repeat, budget=None, **solver_kwargs):
            n_problems = len(problems) if budget else None
            return Solver(backend, seed=repeat, time_budget_s=budget, n_problems=n_problems,
                          max_new_tokens=args.max_new_tokens, **solver_kwargs), time.monotonic  # fmt: skip

    def rung(name, gateway_budget=float("inf"), note="", **solver_kwargs):
        return run_rung(
            name, problems, lambda r: factory(r, **solver_kwargs), gateway_budget, args.repeats, note
        )

    voting = dict(n_samples=n, batch_size=args.batch_size)
    early = voting | dict(min_agree=args.min_agree, margin=args.margin)
    ladder = {
        "single": rung("single-sample", n_samples=1, batch_size=1),
        "vote": rung(f"vote-{n}", **voting),
        "early": rung(f"vote-{n}-early-stop", **early),
        "blind": rung(f"vote-{n}-kaggle-budget", kaggle, "fixed N spent blindly under the budget (table only: "
                      "no claim's baseline)", **voting),
    }  # fmt: skip
    fitted, note = fitted_samples(ladder["vote"], KAGGLE_SECONDS_PER_PROBLEM, args.batch_size, n)
    ladder["fitted"] = rung(
        f"vote-{fitted}-fits-budget", kaggle, note, n_samples=fitted, batch_size=args.batch_size
    )
    ladder["early_budget"] = rung(
        f"vote-{n}-early-stop-kaggle-budget",
        kaggle,
        "early stopping, no time allocation, under the budget",
        **early,
    )
    ladder["allocation"] = rung(
        "early-stop-time-allocation",
        kaggle,
        "remaining budget / remaining problems per problem",
        budget=kaggle,
        **early,
    )
    curve = accuracy_vs_samples(factory, problems, n, args.repeats)
    if backend_name == "vllm":
        backend.close()  # the training rungs build engines of their own
    return ladder, curve


def accuracy_vs_samples(factory, problems: pd.DataFrame, n: int, repeats: int) -> dict:
    """Mean fraction correct of the majority over the first k samples, k = 1..n (the PNG of the report)."""
    hits = np.zeros(n)
    for repeat in range(repeats):
        solver, _ = factory(repeat, n_samples=n, batch_size=n)
        for row in problems.itertuples(index=False):
            samples = solver.backend.generate([build_messages(row.problem)], n=n, max_new_tokens=solver.max_new_tokens,
                                              seed=repeat)[0]  # fmt: skip
            answers = [extract_answer(s.text) for s in samples]
            hits += [majority_vote(answers[:k]) == row.answer for k in range(1, n + 1)]
    return {"samples": list(range(1, n + 1)), "accuracy": (hits / (repeats * len(problems))).tolist()}


def load_backend(name: str, model: str, **kwargs):
    if name == "vllm":
        return VLLMBackend(model, **kwargs)
    return TransformersBackend(model, **kwargs)


def training_ladder(
    args, preset: str, data_dir: Path, problems: pd.DataFrame, out: Path
) -> tuple[list[Rung], dict]:
    """The full preset's training ladder on the data's traces: SFT-CoT, SFT-TIR, GRPO from SFT-CoT and the
    0.3/0.7 merge of the recipes, each evaluated through the gateway on ``eval_problems`` reference problems
    with vLLM (the cpu preset runs :mod:`aimo2.model_ladder` instead)."""
    common = ["--data_dir", str(data_dir), "--preset", preset, "--model_name_or_path", args.model]
    logs, models = {}, {}
    for name in ("sft-cot", "sft-tir"):
        run = parse_run(sft.make_parser, ["--config", str(RECIPES / f"{name}.yaml"), "--output_dir", str(out / name),
                                          *common], sft.cpu_overrides, announce=False)  # fmt: skip
        folder = sft.train(run)
        models[name] = Path(run.training.output_dir)
        logs[name] = json.loads((folder / "log.json").read_text())
    grpo_args = ["--config", str(RECIPES / "grpo.yaml"), "--output_dir", str(out / "grpo"), *common[:-1],
                 str(models["sft-cot"])]  # fmt: skip
    run = parse_run(train_grpo.make_parser, grpo_args, train_grpo.cpu_overrides, announce=False)
    folder = train_grpo.train(run)
    models["grpo"] = Path(run.training.output_dir)
    logs["grpo"] = json.loads((folder / "rewards.json").read_text())
    models["merge-0.3cot-0.7tir"] = linear_merge(
        [models["sft-cot"], models["sft-tir"]], [0.3, 0.7], out / "merge-0.3cot-0.7tir"
    )
    subset = problems.head(args.eval_problems)
    sampling = dict(n_samples=4, batch_size=4, max_new_tokens=args.max_new_tokens)
    rungs = []
    for name, style in (
        ("sft-cot", "cot"),
        ("sft-tir", "tir"),
        ("grpo", "cot"),
        ("merge-0.3cot-0.7tir", "tir"),
    ):
        backend = load_backend("vllm", str(models[name]), force_box=BoxForcing(after_think=True))
        sandbox = PythonSandbox(timeout_s=5, cpu_s=5) if style == "tir" else None

        def make(repeat, backend=backend, style=style, sandbox=sandbox):
            return Solver(backend, style=style, sandbox=sandbox, seed=repeat, **sampling), time.monotonic

        rungs.append(run_rung(name, subset, make, float("inf"), 1))
        backend.close()
    return rungs, logs


def main(argv: list[str] | None = None) -> None:
    (args,) = make_parser().parse_args_into_dataclasses(args=argv)
    try:
        data_dir, data_name = resolve_data_dir(args.data_dir)
        preset, backend, training = resolve(args, data_dir)
        competition = load_competition(data_dir)
        if competition.reference is None:
            raise DataError(
                f"{data_dir}: reproduce needs reference.csv (problems with answers) to score rungs"
            )
        problems = competition.reference
        out = run_dir(args.output_dir, "reproduce")
        out.mkdir(parents=True, exist_ok=True)
        log_to_file(out / "run.log", verbose=args.verbose)
        print(
            f"aimo2-reproduce: {len(problems)} problems from {data_name}, preset {preset}, backend {backend}"
        )
        ladder, curve = inference_ladder(args, problems, competition.metadata, backend)
        trained, logs, model = [], {}, None
        if training and preset == "cpu":
            model = model_ladder.run(CurriculumPreset(), out)
        elif training:
            trained, logs = training_ladder(args, preset, data_dir, problems, out / "training")
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    evidence = "simulated" if backend == "simulated" else "model"
    found = claims(ladder, evidence=evidence, margin_points=args.noninferiority_points)
    rungs = list(ladder.values())
    report.write(out, rungs, trained, curve, logs, found, data=data_name, preset=preset, backend=backend,
                 settings=asdict(args), model=model)  # fmt: skip
    print()
    if model is not None:
        print(report.markdown(report.evaluation_table(model.evaluations)[report.EVALUATION_COLUMNS]))
        print()
        print(report.markdown(report.rung_table(model.rungs.values())[report.CONSOLE_COLUMNS]))
        print()
        print_claims(model.claims)
        print(f"(the simulated what-if's {len(found)} claims are in report.md, not the chapter's findings)")
    else:
        print(report.markdown(report.rung_table([*rungs, *trained])[report.CONSOLE_COLUMNS]))
        print()
        print_claims(found)
    print()
    files = "report.md, results.json, submission.csv, records.csv, accuracy_vs_samples.png"
    files += ", models/, curriculum/" if model is not None else ""
    print(f"wrote {out}: {files}" + ("" if is_verbose() else "; the libraries' log in run.log"))
