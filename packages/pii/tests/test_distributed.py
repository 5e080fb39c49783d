"""The chapter's accelerate config, launched for real on 2 CPU processes (gloo): both ranks must train
and end with identical weights."""

import json
from pathlib import Path

import pytest

from shared.launch import launch_on_cpu
from shared.tiny import resolve_backbone

CONFIG = Path(__file__).parents[3] / "competitions" / "pii" / "recipes" / "accelerate" / "ddp.yaml"
WORKER = Path(__file__).with_name("distributed_worker.py")


@pytest.mark.slow  # two processes importing transformers: over a minute on 2 busy cores
def test_both_ranks_end_with_identical_trained_weights(tmp_path):
    backbone = resolve_backbone(
        "tiny:deberta-v2", ["made once here so the two ranks do not race to build it"]
    )
    run = launch_on_cpu(CONFIG, [str(WORKER), backbone, str(tmp_path)], tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["distributed"] for r in ranks] == [True, True]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["digest"] != ranks[0]["initial"]  # the weights were trained, not just left equal
