"""The GPU checks of the chapter (``uv run pytest -m gpu``): on one CUDA device, the transformer rung trains through
``jigsaw.transformer.fit`` in bf16, the LLM rung's QLoRA trains LoRA adapters over frozen NF4 weights, the LSTM
trains there, ``jigsaw-predict`` scores on the GPU what it scores on the CPU, and the ZeRO-2 config engages
DeepSpeed. ``KLS_GPU_CHECKS_DEVICE=cpu`` runs them on the CPU as a dry run of their mechanics: what only CUDA
does (bf16 autocast, bitsandbytes' CUDA kernels) is asserted under ``gpu.type == "cuda"``, its CPU counterpart
otherwise.
"""

import shutil
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from jigsaw import lstm, predict, reproduce, train, transformer
from jigsaw.data import load
from jigsaw.experiment import ExperimentConfig, sample_weights
from jigsaw.synth import make_sample
from shared.launch import rank_reports
from shared.testing import needs
from shared.tiny import resolve_backbone

RECIPES = Path(__file__).parents[3] / "competitions" / "jigsaw" / "recipes"
WORKER = Path(__file__).with_name("distributed_worker.py")


def record_training(monkeypatch) -> SimpleNamespace:
    """Swap the Trainer that ``transformer.fit`` builds for one that records its TrainingArguments, the weights it
    starts from, each step's loss and device, and the dtype of the head's output (bf16 under autocast)."""
    seen = SimpleNamespace(args=None, initial={}, losses=[], devices=set(), head_dtypes=set())

    class Recording(transformer.Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.args = self.args
            seen.initial = {n: p.detach().clone() for n, p in self.model.named_parameters()}
            self.model.head.register_forward_hook(lambda module, inputs, out: seen.head_dtypes.add(out.dtype))

        def training_step(self, model, inputs, num_items_in_batch=None):
            loss = super().training_step(model, inputs, num_items_in_batch)
            seen.losses.append(loss.item())
            seen.devices.update(p.device.type for p in model.parameters())
            return loss

    monkeypatch.setattr(transformer, "Trainer", Recording)
    return seen


def changed(model: torch.nn.Module, initial: dict[str, torch.Tensor]) -> set[str]:
    """The parameters whose values differ from ``initial``."""
    return {n for n, p in model.named_parameters() if not torch.equal(p.detach(), initial[n])}


@pytest.mark.gpu
def test_the_transformer_rung_trains_in_bf16_on_the_gpu(gpu, sample_dir, monkeypatch):
    """bert-weighted-aux (``bf16: true``, as on a GPU) with a tiny DeBERTa: the Trainer runs bf16 autocast on the
    GPU, the loss falls over three epochs and every weight moves."""
    rows = load(sample_dir).train.iloc[:256]
    config = replace(reproduce.TRANSFORMER[-1], **reproduce.CPU_TRANSFORMER)
    config = replace(config, max_length=64, head_tokens=16, epochs=3)
    assert config.bf16
    seen = record_training(monkeypatch)
    model = transformer.fit(config, rows, sample_weights(config, rows)).model
    cuda = gpu.type == "cuda"
    assert seen.args.bf16 is cuda  # fit turns the recipe's bf16 on where it applies: CUDA
    assert seen.head_dtypes == {torch.bfloat16 if cuda else torch.float32}
    assert seen.devices == {gpu.type}
    epoch = len(seen.losses) // 3
    first, last = np.mean(seen.losses[:epoch]), np.mean(seen.losses[-epoch:])
    assert last < first, (first, last)
    assert changed(model, seen.initial) == set(seen.initial)  # full fine-tuning: every weight trained


@pytest.mark.gpu
def test_qlora_fold_on_the_gpu(gpu, sample_dir, monkeypatch):
    """The LLM rung as the full recipe runs it (NF4 4-bit frozen base, LoRA on every linear layer, bf16, metric
    weights, bucketing) on a tiny Qwen2: only the adapters and the head train, the 4-bit weights stay as loaded."""
    bnb = needs("bitsandbytes", "QLoRA")
    rows = load(sample_dir).train.iloc[:512]
    tiny = dict(backbone="tiny:qwen2", max_length=64, head_tokens=16, learning_rate=2e-3, batch_size=32)
    config = replace(reproduce.LLM[0], **tiny)
    assert config.load_in_4bit and config.lora_r and config.bf16
    seen = record_training(monkeypatch)
    fitted = transformer.fit(config, rows, sample_weights(config, rows))
    model, cuda = fitted.model, gpu.type == "cuda"
    quantised = [m for m in model.backbone.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert quantised
    for layer in quantised:
        assert layer.weight.quant_type == "nf4" and layer.weight.device.type == gpu.type
        assert layer.compute_dtype == (torch.bfloat16 if cuda else torch.float32)
    assert seen.args.bf16 is cuda and seen.devices == {gpu.type}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    # every adapter (B starts at zero) and the head got gradients and moved; the frozen base, 4-bit weights
    # included, is bit for bit as loaded
    assert changed(model, seen.initial) == trainable
    preds = fitted.predict(["you idiot", "thanks for this"])
    assert preds.shape == (2,) and ((preds > 0) & (preds < 1)).all()


@pytest.mark.gpu
def test_the_lstm_trains_on_the_gpu_and_saves_cpu_weights(gpu, sample_dir):
    """The BiLSTM trains on the accelerator and keeps its per-epoch checkpoints on the CPU."""
    rows = load(sample_dir).train.iloc[:200]
    config = ExperimentConfig(model="lstm", **reproduce.CPU_LSTM)
    model = lstm.fit(config, rows, np.ones(len(rows)), [])
    assert lstm.device().type == gpu.type
    assert all(v.device.type == "cpu" for state in model.states for v in state.values())
    moved = [
        not torch.equal(a, b) for a, b in zip(model.states[0].values(), model.states[1].values(), strict=True)
    ]
    assert any(moved)  # the second epoch moved the weights
    preds = model.predict(rows["comment_text"].tolist()[:20])
    assert ((preds > 0) & (preds < 1)).all()


def blended_run(tmp_path: Path) -> tuple[Path, Path]:
    """``models/`` of a blend of two one-model runs (``jigsaw-train``): the transformer and the LSTM rung on a
    small sample, with their recipes' CPU-run settings and bf16 left on as the recipes have it; and the data."""
    data = make_sample(tmp_path / "data", n_train=400, n_test=80, seed=1)
    runs = {
        "bert-weighted-aux": ["--backbone", "tiny:deberta-v2", "--max_length", "64", "--head_tokens", "16",
                              "--learning_rate", "1e-3", "--llrd", "1.0", "--epochs", "1"],
        "lstm-weighted-aux": ["--embedding_dim", "32", "--lstm_hidden", "32", "--max_length", "64", "--epochs", "2",
                              "--batch_size", "64", "--learning_rate", "2e-3", "--validation", "holdout"],
    }  # fmt: skip
    models = tmp_path / "models"
    for name, flags in runs.items():
        out = tmp_path / name
        recipe = str(RECIPES / f"{name}.yaml")
        train.main(["--config", recipe, *flags, "--data-dir", str(data), "--output-dir", str(out)])
        shutil.move(out / "models" / name, models / name)
    predict.write_manifest(models, list(runs), "mean")
    return models, data


@pytest.mark.gpu
def test_predict_on_the_gpu_matches_the_cpu(gpu, tmp_path, monkeypatch):
    """``jigsaw-predict`` runs its transformer and LSTM on CUDA when there is one, in float32 as on the CPU: its
    P(toxic) equal the CPU's to 5e-3 (cuDNN may run the LSTM in TF32), and its submission is valid."""
    models, data = blended_run(tmp_path)
    test = pd.read_csv(data / "test.csv")
    devices, real = [], transformer.predict

    def spy(model, ids, pad_id, batch_size):
        devices.append(next(model.parameters()).device.type)
        return real(model, ids, pad_id, batch_size)

    monkeypatch.setattr(transformer, "predict", spy)
    monkeypatch.setattr(lstm, "predict", spy)
    with monkeypatch.context() as hidden:
        hidden.setattr(torch.cuda, "is_available", lambda: False)
        on_cpu = pd.Series(predict.predict_texts(models, test["comment_text"].tolist()), index=test["id"])
    assert devices == ["cpu"] * 3  # the transformer's one model, the LSTM's two epochs
    output = tmp_path / "submission.csv"
    predict.main(["--models", str(models), "--data-dir", str(data), "--output", str(output)])
    assert devices[3:] == [gpu.type] * 3
    submission, sample = pd.read_csv(output), pd.read_csv(data / "sample_submission.csv")
    assert list(submission.columns) == ["id", "prediction"] and submission["id"].equals(sample["id"])
    assert submission["prediction"].between(0, 1).all()
    np.testing.assert_allclose(submission["prediction"], on_cpu.loc[submission["id"]], atol=5e-3)


@pytest.mark.gpu
def test_zero2_engages_deepspeed_on_one_gpu(gpu, tmp_path):
    """recipes/accelerate/zero2.yaml launched as one process on the GPU (bf16): the Trainer runs a ZeRO-2
    DeepSpeed engine and the weights train."""
    needs("deepspeed")
    backbone = resolve_backbone("tiny:bert", ["built before the launch: the worker only loads it"])
    worker = [str(WORKER), backbone, str(tmp_path)]
    (rank,) = rank_reports(
        RECIPES / "accelerate" / "zero2.yaml", worker, tmp_path, 1, timeout=600, device=gpu
    )
    assert rank["world_size"] == 1 and rank["zero_stage"] == 2
    assert rank["digest"] != rank["initial"]
