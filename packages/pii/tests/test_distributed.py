"""The chapter's accelerate config, launched for real on 2 CPU processes (gloo): both ranks must train
and end with identical weights."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pii.model import resolve_backbone

CONFIG = Path(__file__).parents[3] / "competitions" / "pii" / "recipes" / "accelerate" / "ddp.yaml"
WORKER = Path(__file__).with_name("distributed_worker.py")


def cpu_variant(config_file: Path, tmp_path: Path) -> Path:
    """The repo's config with 2 CPU processes instead of the GPUs (everything else kept)."""
    config = yaml.safe_load(config_file.read_text())
    config |= {"num_processes": 2, "use_cpu": True, "mixed_precision": "no", "main_process_port": 29527}
    config.pop("gpu_ids", None)
    path = tmp_path / config_file.name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow  # two processes importing transformers: over a minute on 2 busy cores
def test_both_ranks_end_with_identical_trained_weights(tmp_path):
    backbone = resolve_backbone(
        "tiny:deberta-v2", ["made once here so the two ranks do not race to build it"]
    )
    env = os.environ | {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(cpu_variant(CONFIG, tmp_path)),
        str(WORKER), backbone, str(tmp_path),
    ]  # fmt: skip
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["distributed"] for r in ranks] == [True, True]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["digest"] != ranks[0]["initial"]  # the weights were trained, not just left equal
