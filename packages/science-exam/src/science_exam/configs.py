"""One experiment's settings: every field is a recipe key (``competitions/science-exam/recipes/*.yaml``) and a
command-line flag (``science-exam-train --config recipe.yaml --retrieval hybrid``).

An experiment is a retrieval configuration (which passages become each question's context) and a reader
(which answers from that context):

- ``retrieval``: ``none`` (§8.5's reader alone), ``bm25``, ``dense`` or ``hybrid``, optionally followed by a
  cross-encoder ``rerank`` of the ``candidates`` (§8.6.3); the best ``context_passages`` form the context;
- ``reader``: ``mc``, an encoder with a multiple-choice head (DeBERTa-v3-large in the write-ups), or
  ``llm``, a decoder LLM scoring the options under LoRA (§8.7).

``__post_init__`` checks every field against the rules below and raises one :class:`FieldError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers.trainer_utils import SchedulerType

from shared.recipes import FieldError

READERS = ("mc", "llm")
RETRIEVALS = ("none", "bm25", "dense", "hybrid")
FUSIONS = ("rrf", "weighted")
QUERIES = ("prompt", "prompt+options")
CHUNKS = ("paragraph", "sentences")
DENSE_INDEXES = ("flat", "ivf")
LLM_MODES = ("letters", "options")
MC_POOLINGS = ("model", "mean", "option")
RERANK_POOLINGS = ("model", "mean")
SCHEDULERS = frozenset(s.value for s in SchedulerType)
ATTENTION = ("sdpa", "eager", "flash_attention_2")


def _one_of(value, allowed) -> bool:
    return value not in allowed


@dataclass
class ExperimentConfig:
    """One rung of the chapter's ladder."""

    name: str = field(
        default="deberta-v3-large-hybrid-rerank", metadata={"help": "experiment name (output folder)"}
    )
    # --- corpus and retrieval (§8.5.3, §8.6) ---------------------------------------------------------------
    chunk_mode: str = field(
        default="paragraph", metadata={"help": "paragraph | sentences (a window of sentences)"}
    )
    chunk_window: int = field(default=3, metadata={"help": "sentences per passage (chunk_mode sentences)"})
    chunk_overlap: int = field(default=1, metadata={"help": "sentences shared by neighbouring passages"})
    retrieval: str = field(default="hybrid", metadata={"help": "none | bm25 | dense | hybrid"})
    query: str = field(
        default="prompt", metadata={"help": "prompt | prompt+options (one query per option, merged)"}
    )
    fusion: str = field(default="rrf", metadata={"help": "hybrid: rrf (reciprocal rank) | weighted (scores)"})
    rrf_k: int = field(default=60, metadata={"help": "reciprocal rank fusion constant"})
    dense_weight: float = field(default=0.5, metadata={"help": "weighted fusion: the dense scores' weight"})
    embedder: str = field(
        default="BAAI/bge-large-en-v1.5",
        metadata={"help": "sentence-transformers id or path; 'minilm' the PyPI all-MiniLM-L6-v2"},
    )
    embedder_max_length: int = 256
    query_prefix: str = field(default="", metadata={"help": "e5: 'query: '; bge: its instruction"})
    passage_prefix: str = field(default="", metadata={"help": "e5: 'passage: '"})
    dense_index: str = field(default="flat", metadata={"help": "faiss flat | ivf"})
    ivf_nlist: int = field(default=1024, metadata={"help": "IVF cells (capped by the corpus size)"})
    ivf_nprobe: int = field(default=32, metadata={"help": "IVF cells searched per query"})
    train_retrieval: list[str] = field(
        default_factory=list,
        metadata={"help": "retrievals the reader's training contexts come from, one drawn per question (seeded), "
                  "so that one reader can read any of them at inference (4th/5th place); empty = `retrieval`"},
    )  # fmt: skip
    candidates: int = field(default=30, metadata={"help": "passages retrieved per question (before rerank)"})
    context_passages: int = field(default=3, metadata={"help": "passages joined into the reader's context"})
    # --- reranking (§8.6.3) -------------------------------------------------------------------------------
    rerank: bool = field(default=False, metadata={"help": "rerank the candidates with a cross-encoder"})
    rerank_backbone: str = field(
        default="cross-encoder/ms-marco-MiniLM-L-12-v2",
        metadata={"help": "a cross-encoder id, or an encoder ('minilm') to fine-tune into one"},
    )
    rerank_fine_tune: bool = field(
        default=True, metadata={"help": "fine-tune the cross-encoder on pairs mined from the training folds"}
    )
    rerank_num_layers: int = field(default=0, metadata={"help": "keep the first N layers (0 = all; CPU)"})
    rerank_pooling: str = field(
        default="model",
        metadata={"help": "cross-encoder head: model (a real cross-encoder's) | mean (MiniLM)"},
    )
    rerank_max_length: int = 256
    rerank_learning_rate: float = 2e-5
    rerank_epochs: float = 1.0
    rerank_batch_size: int = 16
    rerank_negatives: int = field(default=3, metadata={"help": "mined negatives per positive pair"})
    # --- reader (§8.5.4 multiple choice; §8.7 LLM option scoring) -----------------------------------------
    reader: str = field(
        default="mc", metadata={"help": "mc (encoder + multiple-choice head) | llm (LoRA scorer)"}
    )
    backbone: str = field(
        default="microsoft/deberta-v3-large",
        metadata={"help": "HF id or path; 'minilm' the PyPI all-MiniLM-L6-v2; 'tiny:<arch>' a tiny local model; "
                  "'tiny:qwen2-pretrained' a tiny causal LM pretrained on the data's own text"},
    )  # fmt: skip
    num_layers: int = field(default=0, metadata={"help": "keep the backbone's first N layers (0 = all; CPU)"})
    mc_pooling: str = field(
        default="model",
        metadata={"help": "mc reader head: model (the architecture's multiple-choice head, DeBERTa's) | mean "
                  "(mean of all token states + a linear score: encoders pretrained for mean pooling, MiniLM) | "
                  "option (the same over the question + option tokens only, after they attended to the context)"},
    )  # fmt: skip
    max_length: int = field(default=512, metadata={"help": "sub-words per option input (the context is cut)"})
    attn_implementation: str = field(default="sdpa", metadata={"help": "sdpa | eager | flash_attention_2"})
    learning_rate: float = 1e-5
    epochs: float = 2.0
    batch_size: int = field(default=4, metadata={"help": "questions per device and step"})
    gradient_accumulation_steps: int = 4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    scheduler: str = field(default="cosine", metadata={"help": "transformers lr_scheduler_type"})
    gradient_checkpointing: bool = False
    bf16: bool = field(default=True, metadata={"help": "bf16 mixed precision (CUDA only; ignored on CPU)"})
    llm_mode: str = field(
        default="letters",
        metadata={"help": "llm reader: letters (the answer letter's logit after all options) | options "
                  "(each option's log-probability after a shared context prefix, KV cache reused)"},
    )  # fmt: skip
    lora_r: int = field(default=16, metadata={"help": "LoRA rank of the llm reader"})
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"],
        metadata={"help": "module names LoRA adapts"},
    )
    load_in_4bit: bool = field(default=False, metadata={"help": "bitsandbytes nf4 base weights (QLoRA)"})
    # --- inference ----------------------------------------------------------------------------------------
    tta_permutations: int = field(
        default=0, metadata={"help": "option orders averaged at inference (0 = the given order only)"}
    )
    # --- data ---------------------------------------------------------------------------------------------
    extra: list[str] = field(
        default_factory=list,
        metadata={"help": "extra MCQ sets (train.csv layout) always in training, e.g. the public 60k set"},
    )
    max_extra: int = field(default=0, metadata={"help": "a seeded subset of the extra questions (0 = all)"})
    n_folds: int = field(default=5, metadata={"help": "K-fold over train.csv's questions (>= 2)"})
    seed: int = 42

    def __post_init__(self):
        checks = (
            ("chunk_mode", _one_of(self.chunk_mode, CHUNKS), f"is not one of {' | '.join(CHUNKS)}"),
            ("chunk_window", self.chunk_window < 1, "must be >= 1"),
            ("chunk_overlap", not 0 <= self.chunk_overlap < self.chunk_window, "must be in [0, chunk_window)"),
            ("retrieval", _one_of(self.retrieval, RETRIEVALS), f"is not one of {' | '.join(RETRIEVALS)}"),
            ("train_retrieval", any(r not in RETRIEVALS[1:] for r in self.train_retrieval) or
             (bool(self.train_retrieval) and self.retrieval == "none"), "must name bm25 | dense | hybrid, with retrieval set"),
            ("query", _one_of(self.query, QUERIES), f"is not one of {' | '.join(QUERIES)}"),
            ("fusion", _one_of(self.fusion, FUSIONS), f"is not one of {' | '.join(FUSIONS)}"),
            ("rrf_k", self.rrf_k < 0, "must be >= 0"),
            ("dense_weight", not 0 <= self.dense_weight <= 1, "must be in [0, 1]"),
            ("embedder_max_length", self.embedder_max_length < 8, "must be >= 8"),
            ("dense_index", _one_of(self.dense_index, DENSE_INDEXES), f"is not one of {' | '.join(DENSE_INDEXES)}"),
            ("ivf_nlist", self.ivf_nlist < 1, "must be >= 1"),
            ("ivf_nprobe", not 1 <= self.ivf_nprobe <= self.ivf_nlist, "must be in [1, ivf_nlist]"),
            ("candidates", self.candidates < 1, "must be >= 1"),
            ("context_passages", not 1 <= self.context_passages <= self.candidates, "must be in [1, candidates]"),
            ("rerank", self.rerank and self.retrieval == "none", "needs retrieval other than none"),
            ("rerank_num_layers", self.rerank_num_layers < 0, "must be >= 0"),
            ("rerank_pooling", _one_of(self.rerank_pooling, RERANK_POOLINGS), f"is not one of {' | '.join(RERANK_POOLINGS)}"),
            ("rerank_max_length", self.rerank_max_length < 16, "must be >= 16"),
            ("rerank_learning_rate", not self.rerank_learning_rate > 0, "must be > 0"),
            ("rerank_epochs", not self.rerank_epochs > 0, "must be > 0"),
            ("rerank_batch_size", self.rerank_batch_size < 1, "must be >= 1"),
            ("rerank_negatives", self.rerank_negatives < 1, "must be >= 1"),
            ("reader", _one_of(self.reader, READERS), f"is not one of {' | '.join(READERS)}"),
            ("num_layers", self.num_layers < 0, "must be >= 0"),
            ("mc_pooling", _one_of(self.mc_pooling, MC_POOLINGS), f"is not one of {' | '.join(MC_POOLINGS)}"),
            ("max_length", self.max_length < 16, "must be >= 16"),
            ("attn_implementation", _one_of(self.attn_implementation, ATTENTION), f"is not one of {' | '.join(ATTENTION)}"),
            ("learning_rate", not self.learning_rate > 0, "must be > 0"),
            ("epochs", not self.epochs > 0, "must be > 0"),
            ("batch_size", self.batch_size < 1, "must be >= 1"),
            ("gradient_accumulation_steps", self.gradient_accumulation_steps < 1, "must be >= 1"),
            ("warmup_ratio", not 0 <= self.warmup_ratio < 1, "must be in [0, 1)"),
            ("scheduler", self.scheduler not in SCHEDULERS, "is not a transformers lr_scheduler_type"),
            ("llm_mode", _one_of(self.llm_mode, LLM_MODES), f"is not one of {' | '.join(LLM_MODES)}"),
            ("lora_r", self.lora_r < 1, "must be >= 1"),
            ("lora_dropout", not 0 <= self.lora_dropout < 1, "must be in [0, 1)"),
            ("load_in_4bit", self.load_in_4bit and self.reader != "llm", "is for the llm reader (QLoRA)"),
            ("tta_permutations", not 0 <= self.tta_permutations <= 120, "must be in [0, 120] (5! orders)"),
            ("max_extra", self.max_extra < 0, "must be >= 0"),
            ("n_folds", self.n_folds < 2, "must be >= 2"),
        )  # fmt: skip
        for name, bad, why in checks:
            if bad:
                raise FieldError(name, f"{name}: {getattr(self, name)!r} {why}")
