"""``train-grpo --config recipe.yaml``: GRPO on AIMO2 problems with trl's GRPOTrainer (Fast-Math-R1 stage 2).

After SFT had pushed accuracy up, Fast-Math-R1 (§13.7, arXiv 2507.08267) ran GRPO to make solutions
shorter at equal accuracy: samples of each problem are rewarded (see :mod:`aimo2.rewards`) and the
policy moves towards the above-average ones of its group. The run writes into ``--output_dir`` (default
``outputs/aimo2/<recipe>-<timestamp>/``): ``config.json`` (the resolved recipe, preset and replaced
fields), ``rewards.json`` (per-step mean of each reward and the mean completion length) and ``model/``
(the trainer's output: final weights, tokenizer, trainer state)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from datasets import Dataset
from transformers import AutoTokenizer, set_seed
from trl import GRPOTrainer, ModelConfig, TrlParser, get_peft_config, get_quantization_config

from aimo2.configs import (
    DASHES,
    ConfigError,
    GRPOConfig,
    GRPOScriptArguments,
    ParsedRun,
    check_device,
    model_init_kwargs,
    parse_run,
    shared_run_dir,
    write_config,
)
from aimo2.data import DataError, load_traces
from aimo2.paths import resolve_data_dir
from aimo2.prompts import THINK_END
from aimo2.rewards import get_reward_funcs
from shared.console import log_to_file, quiet_trainer
from shared.tiny import tiny_causal_lm

__all__ = [
    "CPU_FIELDS",
    "build_trainer",
    "cpu_overrides",
    "dataset_path",
    "load_prompts",
    "main",
    "make_parser",
    "train",
]


def make_parser() -> TrlParser:
    return TrlParser((GRPOScriptArguments, GRPOConfig, ModelConfig), description=DASHES)


def dataset_path(script: GRPOScriptArguments) -> Path:
    """The GRPO prompts file: ``dataset`` if given, else ``<data dir>/train/grpo.jsonl``."""
    if script.dataset:
        return Path(script.dataset)
    data_dir, _ = resolve_data_dir(script.data_dir)
    return data_dir / "train" / "grpo.jsonl"


def load_prompts(path: Path) -> list[dict]:
    """The records of a GRPO prompts file (``id, problem, answer, prompt``), validated."""
    records = load_traces(path)
    for i, record in enumerate(records, 1):
        if "prompt" not in record:
            raise DataError(
                f"{path}: record {i} (id {record['id']!r}) has no field 'prompt': not a GRPO prompts file"
            )
    return records


# What a laptop cannot honour in the recipe, whatever the model: fp32 on the CPU, transformers generation.
CPU_FIELDS = {"dtype": "float32", "attn_implementation": None, "use_vllm": False, "use_cpu": True, "bf16": False,
              "gradient_checkpointing": False, "save_strategy": "no"}  # fmt: skip


def cpu_overrides(script: GRPOScriptArguments) -> dict[str, Any]:
    """The CPU preset: a tiny Qwen2 with a tokenizer trained on the prompts, HF generation, 4 short steps."""
    records = load_prompts(dataset_path(script))
    texts = [message["content"] for record in records for message in record["prompt"]]
    model = tiny_causal_lm(texts, extra_special_tokens=("<think>", THINK_END))
    return {
        "model_name_or_path": str(model),
        **CPU_FIELDS,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "num_generations": 4,
        "max_completion_length": 32,
        "max_steps": 4,
        "logging_steps": 1,
    }


def build_trainer(run: ParsedRun, out: Path) -> GRPOTrainer:
    """The GRPOTrainer of a parsed run, writing its model and checkpoints into ``out/model``."""
    script, training, model = run.script, run.training, run.model
    weights = training.reward_weights
    if weights is not None and len(weights) != len(script.reward_funcs):
        raise ConfigError(
            f"reward_weights: {len(weights)} weights for {len(script.reward_funcs)} reward_funcs"
        )
    dataset = Dataset.from_list(load_prompts(dataset_path(script)))
    tokenizer = AutoTokenizer.from_pretrained(
        model.model_name_or_path, revision=model.model_revision, trust_remote_code=training.trust_remote_code
    )
    rewards = get_reward_funcs(
        script.reward_funcs,
        schedule=script.schedule(),
        tokenizer=tokenizer if script.length_unit == "tokens" else None,
    )
    training.output_dir = str(out / "model")
    training.model_init_kwargs = model_init_kwargs(model, training)
    set_seed(training.seed)  # here, so weights the checkpoint lacks start the same whatever ran before
    return GRPOTrainer(
        model=model.model_name_or_path,
        reward_funcs=rewards,
        args=training,
        train_dataset=dataset,
        processing_class=tokenizer,
        quantization_config=get_quantization_config(model),
        peft_config=get_peft_config(model),
    )


def reward_log(trainer: GRPOTrainer, names: list[str]) -> dict[str, Any]:
    """Per logged step: the weighted total reward, each reward's mean (by recipe name) and the mean length."""
    logged = [func.__name__ for func in trainer.reward_funcs]
    steps = []
    for entry in trainer.state.log_history:
        if "reward" not in entry:
            continue
        row = {"step": entry["step"], "reward": entry["reward"]}
        row |= {name: entry[f"rewards/{func}/mean"] for name, func in zip(names, logged, strict=True)}
        row["completion_length"] = entry.get("completions/mean_length")
        steps.append(row)
    return {"reward_funcs": names, "reward_weights": trainer.reward_weights.tolist(), "steps": steps}


def train(run: ParsedRun, out: Path | None = None) -> Path:
    """Train, save, and write config.json and rewards.json; returns the run folder
    (``out``, default ``outputs/aimo2/<recipe>-<timestamp>``). One named bar shows the steps; the per-step
    metrics go to the log."""
    out = out or shared_run_dir(run.training, run.output_dir, run.recipe or "grpo")
    trainer = build_trainer(run, out)
    if trainer.is_world_process_zero():
        write_config(run, out / "config.json")
    quiet_trainer(trainer, run.recipe or "grpo")
    trainer.train(resume_from_checkpoint=run.training.resume_from_checkpoint)
    trainer.save_model(run.training.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        log = reward_log(trainer, run.script.reward_funcs)
        (out / "rewards.json").write_text(json.dumps(log, indent=2) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    try:
        run = parse_run(make_parser, argv, cpu_overrides)
        check_device(run.training, run.preset)
        out = shared_run_dir(run.training, run.output_dir, run.recipe or "grpo")
        log_to_file(out / "run.log", verbose=run.script.verbose)
        train(run, out)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    print(f"train-grpo ({run.preset} preset): wrote {out}")


if __name__ == "__main__":
    main()
