"""One experiment's settings: every field is a recipe key (``competitions/eedi/recipes/*.yaml``) and a
command-line flag (``eedi-train --config recipe.yaml --rerank pointwise``).

An experiment is a retrieval stage (§11.5: which retrievers score every misconception for each (question,
incorrect answer) row, fused when there are several) and an optional reranking stage (§11.6: an LLM rescoring
the retrieval's top candidates, pointwise and then listwise), then the unseen-misconception boost (§11.7).

``__post_init__`` checks every field against the rules below and raises one :class:`FieldError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers.trainer_utils import SchedulerType

from shared.recipes import FieldError

RETRIEVERS = ("tfidf", "pretrained", "finetuned")
RERANKS = ("none", "pointwise", "pointwise+listwise")
FUSIONS = ("weighted", "rrf")
NORMS = ("zscore", "minmax")
POOLINGS = ("mean", "cls", "lasttoken")
ANALYZERS = ("char_wb", "word")
NEGATIVE_SOURCES = ("tfidf", "pretrained")
BACKENDS = ("transformers", "vllm")
LOSSES = ("group", "pair")
SCHEDULERS = frozenset(s.value for s in SchedulerType)
ATTENTION = ("sdpa", "eager", "flash_attention_2")
TOP = 25  # MAP@25: the submission ranks 25 misconceptions per row


def _flag(default, help_text: str):
    """A dataclass field with the help text that ``--help`` shows."""
    return field(default=default, metadata={"help": help_text})


@dataclass
class ExperimentConfig:
    """One rung of the chapter's ladder; the defaults are the full recipe's retrieval with a pointwise reranker."""

    name: str = _flag("bge-large-mnrl-pointwise", "experiment name (output folder)")
    # --- data and CV ----------------------------------------------------------------------------------------
    n_folds: int = _flag(5, "K folds over train.csv's questions (>= 2)")
    holdout_misconceptions: float = _flag(
        0.5, "share of the training misconceptions whose rows all fall in one fold, so that each is unseen "
        "where it is validated (the test's misconceptions are mostly unseen); 0 = folds grouped by question only",
    )  # fmt: skip
    synthetic: list[str] = field(default_factory=list, metadata={"help":
        "extra question sets in train.csv's layout (LLM-written questions for unseen misconceptions), "
        "relative to the data folder; in the retriever's training data, never validated on"},
    )  # fmt: skip
    synthetic_only_unseen: bool = _flag(
        True, "use only the synthetic rows of misconceptions that no training row (of the fold) has, as the "
        "winners wrote them for",
    )  # fmt: skip
    seed: int = 42
    # --- retrieval (§11.5) ---------------------------------------------------------------------------------
    retrievers: list[str] = field(
        default_factory=lambda: ["finetuned"],
        metadata={"help": "tfidf | pretrained | finetuned; several are fused (score ensemble, §11.6)"},
    )
    tfidf_analyzer: str = _flag("char_wb", "char_wb (character n-grams within words) | word")
    tfidf_ngram_max: int = _flag(5, "longest n-gram")
    embedder: str = _flag(
        "BAAI/bge-large-en-v1.5",
        "sentence-transformers id or path; 'minilm' the PyPI all-MiniLM-L6-v2; a causal LM (Qwen2.5) gets "
        "last-token pooling",
    )
    embedder_pooling: str = _flag("mean", "mean | cls | lasttoken (an LLM embedder)")
    embedder_num_layers: int = _flag(0, "keep the first N layers (0 = all; CPU)")
    embedder_max_length: int = 256
    query_prefix: str = _flag("", "e5: 'query: '; bge and LLM embedders: an instruction")
    doc_prefix: str = _flag("", "e5: 'passage: '")
    embedder_lora_r: int = _flag(0, "LoRA rank for an LLM embedder (0 = full fine-tuning)")
    embedder_lora_alpha: int = 128
    embedder_learning_rate: float = 2e-5
    embedder_epochs: float = 3.0
    embedder_batch_size: int = _flag(32, "rows per MNRL batch: the in-batch negatives")
    embedder_warmup_ratio: float = 0.1
    mnrl_scale: float = _flag(20.0, "MNRL similarity scale (1 / temperature)")
    hard_negatives: int = _flag(1, "hard negatives per row mined from the first-stage retriever (0 = in-batch only)")
    hard_negative_source: str = _flag("pretrained", "first-stage retriever the negatives come from: tfidf | pretrained")
    hard_negative_top: int = _flag(50, "negatives are drawn from its top N misconceptions (never the truth)")
    fusion: str = _flag("weighted", "several retrievers: weighted (normalised scores, weights tuned out of fold) | rrf")
    fusion_norm: str = _flag("zscore", "per-row score normalisation before weighting: zscore | minmax")
    fusion_step: float = _flag(0.1, "grid step of the fusion weights on the simplex")
    rrf_k: int = 60
    # --- reranking (§11.6) ---------------------------------------------------------------------------------
    explanations: str = _flag(
        "", "CoT explanations of the incorrect answers (eedi-explain's explanations.csv, relative to the data "
        "folder) added to the rerankers' queries as a 'Why:' line (§11.8); '' for none",
    )  # fmt: skip
    rerank: str = _flag("pointwise", "none | pointwise | pointwise+listwise")
    pointwise_backbone: str = _flag("Qwen/Qwen2.5-14B-Instruct", "causal LM under LoRA; 'tiny:qwen2-pretrained' on CPU")
    pointwise_candidates: int = _flag(32, "retrieval candidates rescored per row (1st place: 32)")
    pointwise_negatives: int = _flag(23, "hard negatives per training row, from its candidates (1st place: 23)")
    pointwise_loss: str = _flag(
        "group", "group (softmax over the truth and its negatives, 1st place) | pair (Yes/No cross-entropy per pair)"
    )
    pointwise_max_length: int = 512
    pointwise_learning_rate: float = 5e-5
    pointwise_epochs: float = 1.0
    pointwise_batch_size: int = 4
    pointwise_gradient_accumulation_steps: int = 4
    listwise_backbone: str = _flag("Qwen/Qwen2.5-72B-Instruct", "causal LM under LoRA; 'tiny:qwen2-pretrained' on CPU")
    listwise_candidates: int = _flag(5, "the pointwise ranking's top N, lettered (1st place: 5)")
    listwise_max_length: int = 1024
    listwise_learning_rate: float = 5e-5
    listwise_epochs: float = 1.0
    listwise_batch_size: int = 2
    listwise_gradient_accumulation_steps: int = 8
    listwise_permutations: int = _flag(1, "candidate orders averaged at inference (2nd place: reversed order)")
    lora_r: int = _flag(64, "LoRA rank of the rerankers (1st place: 64); 0 = full fine-tuning (a tiny model on CPU)")
    lora_alpha: int = 128
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        metadata={"help": "modules LoRA adapts"},
    )
    load_in_4bit: bool = _flag(True, "bitsandbytes NF4 base weights for the rerankers (QLoRA; CUDA only)")
    bf16: bool = _flag(True, "bf16 mixed precision (CUDA only; ignored on CPU)")
    attn_implementation: str = _flag("sdpa", "sdpa | eager | flash_attention_2")
    gradient_checkpointing: bool = False
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    scheduler: str = _flag("cosine", "transformers lr_scheduler_type")
    # --- inference engine of the rerankers (full recipe) -------------------------------------------------------
    inference_backend: str = _flag("transformers", "transformers | vllm (CUDA; prefix caching)")
    tensor_parallel_size: int = 1
    max_model_len: int = 4096
    gpu_memory_utilization: float = 0.9
    quantization: str = _flag("", "vLLM quantization such as awq ('' for none)")
    enable_prefix_caching: bool = _flag(True, "vLLM: reuse the KV cache of a row's shared prompt prefix")
    # --- post-processing (§11.7) ---------------------------------------------------------------------------
    unseen_boost: bool = _flag(
        True, "raise the scores of misconceptions no training question has, by a strength tuned out of fold"
    )
    boost_max: float = _flag(4.0, "largest boost tried (log-score units: a factor e^boost on probabilities)")
    boost_step: float = _flag(0.25, "grid step of the boost")

    def __post_init__(self):
        unknown = [r for r in self.retrievers if r not in RETRIEVERS]
        checks = (
            ("n_folds", self.n_folds < 2, "must be >= 2"),
            ("holdout_misconceptions", not 0 <= self.holdout_misconceptions < 1, "must be in [0, 1)"),
            ("retrievers", not self.retrievers or bool(unknown) or len(set(self.retrievers)) < len(self.retrievers),
             f"must name distinct retrievers of {' | '.join(RETRIEVERS)}"),
            ("tfidf_analyzer", self.tfidf_analyzer not in ANALYZERS, f"is not one of {' | '.join(ANALYZERS)}"),
            ("tfidf_ngram_max", self.tfidf_ngram_max < 1, "must be >= 1"),
            ("embedder_pooling", self.embedder_pooling not in POOLINGS, f"is not one of {' | '.join(POOLINGS)}"),
            ("embedder_num_layers", self.embedder_num_layers < 0, "must be >= 0"),
            ("embedder_max_length", self.embedder_max_length < 8, "must be >= 8"),
            ("embedder_lora_r", self.embedder_lora_r < 0, "must be >= 0"),
            ("embedder_learning_rate", not self.embedder_learning_rate > 0, "must be > 0"),
            ("embedder_epochs", not self.embedder_epochs > 0, "must be > 0"),
            ("embedder_batch_size", self.embedder_batch_size < 2, "must be >= 2 (MNRL needs in-batch negatives)"),
            ("embedder_warmup_ratio", not 0 <= self.embedder_warmup_ratio < 1, "must be in [0, 1)"),
            ("mnrl_scale", not self.mnrl_scale > 0, "must be > 0"),
            ("hard_negatives", self.hard_negatives < 0, "must be >= 0"),
            ("hard_negative_source", self.hard_negative_source not in NEGATIVE_SOURCES,
             f"is not one of {' | '.join(NEGATIVE_SOURCES)}"),
            ("hard_negative_top", self.hard_negative_top <= self.hard_negatives, "must be > hard_negatives"),
            ("fusion", self.fusion not in FUSIONS, f"is not one of {' | '.join(FUSIONS)}"),
            ("fusion_norm", self.fusion_norm not in NORMS, f"is not one of {' | '.join(NORMS)}"),
            ("fusion_step", not 0 < self.fusion_step <= 0.5, "must be in (0, 0.5]"),
            ("rrf_k", self.rrf_k < 0, "must be >= 0"),
            ("rerank", self.rerank not in RERANKS, f"is not one of {' | '.join(RERANKS)}"),
            ("pointwise_candidates", self.pointwise_candidates < 2, "must be >= 2"),
            ("pointwise_negatives", not 1 <= self.pointwise_negatives < self.pointwise_candidates,
             "must be in [1, pointwise_candidates)"),
            ("pointwise_max_length", self.pointwise_max_length < 32, "must be >= 32"),
            ("pointwise_learning_rate", not self.pointwise_learning_rate > 0, "must be > 0"),
            ("pointwise_epochs", not self.pointwise_epochs > 0, "must be > 0"),
            ("pointwise_batch_size", self.pointwise_batch_size < 1, "must be >= 1"),
            ("pointwise_gradient_accumulation_steps", self.pointwise_gradient_accumulation_steps < 1, "must be >= 1"),
            ("listwise_candidates", not 2 <= self.listwise_candidates <= min(26, self.pointwise_candidates),
             "must be in [2, min(26, pointwise_candidates)] (one letter each)"),
            ("listwise_max_length", self.listwise_max_length < 32, "must be >= 32"),
            ("listwise_learning_rate", not self.listwise_learning_rate > 0, "must be > 0"),
            ("listwise_epochs", not self.listwise_epochs > 0, "must be > 0"),
            ("listwise_batch_size", self.listwise_batch_size < 1, "must be >= 1"),
            ("listwise_gradient_accumulation_steps", self.listwise_gradient_accumulation_steps < 1, "must be >= 1"),
            ("listwise_permutations", self.listwise_permutations < 1, "must be >= 1"),
            ("lora_r", self.lora_r < 0, "must be >= 0 (0 = full fine-tuning)"),
            ("pointwise_loss", self.pointwise_loss not in LOSSES, f"is not one of {' | '.join(LOSSES)}"),
            ("load_in_4bit", self.load_in_4bit and self.lora_r == 0 and self.reranks,
             "needs LoRA (lora_r > 0): 4-bit weights cannot be fully fine-tuned"),
            ("lora_dropout", not 0 <= self.lora_dropout < 1, "must be in [0, 1)"),
            ("attn_implementation", self.attn_implementation not in ATTENTION, f"is not one of {' | '.join(ATTENTION)}"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
            ("scheduler", self.scheduler not in SCHEDULERS, "is not a transformers lr_scheduler_type"),
            ("inference_backend", self.inference_backend not in BACKENDS, f"is not one of {' | '.join(BACKENDS)}"),
            ("tensor_parallel_size", self.tensor_parallel_size < 1, "must be >= 1"),
            ("max_model_len", self.max_model_len < 128, "must be >= 128"),
            ("gpu_memory_utilization", not 0 < self.gpu_memory_utilization <= 1, "must be in (0, 1]"),
            ("boost_max", self.boost_max < 0, "must be >= 0"),
            ("boost_step", not self.boost_step > 0, "must be > 0"),
        )  # fmt: skip
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")

    @property
    def reranks(self) -> bool:
        return self.rerank != "none"

    @property
    def listwise(self) -> bool:
        return self.rerank == "pointwise+listwise"
