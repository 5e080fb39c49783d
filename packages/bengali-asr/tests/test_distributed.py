"""The chapter's accelerate configs, launched for real on 2 CPU processes (gloo; DeepSpeed with
DS_ACCELERATOR=cpu): both ranks must train the tiny wav2vec2 CTC model and end with identical weights."""

from pathlib import Path

import pytest

from shared.launch import rank_reports

RECIPES = Path(__file__).parents[3] / "competitions" / "bengali-asr" / "recipes" / "accelerate"
WORKER = Path(__file__).with_name("distributed_worker.py")


@pytest.mark.slow  # two processes importing transformers (and DeepSpeed building its CPU ops once)
@pytest.mark.parametrize(("name", "zero_stage"), [("ddp.yaml", None), ("zero2.yaml", 2)])
def test_both_ranks_end_with_identical_trained_weights(name, zero_stage, tmp_path):
    ranks = rank_reports(RECIPES / name, [str(WORKER), str(tmp_path)], tmp_path, timeout=600)
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [r["distributed"] for r in ranks] == [True, True]
    assert [r["zero_stage"] for r in ranks] == [zero_stage, zero_stage]
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert ranks[0]["digest"] != ranks[0]["initial"]  # the model was trained, not just left equal
