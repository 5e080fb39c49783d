"""GPU checks (``pytest -m gpu``): the chapter's CUDA paths on one CUDA device, each in seconds with tiny
local checkpoints. They prove that the multiple-choice reader's Trainer fit really trains in bf16 autocast on
the GPU, that the LLM scorer's QLoRA keeps an NF4 base frozen while its LoRA adapters learn, that
``science-exam-predict`` puts the embedder, the reranker and the reader on the GPU and matches the CPU
probabilities, and that the ZeRO-2 config engages DeepSpeed on one GPU.

Without CUDA they are skipped; ``KLS_GPU_CHECKS_DEVICE=cpu`` runs them on CPU as a dry run of their
mechanics (the chapter then takes its CPU fallbacks: no bf16, no NF4), which proves nothing about CUDA.
"""

import importlib
import shutil
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import torch

from science_exam import llm, predict, reader
from science_exam.configs import ExperimentConfig
from science_exam.train import main as train_main
from shared.launch import rank_reports
from shared.testing import needs
from shared.tiny import resolve_backbone

# the chapter's test helpers (a hyphenated folder: no import statement can name these modules)
test_llm = importlib.import_module("packages.science-exam.tests.test_llm")
test_distributed = importlib.import_module("packages.science-exam.tests.test_distributed")
TINY = importlib.import_module("packages.science-exam.tests.test_reproduce").TINY
tiny = test_llm.tiny  # fixture: a tiny Qwen2 path, its tokenizer and model
RERANKED = test_distributed.RECIPES.parent / "deberta-v3-large-hybrid-rerank.yaml"


@dataclass
class Recorded:
    """What one Trainer of the chapter saw: its arguments, the weights it started from, and the dtypes its
    linear layers computed in while training (bf16 under autocast)."""

    trainer: object
    initial: dict[str, torch.Tensor]
    dtypes: set[torch.dtype] = field(default_factory=set)


def recorder(monkeypatch, module) -> list[Recorded]:
    """Every Trainer ``module`` (``reader`` or ``llm``) builds, recorded as it starts (the chapter's fits
    return the trained model only). The dtypes come from the linear layers themselves: accelerate casts the
    model's outputs back to float32."""
    seen = []
    real = module.quiet_trainer

    def spy(trainer, desc):
        record = Recorded(trainer, {n: p.detach().clone() for n, p in trainer.model.named_parameters()})
        for layer in trainer.model.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.register_forward_hook(
                    lambda m, args, out: record.dtypes.add(out.dtype) if m.training else None
                )
        seen.append(record)
        return real(trainer, desc)

    monkeypatch.setattr(module, "quiet_trainer", spy)
    return seen


def devices(model: torch.nn.Module) -> set[str]:
    return {p.device.type for p in model.parameters()}


@pytest.mark.gpu
def test_bf16_fit_trains_the_reader_on_the_gpu(gpu, monkeypatch):
    """The recipes' reader (the architecture's multiple-choice head, bf16, gradient checkpointing) through the
    chapter's own fit on a planted rule: autocast really computes in bf16, the logged loss falls and every
    weight moves."""
    cuda = gpu.type == "cuda"
    recorded = recorder(monkeypatch, reader)
    frame = test_llm.planted(32, seed=1)
    texts = [str(t) for col in ("prompt", "A", "B", "C", "D", "E", "context") for t in frame[col]]
    cfg = ExperimentConfig(backbone=resolve_backbone("tiny:bert", texts), mc_pooling="mean", max_length=48,
                           epochs=4.0, batch_size=8, gradient_accumulation_steps=1, learning_rate=1e-3,
                           warmup_ratio=0.0, scheduler="constant", gradient_checkpointing=True, bf16=True)  # fmt: skip
    trained = reader.fit(cfg, frame, "gpu reader")
    (run,) = recorded
    args = run.trainer.args
    assert (args.bf16, args.use_cpu) == (cuda, not cuda)  # bf16 only where there is CUDA
    assert run.dtypes == {torch.bfloat16 if cuda else torch.float32}
    assert devices(trained.model) == {gpu.type}
    losses = trained.losses  # one per step here (16 steps, logged every 5%)
    assert len(losses) == 16 and np.mean(losses[-4:]) < 0.8 * np.mean(losses[:4]), losses
    moved = [n for n, p in trained.model.named_parameters() if not torch.equal(p, run.initial[n])]
    assert moved == [n for n, _ in trained.model.named_parameters()]


@pytest.mark.gpu
def test_qlora_scorer_trains_only_the_adapters_over_an_nf4_base(tiny, gpu, monkeypatch, tmp_path):
    """§8.7's LLM scorer under QLoRA: every linear layer of the base's blocks is a bitsandbytes NF4 layer (on
    CUDA; the CPU fallback keeps float32 and says so), only the LoRA adapters learn, the base stays as it was,
    and the saved adapters reload onto a re-quantised base with the same probabilities."""
    bnb = needs("bitsandbytes")
    cuda = gpu.type == "cuda"
    recorded = recorder(monkeypatch, llm)
    frame = test_llm.planted(32, seed=1)
    cfg = test_llm.config(tiny[0], "letters", load_in_4bit=True, bf16=True, epochs=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scorer = llm.fit(cfg, frame, desc="qlora")
    fallback = any("load_in_4bit: no CUDA device" in str(w.message) for w in caught)
    model = scorer.model
    nf4 = [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert getattr(model, "is_loaded_in_4bit", False) == cuda and fallback == (not cuda)
    assert len(nf4) == (7 * model.config.num_hidden_layers if cuda else 0)  # q, k, v, o, gate, up, down
    assert devices(model) == {gpu.type}
    (run,) = recorded
    assert (run.trainer.args.bf16, run.trainer.args.use_cpu) == (cuda, not cuda)
    assert (torch.bfloat16 in run.dtypes) == cuda  # autocast (NF4 layers answer in their input's dtype)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    for name, param in model.named_parameters():
        assert torch.equal(param, run.initial[name]) == (name not in trainable), name  # the base stays frozen
    proba = scorer.predict_proba(frame)
    scorer.save(tmp_path / "scorer")
    again = llm.load(tmp_path / "scorer")
    assert devices(again.model) == {gpu.type} and getattr(again.model, "is_loaded_in_4bit", False) == cuda
    np.testing.assert_allclose(again.predict_proba(frame), proba, atol=1e-2)


@dataclass
class Predicted:
    """What one ``science-exam-predict`` run used: the devices of its reader, reranker and embedder, and the
    probabilities its submission was made from."""

    devices: set[str] = field(default_factory=set)
    proba: np.ndarray | None = None


@pytest.fixture
def predicted(monkeypatch) -> list[Predicted]:
    """Every ``science-exam-predict`` run of the test (it has no device option: each model's ``load`` picks
    CUDA when there is one, and sentence-transformers does for the embedder)."""
    runs = []
    load_fold, load_index, write = predict.load_fold, predict.CorpusIndex.load, predict.write_submission

    def fold(directory, overrides=None):
        models = load_fold(directory, overrides)
        runs[-1].devices |= devices(models.reader.model) | devices(models.reranker.model)
        return models

    def index(directory):
        loaded = load_index(directory)
        runs[-1].devices.add(loaded.embedder.model.device.type)
        return loaded

    def submission(path, ids, proba):
        runs[-1].proba = np.asarray(proba)
        return write(path, ids, proba)

    monkeypatch.setattr(predict, "load_fold", fold)
    monkeypatch.setattr(predict.CorpusIndex, "load", index)
    monkeypatch.setattr(predict, "write_submission", submission)
    return runs


@pytest.mark.gpu
def test_predict_on_the_gpu_matches_the_cpu(sample_dir, gpu, predicted, monkeypatch, tmp_path):
    """``science-exam-predict`` from a small ``science-exam-train`` run's ``models/`` (the hybrid + rerank
    recipe with tiny BERTs, 2 folds): embedder, rerankers and readers sit on the GPU, the submission is valid,
    and its probabilities are within 2e-2 of those the same models give on CPU (the readers run in bf16
    autocast on CUDA; probabilities in [0, 1])."""
    flags = [arg for key, value in TINY.items() for arg in (f"--{key}", str(value))]
    train_main(["--config", str(RERANKED), *flags, "--gradient-accumulation-steps", "1", "--dense-index", "flat",
                "--query-prefix", "", "--extra", "extra/generated.csv", "--max-extra", "20",
                "--data-dir", str(sample_dir), "--output-dir", str(tmp_path / "run")])  # fmt: skip
    models, kaggle = tmp_path / "run" / "models", tmp_path / "kaggle"  # the notebook sees test.csv alone
    kaggle.mkdir()
    for name in ("test.csv", "sample_submission.csv"):
        shutil.copy(sample_dir / name, kaggle / name)

    def run(name: str) -> pd.DataFrame:
        predicted.append(Predicted())
        predict.main(["--models", str(models), "--data-dir", str(kaggle), "--output", str(tmp_path / name)])
        return pd.read_csv(tmp_path / name)

    submission = run("gpu.csv")
    with monkeypatch.context() as hidden:
        hidden.setattr(torch.cuda, "is_available", lambda: False)
        run("cpu.csv")
    on_gpu, on_cpu = predicted
    assert (on_gpu.devices, on_cpu.devices) == ({gpu.type}, {"cpu"})
    test = pd.read_csv(kaggle / "test.csv")
    assert list(submission.columns) == ["id", "prediction"]
    assert submission["id"].tolist() == test["id"].tolist()
    assert all(len(set(p.split())) == 3 and set(p.split()) <= set("ABCDE") for p in submission["prediction"])
    assert on_gpu.proba.shape == (len(test), 5)
    np.testing.assert_allclose(on_gpu.proba.sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(on_gpu.proba, on_cpu.proba, atol=2e-2)


@pytest.mark.gpu
def test_zero2_engages_deepspeed_on_one_device_and_trains(gpu, tmp_path):
    """``recipes/accelerate/zero2.yaml`` on one process of the device (bf16 on CUDA) through the reader's fit
    (``distributed_worker.py``): DeepSpeed runs ZeRO stage 2 and the weights leave their initial values."""
    needs("deepspeed")
    backbone = resolve_backbone("tiny:bert", ["made once here so the launched process does not build it"])
    (rank,) = rank_reports(test_distributed.RECIPES / "zero2.yaml",
                           [str(test_distributed.WORKER), backbone, str(tmp_path)], tmp_path, num_processes=1,
                           timeout=600, device=gpu)  # fmt: skip
    assert (rank["world_size"], rank["distributed"], rank["zero_stage"]) == (1, True, 2)
    assert rank["digest"] != rank["initial"]
