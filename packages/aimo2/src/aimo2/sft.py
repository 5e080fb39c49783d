r"""``aimo2-sft --config recipe.yaml``: supervised fine-tuning on reasoning traces with ``trl.SFTTrainer``.

Fast-Math-R1's stage 1 (§13.7) kept, for each hard problem, the shortest R1 trace whose final answer is
correct and fine-tuned on those for 10 epochs: correct traces teach the answer, short ones teach not to
over-think. NemoSkills (§13.6) fine-tuned one model on CoT traces and one on tool-integrated (TIR)
traces and merged them (``aimo2-merge``). The loss covers the assistant turn only: the problem is given,
not learned. A recipe lists trace files and a mixing rule (see :class:`aimo2.configs.SFTScriptArguments`).
The run writes ``config.json``, ``selection.json`` (traces kept per file), ``log.json`` (the trainer's
log: loss per step) and ``model/`` into ``--output_dir`` (default ``outputs/aimo2/<recipe>-<timestamp>/``).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset
from transformers import AutoTokenizer, set_seed
from trl import ModelConfig, SFTTrainer, TrlParser, get_peft_config, get_quantization_config

from aimo2.answers import extract_answer
from aimo2.configs import (
    DASHES,
    ConfigError,
    ParsedRun,
    SFTConfig,
    SFTScriptArguments,
    check_device,
    model_init_kwargs,
    parse_run,
    shared_run_dir,
    write_config,
)
from aimo2.data import DataError, load_traces
from aimo2.paths import resolve_data_dir
from aimo2.prompts import THINK_END
from shared.console import log_to_file, quiet_trainer
from shared.tiny import tiny_causal_lm

__all__ = [
    "CPU_FIELDS",
    "assistant_text",
    "build_trainer",
    "cpu_overrides",
    "is_correct",
    "load_selected_traces",
    "main",
    "make_parser",
    "mix_traces",
    "select_shortest_correct",
    "select_traces",
    "train",
]


def make_parser() -> TrlParser:
    return TrlParser((SFTScriptArguments, SFTConfig, ModelConfig), description=DASHES)


def assistant_text(record: dict) -> str:
    """The content of the trace's last assistant message."""
    return next(m["content"] for m in reversed(record["messages"]) if m["role"] == "assistant")


def is_correct(record: dict) -> bool:
    """Whether the trace's boxed answer (mod 1000) is the problem's answer."""
    return extract_answer(assistant_text(record)) == record["answer"] % 1000


def select_shortest_correct(records: Sequence[dict], *, length: Callable[[str], int] = len) -> list[dict]:
    """Per problem ``id``, the correct trace whose assistant turn is shortest (by ``length``).

    Ties go to the trace that comes first; problems without a correct trace are dropped; problems keep
    the order in which they first appear.
    """
    best: dict[str, tuple[int, dict]] = {}
    for record in records:
        if not is_correct(record):
            continue
        size = length(assistant_text(record))
        if record["id"] not in best or size < best[record["id"]][0]:
            best[record["id"]] = (size, record)
    order = list(dict.fromkeys(r["id"] for r in records))
    return [best[i][1] for i in order if i in best]


def select_traces(
    records: Sequence[dict], selection: str, *, length: Callable[[str], int] = len
) -> list[dict]:
    """``shortest_correct`` (one per problem), ``all_correct`` or ``all`` of ``records``."""
    if selection == "shortest_correct":
        return select_shortest_correct(records, length=length)
    if selection == "all_correct":
        return [r for r in records if is_correct(r)]
    return list(records)


def mix_traces(
    groups: Sequence[Sequence[dict]], weights: Sequence[float], rng: np.random.Generator
) -> list[dict]:
    """Concatenate the groups, group i contributing ``floor(w_i * n_i + 0.5)`` records.

    Whole copies first (w > 1 repeats a group), then a random subset without replacement for the rest,
    kept in file order.
    """
    mixed: list[dict] = []
    for records, weight in zip(groups, weights, strict=True):
        if not records:
            continue
        copies, rest = divmod(math.floor(weight * len(records) + 0.5), len(records))
        mixed += list(records) * copies
        mixed += [records[i] for i in sorted(rng.choice(len(records), size=rest, replace=False))]
    return mixed


def _trace_paths(script: SFTScriptArguments) -> list[Path]:
    data_dir, _ = resolve_data_dir(script.data_dir)
    return [data_dir / name for name in script.traces]


def _load_trace_file(path: Path) -> list[dict]:
    records = load_traces(path)
    for i, record in enumerate(records, 1):
        if "messages" not in record:
            raise DataError(
                f"{path}: record {i} (id {record['id']!r}) has no field 'messages': not a trace file"
            )
    return records


def load_selected_traces(
    script: SFTScriptArguments, seed: int, *, length: Callable[[str], int] = len
) -> tuple[list[dict], list[dict]]:
    """(mixed training traces, per-file summary) for the recipe's files, selection and weights."""
    weights = script.trace_weights or [1.0] * len(script.traces)
    groups, summary = [], []
    for path, weight in zip(_trace_paths(script), weights, strict=True):
        records = _load_trace_file(path)
        selected = select_traces(records, script.selection, length=length)
        groups.append(selected)
        summary.append(
            {
                "file": str(path),
                "traces": len(records),
                "problems": len({r["id"] for r in records}),
                "selected": len(selected),
                "weight": weight,
            }
        )
    return mix_traces(groups, weights, np.random.default_rng(seed)), summary


# What a laptop cannot honour in the recipes, whatever the model: fp32 on the CPU, no kernels, no checkpoints.
CPU_FIELDS = {"dtype": "float32", "attn_implementation": None, "use_cpu": True, "bf16": False,
              "gradient_checkpointing": False, "packing": False, "save_strategy": "no"}  # fmt: skip


def cpu_overrides(script: SFTScriptArguments) -> dict[str, Any]:
    """The CPU preset: a tiny Qwen2 whose tokenizer is trained on the traces, short sequences, 4 steps."""
    texts = [
        m["content"] for path in _trace_paths(script) for r in _load_trace_file(path) for m in r["messages"]
    ]
    model = tiny_causal_lm(texts, extra_special_tokens=("<think>", THINK_END))
    return {
        "model_name_or_path": str(model),
        **CPU_FIELDS,
        "max_length": 1024,
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "max_steps": 4,
        "logging_steps": 1,
    }


def build_trainer(run: ParsedRun, out: Path) -> tuple[SFTTrainer, list[dict]]:
    """(the SFTTrainer of a parsed run writing into ``out/model``, the per-file trace summary)."""
    script, training, model = run.script, run.training, run.model
    tokenizer = AutoTokenizer.from_pretrained(
        model.model_name_or_path, revision=model.model_revision, trust_remote_code=training.trust_remote_code
    )

    def tokens(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    traces, summary = load_selected_traces(script, training.seed, length=tokens)
    if not traces:
        raise DataError(f"traces: no trace of {script.traces} survives selection {script.selection!r}")
    training.output_dir = str(out / "model")
    training.model_init_kwargs = model_init_kwargs(model, training)
    set_seed(training.seed)  # here, so weights the checkpoint lacks start the same whatever ran before
    trainer = SFTTrainer(
        model=model.model_name_or_path,
        args=training,
        train_dataset=Dataset.from_list([{"messages": r["messages"]} for r in traces]),
        processing_class=tokenizer,
        quantization_config=get_quantization_config(model),
        peft_config=get_peft_config(model),
    )
    return trainer, summary


def train(run: ParsedRun, out: Path | None = None) -> Path:
    """Train, save, and write config.json, selection.json and log.json; returns the run folder
    (``out``, default ``outputs/aimo2/<recipe>-<timestamp>``). One named bar shows the steps; the per-step
    metrics go to the log."""
    out = out or shared_run_dir(run.training, run.output_dir, run.recipe or "sft")
    trainer, summary = build_trainer(run, out)
    if trainer.is_world_process_zero():
        write_config(run, out / "config.json")
        (out / "selection.json").write_text(json.dumps(summary, indent=2) + "\n")
    quiet_trainer(trainer, run.recipe or "sft")
    trainer.train(resume_from_checkpoint=run.training.resume_from_checkpoint)
    trainer.save_model(run.training.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        (out / "log.json").write_text(json.dumps(trainer.state.log_history, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    try:
        run = parse_run(make_parser, argv, cpu_overrides)
        check_device(run.training, run.preset)
        out = shared_run_dir(run.training, run.output_dir, run.recipe or "sft")
        log_to_file(out / "run.log", verbose=run.script.verbose)
        train(run, out)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    print(f"aimo2-sft ({run.preset} preset): wrote {out}")


if __name__ == "__main__":
    main()
