"""Transformer regression of the two targets (content, wording): an ``AutoModel`` backbone, a pooled vector
and one linear layer, trained with ``transformers.Trainer``.

The pooling is where the input variants of :mod:`commonlit.inputs` differ: ``mean`` pools over the
attention mask for ``summary`` and ``naive``, over the summary's sub-words only for ``pooled`` (the 2nd
place's head mask); ``cls`` reads the first token, ``last`` the last token of the same mask (decoders: with
``naive`` that is the closing EOS, which has seen the whole input). A row whose summary is empty has nothing
to pool over and falls back to its whole input. No dropout between the pooled vector and the head: it adds
noise to a regression target (the backbone keeps its own).

The model is a plain ``nn.Module`` (``Regressor``) because the loss needs per-row weights (pseudo-labelled
rows count less). The 3rd place's options live in :mod:`commonlit.optim`. With ``lora_r`` > 0 (§7.8, a
decoder LLM as a regressor) only LoRA adapters and the head are trained; ``load_in_4bit`` quantises the
frozen base to NF4 with bitsandbytes (QLoRA) on CUDA, and on a machine without CUDA falls back, with a
warning, to full precision.

``save`` writes ``backbone/`` (a ``from_pretrained`` checkpoint with the tokenizer; LoRA adapters merged
in, or under 4-bit the adapters alone, loaded on top of the re-quantised base named in their config),
``head.safetensors`` and ``regressor.json`` (variant, pooling, how to load); ``load`` rebuilds the same
module from that directory with the real ``from_pretrained`` code.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import (
    AutoConfig,
    AutoModel,
    AutoTokenizer,
    BitsAndBytesConfig,
    PreTrainedTokenizerBase,
    TrainingArguments,
    set_seed,
)

from commonlit.inputs import encode
from commonlit.optim import EmaCallback, LayerwiseTrainer, freeze_lower_layers
from shared.console import quiet_trainer
from shared.tiny import resolve_backbone

SETTINGS = "regressor.json"
# dropout settings of BERT/DeBERTa (hidden, attention) and of decoders such as Qwen2/Gemma 2 (attention)
DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "attention_dropout")
HEAD = "head.safetensors"


def pool(
    hidden: torch.Tensor, attention_mask: torch.Tensor, summary_mask: torch.Tensor | None, pooling: str
) -> torch.Tensor:
    """(batch, hidden) vector of each row: ``mean`` over ``summary_mask`` when given (else over
    ``attention_mask``), ``cls`` the first token, ``last`` the last token of that mask. Rows whose
    ``summary_mask`` is all zero (an empty summary) pool over ``attention_mask`` instead."""
    mask = attention_mask
    if summary_mask is not None:
        empty = summary_mask.sum(dim=1, keepdim=True) == 0
        mask = torch.where(empty, attention_mask, summary_mask)
    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":
        positions = torch.arange(mask.shape[1], device=mask.device)
        last = (mask * positions).argmax(dim=1)
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weight = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weight).sum(dim=1) / weight.sum(dim=1).clamp(min=1.0)


def weighted_mse(
    predictions: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None
) -> torch.Tensor:
    """Mean over both targets of the squared error per row, averaged over the rows with ``weight``:
    ``sum(w * mse_row) / sum(w)`` (plain mean when ``weight`` is None)."""
    per_row = ((predictions.float() - labels.float()) ** 2).mean(dim=1)
    if weight is None:
        return per_row.mean()
    weight = weight.float()
    return (weight * per_row).sum() / weight.sum()


class Regressor(nn.Module):
    """Backbone, :func:`pool`, ``Linear(hidden, 2)``."""

    def __init__(self, backbone: nn.Module, variant: str, pooling: str):
        super().__init__()
        self.backbone, self.variant, self.pooling = backbone, variant, pooling
        self.head = nn.Linear(backbone.config.hidden_size, 2)

    def forward(self, input_ids, attention_mask, summary_mask=None, labels=None, weight=None):
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        vector = pool(
            hidden, attention_mask, summary_mask if self.variant == "pooled" else None, self.pooling
        )
        logits = self.head(vector.to(self.head.weight.dtype))
        if labels is None:
            return {"logits": logits}
        return {"loss": weighted_mse(logits, labels, weight), "logits": logits}

    def gradient_checkpointing_enable(self, **kwargs) -> None:
        """What Trainer calls for ``gradient_checkpointing=True``: the backbone checkpoints its layers."""
        self.backbone.gradient_checkpointing_enable(**kwargs)


def _drop_pooler(backbone: nn.Module) -> nn.Module:
    """BERT-like ``AutoModel``s carry a pooler the head never reads: drop it, so no parameter is idle."""
    if getattr(backbone, "pooler", None) is not None:
        backbone.pooler = None
    return backbone


def _quantisation() -> dict:
    """``from_pretrained`` arguments for an NF4 base (QLoRA) on this process' CUDA device."""
    nf4 = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )  # fmt: skip
    return {"quantization_config": nf4, "device_map": {"": int(os.environ.get("LOCAL_RANK", "0"))}}


def load_backbone(path: str, config) -> nn.Module:
    """``AutoModel.from_pretrained(path)`` cut to ``config.num_layers`` layers, wrapped with LoRA when
    ``config.lora_r`` > 0. ``attn_implementation="sdpa"`` lets transformers choose (SDPA where the
    architecture has it, eager for DeBERTa-v2/v3, which has none)."""
    kwargs = {"dtype": torch.float32}
    if config.num_layers > 0:
        kwargs["num_hidden_layers"] = config.num_layers
    if config.attn_implementation != "sdpa":
        kwargs["attn_implementation"] = config.attn_implementation
    if config.backbone_dropout >= 0:  # only the dropout settings this architecture has
        known = AutoConfig.from_pretrained(path)
        kwargs |= {key: config.backbone_dropout for key in DROPOUT_KEYS if hasattr(known, key)}
    quantised = config.load_in_4bit and torch.cuda.is_available()
    if config.load_in_4bit and not quantised:
        warnings.warn(
            "load_in_4bit: no CUDA device, so the LoRA base stays in float32 (no NF4)", stacklevel=2
        )
    if quantised:
        kwargs |= _quantisation()
    elif config.lora_r > 0 and torch.cuda.is_available():
        kwargs["dtype"] = torch.bfloat16  # a frozen base needs no float32 master weights
    backbone = _drop_pooler(AutoModel.from_pretrained(path, **kwargs))
    if config.lora_r == 0:
        return backbone
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if quantised:
        backbone = prepare_model_for_kbit_training(backbone, config.gradient_checkpointing)
    lora = LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
    )  # fmt: skip
    return get_peft_model(backbone, lora)


def build_model(path: str, config) -> Regressor:
    """The regressor ``fit`` starts from. Seeded right here, so the head's initial weights (and any weight
    the checkpoint lacks) depend only on ``config.seed``, not on what ran before."""
    set_seed(config.seed)
    model = Regressor(load_backbone(path, config), config.variant, config.pooling)
    freeze_lower_layers(model, config.freeze_layers)
    return model


class Collator:
    """Pads ``input_ids`` (with the pad id), ``attention_mask`` and ``summary_mask`` (with 0) to the longest
    row of the batch, on the right; stacks ``labels`` and ``weight`` when present."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        batch = {}
        for key, fill in (("input_ids", self.pad_id), ("attention_mask", 0), ("summary_mask", 0)):
            batch[key] = torch.tensor([f[key] + [fill] * (width - len(f[key])) for f in features])
        for key in ("labels", "weight"):
            if key in features[0]:
                batch[key] = torch.tensor(np.array([f[key] for f in features]), dtype=torch.float32)
        return batch


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The pad id, or EOS for tokenizers without one (the attention mask hides padding either way)."""
    found = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if found is None:
        raise ValueError("the tokenizer has neither a pad nor an EOS token")
    return found


def _rows(tokenizer, frame: pd.DataFrame, config) -> list[dict]:
    encoded = encode(tokenizer, frame, config.variant, config.max_length, config.max_prompt_tokens)
    return [dict(zip(encoded, values, strict=True)) for values in zip(*encoded.values(), strict=True)]


def fit(
    config, train: pd.DataFrame, targets: np.ndarray, desc: str, weights: np.ndarray | None = None
) -> tuple[Regressor, PreTrainedTokenizerBase]:
    """Fine-tune ``config.backbone`` (an ``ExperimentConfig``) on ``train`` (text, prompt_question,
    prompt_text, ...) against ``targets`` (n, 2), each row's loss weighted by ``weights`` (default 1), with
    one progress bar named ``desc``. CPU when no CUDA device is visible (bf16 only with CUDA); under
    ``accelerate launch`` every process trains its share (DDP/ZeRO-2) and ends with the same weights."""
    targets = np.asarray(targets, dtype=np.float64)
    weights = np.ones(len(train)) if weights is None else np.asarray(weights, dtype=np.float64)
    if targets.shape != (len(train), 2):
        raise ValueError(f"targets: shape {targets.shape}, expected ({len(train)}, 2)")
    if weights.shape != (len(train),) or not (weights > 0).all():
        raise ValueError(f"weights: expected {len(train)} positive values, got shape {weights.shape}")
    texts = train["text"].fillna("").astype(str).tolist() + train["prompt_text"].astype(str).unique().tolist()
    path = resolve_backbone(config.backbone, texts)
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = [
        row | {"labels": t, "weight": w}
        for row, t, w in zip(_rows(tokenizer, train, config), targets, weights, strict=True)
    ]
    model = build_model(path, config)
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=config.batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps, num_train_epochs=config.epochs,
            learning_rate=config.learning_rate, weight_decay=config.weight_decay,
            warmup_steps=config.warmup_ratio, lr_scheduler_type=config.scheduler, seed=config.seed,
            gradient_checkpointing=config.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False}, save_strategy="no", report_to="none",
            logging_strategy="steps", logging_steps=25, use_cpu=not cuda, bf16=config.bf16 and cuda,
            dataloader_num_workers=0,
        )  # fmt: skip
        trainer = LayerwiseTrainer(
            model=model, args=args, train_dataset=rows, data_collator=Collator(pad_id(tokenizer)),
            callbacks=[EmaCallback(config.ema)] if config.ema > 0 else None,
            head_learning_rate=config.head_learning_rate, llrd=config.llrd,
        )  # fmt: skip
        quiet_trainer(trainer, desc).train()
    return model, tokenizer


@torch.inference_mode()
def predict(model: Regressor, tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, config) -> np.ndarray:
    """(n, 2) predictions (content, wording) in ``frame``'s row order, computed over length-sorted batches
    of ``2 * config.batch_size``."""
    if config.variant != model.variant:
        raise ValueError(
            f"variant: the config says {config.variant!r}, the model was trained on {model.variant!r}"
        )
    out = np.zeros((len(frame), 2))
    if len(frame) == 0:
        return out
    rows = _rows(tokenizer, frame, config)
    model.eval()
    device = next(model.parameters()).device
    autocast = torch.autocast(
        device.type, dtype=torch.bfloat16, enabled=config.bf16 and device.type == "cuda"
    )
    collate = Collator(pad_id(tokenizer))
    order = np.argsort([len(r["input_ids"]) for r in rows], kind="stable")
    size = 2 * config.batch_size
    for at in range(0, len(order), size):
        batch = order[at : at + size]
        inputs = {k: v.to(device) for k, v in collate([rows[i] for i in batch]).items()}
        with autocast:
            logits = model(**inputs)["logits"]
        out[batch] = logits.float().cpu().numpy()
    return out


def save(model: Regressor, tokenizer: PreTrainedTokenizerBase, directory: Path, config) -> None:
    """Write what :func:`load` needs into ``directory`` (see the module docstring)."""
    directory = Path(directory)
    backbone_dir = directory / "backbone"
    lora = "none"
    backbone = model.backbone
    if hasattr(backbone, "peft_config"):
        if getattr(backbone, "is_loaded_in_4bit", False):
            lora = "adapter"  # NF4 weights cannot take a merge without loss: keep the adapters apart
        else:
            lora = "merged"
            backbone = copy.deepcopy(backbone).merge_and_unload()  # the trained model keeps its adapters
    backbone.save_pretrained(backbone_dir)
    tokenizer.save_pretrained(backbone_dir)
    save_file(
        {k: v.detach().contiguous().cpu() for k, v in model.head.state_dict().items()}, directory / HEAD
    )
    settings = {"variant": model.variant, "pooling": model.pooling, "lora": lora,
                "attn_implementation": config.attn_implementation, "num_layers": config.num_layers}  # fmt: skip
    (directory / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")


def load(directory: Path) -> tuple[Regressor, PreTrainedTokenizerBase]:
    """The regressor and tokenizer :func:`save` wrote, on CUDA when there is one, ready for :func:`predict`."""
    directory = Path(directory)
    settings = json.loads((directory / SETTINGS).read_text())
    backbone_dir = directory / "backbone"
    kwargs = (
        {}
        if settings["attn_implementation"] == "sdpa"
        else {"attn_implementation": settings["attn_implementation"]}
    )
    if settings["lora"] == "adapter":
        from peft import PeftModel

        base = json.loads((backbone_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
        if settings["num_layers"] > 0:
            kwargs["num_hidden_layers"] = settings["num_layers"]
        backbone = PeftModel.from_pretrained(
            _drop_pooler(AutoModel.from_pretrained(base, **kwargs, **_quantisation())), backbone_dir
        )
    else:
        backbone = _drop_pooler(AutoModel.from_pretrained(backbone_dir, dtype="auto", **kwargs))
    model = Regressor(backbone, settings["variant"], settings["pooling"])
    head = load_file(directory / HEAD)
    model.head.load_state_dict(head)
    if settings["lora"] != "adapter" and torch.cuda.is_available():
        model.cuda()
    return model, AutoTokenizer.from_pretrained(backbone_dir)
