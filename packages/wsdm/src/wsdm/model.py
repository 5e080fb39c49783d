"""A preference model: a decoder LLM with one of the heads of :mod:`wsdm.heads`, its tokenizer and the settings
that turn a (prompt, response A, response B) frame into its input ids (template and truncation).

- :func:`fit` trains one from ``config.backbone`` on a frame of pairs: LoRA on a frozen base (NF4 on CUDA
  with ``load_in_4bit``: QLoRA), or every weight with ``lora_r: 0`` (a tiny model on CPU); a classifier's
  new head is trained either way. :func:`zero_shot` wraps an untrained LM as the judge.
- :meth:`PreferenceModel.predict` gives p(A wins) per row, in length-sorted batches, optionally with A and B
  swapped (the input of swap TTA, :mod:`wsdm.tta`).
- :meth:`PreferenceModel.save` / :func:`load` write and read what ``wsdm-predict`` needs offline: the whole
  weights, or the adapters plus the base (``shared.llm``: a tiny base is copied, a real one stays its hub id
  or path), the tokenizer and ``preference.json``. ``load`` can quantise the weights on the way in
  (``quantisation: int8 | nf4``, bitsandbytes, :mod:`wsdm.quantize`); a copy whose weights AutoRound quantised
  (``wsdm.quantize.autoround_fold``) loads as such.
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedTokenizerBase,
    TrainingArguments,
    set_seed,
)

from shared.console import progress, quiet_trainer
from shared.llm import (
    BASE,
    TOKENIZER,
    add_lora,
    ensure_padding,
    load_base,
    pad_left,
    save_adapter,
    write_settings,
)
from wsdm.encode import Template, Truncation, answer_ids, encode_frame
from wsdm.heads import Collator, PreferenceTrainer, forward

SETTINGS = "preference.json"
FULL = "model"  # folder of the whole weights of a fully fine-tuned (or zero-shot) model
ADAPTER = "adapter"
LABELS = {"model_a": 0, "model_b": 1}
# Label-free scaffolding for a tiny LM's pretraining text, so that "A" and "B" follow the cue as single tokens.
PROMPT_TEXTS = [f"{Template().suffix} {x}" for x in ("A", "B")] + ["Response A:", "Response B:"]


def labels_of(winner: pd.Series) -> np.ndarray:
    """0 for ``model_a``, 1 for ``model_b``."""
    return winner.map(LABELS).to_numpy(dtype=np.int64)


def truncation_of(config) -> Truncation:
    share = (1 - config.prompt_share) / 2
    return Truncation(max_length=config.max_length, strategy=config.truncation, head_fraction=config.head_fraction,
                      shares=(config.prompt_share, share, share), min_tokens=config.min_field_tokens)  # fmt: skip


def settings_from(config, base: str) -> dict:
    """What a saved model needs to encode and score again."""
    t = truncation_of(config)
    return {
        "head": config.head, "base": base, "template": config.template, "max_length": t.max_length,
        "truncation": t.strategy, "head_fraction": t.head_fraction, "shares": list(t.shares),
        "min_tokens": t.min_tokens, "eval_batch_size": config.eval_batch_size, "lora_r": config.lora_r,
        "load_in_4bit": config.load_in_4bit, "bf16": config.bf16, "attn_implementation": config.attn_implementation,
    }  # fmt: skip


class PreferenceModel:
    """A model, its tokenizer and its settings (:func:`settings_from`); ``precision`` is how its weights are held
    (``fp32 | bf16 | int8 | nf4 | autoround``), ``losses`` the training loss per logging step after :func:`fit`."""

    def __init__(self, model, tokenizer: PreTrainedTokenizerBase, settings: dict, precision: str = "fp32"):
        self.model, self.tokenizer, self.settings = model, ensure_padding(tokenizer), settings
        self.precision = precision
        self.losses: list[float] = []

    @property
    def head(self) -> str:
        return self.settings["head"]

    @property
    def template(self) -> Template:
        return Template.chat(self.tokenizer) if self.settings["template"] == "chat" else Template()

    @property
    def truncation(self) -> Truncation:
        s = self.settings
        return Truncation(max_length=s["max_length"], strategy=s["truncation"], head_fraction=s["head_fraction"],
                          shares=tuple(s["shares"]), min_tokens=s["min_tokens"])  # fmt: skip

    @property
    def answer_ids(self) -> tuple[int, int] | None:
        return None if self.head == "classification" else answer_ids(self.tokenizer, self.template)

    def encode(self, frame: pd.DataFrame, swap: bool = False) -> list[list[int]]:
        return encode_frame(self.tokenizer, frame, self.template, self.truncation, swap=swap)

    def predict(self, frame: pd.DataFrame, swap: bool = False, desc: str = "predict") -> np.ndarray:
        """p(A wins) of every row (of the swapped pair when ``swap``: then p(the original B wins)), float64."""
        encoded = self.encode(frame, swap=swap)
        out = np.zeros(len(encoded))
        order = np.argsort([len(e) for e in encoded], kind="stable")
        size = self.settings["eval_batch_size"]
        device = next(self.model.parameters()).device
        self.model.eval()
        with torch.inference_mode(), self._autocast(device):
            for at in progress(range(0, len(order), size), desc=desc, unit="batch", leave=False):
                rows = order[at : at + size]
                ids, mask = (
                    t.to(device) for t in pad_left([encoded[i] for i in rows], self.tokenizer.pad_token_id)
                )
                pair, _ = forward(self.model, self.head, ids, mask, self.answer_ids)
                out[rows] = torch.softmax(pair.float(), -1)[:, 0].cpu().numpy()
        return out

    def predict_views(
        self, frame: pd.DataFrame, tta: bool, desc: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(p(A) of the pairs, p(A) of the swapped pairs or None without ``tta``): what swap TTA merges."""
        plain = self.predict(frame, desc=desc)
        return plain, (self.predict(frame, swap=True, desc=f"{desc} swapped") if tta else None)

    def _autocast(self, device: torch.device):
        """bf16 autocast on a GPU that has it when the settings ask for bf16, float16 on one without (a T4)."""
        if device.type == "cuda" and self.settings["bf16"]:
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.autocast("cuda", dtype=dtype)
        return contextlib.nullcontext()

    def save(self, directory: Path) -> None:
        """``directory/tokenizer``, ``preference.json`` and the weights: the whole fine-tuned model in
        ``directory/model`` (``lora_r: 0``), or adapters in ``directory/adapter`` on the base, or (the judge)
        the base alone. A base from ``shared.tiny``'s cache is copied to ``directory/base``; a real one stays
        a reference (its hub id or path, attached as a Kaggle dataset)."""
        directory = Path(directory)
        if self.head == "judge":
            self.tokenizer.save_pretrained(directory / TOKENIZER)
            write_settings(directory, self.settings, SETTINGS)
            return
        if self.settings["lora_r"] > 0:
            save_adapter(self.model, self.tokenizer, directory, self.settings, settings_file=SETTINGS)
            return
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory / FULL)
        self.tokenizer.save_pretrained(directory / TOKENIZER)
        self.tokenizer.save_pretrained(directory / FULL)
        settings = self.settings | {
            "base": FULL,
            "trained_from": self.settings.get("trained_from", self.settings["base"]),
        }
        (directory / SETTINGS).write_text(json.dumps(settings, indent=2) + "\n")


def model_class(head: str):
    return AutoModelForSequenceClassification if head == "classification" else AutoModelForCausalLM


def head_kwargs(head: str, tokenizer: PreTrainedTokenizerBase) -> dict:
    """A classifier's 2 labels and the pad id it finds each row's last token by."""
    return {"num_labels": 2, "pad_token_id": tokenizer.pad_token_id} if head == "classification" else {}


def base_path(base: str, base_dir: Path | None) -> str:
    """Where a referenced base (a hub id such as ``google/gemma-2-9b-it``) is: with ``base_dir`` (a Kaggle
    notebook's attached model datasets, no network) its folder ``<base_dir>/gemma-2-9b-it`` or
    ``<base_dir>/google--gemma-2-9b-it``; without, the id itself (a local path, or the hub's cache)."""
    if base_dir is None or Path(base).is_dir():
        return base
    tried = [Path(base_dir) / base.split("/")[-1], Path(base_dir) / base.replace("/", "--")]
    for folder in tried:
        if (folder / "config.json").is_file():
            return str(folder)
    raise FileNotFoundError(f"base model {base!r}: neither {tried[0]} nor {tried[1]} holds a config.json")


def load(directory: Path, quantisation: str | None = None, base_dir: Path | None = None) -> PreferenceModel:
    """The model :meth:`PreferenceModel.save` wrote, offline, in eval mode; ``quantisation`` (``fp32 | bf16 |
    int8 | nf4``) loads the weights so (``wsdm.quantize``), on CUDA when there is one. By default: as saved
    (``autoround`` for a folder ``wsdm.quantize.autoround_fold`` wrote, else the base's precision in training).
    ``base_dir``: where a base the folder only names is (:func:`base_path`)."""
    from wsdm.quantize import load_quantised

    directory = Path(directory)
    path = directory / SETTINGS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (not a model saved by wsdm)")
    settings = json.loads(path.read_text())
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(directory / TOKENIZER))
    head = settings["head"]
    kind = "classification" if head == "classification" else "generation"  # the judge is a causal LM too
    local = settings["base"] in (FULL, BASE)
    base = str(directory / settings["base"]) if local else base_path(settings["base"], base_dir)
    # as saved: AutoRound's weights, else the base's precision in training (NF4 under QLoRA on a GPU)
    mode = quantisation or settings.get("quantisation") or settings.get("precision", "fp32")
    model = load_quantised(base, mode, kind)
    if (directory / ADAPTER).is_dir():
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, directory / ADAPTER)
    if head == "classification":
        model.config.pad_token_id = tokenizer.pad_token_id
    return PreferenceModel(model.eval(), tokenizer, settings, mode)


def release(model: PreferenceModel | None) -> None:
    """Free a model's memory before the next one loads (fold after fold on one GPU)."""
    if model is not None:
        model.model = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def precision_of(config, full: bool) -> str:
    """The base weights' precision in training: float32 when fully fine-tuned or on CPU, else NF4 (QLoRA) or
    bf16 as the config asks."""
    if full or not torch.cuda.is_available():
        return "fp32"
    return "nf4" if config.load_in_4bit else ("bf16" if config.bf16 else "fp32")


def zero_shot(config, path: str) -> PreferenceModel:
    """The untrained LM at ``path`` as the judge (``config.head`` must be ``judge``)."""
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    base = load_base(path, load_in_4bit=config.load_in_4bit, bf16=config.bf16,
                     attn_implementation=config.attn_implementation)  # fmt: skip
    if torch.cuda.is_available() and not config.load_in_4bit:
        base.cuda()
    settings = settings_from(config, path) | {"precision": precision_of(config, full=False)}
    return PreferenceModel(base.eval(), tokenizer, settings, settings["precision"])


def trainable(config, path: str, tokenizer: PreTrainedTokenizerBase):
    """``path`` loaded for ``config.head`` under fresh LoRA adapters (the classifier's head trained too), their
    initial values from ``config.seed`` alone; with ``lora_r == 0`` every weight trainable in float32."""
    set_seed(config.seed)
    full = config.lora_r == 0
    base = load_base(
        path, load_in_4bit=config.load_in_4bit and not full, bf16=config.bf16 and not full,
        attn_implementation=config.attn_implementation, model_class=model_class(config.head),
        **head_kwargs(config.head, tokenizer),
    )  # fmt: skip
    if full:
        base.requires_grad_(True)
        if config.gradient_checkpointing:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        return base
    return add_lora(
        base, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout,
        target_modules=config.lora_target_modules, quantised=config.load_in_4bit and torch.cuda.is_available(),
        gradient_checkpointing=config.gradient_checkpointing,
        task_type="SEQ_CLS" if config.head == "classification" else "CAUSAL_LM",
    )  # fmt: skip


def training_arguments(config, output_dir: str, n_rows: int) -> TrainingArguments:
    """The Trainer's settings from ``config``: nothing saved or reported (the caller saves), bf16 on CUDA only,
    the batches' keys kept, about 20 loss logs over the run of ``n_rows`` rows. A ``warmup_ratio`` below 1 goes
    in as ``warmup_steps``, which transformers 5 reads as a ratio."""
    cuda = torch.cuda.is_available()
    steps = math.ceil(n_rows / (config.batch_size * config.gradient_accumulation_steps)) * config.epochs
    return TrainingArguments(
        output_dir=output_dir, use_cpu=not cuda, bf16=config.bf16 and cuda, save_strategy="no", report_to="none",
        logging_steps=max(1, int(steps // 20)), remove_unused_columns=False, label_names=["labels"], dataloader_num_workers=0,
        per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.epochs, learning_rate=config.learning_rate, weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio, lr_scheduler_type=config.scheduler, seed=config.seed,
        gradient_checkpointing=config.gradient_checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False},
    )  # fmt: skip


def training_rows(model: PreferenceModel, frame: pd.DataFrame, labels: np.ndarray, teacher: np.ndarray | None,
                  swap_augment: bool) -> list[dict]:  # fmt: skip
    """The Trainer's rows: each pair (label 0 = A wins), and with ``swap_augment`` each pair swapped too (its
    label and the teacher's p(A) flipped)."""
    rows = []
    for swap in (False, True) if swap_augment else (False,):
        for i, ids in enumerate(model.encode(frame, swap=swap)):
            row = {"input_ids": ids, "label": int(labels[i]) ^ int(swap)}
            if teacher is not None:
                row["teacher"] = float(1 - teacher[i] if swap else teacher[i])
            rows.append(row)
    return rows


def fit(
    config, path: str, frame: pd.DataFrame, teacher: np.ndarray | None = None, desc: str = "train"
) -> PreferenceModel:
    """Train ``config.head`` from the backbone at ``path`` on ``frame``'s pairs (``winner``), distilling from
    ``teacher`` (p(A) per row) when given; one progress bar named ``desc``."""
    if not config.trains:
        raise ValueError(f"head: {config.head!r} is not trained (use zero_shot)")
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    settings = settings_from(config, path) | {"precision": precision_of(config, full=config.lora_r == 0)}
    model = PreferenceModel(trainable(config, path, tokenizer), tokenizer, settings, settings["precision"])
    rows = training_rows(model, frame, labels_of(frame["winner"]), teacher, config.swap_augment)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = PreferenceTrainer(
            model=model.model, args=training_arguments(config, scratch, len(rows)), train_dataset=rows,
            data_collator=Collator(tokenizer.pad_token_id), head=config.head, answer_ids=model.answer_ids,
            distill_alpha=config.distill_alpha if teacher is not None else 0.0, temperature=config.temperature,
        )  # fmt: skip
        quiet_trainer(trainer, desc).train()
    model.model.eval()
    model.losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    return model
