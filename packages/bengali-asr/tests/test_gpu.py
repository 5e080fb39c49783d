"""The GPU checks of bengali-asr: the CTC model and the Whisper fine-tune train in bf16 on the GPU, the int8
Whisper decoder and the LLM rescorer (bf16) score there as the float models do, ``bengali-asr-predict`` puts its
models on the GPU and writes the submission the CPU writes, and DeepSpeed ZeRO-2 trains on one GPU.

They run on CUDA (``uv run pytest -m gpu``) and are skipped without it; ``KLS_GPU_CHECKS_DEVICE=cpu`` runs them
on CPU as a dry run of their mechanics (the CUDA-only facts are asserted under ``gpu.type == "cuda"``)."""

import contextlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from bengali_asr import model as acoustic
from bengali_asr import predict, train
from bengali_asr import whisper as W
from bengali_asr.configs import AcousticConfig
from bengali_asr.data import load_test
from bengali_asr.experiment import read_split
from bengali_asr.normalize import normalize
from bengali_asr.pipeline import Pipeline
from bengali_asr.postcorrect import LMScorer
from bengali_asr.vocab import build_vocab
from shared.console import quiet_trainer
from shared.launch import rank_reports
from shared.testing import needs
from shared.tiny import resolve_backbone

pytestmark = pytest.mark.gpu

RECIPES = Path(__file__).parents[3] / "competitions" / "bengali-asr" / "recipes"
WORKER = Path(__file__).with_name("distributed_worker.py")
# bengali-asr-train flags for a run of seconds (bf16 stays on, as the recipe has it)
TINY_RUN = ["--backbone", "tiny", "--hidden_size", "32", "--num_hidden_layers", "1", "--num_attention_heads", "2",
            "--conv_kernel", "5", "--max_steps", "8", "--batch_size", "8", "--gradient_accumulation_steps", "1",
            "--learning_rate", "3e-3", "--augment", "false", "--chunk_seconds", "8", "--lm_order", "2",
            "--beam_size", "8", "--lm_weights", "0", "1", "--word_scores", "0", "--punctuation_backbone",
            "tiny:deberta-v2", "--punctuation_epochs", "1", "--punctuation_learning_rate", "1e-3"]  # fmt: skip


@contextlib.contextmanager
def without_cuda(monkeypatch):
    """The chapter's device defaults (``torch.cuda.is_available()``) as on a machine without CUDA: the CPU
    reference of a GPU result."""
    with monkeypatch.context() as m:
        m.setattr(torch.cuda, "is_available", lambda: False)
        yield


def spy_training(monkeypatch, module, head: str) -> SimpleNamespace:
    """Record the Trainer that ``module`` trains with (through its ``quiet_trainer`` call) and the dtype of its
    model's ``head`` layer output at every training forward: bf16 only if autocast really ran."""
    seen = SimpleNamespace(trainer=None, dtypes=set())

    def spy(trainer, desc):
        seen.trainer = trainer
        getattr(trainer.model, head).register_forward_hook(lambda _m, _in, out: seen.dtypes.add(out.dtype))
        return quiet_trainer(trainer, desc)

    monkeypatch.setattr(module, "quiet_trainer", spy)
    return seen


def assert_trained_in_bf16(seen: SimpleNamespace, gpu: torch.device, initial: dict, trained: dict) -> None:
    """bf16 autocast on CUDA (the recipes' ``bf16: true``, ignored on CPU), the model on the device, the logged
    training loss down and the weights moved."""
    cuda = gpu.type == "cuda"
    assert seen.trainer.args.bf16 is cuda
    assert seen.dtypes == {torch.bfloat16 if cuda else torch.float32}
    assert next(seen.trainer.model.parameters()).device.type == gpu.type
    losses = [log["loss"] for log in seen.trainer.state.log_history if "loss" in log]
    assert len(losses) >= 6 and np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    moved = [name for name, w in initial.items() if not torch.equal(w.cpu(), trained[name].cpu())]
    assert len(moved) >= 0.9 * len(initial), sorted(set(initial) - set(moved))


def test_ctc_model_trains_in_bf16_on_the_gpu(gpu, planted, monkeypatch):
    """The main trainer (``bengali_asr.model.fit``, what bengali-asr-train runs) with the recipes' ``bf16``."""
    waves, sentences = planted(32)
    vocab = build_vocab(sentences)
    config = AcousticConfig(backbone="tiny", hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                            conv_kernel=5, max_steps=12, batch_size=8, gradient_accumulation_steps=1,
                            learning_rate=3e-3, bf16=True, mask_time_prob=0.0)  # fmt: skip
    initial = dict(acoustic.build(config, vocab).named_parameters())
    seen = spy_training(monkeypatch, acoustic, "lm_head")
    fitted = acoustic.fit(config, waves, sentences, vocab, desc="gpu check")
    assert_trained_in_bf16(seen, gpu, initial, dict(fitted.model.named_parameters()))


@pytest.fixture(scope="module")
def whisper_run(planted, tmp_path_factory):
    """A tiny Whisper fine-tuned with ``bf16=True`` (its training spied on) on planted clips that fit its 2 s
    window, and the randomly initialised model it started from."""
    waves, sentences = planted(16)
    root = tmp_path_factory.mktemp("whisper")
    tokenizer = W.build_tokenizer([normalize(s) for s in sentences], root / "tokenizer", vocab_size=300)
    base = W.tiny_whisper(root / "base", tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, chunk_seconds=2,
                          max_target_positions=48)  # fmt: skip
    with pytest.MonkeyPatch.context() as m:
        seen = spy_training(m, W, "proj_out")
        trained = W.train_whisper(base, waves, sentences, root / "trained", max_steps=40, batch_size=8,
                                  learning_rate=1e-2, warmup_ratio=0.05, seed=0, bf16=True, desc="gpu check")  # fmt: skip
    return SimpleNamespace(base=base, trained=trained, seen=seen, waves=waves)


def test_whisper_fine_tunes_in_bf16_on_the_gpu(gpu, whisper_run):
    """The sequence-to-sequence system's trainer (``train_whisper``, ``Seq2SeqTrainer``) with ``bf16=True``."""
    initial = load_file(whisper_run.base / "model.safetensors")
    trained = load_file(whisper_run.trained / "model.safetensors")
    assert_trained_in_bf16(whisper_run.seen, gpu, initial, trained)


def test_int8_whisper_decoder_runs_on_the_gpu_as_the_float_model(gpu, whisper_run):
    """``bengali-asr-predict``'s int8 rung: on CUDA the decoder's linears are LLM.int8 with float16 around them."""
    bnb = needs("bitsandbytes")
    quantised, reference = W.load(whisper_run.trained, int8=True), W.load(whisper_run.trained)
    decoder = [m for m in quantised.model.model.decoder.modules() if isinstance(m, torch.nn.Linear)]
    assert len(decoder) == 10 and all(type(m) is bnb.nn.Linear8bitLt for m in decoder)
    assert quantised.device.type == reference.device.type == gpu.type
    assert all(m.weight.device.type == gpu.type for m in decoder)
    assert quantised.model.proj_out.weight.dtype == (torch.float16 if gpu.type == "cuda" else torch.float32)
    clips = whisper_run.waves[:8]
    ids = torch.tensor([reference.prompt] * len(clips), device=reference.device)
    with torch.no_grad():
        want = reference.model(input_features=reference.features(clips), decoder_input_ids=ids).logits
        got = quantised.model(input_features=quantised.features(clips), decoder_input_ids=ids).logits.float()
    assert float((got - want).norm() / want.norm()) < 0.05
    assert quantised.transcribe(clips) == reference.transcribe(clips)


def test_llm_rescorer_scores_in_bf16_on_the_gpu_as_in_float32_on_cpu(gpu, planted, monkeypatch):
    """The n-best rescoring LLM of ``bengali-asr-predict`` (left-padded batches of texts of several lengths)."""
    _, sentences = planted(12)
    texts = [*sentences, "ক", "খ ক খ ক খ ক খ"]
    lm_dir = resolve_backbone("tiny:qwen2", texts)
    scorer = LMScorer(lm_dir, batch_size=4)
    with without_cuda(monkeypatch):
        reference = LMScorer(lm_dir, batch_size=4)
    weight = next(scorer.model.parameters())
    assert weight.device.type == gpu.type
    assert weight.dtype == (torch.bfloat16 if gpu.type == "cuda" else torch.float32)
    sums, counts = scorer.score(texts)
    reference_sums, reference_counts = reference.score(texts)
    np.testing.assert_array_equal(counts, reference_counts)
    np.testing.assert_allclose(sums, reference_sums, rtol=0.02)  # bf16 weights against float32


@pytest.fixture(scope="module")
def sample(request):
    """The generated sample (``small_sample``): espeak-ng speaks it, FFmpeg encodes it."""
    missing = [tool for tool in ("espeak-ng", "ffmpeg") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (the generated sample), which is not installed")
    return request.getfixturevalue("small_sample")


def devices(pipeline: Pipeline) -> set[str]:
    """Where the pipeline's acoustic and punctuation models are."""
    return {next(m.parameters()).device.type for m in (pipeline.acoustic.model, pipeline.punctuation.model)}


def test_predict_puts_its_models_on_the_gpu_and_writes_the_cpu_submission(gpu, sample, tmp_path, monkeypatch):
    """A few bf16 steps of the recipe with tiny flags write ``models/`` (acoustic model, LM, punctuation model);
    ``bengali-asr-predict`` (no device option) must load them on CUDA and transcribe as on CPU."""
    argv = ["--config", str(RECIPES / "indicwav2vec-ctc.yaml"), "--data-dir", str(sample), "--output-dir",
            str(tmp_path / "run"), *TINY_RUN]  # fmt: skip
    assert train.main(argv) == 0
    loaded = []
    monkeypatch.setattr(predict, "Pipeline", lambda models: loaded.append(Pipeline(models)) or loaded[-1])
    outputs = {name: tmp_path / f"{name}.csv" for name in ("gpu", "cpu")}
    common = ["--models", str(tmp_path / "run" / "models"), "--data-dir", str(sample)]
    predict.main([*common, "--output", str(outputs["gpu"])])
    with without_cuda(monkeypatch):
        predict.main([*common, "--output", str(outputs["cpu"])])
    on_gpu, on_cpu = loaded
    assert devices(on_gpu) == {gpu.type} and devices(on_cpu) == {"cpu"}
    waves = read_split("test", load_test(sample)[0], None).waves
    for a, b in zip(on_gpu.acoustic.log_probs(waves), on_cpu.acoustic.log_probs(waves), strict=True):
        # float32 on both; CUDA's convolutions may run in TF32
        np.testing.assert_allclose(a, b, rtol=1e-2, atol=1e-2)
    submissions = {name: pd.read_csv(out, dtype=str, keep_default_na=False) for name, out in outputs.items()}
    expected = pd.read_csv(sample / "sample_submission.csv", dtype=str)
    assert submissions["gpu"].columns.tolist() == ["id", "sentence"]
    assert submissions["gpu"]["id"].tolist() == expected["id"].tolist()
    pd.testing.assert_frame_equal(submissions["gpu"], submissions["cpu"])


def test_deepspeed_zero2_trains_on_one_gpu(gpu, tmp_path):
    """``recipes/accelerate/zero2.yaml`` on one GPU in bf16: the CPU test's worker, through a real DeepSpeed engine."""
    needs("deepspeed")
    (rank,) = rank_reports(RECIPES / "accelerate" / "zero2.yaml", [str(WORKER), str(tmp_path)], tmp_path,
                           num_processes=1, timeout=600, device=gpu)  # fmt: skip
    assert rank["world_size"] == 1 and rank["zero_stage"] == 2
    assert rank["digest"] != rank["initial"]  # trained, compared in the dtype DeepSpeed holds the weights in
