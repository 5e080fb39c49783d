"""The chapter's accelerate configs, launched for real on 2 CPU processes (gloo; DeepSpeed with
DS_ACCELERATOR=cpu): both ranks must train and end with identical weights."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jigsaw.transformer import resolve_backbone

RECIPES = Path(__file__).parents[3] / "competitions" / "jigsaw" / "recipes" / "accelerate"
WORKER = Path(__file__).with_name("distributed_worker.py")


def cpu_variant(config_file: Path, tmp_path: Path) -> Path:
    """The repo's config with 2 CPU processes instead of the GPUs (everything else kept)."""
    config = yaml.safe_load(config_file.read_text())
    config |= {"num_processes": 2, "use_cpu": True, "mixed_precision": "no", "main_process_port": 29517}
    config.pop("gpu_ids", None)
    path = tmp_path / config_file.name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(("name", "zero_stage"), [("ddp.yaml", None), ("zero2.yaml", 2)])
def test_both_ranks_end_with_identical_weights(name, zero_stage, tmp_path):
    backbone = resolve_backbone("tiny:bert", ["made once here so the two ranks do not race to build it"])
    env = os.environ | {"DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(cpu_variant(RECIPES / name, tmp_path)),
        str(WORKER), backbone, str(tmp_path),
    ]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["zero_stage"] for r in ranks] == [zero_stage, zero_stage]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["digest"] != ranks[0]["initial"]  # the weights were trained, not just left equal
