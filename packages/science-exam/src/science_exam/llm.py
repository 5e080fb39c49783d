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

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    BitsAndBytesConfig,
    DynamicCache,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from science_exam.data import LETTERS
from shared.console import progress, quiet_trainer
from shared.tiny import cache_root, resolve_backbone

INSTRUCTION = "Answer the multiple-choice science question. Use the context when it helps."
ANSWER_CUE = "Answer:"
SETTINGS = "llm.json"
ADAPTER = "adapter"
TOKENIZER = "tokenizer"
BASE = "base"
MODES = ("letters", "options")


# --- tokens -------------------------------------------------------------------------------------------------


def letter_token_ids(tokenizer: PreTrainedTokenizerBase) -> tuple[int, ...]:
    """The ids of the five answer letters as the model sees them right after ``Answer:``: the first of the
    forms ``" A"`` and ``"A"`` for which each letter adds exactly one token (that decodes to the letter) to
    the tokens of ``Answer:``, five distinct ids. Raises ``ValueError`` when neither form does."""
    cue = tokenizer.encode(ANSWER_CUE, add_special_tokens=False)
    seen = {}
    for form in (" {}", "{}"):
        ids, pieces = [], []
        for letter in LETTERS:
            full = tokenizer.encode(ANSWER_CUE + form.format(letter), add_special_tokens=False)
            pieces.append(tokenizer.convert_ids_to_tokens(full[len(cue) :]))
            single = full[: len(cue)] == cue and len(full) == len(cue) + 1
            if single and tokenizer.decode(full[-1:]).strip() == letter:
                ids.append(full[-1])
        if len(set(ids)) == len(LETTERS):
            return tuple(ids)
        seen[form.format("A")] = pieces[0]
    found = "; ".join(f"{form!r} -> {pieces}" for form, pieces in seen.items())
    raise ValueError(
        f"tokenizer {getattr(tokenizer, 'name_or_path', '')!r}: the answer letters are not single tokens after "
        f"{ANSWER_CUE!r} ({found}); use llm_mode options"
    )


def ensure_padding(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Left padding (a decoder continues from the right end), and EOS as the pad token when there is none."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"tokenizer {tokenizer.name_or_path!r}: has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False) if text else []


def _bos(tokenizer) -> list[int]:
    """``[BOS]`` when the tokenizer puts one in front of a text (Llama, Gemma), else nothing (Qwen2)."""
    bos = tokenizer.bos_token_id
    return [bos] if bos is not None and tokenizer("x")["input_ids"][:1] == [bos] else []


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
    start = _bos(tokenizer) + _ids(tokenizer, INSTRUCTION)
    contexts = frame["context"] if "context" in frame.columns else pd.Series("", index=frame.index)
    prompts = []
    for (_, row), context in zip(frame.iterrows(), contexts.fillna("").astype(str), strict=True):
        texts = [str(row[letter]) for letter in LETTERS]
        if mode == "letters":
            listing = "".join(f"\n{letter}) {text}" for letter, text in zip(LETTERS, texts, strict=True))
            options = []
        else:
            listing = ""
            options = [_ids(tokenizer, " " + text) for text in texts]
        tail = _ids(tokenizer, f"\n\nQuestion: {row['prompt']}{listing}\n{ANSWER_CUE}")
        head = start + _ids(tokenizer, "\n\nContext:") if context.strip() else start
        room = max_length - len(head) - len(tail) - max((len(o) for o in options), default=0)
        cut = _ids(tokenizer, " " + context.strip())[: max(room, 0)] if context.strip() else []
        prompts.append(Prompt(head + cut + tail, options))
    return prompts


# --- scores -------------------------------------------------------------------------------------------------


def pad_left(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask), each ``(len(seqs), longest)``, padded on the left."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, seq in enumerate(seqs):
        if seq:
            ids[i, width - len(seq) :] = torch.tensor(seq)
            mask[i, width - len(seq) :] = 1
    return ids, mask


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 on each row's first real token (left padding gets 0)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def letter_scores(model, ids: torch.Tensor, mask: torch.Tensor, letters: torch.Tensor) -> torch.Tensor:
    """(n, 5) log-softmax over the five letters' logits at the last position (``letters`` mode)."""
    out = model(
        input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False, logits_to_keep=1
    )
    return out.logits[:, -1, letters].float().log_softmax(-1)


def _token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) under each row of ``logits`` (``(..., V)``), without a second vocabulary-sized tensor."""
    logits = logits.float()
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)


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
    logp = _token_logprobs(out.logits[:, :-1], ids[:, -span:])  # logit t predicts token t + 1
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
        [_token_logprobs(first, cont[:, 0]).unsqueeze(1), _token_logprobs(out.logits[:, :-1], cont[:, 1:])], 1
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


def load_base(path: str, *, load_in_4bit: bool, bf16: bool, attn_implementation: str):
    """``AutoModelForCausalLM.from_pretrained(path)``: NF4 on CUDA with ``load_in_4bit``, bf16 on CUDA with
    ``bf16`` (a frozen base needs no float32 weights), else float32. Without CUDA ``load_in_4bit`` falls back
    to float32 and warns."""
    cuda = torch.cuda.is_available()
    kwargs = {"dtype": torch.bfloat16 if cuda and bf16 else torch.float32}
    if attn_implementation != "sdpa":
        kwargs["attn_implementation"] = attn_implementation
    if load_in_4bit and cuda:  # QLoRA: NF4 with double quantisation, bf16 compute, on this process' GPU
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )  # fmt: skip
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}  # one GPU per process under DDP
    elif load_in_4bit:
        warnings.warn(
            "load_in_4bit: no CUDA device, so the LLM's frozen base stays in float32 (bitsandbytes NF4 "
            "needs a GPU here)", stacklevel=2,
        )  # fmt: skip
    return AutoModelForCausalLM.from_pretrained(path, **kwargs)


def _lora(base, config, quantised: bool):
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if quantised:
        base = prepare_model_for_kbit_training(base, config.gradient_checkpointing)
    lora = LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules), task_type="CAUSAL_LM",
    )  # fmt: skip
    return get_peft_model(base, lora)


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
        """The adapters, the tokenizer and ``llm.json`` (the base it adapts and how to load it). A tiny local
        base (``shared.tiny``'s cache, which an offline machine lacks) is copied in as ``base/``; a real base
        stays a reference (its hub id or path: a Kaggle notebook attaches it as a dataset)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory / ADAPTER)
        self.tokenizer.save_pretrained(directory / TOKENIZER)
        settings = dict(self.settings)
        base = Path(settings["base"])
        if base.is_dir() and cache_root().resolve() in base.resolve().parents:
            shutil.copytree(base, directory / BASE, dirs_exist_ok=True)
            settings["base"] = BASE
        (directory / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")


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
    model = _lora(base, config, quantised=config.load_in_4bit and torch.cuda.is_available())
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
    from peft import PeftModel

    directory = Path(directory)
    path = directory / SETTINGS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (not an LLM reader saved by science-exam)")
    settings = json.loads(path.read_text())
    if settings["base"] == BASE:  # a tiny base saved alongside the adapters
        settings["base"] = str(directory / BASE)
    base = load_base(
        settings["base"], load_in_4bit=settings["load_in_4bit"], bf16=settings["bf16"],
        attn_implementation=settings["attn_implementation"],
    )  # fmt: skip
    model = PeftModel.from_pretrained(base, directory / ADAPTER)
    if torch.cuda.is_available() and not (settings["load_in_4bit"]):
        model.cuda()
    return LlmReader(model.eval(), AutoTokenizer.from_pretrained(directory / TOKENIZER), settings)
