"""Transformer classifier of the top solutions (§6.6–6.7): any ``AutoModel`` backbone with a custom head.

What the write-ups combined, each switchable from the recipe:
- the main output is trained with BCE on the annotator fraction (soft target) or on ``target >= 0.5``,
  weighted per comment by the metric-aligned weights;
- auxiliary outputs for the six subtypes and the identity columns (1st and 2nd place), trained with
  BCE on their fractions and mixed in with ``aux_weight``;
- head+tail truncation: long comments keep their first ``head_tokens`` and their last tokens, where
  the insult often is (Sun et al., 2019);
- layer-wise learning-rate decay: each layer below the top gets ``llrd`` times the rate of the one above;
- sequence bucketing: training batches grouped by length (``train_sampling_strategy="group_by_length"``)
  and padded to the longest comment of the batch; inference sorts by length, then restores the order.

Training uses ``transformers.Trainer``; the model is a plain ``nn.Module`` because its loss needs the
sample weights and auxiliary targets. Inference is a small loop of its own: Trainer's length-grouped
eval sampler would return predictions in sampler order.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from peft import LoraConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import (
    AutoModel,
    AutoTokenizer,
    BitsAndBytesConfig,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from jigsaw.data import aux_columns
from jigsaw.losses import weighted_bce_with_aux
from shared.console import quiet_trainer
from shared.tiny import resolve_backbone

_LAYER = re.compile(r"\.(?:layer|layers|h)\.(\d+)\.")


def head_tail(ids: list[int], max_content: int, head_tokens: int) -> list[int]:
    """Keep the first ``head_tokens`` and the last ``max_content - head_tokens`` tokens of a long sequence."""
    if len(ids) <= max_content:
        return ids
    head = min(head_tokens, max_content)
    tail = max_content - head
    return ids[:head] + (ids[-tail:] if tail else [])


def special_frame(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The special tokens a tokenizer puts before and after a single text (``[CLS]``/``[SEP]``; none for GPT-2)."""
    full = tokenizer("a")["input_ids"]
    body = tokenizer("a", add_special_tokens=False)["input_ids"]
    start = next(i for i in range(len(full) - len(body) + 1) if full[i : i + len(body)] == body)
    return full[:start], full[start + len(body) :]


def encode(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, head_tokens: int
) -> list[list[int]]:
    """Token ids with the tokenizer's special tokens, head+tail truncated to ``max_length``."""
    prefix, suffix = special_frame(tokenizer)
    max_content = max_length - len(prefix) - len(suffix)
    bodies = tokenizer(texts, add_special_tokens=False, truncation=False)["input_ids"]
    return [prefix + head_tail(ids, max_content, head_tokens) + suffix for ids in bodies]


def load_base(path: str, load_in_4bit: bool) -> nn.Module:
    """``AutoModel.from_pretrained``, with NF4 4-bit weights when ``load_in_4bit`` (bitsandbytes; on CUDA each
    process's model on its own GPU, ``LOCAL_RANK`` under ``accelerate launch``; on CPU too, slowly)."""
    if not load_in_4bit:
        return AutoModel.from_pretrained(path)
    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16 if torch.cuda.is_available() else torch.float32,
    )  # fmt: skip
    device_map = {"": int(os.environ.get("LOCAL_RANK", "0"))} if torch.cuda.is_available() else "cpu"
    return AutoModel.from_pretrained(path, quantization_config=quantization, device_map=device_map)


def load_backbone(path: str, lora_r: int, lora_alpha: int, load_in_4bit: bool) -> nn.Module:
    """The backbone to train: all of it, or with ``lora_r`` > 0 only LoRA adapters on every linear layer (the LLM
    classifier of §6.8), over NF4 4-bit frozen weights with ``load_in_4bit`` (QLoRA)."""
    if not lora_r and load_in_4bit:
        raise ValueError(
            "load_in_4bit needs LoRA (lora_r > 0): quantised weights cannot be fine-tuned directly"
        )
    model = load_base(path, load_in_4bit)
    if not lora_r:
        return model
    if load_in_4bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=torch.cuda.is_available())
    return get_peft_model(
        model, LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=0.05, target_modules="all-linear")
    )


class ToxicityModel(nn.Module):
    """Backbone + pooled representation + one linear layer: logit 0 is toxicity, the rest auxiliary."""

    def __init__(
        self, backbone: str | nn.Module, n_aux: int, pooling: str = "mean", aux_weight: float = 1.0,
        dropout: float = 0.1, lora_r: int = 0, lora_alpha: int = 32, load_in_4bit: bool = False,
    ):  # fmt: skip
        """``backbone``: a path or hub id loaded by :func:`load_backbone`, or a loaded backbone (a saved model)."""
        super().__init__()
        if pooling not in ("mean", "cls", "last"):
            raise ValueError(f"pooling: {pooling!r} is not one of mean | cls | last")
        self.backbone = (
            backbone
            if isinstance(backbone, nn.Module)
            else load_backbone(backbone, lora_r, lora_alpha, load_in_4bit)
        )
        self.pooling, self.aux_weight = pooling, aux_weight
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(self.backbone.config.hidden_size, 1 + n_aux)

    def pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.pooling == "cls":
            return hidden[:, 0]
        if self.pooling == "last":  # decoders (GPT-2): the last real token has seen the whole comment
            last = mask.sum(dim=1) - 1
            return hidden[torch.arange(hidden.size(0), device=hidden.device), last]
        mask = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def forward(self, input_ids, attention_mask, target=None, aux=None, weight=None):
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = self.dropout(
            self.pool(hidden, attention_mask)
        )  # bf16 under a 4-bit base; the head is float32
        logits = self.head(pooled.to(self.head.weight.dtype))
        if target is None:
            return {"logits": logits}
        return {"loss": weighted_bce_with_aux(logits, target, weight, aux, self.aux_weight), "logits": logits}


def layerwise_groups(model: ToxicityModel, lr: float, decay: float, weight_decay: float) -> list[dict]:
    """Optimizer parameter groups with layer-wise LR decay: head at ``lr``, layer i at ``lr * decay**(L - i)``,
    embeddings (everything outside the numbered layers) below the first layer. No weight decay on biases/norms."""
    names = [n for n, _ in model.backbone.named_parameters()]
    n_layers = 1 + max((int(m.group(1)) for n in names if (m := _LAYER.search(n))), default=-1)
    groups: dict[tuple[float, float], list] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:  # frozen base weights under LoRA
            continue
        if name.startswith("backbone."):
            match = _LAYER.search(name)
            depth = n_layers - int(match.group(1)) if match else n_layers + 1
        else:
            depth = 0
        wd = 0.0 if param.ndim == 1 else weight_decay
        groups.setdefault((lr * decay**depth, wd), []).append(param)
    return [
        {"params": params, "lr": group_lr, "weight_decay": wd} for (group_lr, wd), params in groups.items()
    ]


class Collator:
    """Pads ``input_ids`` to the longest sequence of the batch (dynamic padding) and stacks the targets."""

    def __init__(self, pad_id: int, pad_to: int | None = None):
        self.pad_id, self.pad_to = pad_id, pad_to

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = self.pad_to or max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
            mask[i, : len(f["input_ids"])] = 1
        batch = {"input_ids": ids, "attention_mask": mask}
        for key in ("target", "weight", "aux"):
            if key in features[0]:
                batch[key] = torch.tensor(np.array([f[key] for f in features]), dtype=torch.float32)
        return batch


def sorted_batches(lengths: list[int], batch_size: int) -> list[np.ndarray]:
    """Inference bucketing: indices sorted by length, cut into batches (each index exactly once)."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@torch.no_grad()
def predict(model: ToxicityModel, ids: list[list[int]], pad_id: int, batch_size: int) -> np.ndarray:
    """P(toxic) in the input order, computed over length-sorted batches."""
    model.eval()
    device = next(model.parameters()).device
    collate = Collator(pad_id)
    out = np.zeros(len(ids))
    for batch in sorted_batches([len(x) for x in ids], batch_size):
        inputs = collate([{"input_ids": ids[i]} for i in batch])
        logits = model(**{k: v.to(device) for k, v in inputs.items()})["logits"][:, 0]
        out[batch] = torch.sigmoid(logits.float()).cpu().numpy()
    return out


def pad_token_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """GPT-2-style tokenizers have no pad token: pad with EOS (the attention mask hides it)."""
    if tokenizer.pad_token_id is not None:
        return tokenizer.pad_token_id
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has neither a pad nor an EOS token")
    return tokenizer.eos_token_id


class TransformerModel:
    """A fine-tuned :class:`ToxicityModel` with its tokenizer and encoding settings. Saved: the tokenizer, the
    backbone (or, with LoRA, only the adapters and the base's id or path), the head, and ``transformer.json``."""

    META = "transformer.json"

    def __init__(self, model: ToxicityModel, tokenizer: PreTrainedTokenizerBase, settings: dict) -> None:
        self.model, self.tokenizer, self.settings = model, tokenizer, settings

    def predict(self, texts: list[str]) -> np.ndarray:
        s = self.settings
        ids = encode(self.tokenizer, texts, s["max_length"], s["head_tokens"])
        return predict(self.model, ids, pad_token_id(self.tokenizer), s["batch_size"] * 2)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(directory / "tokenizer")
        # a PEFT backbone saves its adapters only (adapter_config.json names the base)
        self.model.backbone.save_pretrained(
            directory / ("adapter" if self.settings["lora_r"] else "backbone")
        )
        save_file(
            {k: v.contiguous() for k, v in self.model.head.state_dict().items()},
            str(directory / "head.safetensors"),
        )
        (directory / self.META).write_text(json.dumps(self.settings, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path, base: str | None = None) -> TransformerModel:
        """The saved model, offline; ``base`` replaces the recorded base of a LoRA model (where the base model lies
        on this machine, e.g. a Kaggle dataset)."""
        s = json.loads((directory / cls.META).read_text())
        if s["lora_r"]:
            base_model = load_base(base or s["base"], s["load_in_4bit"])
            backbone = PeftModel.from_pretrained(base_model, directory / "adapter")
        else:
            backbone = AutoModel.from_pretrained(directory / "backbone")
        model = ToxicityModel(backbone, s["n_aux"], pooling=s["pooling"])
        model.head.load_state_dict(load_file(str(directory / "head.safetensors")))
        model.head.to(next(backbone.parameters()).device)  # a 4-bit base sits on its GPU already
        if torch.cuda.is_available() and not s["load_in_4bit"]:
            model.to("cuda")
        return cls(model.eval(), AutoTokenizer.from_pretrained(directory / "tokenizer"), s)


def fit(config, train: pd.DataFrame, weights: np.ndarray, unlabelled: list[str] | None = None,
        desc: str = "training") -> TransformerModel:  # fmt: skip
    """Fine-tune ``config.backbone`` on one fold (``comment_text``, ``target``, auxiliary columns), with one
    progress bar named ``desc``; ``unlabelled`` is not used (the LSTM's word vectors read it).

    Launched with ``accelerate launch`` (see ``competitions/jigsaw/recipes/accelerate/``) the Trainer runs
    DDP or DeepSpeed ZeRO-2 across the processes and every rank ends with the same weights."""
    texts = train["comment_text"].tolist()
    backbone = resolve_backbone(config.backbone, texts)
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    ids = encode(tokenizer, texts, config.max_length, config.head_tokens)
    target = train["target"].to_numpy(dtype=np.float64)
    labels = target if config.soft_targets else (target >= 0.5).astype(np.float64)
    aux = train[aux_columns(config.aux_targets, train)].fillna(0.0).to_numpy(dtype=np.float64)
    rows = [
        {"input_ids": x, "target": t, "weight": w, "aux": a}
        for x, t, w, a in zip(ids, labels, weights, aux, strict=True)
    ]
    # Seeded here, after resolve_backbone: building a tiny checkpoint on a cache miss must not change the
    # weights the new head (or the tiny model trained from scratch) starts from.
    set_seed(config.seed)
    model = ToxicityModel(
        backbone, aux.shape[1], pooling=config.pooling, aux_weight=config.aux_weight,
        lora_r=config.lora_r, lora_alpha=config.lora_alpha, load_in_4bit=config.load_in_4bit,
    )  # fmt: skip
    optimizer = torch.optim.AdamW(
        layerwise_groups(model, config.learning_rate, config.llrd, config.weight_decay)
    )
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=config.batch_size, num_train_epochs=config.epochs,
            warmup_steps=config.warmup_ratio, lr_scheduler_type="linear", seed=config.seed, save_strategy="no",
            report_to=[], logging_strategy="no", disable_tqdm=True, use_cpu=not torch.cuda.is_available(),
            bf16=config.bf16 and torch.cuda.is_available(), dataloader_num_workers=0,
            train_sampling_strategy="group_by_length" if config.bucketing else "random",
        )  # fmt: skip
        collator = Collator(pad_token_id(tokenizer), pad_to=None if config.bucketing else config.max_length)
        trainer = Trainer(
            model=model, args=args, train_dataset=rows, data_collator=collator, optimizers=(optimizer, None)
        )
        quiet_trainer(trainer, desc).train()
    settings = {"base": backbone, "lora_r": config.lora_r, "load_in_4bit": config.load_in_4bit,
                "pooling": config.pooling, "n_aux": int(aux.shape[1]), "max_length": config.max_length,
                "head_tokens": config.head_tokens, "batch_size": config.batch_size}  # fmt: skip
    return TransformerModel(model, tokenizer, settings)
