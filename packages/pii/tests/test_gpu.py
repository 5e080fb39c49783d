"""The GPU checks of the chapter (``uv run pytest -m gpu``): on one CUDA device, the token classifier trains through
``pii.model.fit`` in bf16, ``pii-predict`` scores on the GPU (bf16 autocast) what it scores on the CPU, the DDP
config launches there, and both augmentation backends generate there. ``KLS_GPU_CHECKS_DEVICE=cpu`` runs them on
the CPU as a dry run of their mechanics: what only CUDA does (bf16) is asserted under ``gpu.type == "cuda"``, its
CPU counterpart otherwise.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from pii import augment, model, predict, train
from pii.data import load_competition
from pii.experiment import ExperimentConfig, decode, predict_saved
from pii.labels import LABELS
from pii.submission import submission_rows, validate_submission
from pii.synth import generate, make_sample
from shared.launch import rank_reports
from shared.testing import needs
from shared.tiny import resolve_backbone

RECIPES = Path(__file__).parents[3] / "competitions" / "pii" / "recipes"
WORKER = Path(__file__).with_name("distributed_worker.py")


def record_training(monkeypatch) -> SimpleNamespace:
    """Swap the Trainer that ``model.fit`` builds for one that records its TrainingArguments, the weights it starts
    from, each step's loss and device, and the dtype of the classifier's logits (bf16 under autocast)."""
    seen = SimpleNamespace(args=None, initial={}, losses=[], devices=set(), logit_dtypes=set())

    class Recording(model.OWeightedTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.args = self.args
            seen.initial = {n: p.detach().clone() for n, p in self.model.named_parameters()}
            self.model.classifier.register_forward_hook(lambda m, i, out: seen.logit_dtypes.add(out.dtype))

        def training_step(self, net, inputs, num_items_in_batch=None):
            loss = super().training_step(net, inputs, num_items_in_batch)
            seen.losses.append(loss.item())
            seen.devices.update(p.device.type for p in net.parameters())
            return loss

    monkeypatch.setattr(model, "OWeightedTrainer", Recording)
    return seen


@pytest.mark.gpu
def test_the_token_classifier_trains_in_bf16_on_the_gpu_and_predicts_probabilities(gpu, monkeypatch):
    """``fit`` with the recipes' ``bf16: true`` on a tiny DeBERTa: bf16 autocast on the GPU, the loss falls over
    two epochs, every weight moves; ``predict`` (bf16 autocast too) gives per-token distributions."""
    docs = [essay.document for essay in generate(10, seed=5)]
    backbone = resolve_backbone("tiny:deberta-v2", [doc.full_text for doc in docs])
    config = ExperimentConfig(
        backbone=backbone, max_length=96, stride=24, epochs=2, learning_rate=1e-3, batch_size=8,
        gradient_accumulation_steps=1, warmup_ratio=0.0,
    )  # fmt: skip
    assert config.bf16
    seen = record_training(monkeypatch)
    trained, tokenizer = model.fit(config, docs)
    cuda = gpu.type == "cuda"
    assert seen.args.bf16 is cuda  # fit turns the recipe's bf16 on where it applies: CUDA
    assert seen.logit_dtypes == {torch.bfloat16 if cuda else torch.float32}
    assert seen.devices == {gpu.type}
    epoch = len(seen.losses) // 2
    first, last = np.mean(seen.losses[:epoch]), np.mean(seen.losses[-epoch:])
    assert last < first, (first, last)
    moved = {n for n, p in trained.named_parameters() if not torch.equal(p.detach(), seen.initial[n])}
    assert moved == set(seen.initial)
    for doc, p in zip(docs[:2], model.predict(trained, tokenizer, docs[:2], config), strict=True):
        assert p.shape == (len(doc.tokens), len(LABELS))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-3)


@pytest.mark.gpu
def test_predict_on_the_gpu_matches_the_cpu(gpu, tmp_path, monkeypatch):
    """``pii-predict`` puts the saved folds on CUDA when there is one and runs them under bf16 autocast (the
    recipe's ``bf16: true``): its token probabilities equal the CPU's float32 ones to 0.01 (CPU bf16 autocast
    differs by 2e-4), and its submission is valid and decoded from them."""
    data = make_sample(tmp_path / "data", n_train=16, n_test=4, seed=2)
    # the recipe's CPU-run flags (bf16 stays on, as the recipe has it), on 2 folds
    flags = "--backbone tiny:deberta-v2 --max_length 128 --stride 32 --epochs 1 --learning_rate 1e-3 --batch_size 8"
    flags = [*flags.split(), "--gradient_accumulation_steps", "1", "--n_folds", "2"]
    run = tmp_path / "run"
    recipe = str(RECIPES / "deberta-v3-large.yaml")
    train.main(["--config", recipe, *flags, "--data-dir", str(data), "--output-dir", str(run)])
    members = run / "models" / "deberta-v3-large"
    test = load_competition(data).test
    seen, real = [], model.window_probs

    def spy(net, windows, batch_size, bf16):
        hook = net.classifier.register_forward_hook(
            lambda m, i, out: seen.append((out.device.type, out.dtype))
        )
        try:
            return real(net, windows, batch_size, bf16)
        finally:
            hook.remove()

    monkeypatch.setattr(model, "window_probs", spy)
    with monkeypatch.context() as hidden:
        hidden.setattr(torch.cuda, "is_available", lambda: False)
        on_cpu, config = predict_saved(members, test)
    assert set(seen) == {("cpu", torch.float32)} and config.bf16
    seen.clear()
    output = tmp_path / "submission.csv"
    predict.main(["--models", str(run / "models"), "--data-dir", str(data), "--output", str(output)])
    assert set(seen) == {(gpu.type, torch.bfloat16 if gpu.type == "cuda" else torch.float32)}
    on_gpu, _ = predict_saved(members, test)
    for p, q in zip(on_gpu, on_cpu, strict=True):
        np.testing.assert_allclose(p, q, atol=0.01)
    submission = pd.read_csv(output)
    validate_submission(submission, test)
    decoded = submission_rows(test, decode(on_gpu, test, config))
    pd.testing.assert_frame_equal(submission, decoded, check_dtype=False)


@pytest.mark.gpu
def test_the_ddp_config_trains_on_one_gpu(gpu, tmp_path):
    """recipes/accelerate/ddp.yaml launched as one process on the GPU (bf16): the worker's fit trains the weights."""
    backbone = resolve_backbone("tiny:deberta-v2", ["built before the launch: the worker only loads it"])
    worker = [str(WORKER), backbone, str(tmp_path)]
    (rank,) = rank_reports(RECIPES / "accelerate" / "ddp.yaml", worker, tmp_path, 1, timeout=600, device=gpu)
    assert rank["world_size"] == 1 and rank["digest"] != rank["initial"]


@pytest.mark.gpu
def test_the_transformers_backend_generates_in_bf16_on_the_gpu(gpu, monkeypatch):
    """pii-augment's transformers backend loads its model on CUDA in bf16 when there is one, and samples there."""
    loaded, real = [], augment.AutoModelForCausalLM.from_pretrained

    def spy(*args, **kwargs):
        loaded.append(real(*args, **kwargs))
        return loaded[-1]

    monkeypatch.setattr(augment.AutoModelForCausalLM, "from_pretrained", spy)
    prompts = augment.build_prompts(3, np.random.default_rng(0))
    sampling = dict(max_new_tokens=16, temperature=1.0, top_p=1.0, seed=0)
    texts = augment.generate_transformers(prompts, augment.model_path(augment.TINY), batch_size=2, **sampling)
    (net,) = loaded
    parameter = next(net.parameters())
    assert parameter.device.type == gpu.type
    assert parameter.dtype == (torch.bfloat16 if gpu.type == "cuda" else torch.float32)
    assert len(texts) == 3 and all(isinstance(t, str) and t for t in texts)


@pytest.mark.gpu
def test_vllm_backend_on_cuda(gpu):
    """pii-augment's full-scale backend: vLLM's offline engine on the tiny model."""
    needs("vllm", "pii-augment's vllm backend")
    if gpu.type != "cuda":
        pytest.skip("vLLM's engine runs on CUDA only: no dry run on the CPU")
    prompts = augment.build_prompts(3, np.random.default_rng(0))
    sampling = dict(max_new_tokens=16, temperature=1.0, top_p=1.0, seed=0)
    engine = dict(gpu_memory_utilization=0.3, max_model_len=2048)
    texts = augment.generate_vllm(prompts, augment.model_path(augment.TINY), **sampling, **engine)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
