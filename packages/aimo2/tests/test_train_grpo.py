"""train-grpo on CPU: the preset replaces exactly its fields, and a short run logs rewards and trains."""

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from aimo2 import train_grpo
from aimo2.configs import parse_run

RECIPE = Path(__file__).parents[3] / "competitions" / "aimo2" / "recipes" / "grpo.yaml"
# Computed by the config from fields the preset sets: the generation batch from the batch fields, and no
# pinned memory with use_cpu.
DERIVED = {"generation_batch_size", "steps_per_generation", "dataloader_pin_memory"}


@pytest.fixture
def sample_dir(small_sample):
    return small_sample


def parse(*flags: str):
    return parse_run(train_grpo.make_parser, ["--config", str(RECIPE), *flags], train_grpo.cpu_overrides)


def fields(run) -> dict[str, object]:
    """Every dataclass field of a parsed run, enums as their values."""
    parts = (run.script, run.training, run.model)
    return {
        name: getattr(getattr(p, name), "value", getattr(p, name))
        for p in parts
        for name in p.__dataclass_fields__
    }


def test_cpu_preset_replaces_exactly_its_fields_and_flags_still_win(sample_dir, capsys, monkeypatch):
    full = parse("--data_dir", str(sample_dir), "--preset", "full")
    cpu = parse("--data_dir", str(sample_dir), "--preset", "cpu")
    assert (full.preset, full.overrides) == ("full", {})
    assert cpu.preset == "cpu"
    before, after = fields(full), fields(cpu)
    changed = {name for name in before if before[name] != after[name]}
    replaced = {name for name, value in cpu.overrides.items() if before[name] != value}
    assert changed == replaced | DERIVED | {"preset"}
    assert replaced == set(cpu.overrides) - {"logging_steps"}  # the recipe already logs every step
    assert cpu.training.use_vllm is False and cpu.training.use_cpu is True and cpu.training.bf16 is False
    assert (cpu.training.num_generations, cpu.training.max_steps, cpu.model.dtype) == (4, 4, "float32")
    assert (Path(cpu.model.model_name_or_path) / "config.json").is_file()  # the tiny model was built
    # untouched recipe values survive the preset
    assert (cpu.training.learning_rate, cpu.training.beta, cpu.script.reward_funcs) == (
        4e-6,
        0.04,
        ["boxed_in_think", "cosine", "length"],
    )
    # one line says how many fields the preset replaced; --verbose lists them
    banner = capsys.readouterr().err
    assert f"{len(replaced)} recipe fields replaced" in banner and "use_vllm" not in banner
    monkeypatch.setenv("KLS_VERBOSE", "1")
    parse("--data_dir", str(sample_dir), "--preset", "cpu")
    listing = capsys.readouterr().err
    assert "use_vllm: True -> False" in listing and "max_completion_length: 16384 -> 32" in listing
    assert "logging_steps" not in listing  # the recipe already logs every step: nothing replaced
    flagged = parse("--data_dir", str(sample_dir), "--preset", "cpu", "--max_steps", "3")
    assert flagged.training.max_steps == 3


def test_short_cpu_run_logs_finite_reward_means_and_changes_the_weights(sample_dir, tmp_path, capsys):
    out = tmp_path / "run"
    train_grpo.main(
        ["--config", str(RECIPE), "--data_dir", str(sample_dir), "--preset", "cpu", "--output_dir", str(out),
         "--max_steps", "2", "--max_completion_length", "16",
         "--reward_funcs", "accuracy", "format", "cosine", "--reward_weights", "1", "0.5", "1"]
    )  # fmt: skip
    assert f"wrote {out}" in capsys.readouterr().out
    log = json.loads((out / "rewards.json").read_text())
    assert log["reward_funcs"] == ["accuracy", "format", "cosine"]
    assert log["reward_weights"] == [1.0, 0.5, 1.0]
    assert [row["step"] for row in log["steps"]] == [1, 2]
    for row in log["steps"]:
        assert all(math.isfinite(row[name]) for name in ("accuracy", "format", "cosine", "reward"))
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["format"] <= 1 and -1 <= row["cosine"] <= 1
        # trl's total is the weighted sum of the per-reward means
        assert row["reward"] == pytest.approx(row["accuracy"] + 0.5 * row["format"] + row["cosine"], abs=1e-5)
        assert row["completion_length"] <= 16
    config = json.loads((out / "config.json").read_text())
    assert config["preset"] == "cpu" and config["training"]["max_steps"] == 2
    initial = load_file(Path(config["overrides"]["model_name_or_path"]) / "model.safetensors")
    trained = load_file(out / "model" / "model.safetensors")
    assert initial.keys() == trained.keys()
    assert any(not torch.equal(initial[k], trained[k]) for k in initial)


def test_bad_recipe_values_exit_with_a_one_line_error(sample_dir):
    with pytest.raises(SystemExit) as exit_:
        train_grpo.main(["--config", str(RECIPE), "--data_dir", str(sample_dir), "--reward_funcs", "speed"])
    assert str(exit_.value.code).startswith("error: reward_funcs: unknown reward function(s) ['speed']")
    with pytest.raises(SystemExit) as exit_:
        train_grpo.main(["--config", str(RECIPE), "--dataset", str(sample_dir / "train" / "cot.jsonl")])
    assert "has no field 'prompt': not a GRPO prompts file" in str(exit_.value.code)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_full_preset_without_cuda_names_the_way_out(sample_dir):
    with pytest.raises(SystemExit) as exit_:
        train_grpo.main(["--config", str(RECIPE), "--data_dir", str(sample_dir), "--preset", "full"])
    assert "use --preset cpu" in str(exit_.value.code)
