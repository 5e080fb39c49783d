"""One experiment's settings: every field is a recipe key (``competitions/commonlit/recipes/*.yaml``) and a
command-line flag (``commonlit-train --config recipe.yaml --learning-rate 1e-5``).

One dataclass serves both model families of the chapter, chosen by ``model``:

- ``lgbm``: LightGBM on the hand-made features of ``commonlit.features`` (§7.5);
- ``transformer``: an encoder (DeBERTa-v3) or a decoder LLM under LoRA (§7.8) with a 2-target regression
  head, fed one of the three inputs of ``commonlit.inputs`` (``variant``).

``__post_init__`` checks every field against the rules below and raises one :class:`FieldError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers.trainer_utils import SchedulerType

from shared.recipes import FieldError

MODELS = ("lgbm", "transformer")
VARIANTS = ("summary", "naive", "pooled")
POOLINGS = ("mean", "cls", "last")
SCHEDULERS = frozenset(s.value for s in SchedulerType)
ATTENTION = ("sdpa", "eager", "flash_attention_2")


@dataclass
class ExperimentConfig:
    """One rung of the chapter's ladder."""

    name: str = field(default="deberta-v3-large-pooled", metadata={"help": "experiment name (output folder)"})
    model: str = field(default="transformer", metadata={"help": "lgbm | transformer"})
    # --- transformer input -------------------------------------------------------------------------------
    backbone: str = field(
        default="microsoft/deberta-v3-large",
        metadata={"help": "HF id or path; 'minilm' the PyPI all-MiniLM-L6-v2; 'tiny:<arch>' a tiny local model; "
                  "'tiny:qwen2-pretrained' a tiny causal LM pretrained on the data's own text"},
    )  # fmt: skip
    variant: str = field(
        default="pooled",
        metadata={"help": "summary: the summary alone | naive: question [SEP] summary [SEP] prompt text, "
                  "pooled over all tokens | pooled: the same input, pooled over the summary tokens only"},
    )  # fmt: skip
    max_length: int = field(default=1024, metadata={"help": "sub-words per input, special tokens included"})
    max_prompt_tokens: int = field(
        default=0,
        metadata={"help": "cap on the prompt text's sub-words before the max_length cut (0 = what fits); the "
                  "prompt text is always what truncation cuts, from its end, never the summary"},
    )  # fmt: skip
    pooling: str = field(default="mean", metadata={"help": "mean | cls | last (decoders: last token)"})
    num_layers: int = field(default=0, metadata={"help": "keep the backbone's first N layers (0 = all; CPU)"})
    backbone_dropout: float = field(
        default=-1.0,
        metadata={
            "help": "dropout inside the backbone (-1 = the checkpoint's; 0 = off, as the 2nd place did)"
        },
    )
    attn_implementation: str = field(default="sdpa", metadata={"help": "sdpa | eager | flash_attention_2"})
    # --- optimisation (3rd place: EMA, layer-wise LR decay, frozen lower layers) -------------------------
    learning_rate: float = 2e-5
    head_learning_rate: float = field(
        default=0.0, metadata={"help": "LR of the regression head (0 = learning_rate)"}
    )
    llrd: float = field(
        default=1.0, metadata={"help": "layer-wise LR decay: layer l gets lr * llrd^(L - l) (1 = off)"}
    )
    freeze_layers: int = field(
        default=0, metadata={"help": "freeze the embeddings and the first N layers (0 = none frozen)"}
    )
    ema: float = field(default=0.0, metadata={"help": "EMA decay of the weights, e.g. 0.999 (0 = off)"})
    epochs: float = 3.0
    batch_size: int = field(default=8, metadata={"help": "inputs per device and step"})
    gradient_accumulation_steps: int = 1
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    scheduler: str = field(default="cosine", metadata={"help": "transformers lr_scheduler_type"})
    gradient_checkpointing: bool = False
    bf16: bool = field(default=True, metadata={"help": "bf16 mixed precision (CUDA only; ignored on CPU)"})
    # --- LoRA (§7.8: a decoder LLM with a regression head) -----------------------------------------------
    lora_r: int = field(default=0, metadata={"help": "LoRA rank (0 = full fine-tuning)"})
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        metadata={"help": "module names LoRA adapts"},
    )
    load_in_4bit: bool = field(default=False, metadata={"help": "bitsandbytes nf4 base weights (QLoRA)"})
    # --- LightGBM (§7.5) ----------------------------------------------------------------------------------
    lgbm_num_leaves: int = 31
    lgbm_learning_rate: float = 0.05
    lgbm_n_estimators: int = 500
    lgbm_min_child_samples: int = 20
    lgbm_subsample: float = 0.8
    lgbm_colsample: float = 0.8
    # --- data ---------------------------------------------------------------------------------------------
    n_folds: int = field(default=0, metadata={"help": "GroupKFold by prompt_id (0 = one fold per prompt)"})
    seed: int = 42
    pseudo_data: str = field(
        default="", metadata={"help": "pseudo-labelled CSV (commonlit-pseudo-label) mixed into training"}
    )
    pseudo_weight: float = field(default=0.5, metadata={"help": "loss weight of each pseudo-labelled row"})
    full_data: bool = field(
        default=False, metadata={"help": "also train one model on all training rows (for the submission)"}
    )

    def __post_init__(self):
        checks = (
            ("model", self.model not in MODELS, f"is not one of {' | '.join(MODELS)}"),
            ("variant", self.variant not in VARIANTS, f"is not one of {' | '.join(VARIANTS)}"),
            ("pooling", self.pooling not in POOLINGS, f"is not one of {' | '.join(POOLINGS)}"),
            (
                "attn_implementation",
                self.attn_implementation not in ATTENTION,
                f"is not one of {' | '.join(ATTENTION)}",
            ),
            ("scheduler", self.scheduler not in SCHEDULERS, "is not a transformers lr_scheduler_type"),
            ("max_length", self.max_length < 16, "must be >= 16"),
            ("max_prompt_tokens", self.max_prompt_tokens < 0, "must be >= 0"),
            ("num_layers", self.num_layers < 0, "must be >= 0"),
            (
                "backbone_dropout",
                not (self.backbone_dropout == -1 or 0 <= self.backbone_dropout < 1),
                "must be -1 (keep) or in [0, 1)",
            ),
            ("learning_rate", not self.learning_rate > 0, "must be > 0"),
            ("head_learning_rate", self.head_learning_rate < 0, "must be >= 0"),
            ("llrd", not 0 < self.llrd <= 1, "must be in (0, 1]"),
            ("freeze_layers", self.freeze_layers < 0, "must be >= 0"),
            ("ema", not 0 <= self.ema < 1, "must be in [0, 1)"),
            ("epochs", not self.epochs > 0, "must be > 0"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("gradient_accumulation_steps", self.gradient_accumulation_steps < 1, "must be >= 1"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
            ("lora_r", self.lora_r < 0, "must be >= 0"),
            ("lora_dropout", not 0 <= self.lora_dropout < 1, "must be in [0, 1)"),
            ("load_in_4bit", self.load_in_4bit and self.lora_r == 0, "needs lora_r > 0 (QLoRA)"),
            ("lgbm_num_leaves", self.lgbm_num_leaves < 2, "must be >= 2"),
            ("lgbm_learning_rate", not self.lgbm_learning_rate > 0, "must be > 0"),
            ("lgbm_n_estimators", self.lgbm_n_estimators < 1, "must be >= 1"),
            ("lgbm_subsample", not 0 < self.lgbm_subsample <= 1, "must be in (0, 1]"),
            ("lgbm_colsample", not 0 < self.lgbm_colsample <= 1, "must be in (0, 1]"),
            ("n_folds", self.n_folds == 1 or self.n_folds < 0, "must be 0 (one per prompt) or >= 2"),
            ("pseudo_weight", not 0 < self.pseudo_weight <= 1, "must be in (0, 1]"),
        )
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")
