"""What every chapter that scores or fine-tunes a decoder LLM under LoRA needs, written once.

- Token-level scoring: left padding with explicit position ids (:func:`pad_left`, :func:`positions`), so that
  every row's last token is the last column and padding never shifts a position; the log-probability of a
  target token without a second vocabulary-sized tensor (:func:`token_logprobs`); the ids of answer words
  that must each be a single token after a cue (:func:`answer_token_ids`: "A".."E", "Yes"/"No").
- Loading: :func:`load_base` (NF4 QLoRA or bf16 on CUDA, float32 on CPU, with an explicit fallback warning)
  and :func:`add_lora` (peft adapters on a frozen base).
- Saving for offline inference: :func:`save_adapter` writes the adapters, the tokenizer and a settings file
  naming the base; a tiny base from ``shared.tiny``'s cache (which a Kaggle notebook lacks) is copied in,
  a real one stays a reference (its hub id or path, attached as a Kaggle dataset). :func:`load_adapter`
  rebuilds the model from those alone.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, PreTrainedTokenizerBase

from shared.tiny import cache_root

ADAPTER = "adapter"
TOKENIZER = "tokenizer"
BASE = "base"


def ensure_padding(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Left padding (a decoder continues from the right end), and EOS as the pad token when there is none."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"tokenizer {tokenizer.name_or_path!r}: has neither a pad nor an EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def encode_text(tokenizer: PreTrainedTokenizerBase, text: str) -> list[int]:
    """The tokens of ``text`` without special tokens ([] for an empty text)."""
    return tokenizer.encode(text, add_special_tokens=False) if text else []


def bos_ids(tokenizer: PreTrainedTokenizerBase) -> list[int]:
    """``[BOS]`` when the tokenizer puts one in front of a text (Llama, Gemma), else nothing (Qwen2)."""
    bos = tokenizer.bos_token_id
    return [bos] if bos is not None and tokenizer("x")["input_ids"][:1] == [bos] else []


def answer_token_ids(tokenizer: PreTrainedTokenizerBase, cue: str, answers: Sequence[str]) -> tuple[int, ...]:
    """The ids of ``answers`` as the model sees them right after ``cue``: the first of the forms ``" A"`` and
    ``"A"`` for which every answer adds exactly one token (that decodes to the answer) to the tokens of
    ``cue``, all distinct; ``"A"`` is tried first when ``cue`` ends in whitespace (a chat template's
    ``"assistant\n"``: the answer starts a line, it does not follow a space). Raises ``ValueError`` naming what
    each form gave when neither does."""
    prefix = tokenizer.encode(cue, add_special_tokens=False)
    seen = {}
    forms = ("{}", " {}") if cue[-1:].isspace() else (" {}", "{}")
    for form in forms:
        ids, pieces = [], []
        for answer in answers:
            full = tokenizer.encode(cue + form.format(answer), add_special_tokens=False)
            pieces.append(tokenizer.convert_ids_to_tokens(full[len(prefix) :]))
            single = full[: len(prefix)] == prefix and len(full) == len(prefix) + 1
            if single and tokenizer.decode(full[-1:]).strip() == answer:
                ids.append(full[-1])
        if len(set(ids)) == len(answers):
            return tuple(ids)
        seen[form.format(answers[0])] = pieces[0]
    found = "; ".join(f"{form!r} -> {pieces}" for form, pieces in seen.items())
    raise ValueError(
        f"tokenizer {getattr(tokenizer, 'name_or_path', '')!r}: the answers {list(answers)} are not single "
        f"tokens after {cue!r} ({found})"
    )


def pad_left(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask), each ``(len(seqs), longest)``, padded on the left."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, seq in enumerate(seqs):
        if len(seq):
            ids[i, width - len(seq) :] = torch.tensor(list(seq))
            mask[i, width - len(seq) :] = 1
    return ids, mask


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids that start at 0 on each row's first real token (left padding gets 0)."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """log p(target) under each row of ``logits`` (``(..., V)``), without a second vocabulary-sized tensor."""
    logits = logits.float()
    return logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)


def load_base(path: str, *, load_in_4bit: bool, bf16: bool, attn_implementation: str = "sdpa", model_class=None,
              **model_kwargs):  # fmt: skip
    """``model_class.from_pretrained(path, **model_kwargs)`` (``AutoModelForCausalLM`` unless given, e.g.
    ``AutoModelForSequenceClassification`` with ``num_labels``): NF4 on CUDA with ``load_in_4bit``, bf16 on
    CUDA with ``bf16`` (a frozen base needs no float32 weights), else float32. Without CUDA ``load_in_4bit``
    falls back to float32 and warns."""
    cuda = torch.cuda.is_available()
    kwargs = {"dtype": torch.bfloat16 if cuda and bf16 else torch.float32, **model_kwargs}
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
    return (model_class or AutoModelForCausalLM).from_pretrained(path, **kwargs)


def add_lora(base, *, r: int, alpha: int, dropout: float, target_modules: Sequence[str], quantised: bool = False,
             gradient_checkpointing: bool = False, task_type: str = "CAUSAL_LM"):  # fmt: skip
    """``base`` wrapped by peft with LoRA adapters on ``target_modules``, the base frozen (prepared for k-bit
    training first when ``quantised``); ``task_type`` ``"SEQ_CLS"`` also trains a classifier's new head."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if quantised:
        base = prepare_model_for_kbit_training(base, gradient_checkpointing)
    lora = LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules), task_type=task_type
    )
    return get_peft_model(base, lora)


def save_adapter(model, tokenizer: PreTrainedTokenizerBase, directory: Path, settings: dict, *,
                 settings_file: str) -> None:  # fmt: skip
    """``directory/adapter`` (the LoRA weights), ``directory/tokenizer`` and ``directory/<settings_file>``
    (``settings``, whose ``"base"`` is the base model's path or id). A base in ``shared.tiny``'s cache is copied
    to ``directory/base`` so the folder loads on a machine without that cache."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory / ADAPTER)
    tokenizer.save_pretrained(directory / TOKENIZER)
    write_settings(directory, settings, settings_file)


def write_settings(directory: Path, settings: dict, settings_file: str) -> None:
    """``directory/<settings_file>``, its ``"base"`` made ``"base"`` with the weights copied to
    ``directory/base`` when it is a tiny base from ``shared.tiny``'s cache (which a Kaggle notebook lacks); a
    real base stays a reference."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    base = Path(settings["base"])
    if base.is_dir() and cache_root().resolve() in base.resolve().parents:
        shutil.copytree(base, directory / BASE, dirs_exist_ok=True)
        settings = settings | {"base": BASE}
    (directory / settings_file).write_text(json.dumps(settings, indent=2) + "\n")


def load_adapter(directory: Path, *, settings_file: str, owner: str, model_class=None, **model_kwargs):
    """(model, tokenizer, settings) from a folder :func:`save_adapter` wrote: the base its settings name (a
    local path or a cached hub id; nothing is downloaded) with the adapters on top, in eval mode, on CUDA when
    there is one. ``settings`` needs ``load_in_4bit``, ``bf16`` and ``attn_implementation``; ``owner`` names
    what wrote the folder in the error for a folder that is not one; ``model_class`` and ``model_kwargs`` go
    to :func:`load_base`."""
    from peft import PeftModel

    directory = Path(directory)
    path = directory / settings_file
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not found (not a model saved by {owner})")
    settings = json.loads(path.read_text())
    if settings["base"] == BASE:  # a tiny base saved alongside the adapters
        settings["base"] = str(directory / BASE)
    base = load_base(
        settings["base"], load_in_4bit=settings["load_in_4bit"], bf16=settings["bf16"],
        attn_implementation=settings.get("attn_implementation", "sdpa"), model_class=model_class, **model_kwargs,
    )  # fmt: skip
    model = PeftModel.from_pretrained(base, directory / ADAPTER)
    if torch.cuda.is_available() and not settings["load_in_4bit"]:
        model.cuda()
    return model.eval(), AutoTokenizer.from_pretrained(directory / TOKENIZER), settings
