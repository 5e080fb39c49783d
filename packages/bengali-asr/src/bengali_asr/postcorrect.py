"""LLM post-correction of transcripts (§9.8), in two forms.

- **Rescoring** (:func:`rescore`): the acoustic decoder's n-best list is re-ranked by
  ``decoder_score + weight * LM(text)``, where ``LM(text)`` is a causal LLM's log-probability of the whole
  sentence. A character-level CTC model spells what it hears; a word that sounds right but is no word, or a
  wrong inflection, is where a language model that has read the language wins. The n-gram LM inside the beam
  search (:mod:`bengali_asr.lm`) does this locally; an LLM sees the whole sentence. The weight is tuned on the
  clean ``valid`` split (:func:`tune_weight`); at weight 0 the decoder's own first choice is kept.
- **Generative correction** (:func:`correct`): an instruct LLM (the full recipe: a Bengali-capable model such
  as Qwen2.5-7B-Instruct) is asked to fix the spelling of a transcript and answer with the sentence only,
  decoded greedily. LLMs rewrite fluent text they were not asked to touch, or answer with something else
  entirely; the guard keeps the input whenever the answer has no word or changes more than ``max_change`` of its
  words (word-level edit distance over the input's word count, on punctuation-free text).

The LM score is a sum of token log-probabilities (``length_norm="sum"``, the default: a hypothesis that drops
a word must not win because it is shorter) or their mean (``"mean"``). Each text is framed the way the LM saw
documents in pretraining: after BOS and followed by EOS for a tokenizer that writes a BOS (Llama, Gemma); for
one that does not (Qwen2: ``shared.llm.bos_ids`` is empty) between two copies of the model's document
separator (``config.bos_token_id``, Qwen2's ``<|endoftext|>``), so the first word is scored given a sentence
start and the end token scores that the sentence is complete — the LLM's analogue of ARPA's ``<s> ... </s>``.

Texts are scored in left-padded batches (``shared.llm.pad_left``) with explicit position ids
(``shared.llm.positions``), so padding never shifts a position, and a token counts only when it and the token
predicting it are both real (which also holds for right padding); a batch gives the scores of the texts one
by one (a test checks it). Texts are sorted by length first so a batch carries little padding, and every
distinct text of all the n-best lists is scored once.

On CPU the LM is ``shared.tiny.resolve_backbone("tiny:qwen2-pretrained", texts)`` on the training sentences
and the extra text: a small Qwen2 pretrained for a few hundred steps, enough to tell a word from a non-word.
Measured on one thread of a busy 2-core machine: 100 n-best lists of 10 hypotheses (1,000 texts of 7 words,
~19 tokens each with the framing) score in 2.3 s with that LM (hidden 128, 2 layers), batch 32 or 64 alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import AutoTokenizer

from bengali_asr.normalize import strip_punctuation
from shared.generation import Backend, GenerationConfig, Messages, make_backend
from shared.llm import bos_ids, encode_text, ensure_padding, load_base, pad_left, positions, token_logprobs
from shared.metrics import mean_wer

LENGTH_NORMS = ("sum", "mean")
NBest = Sequence[Sequence[tuple[str, float]]]

PROMPT = (
    "Correct the spelling of this Bengali speech transcript; answer with the corrected sentence only.\n\n"
    "Transcript: {text}"
)
ANSWER_START = "Corrected:"
_QUOTES = "\"'“”‘’«»`"


# --- LM scores -----------------------------------------------------------------------------------------------


def boundary_ids(tokenizer, config) -> tuple[list[int], list[int]]:
    """(start, end) token ids framing a scored text (module docstring): ``[BOS]``/``[EOS]`` when the tokenizer
    writes a BOS, else the model's document separator (``config.bos_token_id``, or EOS) on both sides."""
    start = bos_ids(tokenizer)
    if start:
        return start, [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    separator = getattr(config, "bos_token_id", None)
    if isinstance(separator, list):
        separator = separator[0] if separator else None
    if separator is None:
        separator = tokenizer.eos_token_id
    if separator is None:
        raise ValueError(
            f"tokenizer {tokenizer.name_or_path!r}: no BOS, no document separator and no EOS token"
        )
    return [separator], [separator]


class LMScorer:
    """A causal LM (``from_pretrained(lm_dir)``: float32 on CPU, bf16 on CUDA, NF4 with ``load_in_4bit`` on
    CUDA) that gives each text its summed token log-probability and its number of scored tokens."""

    def __init__(self, lm_dir: str | Path, batch_size: int = 32, load_in_4bit: bool = False):
        if batch_size < 1:
            raise ValueError(f"batch_size: {batch_size} must be >= 1")
        self.batch_size = batch_size
        self.tokenizer = ensure_padding(AutoTokenizer.from_pretrained(str(lm_dir)))
        self.model = load_base(str(lm_dir), load_in_4bit=load_in_4bit, bf16=True).eval()
        if torch.cuda.is_available() and not load_in_4bit:
            self.model.cuda()
        self.start, self.end = boundary_ids(self.tokenizer, self.model.config)

    def encode(self, text: str) -> list[int]:
        """The framed tokens of ``text`` (whitespace collapsed)."""
        return self.start + encode_text(self.tokenizer, " ".join(text.split())) + self.end

    @torch.inference_mode()
    def score(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(summed log-probability in nats, number of scored tokens) of each text: every token after the start
        token, the end token included."""
        encoded = [self.encode(t) for t in texts]
        sums, counts = np.zeros(len(texts)), np.zeros(len(texts), dtype=np.int64)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        device = next(self.model.parameters()).device
        for at in range(0, len(order), self.batch_size):
            rows = order[at : at + self.batch_size]
            ids, mask = (
                t.to(device) for t in pad_left([encoded[i] for i in rows], self.tokenizer.pad_token_id)
            )
            logits = self.model(
                input_ids=ids, attention_mask=mask, position_ids=positions(mask), use_cache=False
            )
            logp = token_logprobs(logits.logits[:, :-1], ids[:, 1:])  # logit t predicts token t + 1
            real = (mask[:, :-1] * mask[:, 1:]).bool()  # a real token predicted from a real one
            sums[rows] = torch.where(real, logp, 0.0).sum(-1).double().cpu().numpy()
            counts[rows] = real.sum(-1).cpu().numpy()
        return sums, counts


def _lm_score(sums: np.ndarray, counts: np.ndarray, length_norm: str) -> np.ndarray:
    if length_norm not in LENGTH_NORMS:
        raise ValueError(f"length_norm: {length_norm!r} is not one of {' | '.join(LENGTH_NORMS)}")
    return sums if length_norm == "sum" else sums / np.maximum(counts, 1)


def _check_nbest(nbest: NBest) -> None:
    for i, hypotheses in enumerate(nbest):
        if not len(hypotheses):
            raise ValueError(f"nbest: list {i} is empty")


def hypothesis_scores(nbest: NBest, scorer: LMScorer, length_norm: str = "sum") -> list[np.ndarray]:
    """The LM score of every hypothesis of every n-best list (each distinct text scored once)."""
    _check_nbest(nbest)
    unique = list(dict.fromkeys(text for hypotheses in nbest for text, _ in hypotheses))
    sums, counts = scorer.score(unique)
    by_text = dict(zip(unique, _lm_score(sums, counts, length_norm), strict=True))
    return [np.array([by_text[text] for text, _ in hypotheses]) for hypotheses in nbest]


def choose(nbest: NBest, lm_scores: Sequence[np.ndarray], weight: float) -> list[str]:
    """Per list, the text maximising ``decoder_score + weight * lm_score`` (a tie goes to the decoder's
    earlier hypothesis)."""
    _check_nbest(nbest)
    if len(lm_scores) != len(nbest):
        raise ValueError(f"lm_scores: {len(lm_scores)} lists for {len(nbest)} n-best lists")
    chosen = []
    for hypotheses, lm in zip(nbest, lm_scores, strict=True):
        total = np.array([score for _, score in hypotheses], dtype=np.float64) + weight * np.asarray(lm)
        chosen.append(hypotheses[int(np.argmax(total))][0])
    return chosen


def _scorer(lm: str | Path | LMScorer, batch_size: int) -> LMScorer:
    """``lm`` when it already scores (an :class:`LMScorer` or a stand-in with its ``score``), else loaded."""
    return lm if hasattr(lm, "score") else LMScorer(lm, batch_size=batch_size)


def rescore(
    nbest: NBest, lm_dir: str | Path | LMScorer, weight: float, batch_size: int = 32, length_norm: str = "sum"
) -> list[str]:
    """The chosen text of each n-best list of ``(text, decoder score)``: ``decoder_score + weight * LM(text)``
    with the causal LM in ``lm_dir`` (a path, or an already loaded :class:`LMScorer`)."""
    if weight == 0:  # the decoder's choice; no LM needed
        return choose(nbest, [np.zeros(len(h)) for h in nbest], 0.0)
    return choose(nbest, hypothesis_scores(nbest, _scorer(lm_dir, batch_size), length_norm), weight)


def tune_weight(
    nbest: NBest,
    references: Sequence[str],
    weights: Sequence[float],
    lm_dir: str | Path | LMScorer,
    batch_size: int = 32,
    length_norm: str = "sum",
) -> tuple[float, pd.DataFrame]:
    """(best weight, table) by mean WER of the chosen texts against ``references``, both through
    ``normalize.strip_punctuation``. The LM scores every hypothesis once; each weight is then a re-ranking.
    The table has ``weight``, ``wer`` and ``changed`` (lists whose choice differs from the decoder's first
    choice); a tie in WER goes to the smaller weight."""
    _check_tuning(nbest, references, weights)  # before the LM is loaded
    lm = hypothesis_scores(nbest, _scorer(lm_dir, batch_size), length_norm)
    return best_weight(nbest, lm, references, weights)


def _check_tuning(nbest: NBest, references: Sequence[str], weights: Sequence[float]) -> None:
    if len(references) != len(nbest):
        raise ValueError(f"references: {len(references)} for {len(nbest)} n-best lists")
    if not len(weights):
        raise ValueError("weights: none to try")


def best_weight(nbest: NBest, lm_scores: Sequence[np.ndarray], references: Sequence[str],
                weights: Sequence[float]) -> tuple[float, pd.DataFrame]:  # fmt: skip
    """:func:`tune_weight` on LM scores already computed (:func:`hypothesis_scores`): each weight a re-ranking."""
    _check_tuning(nbest, references, weights)
    refs = [strip_punctuation(r) for r in references]
    first = choose(nbest, [np.zeros(len(h)) for h in nbest], 0.0)
    rows = []
    for weight in weights:
        chosen = choose(nbest, lm_scores, float(weight))
        wer = mean_wer(refs, [strip_punctuation(t) for t in chosen])
        changed = sum(a != b for a, b in zip(chosen, first, strict=True))
        rows.append({"weight": float(weight), "wer": wer, "changed": changed})
    table = pd.DataFrame(rows)
    best = table.sort_values(["wer", "weight"], kind="stable").iloc[0]
    return float(best["weight"]), table


@dataclass
class RescoreSettings:
    """What ``models/`` keeps of a tuned rescoring step (JSON round-trip)."""

    weight: float = 0.0
    length_norm: str = "sum"
    batch_size: int = 32

    def __post_init__(self):
        if self.length_norm not in LENGTH_NORMS:
            raise ValueError(f"length_norm: {self.length_norm!r} is not one of {' | '.join(LENGTH_NORMS)}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size: {self.batch_size} must be >= 1")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RescoreSettings:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"rescore settings: unknown key(s) {unknown}")
        return cls(**data)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> RescoreSettings:
        return cls.from_dict(json.loads(Path(path).read_text()))


# --- generative correction -----------------------------------------------------------------------------------


def request(text: str, prompt_template: str = PROMPT) -> Messages:
    """The chat asking to correct ``text``; the last (assistant) message starts the answer."""
    return [
        {"role": "user", "content": prompt_template.format(text=text)},
        {"role": "assistant", "content": ANSWER_START},
    ]


def clean(reply: str) -> str:
    """The sentence in a reply: its first non-empty line, surrounding quotes removed, whitespace collapsed."""
    line = next((line for line in reply.splitlines() if line.strip()), "")
    return " ".join(line.strip().strip(_QUOTES).split())


def word_change(source: str, candidate: str) -> float:
    """The share of ``source``'s words that ``candidate`` changes: word edit distance over the word count of
    ``source``, both without punctuation (``shared.metrics.mean_wer`` with ``source`` as the reference)."""
    source, candidate = strip_punctuation(source), strip_punctuation(candidate)
    if not source:
        return 0.0 if not candidate else float("inf")
    return mean_wer([source], [candidate])


def guard(source: str, candidate: str, max_change: float) -> str:
    """``candidate``, unless it has no word (nothing, or marks only) or changes more than ``max_change`` of
    ``source``'s words: then ``source``."""
    if not strip_punctuation(candidate) or word_change(source, candidate) > max_change:
        return source
    return candidate


def correct(
    texts: Sequence[str],
    lm_dir: str | Path,
    prompt_template: str = PROMPT,
    max_new_tokens: int = 64,
    *,
    max_change: float = 0.3,
    batch_size: int = 16,
    chat_template: bool = True,
    engine: str = "transformers",
    backend: Backend | None = None,
) -> list[str]:
    """Each text corrected by the instruct LLM in ``lm_dir`` (greedy decoding; ``engine`` ``transformers`` or
    ``vllm``, through ``shared.generation``; ``backend`` replaces it, e.g. a stub in tests) and kept by the
    hallucination :func:`guard`. An empty text is returned as it is, unasked."""
    if "{text}" not in prompt_template:
        raise ValueError(f"prompt_template: {prompt_template!r} has no {{text}} placeholder")
    if not max_change >= 0:  # NaN too
        raise ValueError(f"max_change: {max_change} must be >= 0")
    todo = [i for i, text in enumerate(texts) if text.strip()]
    out = list(texts)
    if not todo:
        return out
    if backend is None:
        config = GenerationConfig(
            generator=str(lm_dir), backend=engine, max_new_tokens=max_new_tokens, temperature=0.0, top_p=1.0,
            batch_size=batch_size, chat_template=chat_template,
        )  # fmt: skip
        backend = make_backend(config)
    replies = backend.complete([request(texts[i], prompt_template) for i in todo], 0, "LLM post-correction")
    if len(replies) != len(todo):
        raise RuntimeError(f"backend: {len(replies)} replies for {len(todo)} requests")
    for i, reply in zip(todo, replies, strict=True):
        out[i] = guard(texts[i], clean(reply), max_change)
    return out
