"""``benchmarks/gpu.py``: its FLOPs accounting by hand, its MFU arithmetic, the peak lookup, and its mechanics on
tiny shapes on CPU (the figures themselves need a GPU)."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import Qwen2Config, Qwen2ForCausalLM

PATH = Path(__file__).parents[1] / "benchmarks" / "gpu.py"
spec = importlib.util.spec_from_file_location("gpu_benchmark", PATH)
bench = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bench  # its dataclass looks its module up there
spec.loader.exec_module(bench)


def test_forward_flops_count_the_linear_weights_twice_and_the_attention_by_hand():
    model = Qwen2ForCausalLM(Qwen2Config(**bench.TINY_DECODER))
    # per layer: q 64x64, k and v 64x32 (2 kv heads of 16), o 64x64, gate/up/down 64x128; the tied LM head 512x64
    per_layer = 64 * 64 + 2 * 64 * 32 + 64 * 64 + 3 * 64 * 128
    assert bench.linear_params(model) == 2 * per_layer + 512 * 64
    assert bench.forward_flops_per_token(model, 2, 64, 32) == 2 * (2 * per_layer + 512 * 64) + 4 * 2 * 64 * 32
    wrapped = get_peft_model(model, LoraConfig(r=4, target_modules=bench.LORA_TARGETS, task_type="CAUSAL_LM"))
    assert bench.linear_params(wrapped) == 2 * per_layer + 512 * 64  # the adapters are not the model's FLOPs


def test_mfu_is_the_achieved_flops_over_the_peak():
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**bench.TINY_DECODER))
    ids = torch.randint(0, 512, (2, 16))
    row = bench.train_throughput(
        "x", model, {"input_ids": ids, "labels": ids}, 2, 1e6, 0.001, torch.device("cpu")
    )
    assert row.tokens_per_s > 0
    assert row.mfu == pytest.approx(row.tokens_per_s * 1e6 / 1e9)
    assert (
        bench.train_throughput(
            "x", model, {"input_ids": ids, "labels": ids}, 1, 1e6, None, torch.device("cpu")
        ).mfu
        is None
    )


def test_the_peak_comes_from_the_gpu_name_the_override_or_nowhere(monkeypatch):
    cuda = torch.device("cuda")
    for name, peak in [("NVIDIA H100 PCIe", 756.0), ("NVIDIA H100 80GB HBM3", 989.4), ("NVIDIA A100-SXM4-80GB", 312.0),
                       ("NVIDIA H200", 989.4), ("Tesla T4", None)]:  # fmt: skip
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device, name=name: name)
        assert bench.peak_tflops(cuda, None) == peak
    assert bench.peak_tflops(cuda, 500.0) == 500.0
    assert bench.peak_tflops(torch.device("cpu"), None) is None


def test_tiny_run_on_cpu_trains_the_adapters_only_for_lora_and_generates_every_token(capsys):
    rows = bench.main(["--tiny", "--device", "cpu", "--seq-len", "16", "--batch", "2", "--steps", "1",
                       "--prompts", "3", "--prompt-len", "8", "--new-tokens", "5"])  # fmt: skip
    assert [r.name for r in rows] == [
        "decoder LoRA r16",
        "decoder full",
        "encoder full",
        "generate: transformers",
    ]
    assert all(r.tokens_per_s > 0 and r.mfu is None and r.peak_gib is None for r in rows)
    lora, full = rows[0].note, rows[1].note
    assert lora == f"{2 * 2 * len(bench.LORA_TARGETS)} trainable tensors"  # A and B per target per layer
    assert (
        full
        == f"{len(list(Qwen2ForCausalLM(Qwen2Config(**bench.TINY_DECODER)).parameters()))} trainable tensors"
    )
    assert "generate: transformers" in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA path")
def test_without_cuda_it_says_so_and_measures_nothing(capsys):
    assert bench.main([]) == []
    assert "no CUDA device" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="--tiny"):
        bench.main(["--device", "cpu"])
