"""One experiment's settings: every field is a recipe key (``competitions/wsdm/recipes/*.yaml``) and a
command-line flag (``wsdm-train --config recipe.yaml --head generation``).

An experiment is one preference model cross-validated over the training pairs: a decoder LLM reading the
(prompt, response A, response B) triple, truncated to ``max_length`` by a per-field budget (§12.6), and
giving p(A wins) from a two-label classification head or from the logits of the "A" and "B" answer tokens
(the generation head; §12.6.2), or no training at all (the zero-shot judge, §12.5.1). Optional: distillation
from a teacher's out-of-fold probabilities (§12.6.3), A/B swapping at training time and at test time.

``__post_init__`` checks every field against the rules below and raises one :class:`FieldError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers.trainer_utils import SchedulerType

from shared.recipes import FieldError, flag
from wsdm.truncation import STRATEGIES

HEADS = ("classification", "generation", "judge")
TEMPLATES = ("plain", "chat")
SCHEDULERS = frozenset(s.value for s in SchedulerType)
ATTENTION = ("sdpa", "eager", "flash_attention_2")


@dataclass
class ExperimentConfig:
    """One rung of the chapter's ladder; the defaults are the full recipe's Gemma-2-9B QLoRA classifier."""

    name: str = flag("gemma2-9b-classifier", "experiment name (output folder)")
    # --- data and CV ----------------------------------------------------------------------------------------
    n_folds: int = flag(5, "stratified K folds over train.parquet's pairs, on `winner` (>= 2)")
    extra: list[str] = field(default_factory=list, metadata={"help":
        "extra arena-style sets (train.parquet layout, or the LMSYS arena's train.csv layout, converted and its "
        "ties dropped), relative to the data folder; added to every fold's training rows, never validated on"},
    )  # fmt: skip
    seed: int = 42
    # --- model ---------------------------------------------------------------------------------------------------
    head: str = flag(
        "classification", "classification (2-label head on the last token) | generation (logits of the 'A' and "
        "'B' answer tokens, loss on the answer token only) | judge (zero-shot: the generation head untrained)",
    )  # fmt: skip
    backbone: str = flag(
        "google/gemma-2-9b-it", "hub id or path of the decoder LLM; 'tiny:qwen2-pretrained' (the CPU stand-in, "
        "pretrained on the data's own text; shared.tiny.resolve_backbone)",
    )  # fmt: skip
    template: str = flag(
        "plain", "plain | chat (the triple inside the tokenizer's chat template: an instruct judge)"
    )
    # --- truncation (§12.6) ---------------------------------------------------------------------------------
    max_length: int = flag(2048, "tokens of the whole input, template included")
    truncation: str = flag(
        "ratio", "head (the concatenation cut at its end: the naive reference) | head_tail (fixed shares per "
        "field, each field keeps its head and tail) | ratio (shares in proportion to the fields' lengths)",
    )  # fmt: skip
    head_fraction: float = flag(
        0.5, "share of a cut field's budget kept from its head (the rest from its tail)"
    )
    prompt_share: float = flag(
        0.2, "head_tail: the prompt's share of the budget (each response gets half the rest)"
    )
    min_field_tokens: int = flag(16, "the fewest tokens a non-empty field keeps (ratio, head_tail)")
    # --- training ------------------------------------------------------------------------------------------------
    lora_r: int = flag(64, "LoRA rank (0 = full fine-tuning: a tiny model on CPU)")
    lora_alpha: int = 128
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "modules LoRA adapts"},
    )
    load_in_4bit: bool = flag(True, "bitsandbytes NF4 base weights (QLoRA; CUDA only, ignored on CPU)")
    bf16: bool = flag(True, "bf16 mixed precision (CUDA only; ignored on CPU)")
    attn_implementation: str = flag("sdpa", "sdpa | eager | flash_attention_2 (install flash-attn yourself)")
    gradient_checkpointing: bool = False
    learning_rate: float = 2e-4
    epochs: float = 1.0
    batch_size: int = 4
    gradient_accumulation_steps: int = 4
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    scheduler: str = flag("cosine", "transformers lr_scheduler_type")
    swap_augment: bool = flag(False, "also train on every pair with A and B swapped (and the label flipped)")
    # --- distillation (§12.6.3) --------------------------------------------------------------------------------
    teacher_file: str = flag(
        "", "a teacher's soft labels: a parquet/csv with `id` and `p_model_a` (its out-of-fold probabilities), "
        "relative to the data folder or absolute; '' = no distillation",
    )  # fmt: skip
    distill_alpha: float = flag(0.5, "weight of KL(teacher || student) in the loss (the rest: cross-entropy)")
    temperature: float = flag(2.0, "softens both distributions in the KL term (scaled by T^2)")
    # --- inference ---------------------------------------------------------------------------------------------
    tta: bool = flag(True, "also predict with A and B swapped and average (the submission uses it when set)")
    eval_batch_size: int = flag(16, "rows per forward at inference (length-sorted)")

    def __post_init__(self):
        checks = (
            ("n_folds", self.n_folds < 2, "must be >= 2"),
            ("head", self.head not in HEADS, f"is not one of {' | '.join(HEADS)}"),
            ("template", self.template not in TEMPLATES, f"is not one of {' | '.join(TEMPLATES)}"),
            ("max_length", self.max_length < 64, "must be >= 64"),
            ("truncation", self.truncation not in STRATEGIES, f"is not one of {' | '.join(STRATEGIES)}"),
            ("head_fraction", not 0 <= self.head_fraction <= 1, "must be in [0, 1]"),
            ("prompt_share", not 0 < self.prompt_share < 1, "must be in (0, 1)"),
            ("min_field_tokens", self.min_field_tokens < 1, "must be >= 1"),
            ("lora_r", self.lora_r < 0, "must be >= 0 (0 = full fine-tuning)"),
            ("load_in_4bit", self.load_in_4bit and self.lora_r == 0 and self.trains,
             "needs LoRA (lora_r > 0): 4-bit weights cannot be fully fine-tuned"),
            ("lora_dropout", not 0 <= self.lora_dropout < 1, "must be in [0, 1)"),
            ("attn_implementation", self.attn_implementation not in ATTENTION,
             f"is not one of {' | '.join(ATTENTION)}"),
            ("learning_rate", not self.learning_rate > 0, "must be > 0"),
            ("epochs", not self.epochs > 0, "must be > 0"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("gradient_accumulation_steps", self.gradient_accumulation_steps < 1, "must be >= 1"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
            ("scheduler", self.scheduler not in SCHEDULERS, "is not a transformers lr_scheduler_type"),
            ("teacher_file", bool(self.teacher_file) and not self.trains, "needs a trained head (not judge)"),
            ("extra", bool(self.extra) and self.distils,
             "cannot be combined with teacher_file: the extra sets have no soft labels (train the teacher on them)"),
            ("distill_alpha", not 0 <= self.distill_alpha <= 1, "must be in [0, 1]"),
            ("temperature", not self.temperature > 0, "must be > 0"),
            ("eval_batch_size", self.eval_batch_size < 1, "must be >= 1"),
        )  # fmt: skip
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")

    @property
    def trains(self) -> bool:
        """Whether the experiment fine-tunes (every head but the zero-shot judge)."""
        return self.head != "judge"

    @property
    def distils(self) -> bool:
        return bool(self.teacher_file)
