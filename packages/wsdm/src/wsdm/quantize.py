"""Load a trained preference model at a chosen precision for inference.

The winning WSDM solutions trained Gemma-2 9B (and larger) classifiers and had to score the hidden test
set on Kaggle's two T4s within the time limit, so inference ran on 8-bit or 4-bit weights. A mode here is
what the weights of the transformer blocks become:

- ``fp32`` / ``bf16``: every weight in that dtype (the reference, and the plain half-precision model);
- ``int8``: bitsandbytes LLM.int8 (``Linear8bitLt``: one int8 weight per parameter and a float scale per
  output row; the matmul runs in float16);
- ``nf4``: bitsandbytes NormalFloat-4 (``Linear4bit``, double-quantised block scales, as in QLoRA).

Only the ``nn.Linear`` layers of the blocks are quantised. The output layer stays unquantised, in the
model's compute dtype: the classification head ``score`` (a ``hidden x num_labels`` matrix: tiny, and its
error would land directly on the logits) and the language-model head ``lm_head`` (bitsandbytes never
quantises the output embedding). Embeddings are never quantised either; in a tiny checkpoint they can be
most of the weights, in a 9B model they are a few percent.

Devices: on CUDA the model goes to the current device, compute dtype bfloat16 (float16 on GPUs without
native bfloat16, e.g. the T4; always float16 for int8, whose matmul runs in it). On a CPU (bitsandbytes
>= 0.45 has CPU kernels) everything stays on the CPU with float32 compute, so a laptop runs the same code
path; there 4-bit is a memory saving, not a speed-up (the weights are dequantised at every matmul).
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import torch

MODES = ("fp32", "bf16", "int8", "nf4")
HEADS = ("classification", "generation")
# The output layer of each head: kept out of quantisation.
OUTPUT_LAYER = {"classification": "score", "generation": "lm_head"}

# On CPU the int8 matmul casts float32 inputs to float16 and logs it at every forward: expected, not news.
logging.getLogger("bitsandbytes.autograd._functions").addFilter(
    lambda record: not record.getMessage().startswith("MatMul8bitLt: inputs will be cast")
)


def _check(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{field}: {value!r} is not one of {allowed}")


def _compute_dtype(mode: str) -> torch.dtype:
    """The dtype of the unquantised weights and of the activations for ``mode`` on this machine."""
    if mode == "bf16":
        return torch.bfloat16
    if mode == "fp32" or not torch.cuda.is_available():
        return torch.float32
    if mode == "int8":
        return torch.float16
    return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16


def load_quantised(path: str | Path, mode: str, head: str, num_labels: int = 2):
    """``from_pretrained(path)`` as a ``head`` model (``classification``: ``AutoModelForSequenceClassification``
    with ``num_labels``; ``generation``: ``AutoModelForCausalLM``) with weights in ``mode`` (one of
    :data:`MODES`), on the current CUDA device or else the CPU, in eval mode."""
    _check("mode", mode, MODES)
    _check("head", head, HEADS)
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, BitsAndBytesConfig

    dtype = _compute_dtype(mode)
    kwargs = dict(
        dtype=dtype, device_map={"": torch.cuda.current_device()} if torch.cuda.is_available() else "cpu"
    )
    skip = [OUTPUT_LAYER[head]]
    if mode == "int8":
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
    elif mode == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
            llm_int8_skip_modules=skip,
        )
    if head == "classification":
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=num_labels, **kwargs)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    return model.eval()


def footprint(model: torch.nn.Module) -> int:
    """Bytes the weights take: every parameter and buffer at its stored width, plus the quantisation
    statistics bitsandbytes keeps beside the packed weights (4-bit: the per-block absmax and code table,
    nested when double-quantised; int8: the per-row scale). ``get_memory_footprint()`` counts only the
    first part, which understates a 4-bit model (a float32 absmax per 64 weights is 0.5 bit a weight).

    Example: a float32 ``nn.Linear(256, 512, bias=False)`` is 256 * 512 * 4 = 524,288 bytes; in int8 it is
    131,072 bytes of weights plus 512 float32 row scales, 133,120 bytes.
    """
    tensors = {id(t): t for t in itertools.chain(model.parameters(), model.buffers())}
    extra = []
    for module in model.modules():
        weight = getattr(module, "weight", None)
        # int8 row scales: on the weight until the first forward, on the layer's state after it
        extra += [getattr(weight, "SCB", None), getattr(getattr(module, "state", None), "SCB", None)]
        state = getattr(weight, "quant_state", None)  # 4-bit
        while state is not None:
            extra += [state.absmax, state.code, state.offset]
            state = getattr(state, "state2", None)  # set only when double-quantised
    tensors.update((id(t), t) for t in extra if isinstance(t, torch.Tensor))
    return sum(t.nelement() * t.element_size() for t in tensors.values())
