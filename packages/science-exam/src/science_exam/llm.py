"""LLM option scoring under LoRA (§8.7): a decoder LLM reads the context and the question and scores the
five options; only LoRA adapters (peft) on the attention projections are trained, on a frozen base that
``load_in_4bit`` quantises to NF4 with bitsandbytes (QLoRA) on CUDA.

Two ways to score, ``llm_mode``:

- ``letters``: the prompt is instruction, context, question, the five options listed as ``A) ...`` and
  ``Answer:``; an option's score is the log-softmax over the five answer letters' logits at the last
  position. One forward per question. The letters must each be one token right after ``Answer:``
  (:func:`letter_token_ids` checks, ``" A"`` first, then ``"A"``, and raises otherwise);
- ``options``: the prefix is instruction, context, question and ``Answer:``; an option's score is the
  mean log-probability of its own tokens as the continuation of the prefix. The prefix (most of the
  tokens: the retrieved context) runs once per question, its ``DynamicCache`` is batch-expanded to the five
  options and only the options' tokens run on top of it (:func:`score_options_cached`);
  :func:`score_options_separate` is the reference, five full forwards, and a test checks that both give
  the same scores.

Prompts are built from separately tokenized pieces (instruction, context, question and options), so both
paths see exactly the same token ids; ``max_length`` bounds the whole prompt by cutting the end of the
context (the passages come best first), never the question or the options. Batches are padded on the left
with explicit position ids, so every row's last prefix token is the last column and padding never shifts
a position.

Training is a cross-entropy over the five scores (``options`` computes them with full forwards, no cache:
the gradient is the same and the batch is one forward). It uses ``transformers.Trainer`` with a
``compute_loss`` override rather than a custom loop, so that gradient accumulation, the schedulers, bf16
and the accelerate/DeepSpeed launchers work as for every other reader of the chapter.

``save(dir)`` writes the adapters (``adapter/``), the tokenizer (``tokenizer/``) and ``llm.json`` (the
base model's path or id and how to load it); :func:`load` rebuilds the reader offline from those, on the
same base.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from transformers import (
    AutoTokenizer,
    DynamicCache,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from science_exam.data import LETTERS
from shared.console import progress, quiet_trainer
from shared.llm import (
    add_lora,
    answer_token_ids,
    bos_ids,
    encode_text,
    ensure_padding,
    load_adapter,
    load_base,
    pad_left,
    positions,
    save_adapter,
    token_logprobs,
)
from shared.tiny import resolve_backbone

INSTRUCTION = "Answer the multiple-choice science question. Use the context when it helps."
ANSWER_CUE = "Answer:"
SETTINGS = "llm.json"
MODES = ("letters", "options")


# --- tokens -------------------------------------------------------------------------------------------------


def letter_token_ids(tokenizer: PreTrainedTokenizerBase) -> tuple[int, ...]:
    """The ids of the five answer letters as the model sees them right after ``Answer:``
    (``shared.llm.answer_token_ids``); raises ``ValueError`` when they are not single tokens."""
    try:
        return answer_token_ids(tokenizer, ANSWER_CUE, LETTERS)
    except ValueError as err:
        raise ValueError(f"{err}; use llm_mode options") from None


@dataclass
class Prompt:
    """One question's tokens: ``prefix`` is the whole prompt (``letters``) or the shared prefix
    (``options``); ``options`` the five continuations (``options`` mode; empty for ``letters``)."""

    prefix: list[int]
    options: list[list[int]]


def encode(
    tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, mode: str, max_length: int
) -> list[Prompt]:
    """The prompts of ``frame``'s questions (``prompt``, ``A``..``E``, optional ``context``; module
    docstring). The context is cut from its end so that the prompt (with the longest option, in ``options``
    mode) fits ``max_length``; a question and options longer than that alone are kept whole."""
    if mode not in MODES:
        raise ValueError(f"llm_mode: {mode!r} is not one of {' | '.join(MODES)}")
    missing = [c for c in ("prompt", *LETTERS) if c not in frame.columns]
    if missing:
        raise ValueError(f"questions: missing column(s) {missing}")
    start = bos_ids(tokenizer) + encode_text(tokenizer, INSTRUCTION)
    contexts = frame["context"] if "context" in frame.columns else pd.Series("", index=frame.index)
    prompts = []
    for (_, row), context in zip(frame.iterrows(), contexts.fillna("").astype(str), strict=True):
        texts = [str(row[letter]) for letter in LETTERS]
        if mode == "letters":
            listing = "".join(f"\n{letter}) {text}" for letter, text in zip(LETTERS, texts, strict=True))
            options = []
        else:
            listing = ""
            options = [encode_text(tokenizer, " " + text) for text in texts]
        tail = encode_text(tokenizer, f"\n\nQuestion: {row['prompt']}{listing}\n{ANSWER_CUE}")
        head = start + encode_text(tokenizer, "\n\nContext:") if context.strip() else start
        room = max_length - len(head) - len(tail) - max((len(o) for o in options), default=0)
        cut = encode_text(tokenizer, " " + context.strip())[: max(room, 0)] if context.strip() else []
        prompts.append(Prompt(head + cut + tail, options))
    return prompts


# --- scores -------------------------------------------------------------------------------------------------


def letter_scores(model, ids: torch.Tensor, mask: torch.Tensor, letters: torch.Tensor) -> torch.Tensor:
    """(n, 5) log-softmax over the five letters' logits at the last position (``letters`` mode)."""
    out = model(
        input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False, logits_to_keep=1
    )
    return out.logits[:, -1, letters].float().log_softmax(-1)


def continuation_scores(model, ids: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(n,) mean log-probability of each row's last ``lengths[i]`` tokens given the tokens before them, from
    one full forward over the left-padded rows (``options`` mode's training path: no cache)."""
    span = int(lengths.max())
    out = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions(mask),
        use_cache=False,
        logits_to_keep=span + 1,
    )
    logp = token_logprobs(out.logits[:, :-1], ids[:, -span:])  # logit t predicts token t + 1
    keep = torch.arange(span, device=ids.device).unsqueeze(0) >= (span - lengths.to(ids.device)).unsqueeze(1)
    return (logp * keep).sum(-1) / lengths.to(logp.device)


def _option_rows(prompts: list[Prompt]) -> tuple[list[list[int]], torch.Tensor]:
    """Each (question, option) as one sequence, prefix + option, and the options' lengths."""
    seqs = [p.prefix + option for p in prompts for option in p.options]
    return seqs, torch.tensor([len(option) for p in prompts for option in p.options])


def score_options_cached(model, prompts: list[Prompt], pad_id: int) -> torch.Tensor:
    """(n, 5) mean log-probability of each option after its question's prefix: the prefixes run once (one
    left-padded batch), their ``DynamicCache`` is repeated five times along the batch, and the options'
    tokens (right-padded) run on top of it. Equal to :func:`score_options_separate`."""
    if any(not option for p in prompts for option in p.options):
        raise ValueError("options: an option encodes to no token")
    n_options = len(LETTERS)
    device = next(model.parameters()).device
    ids, mask = (t.to(device) for t in pad_left([p.prefix for p in prompts], pad_id))
    cache = DynamicCache(config=model.config)
    out = model(
        input_ids=ids, attention_mask=mask, position_ids=positions(mask), past_key_values=cache, use_cache=True,
        logits_to_keep=1,
    )  # fmt: skip
    first = out.logits[:, -1].repeat_interleave(n_options, 0)  # predicts each option's first token
    cache.batch_repeat_interleave(n_options)
    options = [option for p in prompts for option in p.options]
    lengths = torch.tensor([len(o) for o in options], device=device)
    width = int(lengths.max())
    cont = torch.full((len(options), width), pad_id, dtype=torch.long, device=device)
    cont_mask = torch.zeros_like(cont)
    for i, option in enumerate(options):
        cont[i, : len(option)] = torch.tensor(option, device=device)
        cont_mask[i, : len(option)] = 1
    start = mask.sum(-1).repeat_interleave(n_options).unsqueeze(1)  # each prefix's real length
    out = model(
        input_ids=cont, attention_mask=torch.cat([mask.repeat_interleave(n_options, 0), cont_mask], 1),
        position_ids=start + torch.arange(width, device=device), past_key_values=cache, use_cache=True,
    )  # fmt: skip
    logp = torch.cat(
        [token_logprobs(first, cont[:, 0]).unsqueeze(1), token_logprobs(out.logits[:, :-1], cont[:, 1:])], 1
    )
    return ((logp * cont_mask).sum(-1) / lengths).view(len(prompts), n_options)


def score_options_separate(model, prompts: list[Prompt]) -> torch.Tensor:
    """(n, 5) the same scores as :func:`score_options_cached` from one full forward per (question, option),
    unpadded: the reference the shared-prefix path is tested against."""
    device = next(model.parameters()).device
    seqs, lengths = _option_rows(prompts)
    scores = []
    for i, seq in enumerate(seqs):
        ids = torch.tensor([seq], device=device)
        scores.append(continuation_scores(model, ids, torch.ones_like(ids), lengths[i : i + 1]))
    return torch.cat(scores).view(len(prompts), len(LETTERS))


# --- training -----------------------------------------------------------------------------------------------


class Collator:
    """A batch of encoded questions as tensors: ``letters``: the left-padded prompts; ``options``: every
    (question, option) sequence left-padded, with the options' ``lengths``; ``labels`` when answered."""

    def __init__(self, mode: str, pad_id: int):
        self.mode, self.pad_id = mode, pad_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        prompts = [row["prompt"] for row in rows]
        if self.mode == "letters":
            ids, mask = pad_left([p.prefix for p in prompts], self.pad_id)
            batch = {"input_ids": ids, "attention_mask": mask}
        else:
            seqs, lengths = _option_rows(prompts)
            ids, mask = pad_left(seqs, self.pad_id)
            batch = {"input_ids": ids, "attention_mask": mask, "lengths": lengths}
        if "label" in rows[0]:
            batch["labels"] = torch.tensor([row["label"] for row in rows])
        return batch


def batch_scores(model, batch: dict[str, torch.Tensor], letters: torch.Tensor | None) -> torch.Tensor:
    """(n, 5) scores of a :class:`Collator` batch without a cache (``letters`` None: ``options`` mode)."""
    if letters is not None:
        return letter_scores(model, batch["input_ids"], batch["attention_mask"], letters)
    scores = continuation_scores(model, batch["input_ids"], batch["attention_mask"], batch["lengths"])
    return scores.view(-1, len(LETTERS))


class OptionTrainer(Trainer):
    """``Trainer`` whose loss is the cross-entropy of the answer over the five option scores."""

    loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides it over accumulation steps

    def __init__(self, *args, letters: torch.Tensor | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.letters = letters

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        letters = None if self.letters is None else self.letters.to(inputs["input_ids"].device)
        scores = batch_scores(model, inputs, letters)
        loss = F.cross_entropy(scores, inputs["labels"])
        return (loss, {"scores": scores}) if return_outputs else loss


def _labels(frame: pd.DataFrame) -> list[int]:
    if "answer" not in frame.columns:
        raise ValueError("questions: no answer column to train on")
    bad = ~frame["answer"].isin(LETTERS)
    if bad.any():
        row = frame[bad].iloc[0]
        raise ValueError(
            f"questions: id {row.get('id', bad.idxmax())}: column answer: {row['answer']!r} is not A-E"
        )
    return [LETTERS.index(a) for a in frame["answer"]]


class LlmReader:
    """A LoRA-adapted causal LM that scores the five options of a question (module docstring)."""

    def __init__(self, model, tokenizer: PreTrainedTokenizerBase, settings: dict):
        self.model, self.tokenizer, self.settings = model, ensure_padding(tokenizer), settings
        self.letters = (
            torch.tensor(letter_token_ids(tokenizer)) if settings["llm_mode"] == "letters" else None
        )

    @torch.inference_mode()
    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """(n, 5) option scores (log-softmax over the letters, or mean option log-probabilities) in
        ``frame``'s order, over length-sorted batches (``options``: the shared-prefix path)."""
        settings = self.settings
        out = np.zeros((len(frame), len(LETTERS)))
        if len(frame) == 0:
            return out
        prompts = encode(self.tokenizer, frame, settings["llm_mode"], settings["max_length"])
        self.model.eval()
        device = next(self.model.parameters()).device
        autocast = torch.autocast(
            device.type, dtype=torch.bfloat16, enabled=settings["bf16"] and device.type == "cuda"
        )
        order = np.argsort([len(p.prefix) for p in prompts], kind="stable")
        size = settings["batch_size"]
        with autocast:
            for at in progress(range(0, len(order), size), desc="llm scoring", unit="batch", leave=False):
                rows = order[at : at + size]
                chunk = [prompts[i] for i in rows]
                if self.letters is None:
                    scores = score_options_cached(self.model, chunk, self.tokenizer.pad_token_id)
                else:
                    ids, mask = pad_left([p.prefix for p in chunk], self.tokenizer.pad_token_id)
                    scores = letter_scores(
                        self.model, ids.to(device), mask.to(device), self.letters.to(device)
                    )
                out[rows] = scores.float().cpu().numpy()
        return out

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """(n, 5) softmax over the option scores."""
        scores = self.scores(frame)
        scores = np.exp(scores - scores.max(1, keepdims=True))
        return scores / scores.sum(1, keepdims=True)

    def save(self, directory: Path) -> None:
        """The adapters, the tokenizer and ``llm.json`` (the base it adapts and how to load it;
        ``shared.llm.save_adapter``)."""
        save_adapter(self.model, self.tokenizer, directory, self.settings, settings_file=SETTINGS)


# ExperimentConfig field -> TrainingArguments argument (a ``warmup_steps`` below 1 is a ratio of the steps)
TRAINER_FIELDS = {
    "batch_size": "per_device_train_batch_size", "gradient_accumulation_steps": "gradient_accumulation_steps",
    "epochs": "num_train_epochs", "learning_rate": "learning_rate", "weight_decay": "weight_decay",
    "warmup_ratio": "warmup_steps", "scheduler": "lr_scheduler_type", "seed": "seed",
    "gradient_checkpointing": "gradient_checkpointing",
}  # fmt: skip


def training_arguments(config, output_dir: str) -> TrainingArguments:
    """The Trainer's settings from ``config``: nothing saved or reported (the caller saves the adapters), bf16
    only on CUDA, the batches' extra keys kept for :class:`OptionTrainer`."""
    cuda = torch.cuda.is_available()
    chosen = {argument: getattr(config, name) for name, argument in TRAINER_FIELDS.items()}
    return TrainingArguments(
        output_dir=output_dir, use_cpu=not cuda, bf16=config.bf16 and cuda, save_strategy="no", report_to="none",
        logging_steps=25, remove_unused_columns=False, label_names=["labels"], dataloader_num_workers=0,
        gradient_checkpointing_kwargs={"use_reentrant": False}, **chosen,
    )  # fmt: skip


def fit(config, frame: pd.DataFrame, desc: str) -> LlmReader:
    """LoRA-train ``config.backbone`` (a path or hub id; a ``tiny:`` name is resolved on ``frame``'s own text)
    on ``frame`` (MCQs with ``answer`` and optional ``context``), one progress bar named ``desc``.

    Reads ``backbone, llm_mode, max_length, lora_r, lora_alpha, lora_dropout, lora_target_modules,
    load_in_4bit, learning_rate, epochs, batch_size, gradient_accumulation_steps, warmup_ratio,
    weight_decay, scheduler, gradient_checkpointing, seed, bf16, attn_implementation``. CPU when no CUDA
    device is visible (float32, no NF4, no bf16)."""
    labels = _labels(frame)
    texts = [
        t for col in ("context", "prompt", *LETTERS) if col in frame.columns for t in frame[col].astype(str)
    ]
    path = resolve_backbone(config.backbone, texts)
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    letters = torch.tensor(letter_token_ids(tokenizer)) if config.llm_mode == "letters" else None
    prompts = encode(tokenizer, frame, config.llm_mode, config.max_length)
    set_seed(config.seed)  # the LoRA matrices' initial values depend on the seed alone
    base = load_base(
        path,
        load_in_4bit=config.load_in_4bit,
        bf16=config.bf16,
        attn_implementation=config.attn_implementation,
    )
    model = add_lora(base, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout,
                     target_modules=config.lora_target_modules,
                     quantised=config.load_in_4bit and torch.cuda.is_available(),
                     gradient_checkpointing=config.gradient_checkpointing)  # fmt: skip
    rows = [{"prompt": p, "label": y} for p, y in zip(prompts, labels, strict=True)]
    with tempfile.TemporaryDirectory() as scratch:
        args = training_arguments(config, scratch)
        trainer = OptionTrainer(
            model=model, args=args, train_dataset=rows, data_collator=Collator(config.llm_mode, tokenizer.pad_token_id),
            letters=letters,
        )  # fmt: skip
        quiet_trainer(trainer, desc).train()
    settings = {
        "base": path, "llm_mode": config.llm_mode, "max_length": config.max_length, "batch_size": config.batch_size,
        "load_in_4bit": config.load_in_4bit, "bf16": config.bf16, "attn_implementation": config.attn_implementation,
    }  # fmt: skip
    return LlmReader(model, tokenizer, settings)


def load(directory: Path) -> LlmReader:
    """The reader :meth:`LlmReader.save` wrote: its base from ``llm.json`` (a local path or a cached hub id;
    nothing is downloaded) with the saved adapters on top, on CUDA when there is one."""
    model, tokenizer, settings = load_adapter(directory, settings_file=SETTINGS, owner="science-exam's LLM reader")
    return LlmReader(model, tokenizer, settings)
