r"""``aimo2-build-cot``: sample solutions from a teacher model and keep those with the right answer (§13.6.1).

NemoSkills built its CoT and TIR training sets this way: a strong reasoning model (DeepSeek-R1, QwQ-32B)
solves each problem many times, and only the solutions whose final ``\boxed{}`` equals the known answer
are kept. Fast-Math-R1 then keeps the shortest of them (``aimo2-sft``'s ``selection: shortest_correct``).
The output is a traces file in the layout ``aimo2-sft`` reads (``id, problem, answer, messages``), plus
``stats.json`` with the teacher's pass rate. With ``style: tir`` the teacher's code runs in the sandbox,
so kept traces carry real ```output blocks.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from transformers import HfArgumentParser

from aimo2.answers import extract_answer
from aimo2.backends import Backend, TransformersBackend, VLLMBackend
from aimo2.configs import DASHES, PRESETS, VERBOSE_HELP, ConfigError
from aimo2.data import DataError, load_problems, load_traces
from aimo2.paths import resolve_data_dir, run_dir
from aimo2.prompts import STYLES, THINK_END, build_messages
from aimo2.sandbox import PythonSandbox
from aimo2.tir import run_tir
from shared.console import log_to_file, progress
from shared.tiny import tiny_causal_lm

BACKENDS = ("auto", "vllm", "transformers")


@dataclass
class BuildArguments:
    problems: str | None = field(
        default=None,
        metadata={
            "help": "csv (id, problem, answer) or jsonl with those fields; default <data dir>/train/grpo.jsonl"
        },
    )
    data_dir: str | None = None
    teacher: str = field(default="Qwen/QwQ-32B", metadata={"help": "hub id or path of the teacher model"})
    backend: str = field(
        default="auto", metadata={"help": "auto | vllm | transformers (auto: vllm with CUDA)"}
    )
    tensor_parallel_size: int = 1
    style: str = field(default="cot", metadata={"help": "cot | tir"})
    n_samples: int = field(default=16, metadata={"help": "solutions sampled per problem"})
    max_new_tokens: int = 16384
    temperature: float = 0.7
    top_p: float = 0.95
    max_tool_calls: int = 4
    max_problems: int | None = None
    seed: int = 0
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: cpu without CUDA)"})
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/aimo2/build-<style>-<timestamp>"}
    )
    verbose: bool = field(default=False, metadata={"help": VERBOSE_HELP})

    def __post_init__(self) -> None:
        for name, choices in (("preset", PRESETS), ("backend", BACKENDS), ("style", sorted(STYLES))):
            if getattr(self, name) not in choices:
                raise ConfigError(f"{name}: {getattr(self, name)!r} is not one of {list(choices)}")


# What the CPU preset replaces: a tiny model and a few short samples, to run the pipeline end to end.
CPU_PRESET = {"backend": "transformers", "n_samples": 2, "max_new_tokens": 48, "max_problems": 8}


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(BuildArguments, description=DASHES)


def load_records(path: Path) -> list[dict]:
    """Problems with known answers, from a csv or a jsonl of records."""
    if path.suffix == ".csv":
        frame = load_problems(path, with_answers=True)
        return [
            {"id": r.id, "problem": r.problem, "answer": int(r.answer)} for r in frame.itertuples(index=False)
        ]
    seen, records = set(), []
    for record in load_traces(path):
        if record["id"] not in seen:
            seen.add(record["id"])
            records.append(
                {"id": record["id"], "problem": record["problem"], "answer": int(record["answer"])}
            )
    return records


def build_traces(
    backend: Backend,
    records: list[dict],
    *,
    style: str = "cot",
    n_samples: int,
    max_new_tokens: int,
    temperature: float = 0.7,
    top_p: float = 0.95,
    seed: int = 0,
    sandbox: PythonSandbox | None = None,
    max_tool_calls: int = 4,
) -> tuple[list[dict], dict]:
    """(the correct traces, statistics): every problem is sampled ``n_samples`` times."""
    if style not in STYLES:
        raise ConfigError(f"style: {style!r} is not one of {sorted(STYLES)}")
    kept, per_problem = [], {}
    for i, record in enumerate(progress(records, desc=f"teacher ({style})", unit="problem")):
        sampling = dict(n=n_samples, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p)
        if style == "tir":
            samples = run_tir(backend, record["problem"], sandbox=sandbox or PythonSandbox(),
                              max_tool_calls=max_tool_calls, seed=seed + i, **sampling)  # fmt: skip
        else:
            samples = backend.generate([build_messages(record["problem"], style)], seed=seed + i, **sampling)[
                0
            ]
        correct = [s for s in samples if extract_answer(s.text) == record["answer"]]
        per_problem[record["id"]] = len(correct)
        user = build_messages(record["problem"], style)
        kept += [record | {"messages": [*user, {"role": "assistant", "content": s.text}]} for s in correct]
    total = len(records) * n_samples
    stats = {
        "problems": len(records),
        "samples": total,
        "correct": len(kept),
        "pass_rate": len(kept) / total if total else 0.0,
        "problems_with_a_correct_trace": sum(1 for n in per_problem.values() if n),
        "correct_per_problem": per_problem,
    }
    return kept, stats


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = make_parser().parse_args_into_dataclasses(args=argv)
        out = run_dir(args.output_dir, f"build-{args.style}")
        out.mkdir(parents=True, exist_ok=True)
        log_to_file(out / "run.log", verbose=args.verbose)
        preset = args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")
        path = (
            Path(args.problems)
            if args.problems
            else resolve_data_dir(args.data_dir)[0] / "train" / "grpo.jsonl"
        )
        records = load_records(path)
        if preset == "cpu":
            print(
                f"aimo2-build-cot: cpu preset, a tiny random teacher (text is noise): {CPU_PRESET}",
                file=sys.stderr,
            )
            for name, value in CPU_PRESET.items():
                setattr(args, name, value)
            args.teacher = str(
                tiny_causal_lm([r["problem"] for r in records], extra_special_tokens=("<think>", THINK_END))
            )
        records = records[: args.max_problems] if args.max_problems else records
        backend_name = (
            args.backend
            if args.backend != "auto"
            else ("vllm" if torch.cuda.is_available() else "transformers")
        )
        if backend_name == "vllm":
            backend = VLLMBackend(
                args.teacher, tensor_parallel_size=args.tensor_parallel_size, seed=args.seed
            )
        else:
            backend = TransformersBackend(args.teacher)
        kept, stats = build_traces(backend, records, style=args.style, n_samples=args.n_samples,
                                   max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_p=args.top_p,
                                   seed=args.seed, max_tool_calls=args.max_tool_calls)  # fmt: skip
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    with open(out / "traces.jsonl", "w") as f:
        f.writelines(json.dumps(record) + "\n" for record in kept)
    (out / "stats.json").write_text(json.dumps(stats | {"args": asdict(args)}, indent=2) + "\n")
    print(f"aimo2-build-cot: kept {stats['correct']} of {stats['samples']} solutions; wrote {out}")


if __name__ == "__main__":
    main()
