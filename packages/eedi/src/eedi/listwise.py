"""Listwise LLM reranking (the 1st place's last stage, Qwen2.5-72B over 5 candidates; the 5th place listed
52 under letters): one prompt per query lists its K' candidates under letters,

    <instruction>\\n\\n<query>\\n\\nMisconceptions:\\nA. <name>\\nB. <name>...\\nAnswer:

and the scores are the log-softmax over the K' letters' logits at the last position. :class:`CandidateLetters`
is the ``transformers`` logits processor that sets every other logit to -inf: scoring applies it to the
last logits, so the scores are exactly the distribution that ``generate(max_new_tokens=1,
logits_processor=[CandidateLetters(...)])`` samples from (vLLM: ``allowed_token_ids``).

A listwise LLM prefers some positions (A most of all), so the letter must carry no label: in training each
row's candidates are shuffled (seeded) once; at inference ``permutations`` orders of the candidates can be
averaged (the identity, the reverse order (which helped the 2nd place), then the cyclic shifts of both, so
that with K' shifts each candidate sits at each letter once; all K'! orders when ``permutations`` reaches
K'!, which makes the scores independent of the order they came in).

Training: the cross-entropy of the truth's letter over the K' letters (``eedi.llm_rerank.AnswerTrainer``).
A row whose truth is not among its first K' retrieval candidates gets the truth in place of its last
candidate before the shuffle (so at a random letter); :attr:`ListwiseReranker.truth_inserted` counts those
rows, which inference cannot recover.

``max_length`` bounds the prompt by cutting the query's ``Question:`` text, never the listing or the cue.
"""

from __future__ import annotations

import itertools
import logging
import math
import string
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer, LogitsProcessor, PreTrainedTokenizerBase

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
from shared.llm import answer_token_ids, bos_ids, encode_text, ensure_padding, pad_left

LETTERS = tuple(string.ascii_uppercase + string.ascii_lowercase)  # 52, as the 5th place listed
INSTRUCTION = (
    "Which misconception best explains why a student gave the incorrect answer to the maths question? "
    "Reply with its letter."
)
LISTING = "\n\nMisconceptions:"
ANSWER_CUE = "Answer:"
PREFIX = "listwise"  # the config fields' prefix
# Label-free scaffolding for a tiny stand-in LM's pretraining text, so that each letter is one token after
# the cue (every letter equally often).
PROMPT_TEXTS = [INSTRUCTION, LISTING.strip(), "\n".join(f"{letter}. " for letter in LETTERS)] + [
    f"{ANSWER_CUE} {letter}" for letter in LETTERS
]

log = logging.getLogger(__name__)


def letter_ids(tokenizer: PreTrainedTokenizerBase, k: int) -> tuple[int, ...]:
    """The ids of the first ``k`` letters right after ``Answer:`` (``shared.llm.answer_token_ids``)."""
    if not 1 <= k <= len(LETTERS):
        raise ValueError(f"listwise candidates: {k}, expected 1..{len(LETTERS)} (one letter each)")
    return answer_token_ids(tokenizer, ANSWER_CUE, LETTERS[:k])


class CandidateLetters(LogitsProcessor):
    """Every logit but the candidate letters' set to -inf: the next token is one of the letters."""

    def __init__(self, allowed: Sequence[int]):
        self.allowed = torch.tensor(list(allowed))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        keep = torch.full_like(scores, float("-inf"))
        allowed = self.allowed.to(scores.device)
        keep[:, allowed] = scores[:, allowed]
        return keep


def encode(
    tokenizer: PreTrainedTokenizerBase, query: str, names: Sequence[str], max_length: int
) -> list[int]:
    """The prompt's ids: instruction, ``query`` (its question text cut to fit ``max_length``), the lettered
    ``names`` and the answer cue."""
    head, question, tail = split_question(query)
    head_ids = bos_ids(tokenizer) + encode_text(tokenizer, INSTRUCTION + "\n\n" + head)
    listing = "".join(f"\n{letter}. {name}" for letter, name in zip(LETTERS, names, strict=False))
    tail_ids = encode_text(tokenizer, tail + LISTING + listing + "\n" + ANSWER_CUE)
    room = max_length - len(head_ids) - len(tail_ids)
    return head_ids + encode_text(tokenizer, question)[: max(room, 0)] + tail_ids


def orders(k: int, permutations: int, seed: int = 0) -> list[tuple[int, ...]]:
    """``permutations`` distinct orders of ``k`` candidates: all k! of them when ``permutations >= k!``,
    else the identity, the reverse, the cyclic shifts of the identity and of the reverse, then seeded random
    ones (module docstring)."""
    if permutations < 1:
        raise ValueError(f"permutations: {permutations}, expected at least 1")
    if permutations >= math.factorial(k):
        return list(itertools.permutations(range(k)))
    ident, rev = tuple(range(k)), tuple(reversed(range(k)))
    out = list(dict.fromkeys([ident, rev, *(ident[s:] + ident[:s] for s in range(1, k)),
                              *(rev[s:] + rev[:s] for s in range(1, k))]))[:permutations]  # fmt: skip
    rng = np.random.default_rng(seed)
    while len(out) < permutations:
        order = tuple(int(i) for i in rng.permutation(k))
        if order not in out:
            out.append(order)
    return out


def letter_scores(model, ids: torch.Tensor, mask: torch.Tensor, allowed: Sequence[int]) -> torch.Tensor:
    """(n, k) log-softmax over the ``allowed`` letters: :class:`CandidateLetters` applied to the last logits."""
    logits = CandidateLetters(allowed)(ids, last_logits(model, ids, mask).float())
    return logits.log_softmax(-1)[:, list(allowed)]


class ListwiseReranker(LoraReranker):
    """Scores a query's candidates by the log-probability of their letters (module docstring)."""

    settings_file = "listwise.json"
    owner = "eedi's listwise reranker"
    truth_inserted = 0  # training rows whose truth was not among their candidates (fit sets it)

    def scores(self, queries: Sequence[str], candidates: np.ndarray, docs: Sequence[str],
               permutations: int = 1) -> np.ndarray:  # fmt: skip
        """(n, K') float32 mean log-probability of each candidate's letter over ``permutations`` orders of
        the candidates (:func:`orders`), in ``candidates``' column order; higher = better."""
        candidates = check_candidates(candidates, len(queries), len(docs))
        n, k = candidates.shape
        out = np.zeros((n, k), dtype=np.float32)
        if n == 0:
            return out
        allowed = letter_ids(self.tokenizer, k)
        perms = np.array(orders(k, permutations, self.settings["seed"]))  # (P, k): position -> column
        prompts = [
            encode(self.tokenizer, q, [docs[c] for c in row[order]], self.settings["max_length"])
            for q, row in zip(queries, candidates, strict=True) for order in perms
        ]  # fmt: skip
        if self.settings["inference_backend"] == "vllm":
            logprobs = self.vllm_logprobs(prompts, allowed, desc="listwise rerank (vllm)")
        else:
            logprobs = np.zeros((len(prompts), k), dtype=np.float32)
            order = np.argsort([len(p) for p in prompts], kind="stable")
            size = self.settings["batch_size"]
            with self.scoring():
                for at in progress(
                    range(0, len(order), size), desc="listwise rerank", unit="batch", leave=False
                ):
                    rows = order[at : at + size]
                    ids, mask = (
                        t.to(self.device())
                        for t in pad_left([prompts[i] for i in rows], self.tokenizer.pad_token_id)
                    )
                    logprobs[rows] = letter_scores(self.model, ids, mask, allowed).float().cpu().numpy()
        logprobs = logprobs.reshape(n, len(perms), k)
        for p, perm in enumerate(perms):
            out[:, perm] += logprobs[:, p]  # the letter at position j scored column perm[j]
        return out / len(perms)


def training_rows(
    candidates: np.ndarray, truth: np.ndarray, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """(columns (n, k), label (n,), inserted): each row's first ``k`` candidates, the truth put in place of the
    last one where it is missing, in a seeded random order; the truth's position; how many were put in."""
    rng = np.random.default_rng(seed)
    columns, labels, inserted = (
        np.zeros((len(truth), k), dtype=np.int64),
        np.zeros(len(truth), dtype=np.int64),
        0,
    )
    for i, (row, t) in enumerate(zip(candidates, truth, strict=True)):
        row = row[:k].copy()
        if t not in row:
            row[-1] = t
            inserted += 1
        columns[i] = row[rng.permutation(k)]
        labels[i] = int(np.flatnonzero(columns[i] == t)[0])
    return columns, labels, inserted


def fit(config, queries: Sequence[str], candidates: np.ndarray, truth: np.ndarray, docs: Sequence[str],
        desc: str) -> ListwiseReranker:  # fmt: skip
    """LoRA-train ``config.listwise_backbone`` (a path or hub id) to name the truth's letter among each row's
    first ``listwise_candidates`` candidates, shuffled (module docstring), one progress bar named ``desc``.

    Reads ``listwise_{backbone, candidates, max_length, learning_rate, epochs, batch_size,
    gradient_accumulation_steps}``, ``lora_{r, alpha, dropout, target_modules}``, ``load_in_4bit, bf16,
    attn_implementation, gradient_checkpointing, warmup_ratio, weight_decay, scheduler, seed`` and the
    inference engine fields (kept for scoring). CPU (float32) when no CUDA device is visible."""
    candidates = check_candidates(candidates, len(queries), len(docs))
    truth = check_truth(truth, len(queries), len(docs))
    k = config.listwise_candidates
    if candidates.shape[1] < k:
        raise ValueError(f"candidates: {candidates.shape[1]} columns, fewer than listwise_candidates={k}")
    if any(len(set(row)) < k for row in candidates[:, :k].tolist()):
        raise ValueError(f"candidates: a row repeats a document among its first {k} columns")
    path = config.listwise_backbone
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    allowed = letter_ids(tokenizer, k)
    columns, labels, inserted = training_rows(candidates, truth, k, config.seed)
    if inserted:
        log.info("listwise: %d of %d training rows lack the truth among their %d candidates; put in", inserted,
                 len(truth), k)  # fmt: skip
    rows = [
        {
            "input_ids": encode(tokenizer, q, [docs[c] for c in row], config.listwise_max_length),
            "label": int(y),
        }
        for q, row, y in zip(queries, columns, labels, strict=True)
    ]
    model = lora_model(config, path)
    losses = train(config, PREFIX, model, rows, allowed, tokenizer.pad_token_id, desc)
    reranker = ListwiseReranker(model, tokenizer, settings_from(config, PREFIX, path))
    reranker.losses, reranker.truth_inserted = losses, inserted
    return reranker


def load(directory: Path, inference_backend: str | None = None) -> ListwiseReranker:
    """The reranker :meth:`ListwiseReranker.save` wrote (``eedi.llm_rerank.load_reranker``)."""
    return load_reranker(ListwiseReranker, directory, inference_backend)
