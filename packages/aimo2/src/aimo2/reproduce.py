r"""``aimo2-reproduce``: the chapter's story in one command, on the reference problems (answers known).

Inference ladder, every rung served by :class:`~aimo2.gateway.LocalGateway` to a
:class:`~aimo2.solver.Solver` and repeated over ``repeats`` seeds:

1. ``single-sample``: one sample per problem (the baseline notebook's first try);
2. ``vote-N``: majority vote over N samples (§13.5);
3. ``vote-N-early-stop``: batches of 8, stop once ``min_agree`` samples agree with a lead of ``margin``
   (NemoSkills §13.6.5, Fast-Math-R1 §13.7.5);
4. ``vote-N-kaggle-budget`` and ``early-stop-time-allocation``: the two above under Kaggle's 5 hours per 50
   problems, the first spending it blindly (the gateway cuts it off), the second sharing the remaining
   budget among the remaining problems.

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

from aimo2 import report, sft, train_grpo
from aimo2.answers import extract_answer, majority_vote
from aimo2.backends import SimulatedBackend, SimulatedClock, TransformersBackend, VLLMBackend
from aimo2.configs import parse_run
from aimo2.constrained import BoxForcing
from aimo2.data import DataError, load_competition, load_traces
from aimo2.gateway import LocalGateway
from aimo2.merge import linear_merge
from aimo2.paths import resolve_data_dir, run_dir
from aimo2.prompts import THINK_END, build_messages
from aimo2.sandbox import PythonSandbox
from aimo2.solver import Solver
from shared.tiny import tiny_causal_lm

RECIPES = Path("competitions/aimo2/recipes")
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
    training: str = field(default="auto", metadata={"help": "on | off (auto: on with the cpu preset)"})
    eval_problems: int = field(default=6, metadata={"help": "problems that evaluate each trained CPU model"})


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments)


@dataclass
class Rung:
    name: str
    scores: list[float]  # correct answers per repeat
    seconds: float
    records: list[dict]  # the solver's per-problem records, every repeat
    n_problems: int
    submission: pd.DataFrame  # id, answer of the first repeat, Kaggle's layout
    note: str = ""


def resolve(args: ReproduceArguments) -> tuple[str, str, bool]:
    """(preset, backend, training) with ``auto`` resolved."""
    preset = args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")
    backend = args.backend if args.backend != "auto" else ("simulated" if preset == "cpu" else "vllm")
    training = args.training == "on" or (args.training == "auto" and preset == "cpu")
    for name, value, choices in (
        ("preset", preset, ("cpu", "full")),
        ("backend", backend, ("simulated", "vllm", "transformers")),
        ("training", args.training, ("auto", "on", "off")),
    ):
        if value not in choices:
            raise DataError(f"--{name}: {value!r} is not one of {list(choices)}")
    return preset, backend, training


def run_rung(name, problems, make_solver, budget_s, repeats, note="") -> Rung:
    """Serve every problem to a fresh solver per repeat; the gateway's score is one fold."""
    start = time.perf_counter()
    scores, records, submissions = [], [], []
    for repeat in range(repeats):
        solver, clock = make_solver(repeat)
        result = LocalGateway(problems, time_budget_s=budget_s, clock=clock).run(solver.predict)
        scores.append(result.score())
        submissions.append(result.submission())
        served = {r.id: r for r in solver.records}
        for row in result.frame.itertuples(index=False):
            rec = (
                served[row.id].to_dict() if row.id in served else {"id": row.id, "tokens": 0, "n_samples": 0}
            )
            records.append(rec | {"repeat": repeat, "status": row.status, "correct": bool(row.correct)})
    return Rung(name, scores, time.perf_counter() - start, records, len(problems), submissions[0], note)


def inference_ladder(args, problems, metadata, backend_name) -> tuple[list[Rung], dict]:
    """The five voting rungs and the accuracy-vs-samples curve."""
    n, kaggle = args.n_samples, 5 * 3600 / 50 * len(problems)
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

    early = dict(n_samples=n, batch_size=args.batch_size, min_agree=args.min_agree, margin=args.margin)
    unlimited = float("inf")
    rungs = [
        run_rung("single-sample", problems, lambda r: factory(r, n_samples=1, batch_size=1), unlimited, args.repeats),
        run_rung(f"vote-{n}", problems, lambda r: factory(r, n_samples=n, batch_size=args.batch_size), unlimited, args.repeats),
        run_rung(f"vote-{n}-early-stop", problems, lambda r: factory(r, **early), unlimited, args.repeats),
        run_rung(f"vote-{n}-kaggle-budget", problems, lambda r: factory(r, n_samples=n, batch_size=args.batch_size),
                 kaggle, args.repeats, note="fixed N, 5 h per 50 problems enforced by the gateway"),
        run_rung("early-stop-time-allocation", problems, lambda r: factory(r, budget=kaggle, **early), kaggle,
                 args.repeats, note="remaining budget / remaining problems per problem"),
    ]  # fmt: skip
    curve = accuracy_vs_samples(factory, problems, n, args.repeats)
    return rungs, curve


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
    """SFT-CoT, SFT-TIR, GRPO from SFT-CoT and the 0.3/0.7 merge, each evaluated on a few problems."""
    cpu = preset == "cpu"
    base = common_base(data_dir) if cpu else args.model
    common = ["--data_dir", str(data_dir), "--preset", preset, "--model_name_or_path", str(base)]
    logs, models = {}, {}
    for name, recipe in (("sft-cot", "sft-cot.yaml"), ("sft-tir", "sft-tir.yaml")):
        run = parse_run(sft.make_parser, ["--config", str(RECIPES / recipe), "--output_dir", str(out / name), *common],
                        sft.cpu_overrides)  # fmt: skip
        folder = sft.train(run)
        models[name] = Path(run.training.output_dir)
        logs[name] = json.loads((folder / "log.json").read_text())
    grpo_args = ["--config", str(RECIPES / "grpo.yaml"), "--output_dir", str(out / "grpo"), *common[:-1],
                 str(models["sft-cot"])]  # fmt: skip
    run = parse_run(train_grpo.make_parser, grpo_args, train_grpo.cpu_overrides)
    folder = train_grpo.train(run)
    models["grpo"] = Path(run.training.output_dir)
    logs["grpo"] = json.loads((folder / "rewards.json").read_text())
    models["merge-0.3cot-0.7tir"] = linear_merge(
        [models["sft-cot"], models["sft-tir"]], [0.3, 0.7], out / "merge-0.3cot-0.7tir"
    )
    subset = problems.head(args.eval_problems)
    sampling = dict(n_samples=4, batch_size=4, max_new_tokens=96 if cpu else args.max_new_tokens)
    rungs = []
    for name, style in (
        ("sft-cot", "cot"),
        ("sft-tir", "tir"),
        ("grpo", "cot"),
        ("merge-0.3cot-0.7tir", "tir"),
    ):
        backend = load_backend("transformers" if cpu else "vllm", str(models[name]),
                               force_box=BoxForcing(after_think=True))  # fmt: skip
        sandbox = PythonSandbox(timeout_s=5, cpu_s=5) if style == "tir" else None

        def make(repeat, backend=backend, style=style, sandbox=sandbox):
            return Solver(backend, style=style, sandbox=sandbox, seed=repeat, **sampling), time.monotonic

        note = "tiny random model trained a few steps: mechanics only" if cpu else ""
        rungs.append(run_rung(name, subset, make, float("inf"), 1, note=note))
    return rungs, logs


def common_base(data_dir: Path) -> Path:
    """One tiny Qwen2 whose tokenizer knows every trace, so the CoT and TIR fine-tunes can be merged."""
    texts = [m["content"] for name in ("cot", "tir") for r in load_traces(data_dir / "train" / f"{name}.jsonl")
             for m in r["messages"]]  # fmt: skip
    return tiny_causal_lm(texts, extra_special_tokens=("<think>", THINK_END))


def main(argv: list[str] | None = None) -> None:
    (args,) = make_parser().parse_args_into_dataclasses(args=argv)
    try:
        preset, backend, training = resolve(args)
        data_dir, data_name = resolve_data_dir(args.data_dir)
        competition = load_competition(data_dir)
        if competition.reference is None:
            raise DataError(
                f"{data_dir}: reproduce needs reference.csv (problems with answers) to score rungs"
            )
        problems = competition.reference
        out = run_dir(args.output_dir, "reproduce")
        out.mkdir(parents=True, exist_ok=True)
        print(
            f"aimo2-reproduce: {len(problems)} problems from {data_name}, preset {preset}, backend {backend}"
        )
        rungs, curve = inference_ladder(args, problems, competition.metadata, backend)
        trained, logs = (
            training_ladder(args, preset, data_dir, problems, out / "training") if training else ([], {})
        )
    except DataError as err:
        sys.exit(f"error: {err}")
    results = report.write(out, rungs, trained, curve, logs, data=data_name, preset=preset, backend=backend,
                           settings=asdict(args))  # fmt: skip
    for claim in results["claims"]:
        print(f"[{'holds' if claim['holds'] else 'does not hold'}] {claim['text']}")
    print(f"wrote {out}")
