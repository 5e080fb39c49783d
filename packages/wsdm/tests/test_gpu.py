"""The GPU checks of wsdm: its CUDA paths on the device of the ``gpu`` fixture, a CUDA GPU (dry run on CPU with
``KLS_GPU_CHECKS_DEVICE=cpu``: the chapter then takes its CPU branches, and the checks assert those instead).

- The pairwise classifier (a decoder LLM with a 2-label head) trains in bf16 mixed precision on the GPU, under
  LoRA on a bf16 base and under QLoRA (NF4 base, gradient checkpointing) as its recipe does: the loss falls,
  the adapters and the new head move, the base stays frozen.
- Every quantisation mode of ``wsdm.quantize`` loads on the current GPU and scores there.
- ``wsdm-predict`` loads every fold model on the GPU in the precision it trained in and gives the same
  probabilities as the same models in float32 with CUDA hidden, within the error of bf16.
- The ZeRO-2 accelerate config engages DeepSpeed on one GPU (in bf16) and trains the classifier.
"""

import contextlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from packages.wsdm.tests.test_distributed import RECIPES, WORKER
from packages.wsdm.tests.test_model import CONFIG, backbone, planted  # noqa: F401 (backbone: a fixture)
from packages.wsdm.tests.test_quantize import classifier  # noqa: F401 (a fixture)
from packages.wsdm.tests.test_train import TINY, sample_dir  # noqa: F401 (sample_dir: a fixture)
from shared.launch import rank_reports
from shared.testing import needs, spy
from wsdm import model as models
from wsdm import predict, train
from wsdm.data import load_test
from wsdm.manifest import read_manifest
from wsdm.quantize import MODES, load_quantised

# The LoRA classifier of the training checks: 48 planted pairs (test_model's), 6 steps an epoch, 24 in all.
LORA = replace(
    CONFIG, head="classification", lora_r=8, lora_alpha=16, learning_rate=1e-3, epochs=4.0, bf16=True
)
# |GPU - CPU| of p(A wins): the GPU predicts with bf16 weights under bf16 autocast, the CPU in float32.
# Measured: the same models in bf16 on a CPU differ from float32 by 0.0003 at most, while p spans 0.06.
PROBABILITY_TOLERANCE = 0.005


def trainable_state(model) -> dict[str, torch.Tensor]:
    """A float32 CPU copy of the weights that train."""
    return {n: p.detach().float().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def check_training(gpu: torch.device, args, initial: dict[str, torch.Tensor], fitted) -> None:
    """The Trainer ran on the check's device in bf16 mixed precision where that is CUDA (the chapter turns bf16
    on there only; float32 on the dry run's CPU); its logged loss fell; every LoRA weight and the new head
    moved, and nothing else trained."""
    assert {p.device.type for p in fitted.model.parameters()} == {gpu.type}
    assert (args.bf16, args.use_cpu) == ((True, False) if gpu.type == "cuda" else (False, True))
    losses = fitted.losses  # one a step
    assert len(losses) == 24 and np.mean(losses[-4:]) < np.mean(losses[:4])
    after = trainable_state(fitted.model)
    assert after.keys() == initial.keys() and all("lora_" in n or ".score." in n for n in after)
    assert any(".score." in n for n in after)
    assert [n for n in after if torch.equal(after[n], initial[n])] == []


@pytest.mark.gpu
def test_classifier_trains_its_adapters_in_bf16(gpu, backbone, monkeypatch):  # noqa: F811
    """LoRA on a bf16 base (no 4-bit weights), bf16 autocast: the zero2 recipe's precision."""
    arguments = spy(monkeypatch, models, "training_arguments")
    initial = spy(monkeypatch, models, "trainable", keep=trainable_state)
    fitted = models.fit(LORA, backbone, planted(48), desc="gpu classifier")
    check_training(gpu, arguments[0], initial[0], fitted)
    frozen = {p.dtype for p in fitted.model.parameters() if not p.requires_grad}
    assert (fitted.precision, frozen) == (
        ("bf16", {torch.bfloat16}) if gpu.type == "cuda" else ("fp32", {torch.float32})
    )


@pytest.mark.gpu
def test_classifier_trains_under_qlora(gpu, backbone, monkeypatch):  # noqa: F811
    """The classifier recipe's QLoRA: NF4 base layers (bitsandbytes, CUDA only), bf16 compute, gradient
    checkpointing. Without CUDA the base stays float32, with a warning that says so."""
    bnb = needs("bitsandbytes", "NF4 base weights")
    arguments = spy(monkeypatch, models, "training_arguments")
    initial = spy(monkeypatch, models, "trainable", keep=trainable_state)
    config = replace(LORA, load_in_4bit=True, gradient_checkpointing=True)
    fallback = (
        contextlib.nullcontext() if gpu.type == "cuda" else pytest.warns(UserWarning, match="no CUDA device")
    )
    with fallback:
        fitted = models.fit(config, backbone, planted(48), desc="gpu qlora")
    check_training(gpu, arguments[0], initial[0], fitted)
    assert arguments[0].gradient_checkpointing
    four_bit = [n for n, m in fitted.model.named_modules() if isinstance(m, bnb.nn.Linear4bit)]
    # NF4: the attention and MLP projections of both blocks (7 each); the head stays unquantised
    assert (fitted.precision, len(four_bit)) == (("nf4", 14) if gpu.type == "cuda" else ("fp32", 0)), four_bit


@pytest.mark.gpu
@pytest.mark.parametrize("mode", MODES)
def test_each_quantisation_loads_and_scores_on_the_gpu(gpu, classifier, mode):  # noqa: F811
    """``load_quantised`` puts every mode on the current CUDA device (on the CPU in the dry run)."""
    if mode in ("int8", "nf4"):
        needs("bitsandbytes", f"{mode} weights")
    path, _ = classifier
    model = load_quantised(path, mode, "classification")
    device = torch.device("cuda", torch.cuda.current_device()) if gpu.type == "cuda" else torch.device("cpu")
    assert {p.device for p in model.parameters()} == {device}
    ids = torch.randint(3, model.config.vocab_size, (4, 16), device=device)
    with torch.no_grad():
        assert model(input_ids=ids).logits.shape == (4, 2)


@pytest.fixture(scope="module")
def trained(sample_dir, tmp_path_factory):  # noqa: F811
    """A small ``wsdm-train`` run (on the GPU of the checks where there is one): a tiny Qwen2 classifier per
    fold under LoRA, bf16 as the GPU recipes set it, swap TTA on."""
    out = tmp_path_factory.mktemp("wsdm-gpu") / "run"
    train.main(["--name", "gpu", "--data-dir", str(sample_dir), "--output-dir", str(out), *TINY, "--lora_r", "8",
                "--lora_alpha", "16", "--learning_rate", "1e-2", "--epochs", "4", "--bf16", "true"])  # fmt: skip
    return out


@pytest.mark.gpu
def test_predict_on_the_gpu_matches_float32_on_a_cpu(gpu, trained, sample_dir, tmp_path, monkeypatch):  # noqa: F811
    """``wsdm-predict`` loads each fold model on the GPU (no flag needed) as it trained (bf16 on CUDA), writes a
    valid submission, and gives the p(A wins) of the same models in float32 with CUDA hidden (every device
    choice of the chapter asks ``torch.cuda.is_available``) within ``PROBABILITY_TOLERANCE``."""
    probabilities = spy(monkeypatch, predict, "probability")
    loaded = spy(
        monkeypatch, models, "load", keep=lambda m: (next(m.model.parameters()).device.type, m.precision)
    )
    output = tmp_path / "submission.csv"
    predict.main(
        ["--models", str(trained / "models"), "--data-dir", str(sample_dir), "--output", str(output)]
    )
    submission = pd.read_csv(output)
    test = load_test(sample_dir / "test.parquet")
    assert submission["id"].astype(str).tolist() == test["id"].astype(str).tolist()
    assert submission["winner"].tolist() == np.where(probabilities[0] > 0.5, "model_a", "model_b").tolist()

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    manifest = read_manifest(trained / "models")
    predict.probability(trained / "models", manifest, test, quantisation="fp32")
    on_gpu = (gpu.type, "bf16" if gpu.type == "cuda" else "fp32")  # the precision it trained in
    assert loaded == [on_gpu] * 2 + [("cpu", "fp32")] * 2  # 2 folds
    p_gpu, p_cpu = probabilities
    assert p_gpu.shape == p_cpu.shape == (len(test),)
    assert np.abs(p_gpu - p_cpu).max() <= PROBABILITY_TOLERANCE
    # the probabilities lie far enough apart for that bound to mean something
    assert np.ptp(p_cpu) > 2 * PROBABILITY_TOLERANCE


@pytest.mark.gpu
def test_zero2_engages_deepspeed_on_one_gpu_and_trains_the_classifier(gpu, backbone, tmp_path):  # noqa: F811
    """``recipes/accelerate/zero2.yaml`` on one process of the check's device (bf16 on CUDA): the Trainer
    builds a ZeRO-2 engine and the classifier's adapters and head end away from where they started."""
    needs("deepspeed", "the ZeRO-2 engine")
    (rank,) = rank_reports(RECIPES / "zero2.yaml", [str(WORKER), backbone, str(tmp_path)], tmp_path, num_processes=1,
                           timeout=600, device=gpu)  # fmt: skip
    assert (rank["world_size"], rank["zero_stage"]) == (1, 2)
    assert rank["digest"] != rank["initial"]
