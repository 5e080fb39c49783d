"""Load a trained preference model at a chosen precision for inference.

The winning WSDM solutions trained Gemma-2 9B (and larger) classifiers and had to score the hidden test
set on Kaggle's two T4s within the time limit, so inference ran on 8-bit or 4-bit weights. A mode here is
what the weights of the transformer blocks become:

- ``fp32`` / ``bf16``: every weight in that dtype (the reference, and the plain half-precision model);
- ``int8``: bitsandbytes LLM.int8 (``Linear8bitLt``: one int8 weight per parameter and a float scale per
  output row; the matmul runs in float16);
- ``nf4``: bitsandbytes NormalFloat-4 (``Linear4bit``, double-quantised block scales, as in QLoRA);
- ``autoround``: weights that :func:`autoround` already quantised and saved (the WSDM 3rd place's recipe for
  its Qwen2.5-14B generation head: AutoRound, 4 bits, groups of 128, calibrated on the training rows with
  ``seqlen`` 6144, ``nsamples`` 512, ``iters`` 3000). Unlike the modes above it is not a way of loading any
  checkpoint: it is a saved format, so it is not in :data:`MODES`, and only such a folder loads with it.

AutoRound (SignRound) is GPTQ-like: block by block, on cached calibration activations, it tunes by signed
gradient descent each weight's rounding (up or down, +-0.5 of a step) and each group's clipping range so
that the quantised block's output matches the float block's; the result is plain symmetric int4 with
a float16 scale per group of ``group_size`` input weights, packed 8 to an int32 (``auto_round:auto_gptq``
packing), loaded by ``from_pretrained`` through transformers' AutoRound integration into auto_round's
``QuantLinear`` (CPU: its pure-torch kernel, which dequantises at every matmul and computes in float16 or
bfloat16 only; CUDA: its Triton or torch kernel, or a faster one when installed).

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

import inspect
import itertools
import json
import logging
import random
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

MODES = ("fp32", "bf16", "int8", "nf4")
AUTOROUND = "autoround"  # the saved format of :func:`autoround`; load_quantised's one mode outside MODES
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
    """The dtype of the unquantised weights and of the activations for ``mode`` on this machine (AutoRound's
    kernels take float16 or bfloat16 only, also on a CPU)."""
    if mode == "bf16" or (mode == AUTOROUND and not torch.cuda.is_available()):
        return torch.bfloat16
    if mode == "fp32" or not torch.cuda.is_available():
        return torch.float32
    if mode == "int8":
        return torch.float16
    return torch.bfloat16 if torch.cuda.is_bf16_supported(including_emulation=False) else torch.float16


def load_quantised(path: str | Path, mode: str, head: str, num_labels: int = 2):
    """``from_pretrained(path)`` as a ``head`` model (``classification``: ``AutoModelForSequenceClassification``
    with ``num_labels``; ``generation``: ``AutoModelForCausalLM``) with weights in ``mode`` (one of
    :data:`MODES`, or ``autoround`` for a folder :func:`autoround` wrote), on the current CUDA device or else
    the CPU, in eval mode."""
    _check("mode", mode, (*MODES, AUTOROUND))
    _check("head", head, HEADS)
    saved = _saved_method(path)
    if (mode == AUTOROUND) != (saved == "auto-round"):
        raise ValueError(
            f"{path}: its weights are {saved or 'not quantised'}, so they do not load as {mode!r}"
            + (" (write them with wsdm.quantize.autoround first)" if mode == AUTOROUND else "")
        )
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


def _saved_method(path: str | Path) -> str | None:
    """The ``quant_method`` a local checkpoint's ``config.json`` records (None for float weights or a hub id)."""
    config = Path(path) / "config.json"
    if not config.is_file():
        return None
    return json.loads(config.read_text()).get("quantization_config", {}).get("quant_method")


def calibration_blocks(tokenizer, texts: Sequence[str], seqlen: int, nsamples: int, seed: int = 0) -> list:
    """``texts`` tokenised (no special tokens added), in a seeded order, concatenated and cut into at most
    ``nsamples`` blocks of exactly ``seqlen`` tokens (``1 x seqlen`` tensors; the remainder is dropped).

    Packing, as GPTQ calibrates on C4: auto_round skips every sample shorter than ``seqlen`` (and exits the
    process when none is left), and a preference row is usually far shorter than the 3rd place's 6144."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    stream: list[int] = []
    for i in order:
        stream += tokenizer(texts[i], add_special_tokens=False)["input_ids"]
        if len(stream) >= seqlen * nsamples:
            break
    n = min(nsamples, len(stream) // seqlen)
    if n == 0:
        raise ValueError(f"texts: {len(stream)} tokens in all, fewer than one block of seqlen {seqlen}")
    ids = torch.tensor(stream[: n * seqlen], dtype=torch.long)
    return list(ids.view(n, 1, seqlen))


def autoround(
    source: str | Path,
    out: str | Path,
    head: str,
    texts: Sequence[str],
    *,
    bits: int = 4,
    group_size: int = 128,
    iters: int = 3000,
    nsamples: int = 512,
    seqlen: int = 6144,
    batch_size: int = 8,
    seed: int = 0,
) -> Path:
    """Quantise the whole-weights model at ``source`` (a ``head`` model with its tokenizer, e.g. a fold's
    ``model/``) with AutoRound, calibrated on ``texts`` (the rows' rendered inputs: see
    :func:`calibration_blocks`), and save it to ``out``, which :func:`load_quantised` reads with mode
    ``autoround``. Returns ``out``.

    ``bits`` and ``group_size`` (symmetric int, ``group_size`` must divide each layer's input width),
    ``iters`` tuning steps per decoder block on batches of ``batch_size`` blocks, ``nsamples`` blocks of
    ``seqlen`` tokens; the defaults are the 3rd place's. Only the ``nn.Linear`` layers of the decoder blocks
    are quantised: the output layer (``lm_head`` or the classifier's ``score``) and the embeddings keep the
    source's float weights. Runs on the current CUDA device, else on the CPU (float32, no ``torch.compile``).
    """
    _check("head", head, HEADS)
    from auto_round import AutoRound
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    source, out = Path(source), Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists")
    tokenizer = AutoTokenizer.from_pretrained(source)
    model_class = AutoModelForSequenceClassification if head == "classification" else AutoModelForCausalLM
    model = model_class.from_pretrained(source, dtype=torch.float32)
    if head == "classification":
        # auto_round 0.16 takes the last layer for the LM head and, when the config ties the embeddings (small
        # Qwen2s, the tiny ones), leaves it out of the checkpoint: ``score`` would be lost. A classifier has
        # no LM head to tie.
        model.config.tie_word_embeddings = False
    blocks = calibration_blocks(tokenizer, texts, seqlen, nsamples, seed)
    cuda = torch.cuda.is_available()
    quantiser = AutoRound(
        model, tokenizer, bits=bits, group_size=group_size, sym=True, dataset=blocks, iters=iters,
        nsamples=len(blocks), seqlen=seqlen, batch_size=min(batch_size, len(blocks)), seed=seed,
        ignore_layers=OUTPUT_LAYER[head], device_map=torch.cuda.current_device() if cuda else "cpu",
        enable_torch_compile=False,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    # auto_round saves into a subfolder named after the model and the scheme: move that one to ``out``
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        quantiser.quantize_and_save(scratch, format="auto_round")
        (saved,) = Path(scratch).iterdir()
        saved.rename(out)
    return out


def autoround_fold(directory: str | Path, out: str | Path, frame, **options) -> Path:
    """A copy at ``out`` of the fold model :meth:`wsdm.model.PreferenceModel.save` wrote to ``directory``
    (whole weights: ``preference.json``, ``tokenizer/``, ``model/``) with the weights quantised by
    :func:`autoround` (``options``: its keyword arguments), calibrated on ``frame``'s rows rendered as the
    model reads them (template and truncation; the ids decoded back to text). ``preference.json`` records
    ``"quantisation": "autoround"`` and the settings, so ``wsdm.model.load(out)`` loads the AutoRound
    weights. Returns ``out``."""
    from transformers import AutoTokenizer

    from shared.llm import TOKENIZER
    from wsdm.model import FULL, SETTINGS, PreferenceModel

    directory, out = Path(directory), Path(out)
    path = directory / SETTINGS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (not a model saved by wsdm)")
    settings = json.loads(path.read_text())
    if settings["base"] != FULL or "quantisation" in settings:
        raise ValueError(f"{directory}: not a fold model's float whole weights ({FULL}/); AutoRound needs "
                         "them (merge LoRA adapters into the base first)")  # fmt: skip
    if out.exists():
        raise FileExistsError(f"{out}: already exists")
    tokenizer = AutoTokenizer.from_pretrained(directory / TOKENIZER)
    texts = [tokenizer.decode(ids) for ids in PreferenceModel(None, tokenizer, settings).encode(frame)]
    head = "classification" if settings["head"] == "classification" else "generation"
    autoround(directory / FULL, out / FULL, head, texts, **options)
    shutil.copytree(directory / TOKENIZER, out / TOKENIZER)
    defaults = {
        k: p.default for k, p in inspect.signature(autoround).parameters.items() if p.kind is p.KEYWORD_ONLY
    }
    recipe = defaults | options | {"rows": len(texts)}
    (out / SETTINGS).write_text(
        json.dumps(settings | {"quantisation": AUTOROUND, AUTOROUND: recipe}, indent=2) + "\n"
    )
    return out


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
