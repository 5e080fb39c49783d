"""What the pointwise and the listwise LLM rerankers share: both read a prompt, look at the logits of the last
position over a few answer tokens ("Yes"/"No", or the candidate letters) and are trained by a cross-entropy
over those logits, under LoRA on a frozen base.

- Inputs: the candidates are column indices into ``docs`` (the misconception names), one row per query;
  :func:`check_candidates` and :func:`check_truth` reject a bad one with the row and column.
- Prompts: the query's ``Question:`` text is the one part that ``max_length`` cuts (:func:`split_question`);
  the construct, the answers, the candidates and the answer cue are never cut.
- Training: :class:`AnswerTrainer` is a ``transformers.Trainer`` whose ``compute_loss`` is that
  cross-entropy (the loss is on the few answer tokens at the last position, not on LM labels, so the
  Trainer's own causal-LM loss does not apply); gradient accumulation, schedulers, bf16 and the
  accelerate/DeepSpeed launchers work as for every other trainer of the chapter.
- Saving: :class:`LoraReranker` writes the adapters, the tokenizer and its settings
  (``shared.llm.save_adapter``); :func:`load_reranker` rebuilds it offline.
- vLLM (``inference_backend: vllm``, the full recipe; CUDA only, imported lazily): the base with the
  LoRA adapters as a ``LoRARequest``, automatic prefix caching (the prompts of one query share their
  prefix), one generated token restricted to the answer tokens by ``allowed_token_ids``, and its
  log-probabilities read with ``logprobs_mode="processed_logprobs"`` (vLLM's default, raw log-probabilities,
  is computed before ``allowed_token_ids`` and would leave the answer tokens out of the top list). This path
  is not run on CPU: no test covers it.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, PreTrainedTokenizerBase, Trainer, TrainingArguments, set_seed

from shared.console import progress, quiet_trainer
from shared.llm import (
    ADAPTER,
    BASE,
    TOKENIZER,
    add_lora,
    ensure_padding,
    load_adapter,
    load_base,
    pad_left,
    positions,
    save_adapter,
)

BACKENDS = ("transformers", "vllm")
QUESTION = re.compile(r"(?:^|\n)Question:")
FULL = "model"  # the folder of a fully fine-tuned reranker's weights (lora_r == 0), instead of an adapter
VLLM_CHUNK = 4096  # prompts per vLLM call: the engine batches inside a call; the bar moves between calls


# --- inputs -------------------------------------------------------------------------------------------------


def check_candidates(candidates: np.ndarray, n_queries: int, n_docs: int) -> np.ndarray:
    """``candidates`` as an ``(n_queries, k)`` int64 array of column indices into the ``n_docs`` documents;
    ``ValueError`` naming the first bad row and column otherwise."""
    candidates = np.asarray(candidates)
    if candidates.ndim != 2 or len(candidates) != n_queries:
        raise ValueError(
            f"candidates: shape {candidates.shape}, expected ({n_queries}, k) (one row per query)"
        )
    if candidates.shape[1] == 0:
        raise ValueError("candidates: no candidate columns")
    if not np.issubdtype(candidates.dtype, np.integer):
        raise ValueError(f"candidates: dtype {candidates.dtype}, expected integer column indices")
    bad = np.argwhere((candidates < 0) | (candidates >= n_docs))
    if len(bad):
        row, col = bad[0]
        raise ValueError(
            f"candidates: row {row}, column {col}: {candidates[row, col]} is not a document index (0..{n_docs - 1})"
        )
    return candidates.astype(np.int64)


def check_truth(truth: np.ndarray, n_queries: int, n_docs: int) -> np.ndarray:
    """``truth`` as an ``(n_queries,)`` int64 array of document indices; ``ValueError`` naming the row."""
    truth = np.asarray(truth)
    if truth.shape != (n_queries,) or not np.issubdtype(truth.dtype, np.integer):
        raise ValueError(f"truth: shape {truth.shape} dtype {truth.dtype}, expected ({n_queries},) integers")
    bad = np.flatnonzero((truth < 0) | (truth >= n_docs))
    if len(bad):
        raise ValueError(f"truth: row {bad[0]}: {truth[bad[0]]} is not a document index (0..{n_docs - 1})")
    return truth.astype(np.int64)


def split_question(query: str) -> tuple[str, str, str]:
    """(head, question, tail): the text of the query's ``Question:`` line (what ``max_length`` cuts, from its
    end) and what comes before and after it; a query without such a line is all question."""
    found = QUESTION.search(query)
    if found is None:
        return "", query, ""
    end = query.find("\n", found.end())
    end = len(query) if end < 0 else end
    return query[: found.end()], query[found.end() : end], query[end:]


# --- scoring and training -----------------------------------------------------------------------------------


def last_logits(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(n, V) logits of the last position of left-padded rows, one forward without a cache."""
    out = model(
        input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False, logits_to_keep=1
    )
    return out.logits[:, -1]


class Collator:
    """Encoded prompts (``{"input_ids": [...], "label": int}``) as a left-padded batch with ``labels``."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids, mask = pad_left([row["input_ids"] for row in rows], self.pad_id)
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "labels": torch.tensor([row["label"] for row in rows]),
        }


class AnswerTrainer(Trainer):
    """``Trainer`` whose loss is the cross-entropy of the label over the answer tokens' logits at the last
    position (the module docstring says why it overrides ``compute_loss``)."""

    loss_is_scaled_for_ga = False  # a per-batch mean: the Trainer divides it over accumulation steps

    def __init__(self, *args, answer_ids: Sequence[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.answer_ids = torch.tensor(list(answer_ids))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        ids = inputs["input_ids"]
        logits = last_logits(model, ids, inputs["attention_mask"])[:, self.answer_ids.to(ids.device)].float()
        loss = F.cross_entropy(logits, inputs["labels"])
        return (loss, {"logits": logits}) if return_outputs else loss


class GroupCollator:
    """Groups of encoded prompts (``{"input_ids": [[...], ...], "label": int}``, one group per query) as one
    left-padded batch of all their prompts, with ``sizes`` (prompts per group) and ``labels`` (the index of
    the right prompt within its group)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        ids, mask = pad_left([prompt for row in rows for prompt in row["input_ids"]], self.pad_id)
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "sizes": torch.tensor([len(row["input_ids"]) for row in rows]),
            "labels": torch.tensor([row["label"] for row in rows]),
        }


def group_scores(scores: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """(n_groups, largest group) the flat ``scores`` cut into consecutive groups of ``sizes``, -inf after a
    group's end."""
    width = int(sizes.max())
    out = scores.new_full((len(sizes), width), float("-inf"))
    starts = torch.cumsum(sizes, 0) - sizes
    for g, (start, size) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        out[g, :size] = scores[start : start + size]
    return out


class GroupTrainer(AnswerTrainer):
    """``Trainer`` whose loss is, per group of prompts (:class:`GroupCollator`), the cross-entropy of the right
    prompt over the group's scores, a prompt's score being logit(``answer_ids[1]``) - logit(``answer_ids[0]``)
    at its last position (for the pointwise reranker: logit(Yes) - logit(No), its scoring): the 1st place's
    loss, a softmax over one query's truth and its negatives instead of a Yes/No label per pair."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        ids = inputs["input_ids"]
        logits = last_logits(model, ids, inputs["attention_mask"])[:, self.answer_ids.to(ids.device)].float()
        scores = group_scores(logits[:, 1] - logits[:, 0], inputs["sizes"].to(ids.device))
        loss = F.cross_entropy(scores, inputs["labels"])
        return (loss, {"logits": scores}) if return_outputs else loss


# config field (without the reranker's prefix for the first four) -> TrainingArguments argument
TRAINER_FIELDS = {
    "batch_size": "per_device_train_batch_size", "gradient_accumulation_steps": "gradient_accumulation_steps",
    "epochs": "num_train_epochs", "learning_rate": "learning_rate",
}  # fmt: skip
COMMON_FIELDS = {
    "weight_decay": "weight_decay", "warmup_ratio": "warmup_steps", "scheduler": "lr_scheduler_type",
    "seed": "seed", "gradient_checkpointing": "gradient_checkpointing",
}  # fmt: skip


def training_arguments(config, prefix: str, output_dir: str, batch_size: int | None = None) -> TrainingArguments:
    """The Trainer's settings from ``config``'s ``<prefix>_batch_size`` etc. and the common fields: nothing
    saved or reported (the caller saves the adapters), bf16 only on CUDA, the batches' keys kept. A
    ``warmup_ratio`` below 1 is passed as ``warmup_steps``, which transformers reads as a ratio; ``batch_size``
    replaces ``<prefix>_batch_size`` when given."""
    cuda = torch.cuda.is_available()
    chosen = {argument: getattr(config, f"{prefix}_{name}") for name, argument in TRAINER_FIELDS.items()}
    if batch_size is not None:
        chosen["per_device_train_batch_size"] = batch_size
    chosen |= {argument: getattr(config, name) for name, argument in COMMON_FIELDS.items()}
    return TrainingArguments(
        output_dir=output_dir, use_cpu=not cuda, bf16=config.bf16 and cuda, save_strategy="no", report_to="none",
        logging_steps=25, remove_unused_columns=False, label_names=["labels"], dataloader_num_workers=0,
        gradient_checkpointing_kwargs={"use_reentrant": False}, **chosen,
    )  # fmt: skip


def lora_model(config, path: str):
    """``path`` loaded as ``config`` says (``shared.llm.load_base``) under fresh LoRA adapters whose initial
    values depend on ``config.seed`` alone; with ``lora_r == 0`` the model itself, every weight trainable
    (full fine-tuning: float32 weights, so neither ``load_in_4bit`` nor ``bf16`` on CUDA)."""
    set_seed(config.seed)
    full = config.lora_r == 0
    if full and config.load_in_4bit and torch.cuda.is_available():
        raise ValueError("lora_r: 0 (full fine-tuning) cannot train NF4 weights; set load_in_4bit false")
    base = load_base(
        path,
        load_in_4bit=config.load_in_4bit,
        bf16=config.bf16 and not full,
        attn_implementation=config.attn_implementation,
    )
    if full:
        base.requires_grad_(True)
        if config.gradient_checkpointing:
            base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        return base
    return add_lora(
        base, r=config.lora_r, alpha=config.lora_alpha, dropout=config.lora_dropout,
        target_modules=config.lora_target_modules, quantised=config.load_in_4bit and torch.cuda.is_available(),
        gradient_checkpointing=config.gradient_checkpointing,
    )  # fmt: skip


def train(config, prefix: str, model, rows: list[dict], answer_ids: Sequence[int], pad_id: int, desc: str,
          grouped: bool = False, batch_size: int | None = None):  # fmt: skip
    """Train ``model``'s adapters (every weight with ``lora_r == 0``) on ``rows`` (:class:`Collator` rows) with
    :class:`AnswerTrainer`, or on groups (:class:`GroupCollator` rows) with :class:`GroupTrainer` when
    ``grouped`` (``batch_size`` groups a batch, else ``<prefix>_batch_size``), one progress bar named ``desc``; returns the
    training loss of each logging step (``logging_steps``)."""
    trainer_cls, collator = (GroupTrainer, GroupCollator) if grouped else (AnswerTrainer, Collator)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = trainer_cls(
            model=model, args=training_arguments(config, prefix, scratch, batch_size), train_dataset=rows,
            data_collator=collator(pad_id), answer_ids=answer_ids,
        )  # fmt: skip
        quiet_trainer(trainer, desc).train()
    model.eval()
    return [log["loss"] for log in trainer.state.log_history if "loss" in log]


def settings_from(config, prefix: str, path: str) -> dict:
    """What a saved reranker needs to score again: its base, how to load it and how to run it."""
    return {
        "base": path, "max_length": getattr(config, f"{prefix}_max_length"),
        "batch_size": getattr(config, f"{prefix}_batch_size"), "load_in_4bit": config.load_in_4bit,
        "bf16": config.bf16, "attn_implementation": config.attn_implementation, "lora_r": config.lora_r,
        "seed": config.seed, "inference_backend": config.inference_backend,
        "tensor_parallel_size": config.tensor_parallel_size, "max_model_len": config.max_model_len,
        "gpu_memory_utilization": config.gpu_memory_utilization, "quantization": config.quantization,
        "enable_prefix_caching": config.enable_prefix_caching,
    }  # fmt: skip


def autocast(settings: dict, device: torch.device):
    """bf16 autocast on CUDA when the settings ask for it, else nothing."""
    return torch.autocast(
        device.type, dtype=torch.bfloat16, enabled=settings["bf16"] and device.type == "cuda"
    )


# --- the reranker object ------------------------------------------------------------------------------------


class LoraReranker:
    """A LoRA-adapted causal LM with its tokenizer and settings. ``model`` is None when it was loaded for
    vLLM only (:func:`load_reranker`); ``directory`` is the folder it was loaded from, if any."""

    settings_file = "reranker.json"
    owner = "an eedi reranker"

    def __init__(
        self, model, tokenizer: PreTrainedTokenizerBase, settings: dict, directory: Path | None = None
    ):
        if settings["inference_backend"] not in BACKENDS:
            raise ValueError(f"inference_backend: {settings['inference_backend']!r} is not one of {BACKENDS}")
        self.model, self.tokenizer, self.settings = model, ensure_padding(tokenizer), settings
        self.directory = directory
        self.losses: list[float] = []  # the training loss per logging step, after fit
        self._engine, self._scratch = None, None

    @property
    def full(self) -> bool:
        """Whether every weight was trained (``lora_r == 0``): saved whole, not as an adapter."""
        return self.settings["lora_r"] == 0

    def save(self, directory: Path) -> None:
        """The adapters, the tokenizer and the settings (``shared.llm.save_adapter``); a fully fine-tuned
        model (``lora_r == 0``) as its whole weights in ``directory/model`` instead, its settings' ``base``
        then ``"model"`` and the model it was trained from under ``trained_from``."""
        if self.model is None:  # loaded for vLLM only: the folder it came from is the saved reranker
            shutil.copytree(self.directory, directory, dirs_exist_ok=True)
            return
        if not self.full:
            save_adapter(self.model, self.tokenizer, directory, self.settings, settings_file=self.settings_file)
            return
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory / FULL)
        self.tokenizer.save_pretrained(directory / TOKENIZER)
        self.tokenizer.save_pretrained(directory / FULL)  # so that the folder alone loads (vLLM)
        settings = self.settings | {"base": FULL, "trained_from": self.settings.get("trained_from", self.settings["base"])}
        (directory / self.settings_file).write_text(json.dumps(settings, indent=2) + "\n")

    def vllm_logprobs(self, prompts: list[list[int]], allowed: Sequence[int], desc: str) -> np.ndarray:
        """(len(prompts), len(allowed)) log-softmax over the ``allowed`` tokens' logits after each prompt, from
        vLLM (module docstring); the engine is started on the first call and kept."""
        if not torch.cuda.is_available():
            raise RuntimeError(
                "inference_backend: vllm needs a CUDA GPU and none is visible; use inference_backend transformers"
            )
        try:
            from vllm import LLM, SamplingParams, TokensPrompt
            from vllm.lora.request import LoRARequest
        except ImportError:
            raise RuntimeError(
                "inference_backend: vllm is not installed; install the GPU extra (uv sync --extra gpu) or use "
                "inference_backend transformers"
            ) from None
        s = self.settings
        if self._engine is None:
            weights = self._adapter_dir()  # the whole model's folder when fully fine-tuned
            lora = {} if self.full else {"enable_lora": True, "max_lora_rank": s["lora_r"], "max_loras": 1}
            self._engine = LLM(
                model=str(weights) if self.full else s["base"], tokenizer=str(weights.parent / TOKENIZER), **lora,
                enable_prefix_caching=s["enable_prefix_caching"],
                tensor_parallel_size=s["tensor_parallel_size"], max_model_len=s["max_model_len"],
                gpu_memory_utilization=s["gpu_memory_utilization"], quantization=s["quantization"] or None,
                max_logprobs=max(20, len(allowed)), logprobs_mode="processed_logprobs", generation_config="vllm",
                seed=s["seed"],
            )  # fmt: skip
        params = SamplingParams(
            max_tokens=1, temperature=0.0, logprobs=len(allowed), allowed_token_ids=list(allowed)
        )
        lora = None if self.full else LoRARequest("reranker", 1, str(self._adapter_dir()))
        out = np.zeros((len(prompts), len(allowed)), dtype=np.float32)
        for at in progress(range(0, len(prompts), VLLM_CHUNK), desc=desc, unit="chunk", leave=False):
            chunk = [TokensPrompt(prompt_token_ids=p) for p in prompts[at : at + VLLM_CHUNK]]
            for i, result in enumerate(
                self._engine.generate(chunk, params, lora_request=lora, use_tqdm=False)
            ):
                top = result.outputs[0].logprobs[0]  # token id -> Logprob, normalised over the allowed tokens
                out[at + i] = [top[t].logprob for t in allowed]
        return out

    def _adapter_dir(self) -> Path:
        """The folder of the adapters (of the whole model when fully fine-tuned) for vLLM: the loaded folder's,
        else a temporary save of this one."""
        part = FULL if self.full else ADAPTER
        if self.directory is not None:
            return Path(self.directory) / part
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory()
            self.model.save_pretrained(Path(self._scratch.name) / part)
            self.tokenizer.save_pretrained(Path(self._scratch.name) / TOKENIZER)
            if self.full:
                self.tokenizer.save_pretrained(Path(self._scratch.name) / part)
        return Path(self._scratch.name) / part

    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def scoring(self):
        """The context scoring runs in: eval mode, no gradients, bf16 autocast on CUDA if asked."""
        self.model.eval()
        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        stack.enter_context(autocast(self.settings, self.device()))
        return stack


def load_reranker(cls, directory: Path, inference_backend: str | None = None):
    """The ``cls`` reranker saved in ``directory``: the base its settings name (a local path or a cached hub id;
    nothing is downloaded) with the saved adapters on top, on CUDA when there is one. ``inference_backend``
    overrides the saved one; with ``vllm`` the transformers model is not loaded (the engine reads the folder)."""
    directory = Path(directory)
    path = directory / cls.settings_file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (not a model saved by {cls.owner})")
    settings = json.loads(path.read_text())
    settings["inference_backend"] = inference_backend or settings["inference_backend"]
    if settings["lora_r"] == 0:  # fully fine-tuned: the whole weights, no adapter
        settings["base"] = str(directory / settings["base"])
        tokenizer = AutoTokenizer.from_pretrained(directory / TOKENIZER)
        if settings["inference_backend"] == "vllm":
            return cls(None, tokenizer, settings, directory)
        model = load_base(settings["base"], load_in_4bit=False, bf16=settings["bf16"],
                          attn_implementation=settings.get("attn_implementation", "sdpa"))  # fmt: skip
        model.requires_grad_(False)
        if torch.cuda.is_available():
            model.cuda()
        return cls(model.eval(), tokenizer, settings, directory)
    if settings["inference_backend"] == "vllm":
        if settings["base"] == BASE:
            settings["base"] = str(directory / BASE)
        tokenizer = AutoTokenizer.from_pretrained(directory / TOKENIZER)
        return cls(None, tokenizer, settings, directory)
    model, tokenizer, saved = load_adapter(directory, settings_file=cls.settings_file, owner=cls.owner)
    return cls(model, tokenizer, saved | {"inference_backend": settings["inference_backend"]}, directory)
