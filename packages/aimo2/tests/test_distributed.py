"""The chapter's accelerate configs, launched for real on 2 CPU processes (gloo; DeepSpeed with
DS_ACCELERATOR=cpu): a couple of SFT steps of the CPU preset, after which both ranks hold identical weights.

This file is also the worker that ``accelerate launch`` runs on each rank (see the bottom): it builds the
SFT trainer of sft-cot.yaml, trains, and writes a digest of its (gathered) weights.
"""

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from aimo2 import sft
from aimo2.configs import SFTScriptArguments, parse_run, shared_run_dir

RECIPES = Path(__file__).parents[3] / "competitions" / "aimo2" / "recipes"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_variant(config_file: Path, tmp_path: Path) -> Path:
    """The repo's accelerate config on 2 CPU processes in full precision (everything else kept)."""
    config = yaml.safe_load(config_file.read_text())
    config |= {"num_processes": 2, "use_cpu": True, "mixed_precision": "no", "main_process_port": free_port()}
    config.pop("gpu_ids", None)
    path = tmp_path / config_file.name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def sample_dir(small_sample):
    data = small_sample
    sft.cpu_overrides(SFTScriptArguments(data_dir=str(data)))  # build the tiny model once, not on both ranks
    return data


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ddp.yaml", "zero3.yaml"])
def test_both_ranks_end_with_identical_weights(name, sample_dir, tmp_path):
    config = cpu_variant(RECIPES / "accelerate" / name, tmp_path)
    env = os.environ | {
        "DS_ACCELERATOR": "cpu",
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(config), __file__,
               str(sample_dir), str(tmp_path)]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [(r["rank"], r["world_size"]) for r in ranks] == [(0, 2), (1, 2)]
    zero3 = name == "zero3.yaml"
    assert [(r["deepspeed"], r["partitioned"]) for r in ranks] == [(zero3, zero3)] * 2
    assert ranks[0]["initial"] == ranks[1]["initial"]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["digest"] != ranks[0]["initial"]  # trained, not merely left equal
    assert ranks[0]["run_dir"] == ranks[1]["run_dir"]


def partitioned(model: torch.nn.Module) -> bool:
    """Whether ZeRO-3 has split the parameters across the ranks."""
    return any(hasattr(p, "ds_id") for p in model.parameters())


def digest(model: torch.nn.Module) -> str:
    """SHA-256 of every parameter; under ZeRO-3 each is first gathered from its partitions."""
    params = dict(model.named_parameters())
    if partitioned(model):
        import deepspeed

        gathered = deepspeed.zero.GatheredParameters(list(params.values()))
    else:
        gathered = contextlib.nullcontext()
    h = hashlib.sha256()
    with gathered:
        for name, param in sorted(params.items()):
            h.update(name.encode())
            h.update(param.detach().to(torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def worker(data_dir: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    flags = ["--data_dir", data_dir, "--preset", "cpu", "--max_steps", "2", "--learning_rate", "1e-3",
             "--per_device_train_batch_size", "1", "--max_length", "256"]  # fmt: skip
    run = parse_run(sft.make_parser, ["--config", str(RECIPES / "sft-cot.yaml"), *flags], sft.cpu_overrides)
    trainer, _ = sft.build_trainer(run, Path(out_dir))
    initial = digest(trainer.model)
    trainer.train()
    result = {
        "rank": trainer.args.process_index,
        "world_size": trainer.args.world_size,
        "deepspeed": trainer.is_deepspeed_enabled,
        "partitioned": partitioned(trainer.model),
        "initial": initial,
        "digest": digest(trainer.model),
        "run_dir": str(shared_run_dir(trainer.args, None, "sft")),  # rank 0's timestamped folder
    }
    Path(out_dir, f"rank{result['rank']}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    worker(*sys.argv[1:])
