"""Pointwise LLM reranking (the 1st place's first reranking stages, Qwen2.5-14B/32B under LoRA r=64): each
(query, candidate misconception) pair is one prompt,

    <instruction>\\n\\n<query>\\nMisconception: <name>\\nDoes the misconception explain the incorrect answer? Answer:

and its score is log p(Yes) - log p(No), the log-softmax over those two answer tokens at the last position
(= logit(Yes) - logit(No)).

Shared-prefix scoring: the K candidates of a query share everything up to the candidate, so the query part
(most of the tokens) runs once per query, in a left-padded batch of queries; its ``DynamicCache`` is repeated
K times along the batch and only the candidate suffixes run on top of it (:func:`score_shared_prefix`). The
suffixes are left-padded too, so padding sits between the prefix and the suffix: it is masked out and the
position ids (from the attention mask) skip it, so every suffix's last token is the last column.
:func:`score_independent` is the reference, one unpadded full forward per pair; a test checks they agree.

Prompts are built from separately tokenized pieces, so both paths (and vLLM) see exactly the same ids.
``max_length`` bounds prefix + suffix by cutting the query's ``Question:`` text from its end, leaving room for
the longest candidate suffix of ``docs`` (so a query's prefix is the same for every candidate, in training
and in scoring); the candidate and the answer cue are never cut.

Training (``fit``): each training row gives the truth (label Yes) and up to ``pointwise_negatives`` hard
negatives (label No) drawn, seeded, from its first ``pointwise_candidates`` retrieval candidates without the
truth. ``pointwise_loss: pair``: the cross-entropy over the (No, Yes) logits of each full prompt
(``eedi.llm_rerank.AnswerTrainer``); ``group`` (the 1st place's): a softmax cross-entropy over one query's
group of prompts, each scored logit(Yes) - logit(No), the truth the target (``GroupTrainer``; a batch holds
``pointwise_batch_size // (1 + pointwise_negatives)`` queries, at least one). With ``inference_backend: vllm`` the pairs are scored by vLLM with
prefix caching instead (``LoraReranker.vllm_logprobs``; CUDA only, untested on CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, DynamicCache, PreTrainedTokenizerBase

from eedi.llm_rerank import (
    LoraReranker,
    check_candidates,
    check_truth,
    last_logits,
    load_reranker,
    lora_model,
    settings_from,
    split_question,
    train,
)
from shared.console import progress
from shared.llm import answer_token_ids, bos_ids, encode_text, ensure_padding, pad_left, positions

INSTRUCTION = (
    "Decide whether the misconception explains why a student gave the incorrect answer to the maths question."
)
CANDIDATE = "\nMisconception: {}"
QUESTION = "\nDoes the misconception explain the incorrect answer? Answer:"
ANSWER_CUE = "Answer:"
ANSWERS = ("Yes", "No")
PREFIX = "pointwise"  # the config fields' prefix
# Label-free scaffolding for a tiny stand-in LM's pretraining text, so that "Yes"/"No" are single tokens.
PROMPT_TEXTS = [
    INSTRUCTION,
    "Misconception:",
    f"{QUESTION.strip()} Yes",
    f"{QUESTION.strip()} No",
    "Answer: Yes",
    "Answer: No",
]


def yes_no_ids(tokenizer: PreTrainedTokenizerBase) -> tuple[int, int]:
    """The ids of "Yes" and "No" right after ``Answer:`` (``shared.llm.answer_token_ids``; raises
    ``ValueError`` when they are not single tokens)."""
    yes, no = answer_token_ids(tokenizer, ANSWER_CUE, ANSWERS)
    return yes, no


class Encoder:
    """Token ids of the prompts' two parts for one tokenizer, ``docs`` and ``max_length``: the query
    prefix (:meth:`prefix`) and each document's suffix (``suffixes[col]``)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, docs: Sequence[str], max_length: int):
        self.tokenizer, self.max_length = tokenizer, max_length
        texts = [CANDIDATE.format(name) + QUESTION for name in docs]
        self.suffixes = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        self.longest = max((len(s) for s in self.suffixes), default=0)
        self.start = bos_ids(tokenizer) + encode_text(tokenizer, INSTRUCTION + "\n\n")

    def prefix(self, query: str) -> list[int]:
        """The instruction and ``query``, its question text cut so that the longest suffix still fits."""
        head, question, tail = split_question(query)
        head_ids = self.start + encode_text(self.tokenizer, head)
        tail_ids = encode_text(self.tokenizer, tail)
        room = self.max_length - len(head_ids) - len(tail_ids) - self.longest
        return head_ids + encode_text(self.tokenizer, question)[: max(room, 0)] + tail_ids


# --- scores -------------------------------------------------------------------------------------------------


def score_shared_prefix(
    model, prefixes: list[list[int]], suffixes: list[list[list[int]]], pad_id: int, yes_no: Sequence[int]
) -> torch.Tensor:
    """(n, K) log p(Yes) - log p(No) after ``prefixes[i] + suffixes[i][k]``: the prefixes run once (one
    left-padded batch), their cache is repeated K times and the K suffixes of each (left-padded, after the
    prefix) run on top of it. Equal to :func:`score_independent`."""
    k = len(suffixes[0])
    if any(len(row) != k for row in suffixes) or any(not s for row in suffixes for s in row):
        raise ValueError("suffixes: every row needs the same number of candidates, each at least one token")
    device = next(model.parameters()).device
    ids, mask = (t.to(device) for t in pad_left(prefixes, pad_id))
    cache = DynamicCache(config=model.config)
    model(input_ids=ids, attention_mask=mask, position_ids=positions(mask), past_key_values=cache, use_cache=True,
          logits_to_keep=1)  # fmt: skip
    cache.batch_repeat_interleave(k)
    tails, tail_mask = (t.to(device) for t in pad_left([s for row in suffixes for s in row], pad_id))
    full_mask = torch.cat([mask.repeat_interleave(k, 0), tail_mask], 1)
    out = model(
        input_ids=tails, attention_mask=full_mask, position_ids=positions(full_mask)[:, -tails.shape[1] :],
        past_key_values=cache, use_cache=True, logits_to_keep=1,
    )  # fmt: skip
    logits = out.logits[:, -1, list(yes_no)].float()
    return (logits[:, 0] - logits[:, 1]).view(len(prefixes), k)


def score_independent(
    model, prefixes: list[list[int]], suffixes: list[list[list[int]]], yes_no: Sequence[int]
) -> torch.Tensor:
    """(n, K) the scores of :func:`score_shared_prefix` from one unpadded full forward per (query, candidate):
    the reference."""
    device = next(model.parameters()).device
    out = torch.zeros(len(prefixes), len(suffixes[0]))
    for i, (prefix, row) in enumerate(zip(prefixes, suffixes, strict=True)):
        for k, suffix in enumerate(row):
            ids = torch.tensor([prefix + suffix], device=device)
            logits = last_logits(model, ids, torch.ones_like(ids))[0, list(yes_no)].float()
            out[i, k] = logits[0] - logits[1]
    return out


# --- the reranker -------------------------------------------------------------------------------------------


class PointwiseReranker(LoraReranker):
    """Scores each (query, candidate) pair with the yes/no logit difference (module docstring)."""

    settings_file = "pointwise.json"
    owner = "eedi's pointwise reranker"

    def scores(self, queries: Sequence[str], candidates: np.ndarray, docs: Sequence[str]) -> np.ndarray:
        """(n, K) float32 scores of ``candidates`` (column indices into ``docs``, K = ``candidates.shape[1]``),
        higher = better: length-sorted shared-prefix batches of about ``batch_size`` pairs (``batch_size // K``
        queries, at least one: the repeated cache grows with the pairs), or vLLM."""
        candidates = check_candidates(candidates, len(queries), len(docs))
        out = np.zeros(candidates.shape, dtype=np.float32)
        if len(queries) == 0:
            return out
        encoder = Encoder(self.tokenizer, docs, self.settings["max_length"])
        prefixes = [encoder.prefix(q) for q in queries]
        yes_no = yes_no_ids(self.tokenizer)
        if self.settings["inference_backend"] == "vllm":
            prompts = [
                p + encoder.suffixes[c] for p, row in zip(prefixes, candidates, strict=True) for c in row
            ]
            logprobs = self.vllm_logprobs(prompts, yes_no, desc="pointwise rerank (vllm)")
            return (logprobs[:, 0] - logprobs[:, 1]).reshape(candidates.shape)
        order = np.argsort([len(p) for p in prefixes], kind="stable")
        size = max(1, self.settings["batch_size"] // candidates.shape[1])
        with self.scoring():
            for at in progress(
                range(0, len(order), size), desc="pointwise rerank", unit="batch", leave=False
            ):
                rows = order[at : at + size]
                suffixes = [[encoder.suffixes[c] for c in candidates[i]] for i in rows]
                scores = score_shared_prefix(
                    self.model, [prefixes[i] for i in rows], suffixes, self.tokenizer.pad_token_id, yes_no
                )
                out[rows] = scores.float().cpu().numpy()
        return out


def training_pairs(
    candidates: np.ndarray, truth: np.ndarray, top: int, negatives: int, seed: int
) -> list[np.ndarray]:
    """Per training row, its document indices: the truth, then up to ``negatives`` hard negatives drawn
    without replacement, seeded, from the row's first ``top`` candidates other than the truth."""
    rng = np.random.default_rng(seed)
    out = []
    for row, t in zip(candidates, truth, strict=True):
        pool = np.array([c for c in dict.fromkeys(row[:top].tolist()) if c != t], dtype=np.int64)
        drawn = rng.choice(pool, size=min(negatives, len(pool)), replace=False) if len(pool) else pool
        out.append(np.concatenate([[t], drawn]).astype(np.int64))
    return out


def fit(config, queries: Sequence[str], candidates: np.ndarray, truth: np.ndarray, docs: Sequence[str],
        desc: str) -> PointwiseReranker:  # fmt: skip
    """LoRA-train ``config.pointwise_backbone`` (a path or hub id) to say Yes to each training row's truth and
    No to its hard negatives (module docstring), one progress bar named ``desc``.

    Reads ``pointwise_{backbone, candidates, negatives, max_length, learning_rate, epochs, batch_size,
    gradient_accumulation_steps}``, ``lora_{r, alpha, dropout, target_modules}``, ``load_in_4bit, bf16,
    attn_implementation, gradient_checkpointing, warmup_ratio, weight_decay, scheduler, seed`` and the
    inference engine fields (kept for scoring). CPU (float32) when no CUDA device is visible."""
    candidates = check_candidates(candidates, len(queries), len(docs))
    truth = check_truth(truth, len(queries), len(docs))
    path = config.pointwise_backbone
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    yes, no = yes_no_ids(tokenizer)
    encoder = Encoder(tokenizer, docs, config.pointwise_max_length)
    pairs = training_pairs(
        candidates, truth, config.pointwise_candidates, config.pointwise_negatives, config.seed
    )
    grouped = config.pointwise_loss == "group"
    rows = []
    for query, row in zip(queries, pairs, strict=True):
        prefix = encoder.prefix(query)
        prompts = [prefix + encoder.suffixes[c] for c in row]
        if grouped:
            rows.append({"input_ids": prompts, "label": 0})
        else:
            rows += [{"input_ids": p, "label": int(k == 0)} for k, p in enumerate(prompts)]
    model = lora_model(config, path)
    groups = max(1, config.pointwise_batch_size // (1 + config.pointwise_negatives)) if grouped else None
    losses = train(config, PREFIX, model, rows, (no, yes), tokenizer.pad_token_id, desc, grouped=grouped,
                   batch_size=groups)  # fmt: skip
    reranker = PointwiseReranker(model, tokenizer, settings_from(config, PREFIX, path))
    reranker.losses = losses
    return reranker


def load(directory: Path, inference_backend: str | None = None) -> PointwiseReranker:
    """The reranker :meth:`PointwiseReranker.save` wrote (``eedi.llm_rerank.load_reranker``)."""
    return load_reranker(PointwiseReranker, directory, inference_backend)
