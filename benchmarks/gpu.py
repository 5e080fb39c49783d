"""Training and generation throughput of the workspace's GPU paths on random-weight models of realistic shape,
built from a config (nothing is downloaded):

    uv run python benchmarks/gpu.py [--batch 8] [--seq-len 1024] [--steps 8] [--prompts 64] [--new-tokens 256]

- a Qwen2.5-1.5B-class decoder (28 layers, hidden 1536, GQA 12/2 heads, vocabulary 151,936: aimo2, eedi, wsdm,
  science-exam's LLM rungs): LoRA (r 16 on every projection, as the chapters' QLoRA recipes, here on a bf16 base)
  and full fine-tuning (float32 master weights under bf16 autocast, as ``Trainer(bf16=True)``), tokens/s and
  model FLOPs utilisation (MFU) against the GPU's dense bf16 peak;
- a DeBERTa-v3-large-class encoder (24 layers, hidden 1024, vocabulary 128,100: commonlit, pii, science-exam's
  reader), full fine-tuning in the same way;
- generation on the decoder: ``transformers.generate`` and, when vLLM is importable, vLLM, on the same prompts
  (random token ids, every sample exactly ``--new-tokens`` long), as tokens/s and their ratio;
- the peak GPU memory of each (vLLM: what it holds, most of it its preallocated KV cache).

FLOPs per token, the PaLM convention (no recomputation counted): a forward is 2 x the parameters of the Linear
layers (the LM head included, the embedding lookup not) + 4 x layers x hidden x sequence length (the attention
scores and their mixing); full fine-tuning is 3 forwards, LoRA 2 (no weight gradients for the frozen base).
DeBERTa's disentangled attention does more work than this counts, so its MFU is a lower bound. The peak comes
from the GPU's name (``PEAK_BF16_TFLOPS``) or ``--peak-tflops``; unknown, MFU is not printed.

Without CUDA it says so and exits 0. ``--tiny --device cpu`` runs the same code on tiny shapes (the workspace test
does), which checks the mechanics, not the figures. Goal: under 5 minutes on one H100/H200-class GPU.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass

import torch

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)  # DeBERTa's import
from transformers import DebertaV2Config, DebertaV2ForSequenceClassification, Qwen2Config, Qwen2ForCausalLM  # noqa: E402

# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendors' data sheets, by a substring of
# torch.cuda.get_device_name(); the first match wins, so the more specific names come first.
PEAK_BF16_TFLOPS = {
    "H200": 989.4,
    "H100 PCIe": 756.0,
    "H100": 989.4,
    "GH200": 989.4,
    "A100": 312.0,
    "L40S": 362.1,
    "L4": 121.0,
    "A10G": 70.0,
    "RTX 4090": 165.2,
}

QWEN_1_5B = dict(vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                 num_attention_heads=12, num_key_value_heads=2, max_position_embeddings=32768,
                 tie_word_embeddings=True)  # fmt: skip
DEBERTA_V3_LARGE = dict(vocab_size=128100, hidden_size=1024, intermediate_size=4096, num_hidden_layers=24,
                        num_attention_heads=16, max_position_embeddings=512, relative_attention=True,
                        position_buckets=256, pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm",
                        share_att_key=True, position_biased_input=False, num_labels=1)  # fmt: skip
TINY_DECODER = QWEN_1_5B | dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512)  # fmt: skip
TINY_ENCODER = DEBERTA_V3_LARGE | dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                       num_attention_heads=4, position_buckets=32)  # fmt: skip
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class Figure:
    """One row of the printout."""

    name: str
    tokens_per_s: float
    peak_gib: float | None
    mfu: float | None = None
    note: str = ""


def peak_tflops(device: torch.device, override: float | None) -> float | None:
    """The dense bf16 peak of ``device`` (None on CPU or an unknown GPU, unless given)."""
    if override is not None:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16_TFLOPS.items() if key in name), None)


def linear_params(model: torch.nn.Module) -> int:
    """Weights of the Linear layers (base layers of LoRA-wrapped ones included, adapters not): 2 FLOPs each
    per token in a forward."""
    return sum(
        m.weight.numel()
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and "lora_" not in name
    )


def forward_flops_per_token(model: torch.nn.Module, layers: int, hidden: int, seq_len: int) -> float:
    """2 x Linear parameters + 4 x layers x hidden x sequence length (QK^T and the weighted sum of V)."""
    return 2 * linear_params(model) + 4 * layers * hidden * seq_len


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def train_throughput(
    name: str,
    model: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    steps: int,
    flops_per_token: float,
    peak: float | None,
    device: torch.device,
) -> Figure:
    """Tokens/s of AdamW steps under bf16 autocast (two warm-up steps first), MFU and peak memory."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=device.type == "cuda")
    model.train()

    def step() -> float:
        with torch.autocast(device.type, dtype=torch.bfloat16):
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    for _ in range(2):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    seconds = time.perf_counter() - start
    tokens = batch["input_ids"].numel() * steps
    mfu = tokens * flops_per_token / seconds / (peak * 1e12) if peak else None
    return Figure(name, tokens / seconds, peak_gib(device), mfu, f"{len(trainable):,} trainable tensors")


def decoder_rows(args, config: dict, device: torch.device, peak: float | None) -> list[Figure]:
    """LoRA, then full fine-tuning of the decoder; each on a freshly built model."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    ids = torch.randint(0, config["vocab_size"], (args.batch, args.seq_len), device=device)
    batch = {"input_ids": ids, "labels": ids}
    rows = []
    for kind in ("LoRA r16", "full"):
        reset_peak(device)
        if kind == "full":
            model = Qwen2ForCausalLM(Qwen2Config(**config)).to(device)  # float32 master weights
        else:
            model = Qwen2ForCausalLM(Qwen2Config(**config)).to(device, torch.bfloat16)
            lora = LoraConfig(r=16, lora_alpha=32, target_modules=LORA_TARGETS, task_type="CAUSAL_LM")
            model = get_peft_model(model, lora)
            for p in model.parameters():  # adapters in float32, as peft keeps them for mixed precision
                if p.requires_grad:
                    p.data = p.data.float()
        fwd = forward_flops_per_token(model, config["num_hidden_layers"], config["hidden_size"], args.seq_len)
        rows.append(
            train_throughput(
                f"decoder {kind}", model, batch, args.steps, (3 if kind == "full" else 2) * fwd, peak, device
            )
        )
        del model
    return rows


def encoder_row(args, config: dict, device: torch.device, peak: float | None) -> Figure:
    """Full fine-tuning of the encoder with a regression head (commonlit's setting), sequences of 512 at most."""
    reset_peak(device)
    torch.manual_seed(0)
    model = DebertaV2ForSequenceClassification(DebertaV2Config(**config)).to(device)
    seq_len = min(args.seq_len, config["max_position_embeddings"])
    ids = torch.randint(0, config["vocab_size"], (args.batch * 2, seq_len), device=device)
    batch = {"input_ids": ids, "labels": torch.randn(len(ids), 1, device=device)}
    fwd = forward_flops_per_token(model, config["num_hidden_layers"], config["hidden_size"], seq_len)
    row = train_throughput("encoder full", model, batch, args.steps, 3 * fwd, peak, device)
    del model
    return row


def prompts(config: dict, n: int, length: int) -> list[list[int]]:
    generator = torch.Generator().manual_seed(1)
    return torch.randint(0, config["vocab_size"], (n, length), generator=generator).tolist()


def hf_generation(args, config: dict, device: torch.device, batch: list[list[int]]) -> Figure:
    """``generate`` on the bf16 decoder, all prompts in one batch, greedy, every sample ``new_tokens`` long."""
    reset_peak(device)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**config)).to(device, torch.bfloat16).eval()
    ids = torch.tensor(batch, device=device)
    settings = dict(max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens, do_sample=False,
                    eos_token_id=None, pad_token_id=0, attention_mask=torch.ones_like(ids))  # fmt: skip
    with torch.no_grad():
        model.generate(ids[:1], **(settings | dict(max_new_tokens=4, min_new_tokens=4, attention_mask=None)))
        synchronize(device)
        start = time.perf_counter()
        out = model.generate(ids, **settings)
        synchronize(device)
    seconds = time.perf_counter() - start
    made = (out.shape[1] - ids.shape[1]) * len(batch)
    del model
    return Figure(
        "generate: transformers", made / seconds, peak_gib(device), note=f"{len(batch)} prompts, one batch"
    )


def vllm_generation(args, config: dict, batch: list[list[int]]) -> Figure | str:
    """The same prompts through vLLM from the same random bf16 decoder saved to a folder; a line saying why
    not when vLLM is not importable."""
    try:
        from vllm import LLM, SamplingParams
        from vllm.inputs import TokensPrompt
    except ImportError:
        return "generate: vllm: not importable here (the aimo2 extra `gpu` installs it)"
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        Qwen2ForCausalLM(Qwen2Config(**config)).to(torch.bfloat16).save_pretrained(folder)
        gc.collect()
        torch.cuda.empty_cache()
        free_before = torch.cuda.mem_get_info()[0]
        llm = LLM(model=folder, skip_tokenizer_init=True, dtype="bfloat16", seed=0,
                  gpu_memory_utilization=args.vllm_memory, max_model_len=args.seq_len + args.new_tokens)  # fmt: skip
        held = (free_before - torch.cuda.mem_get_info()[0]) / 2**30
        params = SamplingParams(temperature=0.0, max_tokens=args.new_tokens, min_tokens=args.new_tokens,
                                ignore_eos=True, detokenize=False)  # fmt: skip
        llm.generate([TokensPrompt(prompt_token_ids=batch[0])], params, use_tqdm=False)  # warm-up
        start = time.perf_counter()
        outs = llm.generate([TokensPrompt(prompt_token_ids=p) for p in batch], params, use_tqdm=False)
        seconds = time.perf_counter() - start
    made = sum(len(o.outputs[0].token_ids) for o in outs)
    return Figure(
        "generate: vllm", made / seconds, held, note=f"memory: all it holds (KV cache at {args.vllm_memory})"
    )


def table(rows: list[Figure | str]) -> str:
    lines = [f"{'':26} {'tokens/s':>12} {'MFU':>7} {'peak GiB':>9}"]
    for row in rows:
        if isinstance(row, str):
            lines.append(row)
            continue
        mfu = f"{row.mfu:.1%}" if row.mfu is not None else "-"
        peak = f"{row.peak_gib:.1f}" if row.peak_gib is not None else "-"
        lines.append(f"{row.name:26} {row.tokens_per_s:12,.0f} {mfu:>7} {peak:>9}  {row.note}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--batch", type=int, default=8, help="decoder sequences per step (the encoder takes 2x)"
    )
    parser.add_argument(
        "--seq-len", type=int, default=1024, help="training sequence length; the prompts' too"
    )
    parser.add_argument("--steps", type=int, default=8, help="timed optimizer steps after two warm-up steps")
    parser.add_argument("--prompts", type=int, default=64, help="prompts generated from in one batch")
    parser.add_argument("--prompt-len", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=256, help="tokens generated per prompt")
    parser.add_argument("--vllm-memory", type=float, default=0.5, help="vLLM's gpu_memory_utilization")
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="dense bf16 peak, for a GPU not listed"
    )
    parser.add_argument("--device", default="cuda", help="cpu only with --tiny (a check of the mechanics)")
    parser.add_argument("--tiny", action="store_true", help="tiny shapes instead of the realistic ones")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Figure | str]:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(
            "benchmarks/gpu.py: no CUDA device visible; nothing measured (--tiny --device cpu checks the code)"
        )
        return []
    if device.type != "cuda" and not args.tiny:
        sys.exit("benchmarks/gpu.py: the realistic shapes need a GPU; add --tiny to run on CPU")
    decoder, encoder = (TINY_DECODER, TINY_ENCODER) if args.tiny else (QWEN_1_5B, DEBERTA_V3_LARGE)
    peak = peak_tflops(device, args.peak_tflops)
    if device.type == "cuda":
        print(f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
              f"bf16 peak {peak or 'unknown'} TFLOP/s")  # fmt: skip
    rows: list[Figure | str] = [
        *decoder_rows(args, decoder, device, peak),
        encoder_row(args, encoder, device, peak),
    ]
    batch = prompts(decoder, args.prompts, args.prompt_len)
    hf = hf_generation(args, decoder, device, batch)
    rows.append(hf)
    if device.type == "cuda":
        vllm = vllm_generation(args, decoder, batch)
        rows.append(vllm)
        if isinstance(vllm, Figure):
            rows.append(
                f"vllm / transformers: {vllm.tokens_per_s / hf.tokens_per_s:.1f}x on the same prompts"
            )
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
