"""GPU checks of aimo2 (issue 18): the chapter's CUDA paths at tiny sizes, seconds each.

They prove that the recipes' own GPU settings (``preset: full``: bf16, a bfloat16 model, gradient
checkpointing; not the CPU preset's fp32 fields) train the CPU preset's tiny model on the GPU with
``aimo2-sft`` and with ``train-grpo`` (transformers generation, vLLM off); that ``aimo2-predict`` puts its
transformers model on CUDA and answers as on CPU; and that ``recipes/accelerate/zero3.yaml`` partitions and
trains the model on one GPU. The vLLM backend's check is in test_backends.py.

They run on CUDA (``uv run pytest -m gpu``) and are skipped without it; ``KLS_GPU_CHECKS_DEVICE=cpu`` runs
them on CPU as a dry run of their mechanics. A check that needs trl, datasets or deepspeed (absent from some
GPU images) imports the chapter's trainers only after :func:`shared.testing.needs` found them, so it is
skipped, naming the library, instead of failing the file's collection.
"""

import math
from pathlib import Path

import pandas as pd
import pytest
import torch

from aimo2 import kaggle, predict
from aimo2.backends import TransformersBackend, render_prompt
from aimo2.prompts import THINK_END, build_messages
from shared.launch import rank_reports
from shared.testing import needs
from shared.tiny import tiny_causal_lm

RECIPES = Path(__file__).parents[3] / "competitions" / "aimo2" / "recipes"
WORKER = Path(__file__).with_name("test_distributed.py")
# The trainers' tiny sizes; every device field stays the recipe's (preset full).
TINY = ["--preset", "full", "--learning_rate", "1e-3", "--gradient_accumulation_steps", "1"]


def needs_trainers() -> None:
    """aimo2.sft and aimo2.train_grpo import trl and datasets."""
    needs("trl", "aimo2's trainers")
    needs("datasets", "aimo2's trainers")


def placement(model: torch.nn.Module) -> set[tuple[str, torch.dtype]]:
    """The (device type, dtype) pairs of the model's parameters: one pair when it sits whole on one device."""
    return {(p.device.type, p.dtype) for p in model.parameters()}


def on_device_in_bf16(trainer, gpu: torch.device) -> None:
    """The trainer trains in bf16 (autocast and bfloat16 weights, as the recipes load them) on ``gpu``."""
    assert trainer.args.bf16 and not trainer.args.use_cpu and trainer.args.gradient_checkpointing
    assert trainer.accelerator.mixed_precision == "bf16"
    assert placement(trainer.model) == {(gpu.type, torch.bfloat16)}


def moved(before: dict[str, torch.Tensor], model: torch.nn.Module) -> bool:
    """Whether training changed any weight of ``model`` from the copies in ``before``."""
    return any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.gpu
def test_sft_in_bf16_on_the_gpu_lowers_the_loss_and_moves_the_weights(small_sample, gpu, tmp_path):
    """aimo2-sft's trainer with sft-cot.yaml's GPU settings: the loss of a batch falls after 3 bf16 steps."""
    needs_trainers()
    from aimo2 import sft
    from aimo2.configs import SFTScriptArguments, parse_run

    tiny = sft.cpu_overrides(SFTScriptArguments(data_dir=str(small_sample)))["model_name_or_path"]
    flags = ["--data_dir", str(small_sample), "--model_name_or_path", tiny, *TINY, "--max_steps", "3",
             "--max_length", "256", "--per_device_train_batch_size", "2"]  # fmt: skip
    run = parse_run(sft.make_parser, ["--config", str(RECIPES / "sft-cot.yaml"), *flags], sft.cpu_overrides)
    assert (run.preset, run.overrides, run.model.dtype) == ("full", {}, "bfloat16")
    trainer, _ = sft.build_trainer(run, tmp_path)
    on_device_in_bf16(trainer, gpu)
    examples = [{k: trainer.train_dataset[i][k] for k in ("input_ids", "labels")} for i in range(2)]
    batch = {k: v.to(gpu) for k, v in trainer.data_collator(examples).items()}
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with torch.no_grad():
        before = trainer.model(**batch).loss.item()
    trainer.train()
    with torch.no_grad():
        after = trainer.model(**batch).loss.item()
    assert math.isfinite(before) and after < before
    assert moved(initial, trainer.model)


@pytest.mark.gpu
def test_grpo_in_bf16_on_the_gpu_logs_rewards_and_moves_the_weights(small_sample, gpu, tmp_path):
    """train-grpo with grpo.yaml's GPU settings and transformers generation (use_vllm off): 2 GRPO steps."""
    needs_trainers()
    from aimo2 import train_grpo
    from aimo2.configs import GRPOScriptArguments, parse_run

    tiny = train_grpo.cpu_overrides(GRPOScriptArguments(data_dir=str(small_sample)))["model_name_or_path"]
    flags = ["--data_dir", str(small_sample), "--model_name_or_path", tiny, *TINY, "--max_steps", "2",
             "--use_vllm", "false", "--num_generations", "4", "--per_device_train_batch_size", "4",
             "--max_completion_length", "16"]  # fmt: skip
    recipe = ["--config", str(RECIPES / "grpo.yaml"), *flags]
    run = parse_run(train_grpo.make_parser, recipe, train_grpo.cpu_overrides)
    trainer = train_grpo.build_trainer(run, tmp_path)
    on_device_in_bf16(trainer, gpu)
    # transformers generation, and the recipe's KL term: a reference model, beside the policy
    assert not trainer.args.use_vllm and trainer.args.beta == 0.04
    assert placement(trainer.ref_model) == {(gpu.type, torch.bfloat16)}
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.train()
    log = train_grpo.reward_log(trainer, run.script.reward_funcs)
    assert [row["step"] for row in log["steps"]] == [1, 2]
    for row in log["steps"]:
        means = [row[name] for name in ("boxed_in_think", "cosine", "length")]
        assert all(math.isfinite(m) for m in means)
        assert row["reward"] == pytest.approx(sum(means), abs=1e-4)  # the recipe's weights: 1, 1, 1
        assert 0 < row["completion_length"] <= 16
    assert moved(initial, trainer.model)


@pytest.mark.gpu
def test_predict_puts_the_model_on_cuda_and_answers_as_on_cpu(small_sample, gpu, tmp_path, monkeypatch):
    """aimo2-predict has no device option: its transformers backend takes CUDA when there is one. Greedy
    decoding of a float32 checkpoint (dtype auto: fp32 on both devices) gives the CPU's samples, submission
    and records, and the logits agree within 1e-4."""
    test = pd.read_csv(small_sample / "test.csv")
    model = str(tiny_causal_lm(test["problem"].tolist(), extra_special_tokens=("<think>", THINK_END)))
    backends = []

    class Recording(TransformersBackend):
        """The backend aimo2-predict builds, kept with the texts it generated."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.texts = []
            backends.append(self)

        def generate(self, *args, **kwargs):
            rows = super().generate(*args, **kwargs)
            self.texts += [s.text for row in rows for s in row]
            return rows

    monkeypatch.setattr(kaggle, "TransformersBackend", Recording)

    def submit(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = tmp_path / name / "submission.csv"
        predict.main(["--model", model, "--data-dir", str(small_sample), "--output", str(out), "--backend",
                      "transformers", "--temperature", "0", "--n_samples", "4", "--batch_size", "2",
                      "--min_agree", "4", "--max_new_tokens", "24"])  # fmt: skip
        records = pd.read_csv(out.with_suffix(".records.csv")).drop(columns=["seconds", "allocation_s"])
        return pd.read_csv(out), records

    on_gpu = submit("gpu")
    with monkeypatch.context() as hidden:
        hidden.setattr(torch.cuda, "is_available", lambda: False)  # a machine without CUDA
        on_cpu = submit("cpu")
    gpu_backend, cpu_backend = backends
    assert gpu_backend.model.device.type == gpu.type and cpu_backend.model.device.type == "cpu"
    assert gpu_backend.model.dtype == cpu_backend.model.dtype == torch.float32
    submission, records = on_gpu
    assert submission["id"].tolist() == test["id"].tolist() and submission["answer"].between(0, 999).all()
    assert submission.equals(on_cpu[0]) and records.equals(on_cpu[1])
    assert len(gpu_backend.texts) == 4 and gpu_backend.texts == cpu_backend.texts
    prompt = render_prompt(cpu_backend.tokenizer, build_messages(test["problem"][0]))
    ids = cpu_backend.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        expected = cpu_backend.model(ids).logits
        got = gpu_backend.model(ids.to(gpu_backend.model.device)).logits.cpu()
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


@pytest.mark.gpu
def test_zero3_on_one_gpu_partitions_the_model_and_trains_it(small_sample, gpu, tmp_path):
    """recipes/accelerate/zero3.yaml on one GPU process in bf16, through test_distributed.py's worker with the
    recipe's GPU settings: DeepSpeed ZeRO-3 engaged, the parameters partitioned, the weights trained."""
    needs_trainers()
    needs("deepspeed", "the ZeRO-3 config")
    from aimo2 import sft
    from aimo2.configs import SFTScriptArguments

    sft.cpu_overrides(SFTScriptArguments(data_dir=str(small_sample)))  # the tiny model, before the launch
    script = [str(WORKER), str(small_sample), str(tmp_path), "gpu"]
    config = RECIPES / "accelerate" / "zero3.yaml"
    (rank,) = rank_reports(config, script, tmp_path, num_processes=1, device=gpu)
    assert (rank["rank"], rank["world_size"], rank["device"]) == (0, 1, gpu.type)
    assert rank["deepspeed"] and rank["zero_stage"] == 3 and rank["partitioned"]
    assert rank["digest"] != rank["initial"]
    # the GPU launch asks for bf16, so the engine holds bfloat16 partitions; the dry run's CPU launch for fp32
    bf16 = gpu.type == "cuda"
    assert (rank["mixed_precision"], rank["dtype"]) == (("bf16", "bfloat16") if bf16 else ("no", "float32"))
