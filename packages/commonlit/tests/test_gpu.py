"""GPU checks (``pytest -m gpu``): the chapter's CUDA paths on one CUDA device, each in seconds with tiny
local checkpoints. They prove that the regressor's Trainer fit really trains in bf16 autocast on the GPU,
that QLoRA keeps an NF4 base frozen while its LoRA adapters learn, that ``commonlit-predict`` loads its
models onto the GPU and matches the CPU predictions, and that the ZeRO-2 config engages DeepSpeed on one GPU.

Without CUDA they are skipped; ``KLS_GPU_CHECKS_DEVICE=cpu`` runs them on CPU as a dry run of their
mechanics (the chapter then takes its CPU fallbacks: no bf16, no NF4), which proves nothing about CUDA.
"""

import shutil
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pytest
import torch

from commonlit import model as regressor
from commonlit.model import fit, load, predict, save
from commonlit.predict import main as predict_main
from commonlit.train import main as train_main
from packages.commonlit.tests import test_model
from packages.commonlit.tests.test_distributed import RECIPES, WORKER
from shared.launch import rank_reports
from shared.testing import needs
from shared.tiny import resolve_backbone

train, config, targets = test_model.train, test_model.config, test_model.targets  # fixtures, and a helper
POOLED = RECIPES.parent / "deberta-v3-large-pooled.yaml"


@dataclass
class Recorded:
    """What one Trainer of the chapter saw: its arguments, the weights it started from, the loss of each
    training step and the dtypes its linear layers computed in (bf16 under autocast)."""

    trainer: object
    initial: dict[str, torch.Tensor]
    losses: list[float] = field(default_factory=list)
    dtypes: set[torch.dtype] = field(default_factory=set)


@pytest.fixture
def recorded(monkeypatch) -> list[Recorded]:
    """Every Trainer ``commonlit.model.fit`` builds, recorded as it starts (the chapter's fit returns the model
    only). The dtypes come from the linear layers themselves: accelerate casts the model's outputs back to
    float32."""
    seen = []
    real = regressor.quiet_trainer

    def spy(trainer, desc):
        record = Recorded(trainer, {n: p.detach().clone() for n, p in trainer.model.named_parameters()})
        trainer.model.register_forward_hook(
            lambda m, args, out: record.losses.append(float(out["loss"].detach())) if m.training else None
        )
        for module in trainer.model.modules():
            if isinstance(module, torch.nn.Linear):
                module.register_forward_hook(
                    lambda m, args, out: record.dtypes.add(out.dtype) if m.training else None
                )
        seen.append(record)
        return real(trainer, desc)

    monkeypatch.setattr(regressor, "quiet_trainer", spy)
    return seen


def devices(model: torch.nn.Module) -> set[str]:
    return {p.device.type for p in model.parameters()}


@pytest.mark.gpu
def test_bf16_fit_trains_the_regressor_on_the_gpu(train, config, gpu, recorded):
    """The recipes' settings (bf16, gradient checkpointing, layer-wise LR decay, EMA) through the chapter's
    own fit: autocast really computes in bf16, the loss falls and every weight moves."""
    cuda = gpu.type == "cuda"
    cfg = replace(config, bf16=True, gradient_checkpointing=True, llrd=0.9, ema=0.5, epochs=3)
    model, _ = fit(cfg, train, targets(train), "gpu fit")
    (run,) = recorded
    args = run.trainer.args
    assert (args.bf16, args.use_cpu) == (cuda, not cuda)  # bf16 only where there is CUDA
    assert run.dtypes == {torch.bfloat16 if cuda else torch.float32}
    assert devices(model) == {gpu.type}
    steps = len(train) // cfg.batch_size  # 6 steps per epoch
    assert len(run.losses) == steps * cfg.epochs
    assert np.mean(run.losses[-steps:]) < 0.8 * np.mean(run.losses[:steps]), run.losses
    moved = [n for n, p in model.named_parameters() if not torch.equal(p, run.initial[n])]
    assert moved == [n for n, _ in model.named_parameters()]


@pytest.mark.gpu
def test_qlora_trains_only_the_adapters_over_an_nf4_base_and_reloads_them(
    train, config, gpu, recorded, tmp_path
):
    """§7.8's LLM regressor under QLoRA: every linear layer of the base is a bitsandbytes NF4 layer (on CUDA;
    the CPU fallback keeps float32 and says so), only the adapters and the head learn, and the adapters saved
    apart reload onto a re-quantised base with the same predictions."""
    bnb = needs("bitsandbytes")
    cuda = gpu.type == "cuda"
    cfg = replace(config, backbone="tiny:qwen2", variant="naive", pooling="last", lora_r=4, load_in_4bit=True,
                  lora_target_modules=["q_proj", "v_proj"], epochs=1, bf16=True)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, tokenizer = fit(cfg, train, targets(train), "qlora")
    fallback = any("load_in_4bit: no CUDA device" in str(w.message) for w in caught)
    nf4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    layers = model.backbone.config.num_hidden_layers
    assert getattr(model.backbone, "is_loaded_in_4bit", False) == cuda and fallback == (not cuda)
    assert len(nf4) == (7 * layers if cuda else 0)  # q, k, v, o, gate, up, down of every layer
    assert devices(model) == {gpu.type}
    (run,) = recorded
    assert (torch.bfloat16 in run.dtypes) == cuda  # autocast (NF4 layers answer in their input's dtype)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    assert any(".q_proj.lora_B" in n for n in trainable) and any(".v_proj.lora_A" in n for n in trainable)
    for name, param in model.named_parameters():
        assert torch.equal(param, run.initial[name]) == (name not in trainable), name  # the base stays frozen
    before = predict(model, tokenizer, train, cfg)
    save(model, tokenizer, tmp_path / "q", cfg)
    assert (tmp_path / "q" / "backbone" / "adapter_config.json").is_file() == cuda  # NF4: adapters apart
    again, tokenizer2 = load(tmp_path / "q")
    assert devices(again) == {gpu.type}
    np.testing.assert_allclose(predict(again, tokenizer2, train, cfg), before, atol=1e-2)


@pytest.fixture
def loaded_on(monkeypatch) -> list[str]:
    """The device of every regressor ``commonlit-predict`` loads (it has no device option: the chapter's
    ``load`` picks CUDA when there is one)."""
    seen = []
    real = regressor.load

    def spy(directory):
        model, tokenizer = real(directory)
        seen.extend(devices(model))
        return model, tokenizer

    monkeypatch.setattr(regressor, "load", spy)
    return seen


@pytest.mark.gpu
def test_predict_on_the_gpu_matches_the_cpu(sample_dir, gpu, loaded_on, monkeypatch, tmp_path):
    """``commonlit-predict`` from a small ``commonlit-train`` run's ``models/`` (the pooled recipe, tiny BERT,
    2 folds): the models load onto the GPU, and its submission is valid and within 5e-2 of the one the same
    models give on CPU (the recipe predicts in bf16 autocast on CUDA: 8 mantissa bits, predictions of order
    1)."""
    train_main(["--config", str(POOLED), "--backbone", "tiny:bert", "--max-length", "64", "--epochs", "1",
                "--batch-size", "16", "--gradient-accumulation-steps", "1", "--freeze-layers", "0", "--n-folds", "2",
                "--data-dir", str(sample_dir), "--output-dir", str(tmp_path / "run")])  # fmt: skip
    kaggle = tmp_path / "kaggle"  # what the notebook sees: the test files alone
    kaggle.mkdir()
    for name in ("summaries_test.csv", "prompts_test.csv", "sample_submission.csv"):
        shutil.copy(sample_dir / name, kaggle / name)
    models = tmp_path / "run" / "models"

    def submission(name: str) -> pd.DataFrame:
        predict_main(["--models", str(models), "--data-dir", str(kaggle), "--output", str(tmp_path / name)])
        return pd.read_csv(tmp_path / name, dtype={"student_id": str})

    on_gpu = submission("gpu.csv")
    assert loaded_on == [gpu.type, gpu.type]  # both fold models
    with monkeypatch.context() as hidden:
        hidden.setattr(torch.cuda, "is_available", lambda: False)
        on_cpu = submission("cpu.csv")
    assert loaded_on[2:] == ["cpu", "cpu"]
    expected = pd.read_csv(kaggle / "sample_submission.csv", dtype={"student_id": str})
    assert list(on_gpu.columns) == ["student_id", "content", "wording"]
    assert list(on_gpu["student_id"]) == list(on_cpu["student_id"])
    assert sorted(on_gpu["student_id"]) == sorted(expected["student_id"])
    assert np.isfinite(on_gpu[["content", "wording"]].to_numpy()).all()
    np.testing.assert_allclose(on_gpu[["content", "wording"]], on_cpu[["content", "wording"]], atol=5e-2)


@pytest.mark.gpu
def test_zero2_engages_deepspeed_on_one_device_and_trains(gpu, tmp_path):
    """``recipes/accelerate/zero2.yaml`` on one process of the device (bf16 on CUDA) through the chapter's fit
    (``distributed_worker.py``): DeepSpeed runs ZeRO stage 2 and the weights leave their initial values."""
    needs("deepspeed")
    backbone = resolve_backbone("tiny:bert", ["made once here so the launched process does not build it"])
    (rank,) = rank_reports(RECIPES / "zero2.yaml", [str(WORKER), backbone, str(tmp_path)], tmp_path,
                           num_processes=1, timeout=600, device=gpu)  # fmt: skip
    assert (rank["world_size"], rank["distributed"], rank["zero_stage"]) == (1, True, 2)
    assert rank["digest"] != rank["initial"]
