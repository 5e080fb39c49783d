"""The chapter's accelerate configs, launched for real on 2 CPU processes (gloo; DeepSpeed with
DS_ACCELERATOR=cpu): a couple of SFT steps of the CPU preset, after which both ranks hold identical weights.

This file is also the worker that ``accelerate launch`` runs on each rank (see the bottom): it builds the
SFT trainer of sft-cot.yaml, trains, and writes a digest of its (gathered) weights. test_gpu.py launches it on
one GPU with the recipe's own GPU settings (bf16) instead of the CPU preset.
"""

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from aimo2 import sft
from aimo2.configs import SFTScriptArguments, parse_run, shared_run_dir
from shared.launch import launch_on_cpu, partitioned, weights_digest

RECIPES = Path(__file__).parents[3] / "competitions" / "aimo2" / "recipes"


@pytest.fixture(scope="module")
def sample_dir(small_sample):
    data = small_sample
    sft.cpu_overrides(SFTScriptArguments(data_dir=str(data)))  # build the tiny model once, not on both ranks
    return data


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ddp.yaml", "zero3.yaml"])
def test_both_ranks_end_with_identical_weights(name, sample_dir, tmp_path):
    script = [__file__, str(sample_dir), str(tmp_path)]
    run = launch_on_cpu(RECIPES / "accelerate" / name, script, tmp_path, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [(r["rank"], r["world_size"]) for r in ranks] == [(0, 2), (1, 2)]
    zero3 = name == "zero3.yaml"
    assert [(r["deepspeed"], r["partitioned"]) for r in ranks] == [(zero3, zero3)] * 2
    assert ranks[0]["initial"] == ranks[1]["initial"]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["digest"] != ranks[0]["initial"]  # trained, not merely left equal
    assert ranks[0]["run_dir"] == ranks[1]["run_dir"]


def worker(data_dir: str, out_dir: str, settings: str = "cpu") -> None:
    """Two tiny SFT steps. ``settings``: ``cpu``, the CPU preset; ``gpu``, the recipe's device settings (its
    dtype, gradient checkpointing, bf16 if the launch asks for it: the GPU check's dry run launches on CPU in
    full precision) on the CPU preset's tiny model."""
    torch.set_num_threads(1)
    if settings == "gpu":
        tiny = sft.cpu_overrides(SFTScriptArguments(data_dir=data_dir))["model_name_or_path"]
        bf16 = os.environ["ACCELERATE_MIXED_PRECISION"] == "bf16"
        device = ["--preset", "full", "--model_name_or_path", tiny, "--bf16", str(bf16)]
    else:
        device = ["--preset", "cpu"]
    flags = ["--data_dir", data_dir, *device, "--max_steps", "2", "--learning_rate", "1e-3", "--max_length",
             "256", "--per_device_train_batch_size", "1", "--gradient_accumulation_steps", "1"]  # fmt: skip
    run = parse_run(sft.make_parser, ["--config", str(RECIPES / "sft-cot.yaml"), *flags], sft.cpu_overrides)
    trainer, _ = sft.build_trainer(run, Path(out_dir))
    initial = weights_digest(trainer.model)
    trainer.train()
    plugin = trainer.accelerator.state.deepspeed_plugin
    result = {
        "rank": trainer.args.process_index,
        "world_size": trainer.args.world_size,
        "deepspeed": trainer.is_deepspeed_enabled,
        "zero_stage": plugin.zero_stage if trainer.is_deepspeed_enabled else None,
        "partitioned": partitioned(trainer.model),
        "device": trainer.accelerator.device.type,
        "dtype": str(next(trainer.model.parameters()).dtype).removeprefix("torch."),
        "mixed_precision": trainer.accelerator.mixed_precision,
        "initial": initial,
        "digest": weights_digest(trainer.model),
        "run_dir": str(shared_run_dir(trainer.args, None, "sft")),  # rank 0's timestamped folder
    }
    Path(out_dir, f"rank{result['rank']}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    worker(*sys.argv[1:])
