"""The multiple-choice reader (§8.5.4): an encoder scores each of the five options in its own input, and a
softmax over the five scores gives the option probabilities.

Each option's input is the pair ``(context, prompt + " " + option)``: the retrieved context first, cut from
its end when the pair is longer than ``max_length`` (``truncation="only_first"``), so the question and the
option always survive whole — they are what the head compares across options. A question without context
(retrieval ``none``) is encoded as ``prompt + " " + option`` alone. A question and option that by themselves
leave no room for the context fall back to ``longest_first`` (both sides cut), the only way the tokenizer
returns an input at all.

Two heads (``mc_pooling``):

- ``model``: ``AutoModelForMultipleChoice``, the architecture's own head over the first token (BERT's
  pooler, DeBERTa's ContextPooler) — what the write-ups trained on DeBERTa-v3-large;
- ``mean``: ``AutoModel`` + the attention-masked mean of each option's token states + ``Linear(hidden, 1)``.
  For encoders pretrained for mean pooling, such as the sentence-transformers MiniLM of the CPU preset: its
  first token is nearly the same vector whatever the option (measured: spread across the five options
  ~2e-4 against a norm of 8), so the ``model`` head sits at chance loss for hundreds of CPU steps while the
  mean-pooled head learns the same planted task in a few dozen.

Training is ``transformers.Trainer`` with a collator that pads the five option inputs of every question to
the batch's longest, giving ``(batch, 5, seq)`` tensors; the loss is the cross-entropy over the five logits.
``save`` writes a ``from_pretrained`` checkpoint of the encoder (with its head, or with
``pooled_head.safetensors`` beside it for ``mean``), the tokenizer and ``reader.json`` (what prediction
needs); ``load`` reads them back offline.

The encoder plumbing (:func:`encode_pairs`, :class:`Collator`, :func:`build_scorer`, :func:`train_model`,
:func:`save_scorer`, :func:`load_scorer`) is shared with the cross-encoder of :mod:`science_exam.rerank`,
which trains the same way with one score per (question, passage) pair.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import (
    AutoModel,
    AutoModelForMultipleChoice,
    AutoTokenizer,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.modeling_outputs import SequenceClassifierOutput

from science_exam.data import LETTERS
from shared.console import quiet_trainer

SETTINGS = "reader.json"
POOLED_HEAD = "pooled_head.safetensors"
POOLINGS = ("model", "mean", "option")
INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    contexts: Sequence[str],
    max_length: int,
    context_first: bool = True,
) -> dict[str, list[list[int]]]:
    """Token lists of each ``(context, text)`` pair (``(text, context)`` when not ``context_first``), at most
    ``max_length`` long: the context is cut, the text kept whole; an empty context gives ``text`` alone.
    Rows whose text alone leaves no room for a context token are cut on both sides (``longest_first``)."""
    texts, contexts = [str(t) for t in texts], [str(c) for c in contexts]
    if len(texts) != len(contexts):
        raise ValueError(f"encode_pairs: {len(texts)} texts but {len(contexts)} contexts")
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]] if texts else []
    room = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    groups: dict[str, list[int]] = {"alone": [], "cut_context": [], "longest_first": []}
    for i, (context, length) in enumerate(zip(contexts, lengths, strict=True)):
        if not context:
            groups["alone"].append(i)
        else:
            groups["cut_context" if length < room else "longest_first"].append(i)
    out: dict[str, list] = {}
    for kind, rows in groups.items():
        if not rows:
            continue
        kept = [texts[i] for i in rows]
        if kind == "alone":
            encoded = tokenizer(kept, truncation=True, max_length=max_length)
        else:
            cut = [contexts[i] for i in rows]
            pair = (cut, kept) if context_first else (kept, cut)
            strategy = kind if kind == "longest_first" else "only_first" if context_first else "only_second"
            encoded = tokenizer(*pair, truncation=strategy, max_length=max_length)
        for key in INPUT_KEYS:
            if key in encoded:
                column = out.setdefault(key, [None] * len(texts))
                for i, ids in zip(rows, encoded[key], strict=True):
                    column[i] = list(ids)
    return out


class Collator:
    """Pads ``input_ids`` (with the pad id), ``attention_mask`` and ``token_type_ids`` (with 0) on the right to
    the longest sequence of the batch. Multiple-choice features hold one list per option and give
    ``(batch, options, seq)`` tensors; pair features give ``(batch, seq)``. ``labels`` are stacked as given
    (option indices, or ``[0.0 | 1.0]`` rows for the cross-encoder)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        batch = {}
        for key in INPUT_KEYS:
            if key not in features[0]:
                continue
            fill = self.pad_id if key == "input_ids" else 0
            nested = isinstance(features[0][key][0], list)
            seqs = [s for f in features for s in f[key]] if nested else [f[key] for f in features]
            width = max(len(s) for s in seqs)
            padded = torch.tensor([s + [fill] * (width - len(s)) for s in seqs])
            batch[key] = padded.view(len(features), -1, width) if nested else padded
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([f["labels"] for f in features])
        return batch


def pad_id(tokenizer: PreTrainedTokenizerBase) -> int:
    """The pad id, or EOS for tokenizers without one (the attention mask hides padding either way)."""
    found = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if found is None:
        raise ValueError("the tokenizer has neither a pad nor an EOS token")
    return found


class MeanPooled(nn.Module):
    """An ``AutoModel`` encoder, the attention-masked mean of its last hidden states and ``Linear(hidden, 1)``:
    one score per sequence. Inputs ``(batch, options, seq)`` give logits ``(batch, options)`` (``objective``
    ``choice``: cross-entropy over the options); inputs ``(batch, seq)`` give ``(batch, 1)`` (``binary``:
    BCE against float labels of the same shape)."""

    def __init__(self, backbone: nn.Module, objective: str, second_segment: bool = False):
        super().__init__()
        self.second_segment = second_segment
        # BERT's first-token pooler is never read here: drop it, so DDP finds no idle parameters
        if getattr(backbone, "pooler", None) is not None:
            backbone.pooler = None
        self.backbone, self.objective = backbone, objective
        self.head = nn.Linear(backbone.config.hidden_size, 1)

    def forward(
        self, input_ids, attention_mask, token_type_ids=None, labels=None
    ) -> SequenceClassifierOutput:
        width = input_ids.shape[-1]
        inputs = {
            "input_ids": input_ids.reshape(-1, width),
            "attention_mask": attention_mask.reshape(-1, width),
        }
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids.reshape(-1, width)
        hidden = self.backbone(**inputs).last_hidden_state
        mask = inputs["attention_mask"]
        if self.second_segment and token_type_ids is not None:
            # the question + option tokens after they attended to the context; a row without a context has
            # one segment, pooled whole
            second = mask * inputs["token_type_ids"]
            mask = torch.where(second.any(dim=1, keepdim=True), second, mask)
        mask = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        logits = self.head(pooled.to(self.head.weight.dtype)).view(input_ids.shape[0], -1)
        if labels is None:
            return SequenceClassifierOutput(logits=logits)
        if self.objective == "choice":
            loss = F.cross_entropy(logits.float(), labels)
        else:
            loss = F.binary_cross_entropy_with_logits(logits.float(), labels.float())
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def gradient_checkpointing_enable(self, **kwargs) -> None:
        """What Trainer calls for ``gradient_checkpointing=True``: the encoder checkpoints its layers."""
        self.backbone.gradient_checkpointing_enable(**kwargs)


def _encoder_kwargs(num_layers: int, attn_implementation: str) -> dict:
    """``from_pretrained`` arguments: the first ``num_layers`` layers only when > 0 (CPU presets);
    ``sdpa`` lets transformers choose (DeBERTa-v2/v3 has no SDPA and gets eager)."""
    kwargs = {"dtype": torch.float32}
    if num_layers > 0:
        kwargs["num_hidden_layers"] = num_layers
    if attn_implementation != "sdpa":
        kwargs["attn_implementation"] = attn_implementation
    return kwargs


def build_scorer(auto_class, path: str | Path, pooling: str, objective: str, num_layers: int,
                 attn_implementation: str, seed: int, **kwargs) -> nn.Module:  # fmt: skip
    """The model ``fit`` starts from: ``auto_class.from_pretrained(path)`` (``pooling="model"``) or
    :class:`MeanPooled` over ``AutoModel`` (``"mean"``). Seeded first, so every freshly initialised head
    weight depends on ``seed`` only, not on what ran before."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling: {pooling!r} is not one of {' | '.join(POOLINGS)}")
    set_seed(seed)
    kwargs |= _encoder_kwargs(num_layers, attn_implementation)
    if pooling == "model":
        return auto_class.from_pretrained(path, **kwargs)
    return MeanPooled(
        AutoModel.from_pretrained(path, **kwargs), objective, second_segment=pooling == "option"
    )


def save_scorer(model: nn.Module, tokenizer: PreTrainedTokenizerBase, directory: Path) -> None:
    """The encoder as a ``from_pretrained`` checkpoint in ``directory`` (plus ``pooled_head.safetensors``
    for a :class:`MeanPooled` model) and its tokenizer."""
    directory = Path(directory)
    if isinstance(model, MeanPooled):
        model.backbone.save_pretrained(directory)
        head = {k: v.detach().contiguous().cpu() for k, v in model.head.state_dict().items()}
        save_file(head, directory / POOLED_HEAD)
    else:
        model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


def load_scorer(
    auto_class, directory: Path, pooling: str, objective: str, attn_implementation: str
) -> nn.Module:
    """What :func:`save_scorer` wrote, on CUDA when there is one."""
    kwargs = _encoder_kwargs(0, attn_implementation)
    if pooling == "model":
        model = auto_class.from_pretrained(directory, **kwargs)
    else:
        model = MeanPooled(
            AutoModel.from_pretrained(directory, **kwargs), objective, second_segment=pooling == "option"
        )
        model.head.load_state_dict(load_file(Path(directory) / POOLED_HEAD))
    return model.cuda() if torch.cuda.is_available() else model


def train_model(
    model: nn.Module, rows: list[dict], pad: int, desc: str, *, batch_size: int, epochs: float,
    learning_rate: float, seed: int, gradient_accumulation_steps: int = 1, warmup_ratio: float = 0.0,
    weight_decay: float = 0.0, scheduler: str = "linear", gradient_checkpointing: bool = False,
    bf16: bool = False,
) -> list[float]:  # fmt: skip
    """Train ``model`` on ``rows`` (token lists + ``labels``) with ``transformers.Trainer`` and one progress bar
    named ``desc``; returns the logged training losses (about twenty, evenly spaced). CPU when no CUDA device
    is visible, bf16 only with one; under ``accelerate launch`` every process trains its share (DDP)."""
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=gradient_accumulation_steps, num_train_epochs=epochs,
            learning_rate=learning_rate, weight_decay=weight_decay, warmup_steps=warmup_ratio,
            lr_scheduler_type=scheduler, seed=seed, gradient_checkpointing=gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False}, save_strategy="no", report_to=[],
            remove_unused_columns=False, logging_strategy="steps", logging_steps=0.05, use_cpu=not cuda,
            bf16=bf16 and cuda, dataloader_num_workers=0,
        )  # fmt: skip
        trainer = Trainer(model=model, args=args, train_dataset=rows, data_collator=Collator(pad))
        quiet_trainer(trainer, desc).train()
        history = trainer.state.log_history
    return [entry["loss"] for entry in history if "loss" in entry]


def length_batches(lengths: Sequence[int], size: int) -> list[np.ndarray]:
    """Row indices in batches of ``size``, shortest rows first, so each batch pads little."""
    order = np.argsort(np.asarray(lengths), kind="stable")
    return [order[at : at + size] for at in range(0, len(order), size)]


def option_inputs(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, max_length: int) -> list[dict]:
    """One feature per question: for each key, five token lists (options A-E, see the module docstring)."""
    missing = [c for c in ("prompt", *LETTERS, "context") if c not in frame.columns]
    if missing:
        raise ValueError(f"reader input: missing column(s) {missing}")
    prompts = frame["prompt"].fillna("").astype(str)
    options = frame[list(LETTERS)].fillna("").astype(str).to_numpy()
    texts = [f"{prompt} {option}" for prompt, row in zip(prompts, options, strict=True) for option in row]
    contexts = np.repeat(frame["context"].fillna("").astype(str).to_numpy(), len(LETTERS))
    encoded = encode_pairs(tokenizer, texts, contexts, max_length)
    k = len(LETTERS)
    return [{key: ids[i * k : (i + 1) * k] for key, ids in encoded.items()} for i in range(len(frame))]


def labels_of(frame: pd.DataFrame) -> list[int]:
    """Option index of each row's ``answer`` letter."""
    if "answer" not in frame.columns:
        raise ValueError("reader training: the frame has no 'answer' column")
    answers = frame["answer"].astype(str).str.strip().to_numpy()
    for row, answer in zip(frame["id"] if "id" in frame.columns else frame.index, answers, strict=True):
        if answer not in LETTERS:
            raise ValueError(f"reader training: id {row}, column answer: {answer!r} is not one of A-E")
    return [LETTERS.index(a) for a in answers]


class MultipleChoiceReader:
    """A trained multiple-choice model with its tokenizer and the settings prediction needs."""

    def __init__(self, model: nn.Module, tokenizer: PreTrainedTokenizerBase, settings: dict,
                 losses: list[float] | None = None):  # fmt: skip
        self.model, self.tokenizer, self.settings = model, tokenizer, settings
        self.losses = list(losses or [])  # the training losses fit logged (empty after load)

    @torch.inference_mode()
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """(n, 5) softmax probabilities of options A-E, in ``frame``'s row order (eval mode, no dropout)."""
        out = np.zeros((len(frame), len(LETTERS)))
        if not len(frame):
            return out
        features = option_inputs(self.tokenizer, frame, self.settings["max_length"])
        self.model.eval()
        device = next(self.model.parameters()).device
        bf16 = self.settings["bf16"] and device.type == "cuda"
        collate = Collator(pad_id(self.tokenizer))
        for batch in length_batches(
            [max(map(len, f["input_ids"])) for f in features], self.settings["batch_size"]
        ):
            inputs = {k: v.to(device) for k, v in collate([features[i] for i in batch]).items()}
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                logits = self.model(**inputs).logits
            out[batch] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return out

    def save(self, directory: Path) -> None:
        """Write the checkpoint, the tokenizer and ``reader.json`` into ``directory``."""
        directory = Path(directory)
        save_scorer(self.model, self.tokenizer, directory)
        (directory / SETTINGS).write_text(json.dumps(self.settings, indent=2) + "\n")


def fit(config, frame: pd.DataFrame, desc: str) -> MultipleChoiceReader:
    """Fine-tune ``config.backbone`` (an ``ExperimentConfig``; the backbone already resolved to a path or HF
    id) with the ``config.mc_pooling`` head on ``frame`` (MCQs with ``answer`` and ``context``), with one
    progress bar named ``desc``. Predictions run in batches of ``2 * batch_size`` questions."""
    tokenizer = AutoTokenizer.from_pretrained(config.backbone)
    features = option_inputs(tokenizer, frame, config.max_length)
    rows = [f | {"labels": label} for f, label in zip(features, labels_of(frame), strict=True)]
    model = build_scorer(AutoModelForMultipleChoice, config.backbone, config.mc_pooling, "choice",
                         config.num_layers, config.attn_implementation, config.seed)  # fmt: skip
    losses = train_model(
        model, rows, pad_id(tokenizer), desc, batch_size=config.batch_size, epochs=config.epochs,
        learning_rate=config.learning_rate, seed=config.seed,
        gradient_accumulation_steps=config.gradient_accumulation_steps, warmup_ratio=config.warmup_ratio,
        weight_decay=config.weight_decay, scheduler=config.scheduler,
        gradient_checkpointing=config.gradient_checkpointing, bf16=config.bf16,
    )  # fmt: skip
    settings = {"pooling": config.mc_pooling, "max_length": config.max_length, "batch_size": 2 * config.batch_size,
                "bf16": config.bf16, "attn_implementation": config.attn_implementation}  # fmt: skip
    return MultipleChoiceReader(model, tokenizer, settings, losses)


def load(directory: Path) -> MultipleChoiceReader:
    """The reader :meth:`MultipleChoiceReader.save` wrote (offline), on CUDA when there is one."""
    directory = Path(directory)
    settings = json.loads((directory / SETTINGS).read_text())
    model = load_scorer(AutoModelForMultipleChoice, directory, settings["pooling"], "choice",
                        settings["attn_implementation"])  # fmt: skip
    return MultipleChoiceReader(model, AutoTokenizer.from_pretrained(directory), settings)
