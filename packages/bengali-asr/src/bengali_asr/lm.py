"""CTC beam search with a word n-gram LM and a lexicon (§9.5.3), over torchaudio's flashlight decoder.

Greedy CTC decoding picks the best character per frame, so one unclear frame gives a misspelled word.
``torchaudio.models.decoder.ctc_decoder`` (flashlight-text's ``LexiconDecoder``, which bundles KenLM) instead
searches over spellings in a lexicon trie: every hypothesis is a sequence of lexicon words, scored by

    sum of the frames' acoustic log-probs (natural log)
    + lm_weight * log10 P_LM(words, </s>)        (KenLM's scores are log10; flashlight adds them unconverted)
    + word_score * number of words.

So ``lm_weight`` also absorbs the base of the logarithm (weight 1 here is weight 1 / ln 10 ~ 0.43 on a
natural-log LM), and ``word_score`` offsets the LM's per-word cost, which otherwise favours fewer, longer
words. Both are tuned on the valid split (:func:`bengali_asr.language_model.tune_cross_fitted`). Without an ARPA file the same lexicon search runs with
a zero LM (spelling constraint only); without a lexicon it is a lexicon-free beam search over characters,
which cannot use a word LM (flashlight would score the LM per character), so that combination is an error.

The lexicon spells each word with a closing ``|`` but the acoustic labels have none after the last word, so
each clip gets one extra frame where blank and ``|`` are free (:class:`LMDecoder`): the last word then ends at
no cost and scores are the plain sum above (tested to 1e-3).

KenLM prints a loading banner and a progress bar on stderr; loading happens with stderr silenced, and the
loaded model is cached per (ARPA, lexicon) file so that a grid search over weights loads it once.
:class:`ArpaLM` (the same ARPA file scored in Python, for Whisper's n-best rescoring) lives in
:mod:`bengali_asr.arpa` and is re-exported here.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from bengali_asr.arpa import ArpaLM, read_arpa
from bengali_asr.vocab import PAD, UNK, WORD_DELIMITER

__all__ = ["ArpaLM", "DecoderSettings", "LMDecoder", "read_arpa", "write_lexicon"]

UNK_WORD = "<unk>"  # the LM's unknown word (ARPA), not the acoustic vocabulary's <unk> token
RESERVED_WORDS = ("<s>", "</s>", UNK_WORD)


def write_lexicon(words: Iterable[str], path, tokens: Sequence[str] | None = None) -> Path:
    """Write a flashlight lexicon, one ``word<TAB>c h a r s |`` line per distinct word, sorted.

    Each item of ``words`` is split on whitespace, so sentences can be passed as they are. ``<s>``, ``</s>`` and
    ``<unk>`` are skipped. With ``tokens`` (the acoustic model's), words with a character that is not a token
    are skipped too: the decoder could never emit them, and flashlight refuses a spelling with unknown tokens.
    """
    alphabet = None if tokens is None else set(tokens)
    unique = {w for item in words for w in item.split() if w not in RESERVED_WORDS}
    lines = [
        f"{w}\t{' '.join(w)} {WORD_DELIMITER}"
        for w in sorted(unique)
        if alphabet is None or set(w) <= alphabet
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@dataclass
class DecoderSettings:
    """The beam search's knobs (saved as ``decoder.json`` next to the LM in ``models/``)."""

    beam_size: int = 50
    lm_weight: float = 0.5
    word_score: float = 0.0
    beam_threshold: float = 25.0
    nbest: int = 1

    def __post_init__(self):
        for name in ("beam_size", "nbest"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"DecoderSettings.{name}: {value!r} must be an integer >= 1")
            setattr(self, name, int(value))
        for name in ("lm_weight", "word_score", "beam_threshold"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float | np.number)
                or not math.isfinite(value)
            ):
                raise ValueError(f"DecoderSettings.{name}: {value!r} must be a finite number")
            setattr(self, name, float(value))
        if self.beam_threshold <= 0:
            raise ValueError(f"DecoderSettings.beam_threshold: {self.beam_threshold} must be > 0")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> DecoderSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"DecoderSettings: unknown field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> DecoderSettings:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: cannot read decoder settings ({type(e).__name__}: {e})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: decoder settings must be a JSON object")
        try:
            return cls.from_dict(data)
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None


@contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (C++ ``std::cerr``, which Python's ``sys.stderr`` redirection cannot reach)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _check_lexicon(lexicon: Path, tokens: Sequence[str]) -> None:
    known = set(tokens)
    with lexicon.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields_ = line.split()
            if not fields_:
                continue
            if len(fields_) < 2:
                raise ValueError(
                    f"{lexicon}: line {number}: expected 'word<TAB>spelling tokens', got {line.strip()!r}"
                )
            missing = [t for t in fields_[1:] if t not in known]
            if missing:
                raise ValueError(
                    f"{lexicon}: line {number}: word {fields_[0]!r} is spelled with {missing[0]!r}, which is not "
                    "one of the acoustic model's tokens"
                )


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


@lru_cache(maxsize=4)
def _kenlm(arpa_key: tuple[str, int, int], lexicon_key: tuple[str, int, int]):
    """KenLM over the word dictionary that ``ctc_decoder`` builds from the same lexicon (same indices)."""
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import create_word_dict, load_words

    word_dict = create_word_dict(load_words(lexicon_key[0]))
    try:
        with _quiet_stderr():
            return KenLM(arpa_key[0], word_dict)
    except Exception as e:  # KenLM's own exception types are not exposed to Python
        message = " ".join(str(e).split())
        raise ValueError(f"{arpa_key[0]}: KenLM cannot load it ({message[:300]})") from None


def _as_batch(log_probs, lengths, n_tokens: int) -> tuple[torch.Tensor, list[int]]:
    emissions = torch.as_tensor(log_probs).detach().to(device="cpu", dtype=torch.float32).contiguous()
    if emissions.ndim != 3:
        raise ValueError(f"log_probs: expected [batch, frames, tokens], got shape {tuple(emissions.shape)}")
    if emissions.shape[2] != n_tokens:
        raise ValueError(f"log_probs: {emissions.shape[2]} classes but the decoder has {n_tokens} tokens")
    batch, frames = emissions.shape[:2]
    if lengths is None:
        sizes = [frames] * batch
    else:
        sizes = [int(x) for x in torch.as_tensor(lengths).reshape(-1).tolist()]
        if len(sizes) != batch:
            raise ValueError(f"lengths: {len(sizes)} values for a batch of {batch}")
        for i, size in enumerate(sizes):
            if not 0 <= size <= frames:
                raise ValueError(f"lengths: row {i} has {size} frames, outside 0..{frames}")
    return emissions, sizes


class LMDecoder:
    """``ctc_decoder(lexicon, tokens, lm=arpa, blank=<pad>, silence=|, unk=<unk>)`` with :class:`DecoderSettings`.

    ``tokens`` are the acoustic vocabulary by id (``bengali_asr.vocab.tokens``: ``<pad>`` = CTC blank, ``|`` =
    word boundary). Emissions are the acoustic model's log-probabilities (natural log), ``[batch, frames,
    tokens]``, with the valid number of frames per row in ``lengths``.
    """

    def __init__(
        self, tokens: Sequence[str], lexicon=None, arpa=None, settings: DecoderSettings | None = None
    ):
        from torchaudio.models.decoder import ctc_decoder

        self.tokens = list(tokens)
        self.settings = settings or DecoderSettings()
        for special in (PAD, WORD_DELIMITER):
            if special not in self.tokens:
                raise ValueError(f"LMDecoder: tokens lack {special!r} (the CTC blank and the word boundary)")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("LMDecoder: tokens must be distinct")
        self.lexicon = None if lexicon is None else Path(lexicon)
        self.arpa = None if arpa is None else Path(arpa)
        if self.arpa is not None and self.lexicon is None:
            raise ValueError(
                "LMDecoder: a word ARPA model needs a lexicon (lexicon-free search would score the LM per token)"
            )
        for path in (self.lexicon, self.arpa):
            if path is not None and not path.is_file():
                raise ValueError(f"{path}: no such file")
        lm = None
        if self.lexicon is not None:
            _check_lexicon(self.lexicon, self.tokens)
            if self.arpa is not None:
                lm = _kenlm(_file_key(self.arpa), _file_key(self.lexicon))
        s = self.settings
        self._decoder = ctc_decoder(
            lexicon=None if self.lexicon is None else str(self.lexicon),
            tokens=self.tokens,
            lm=lm,
            nbest=s.nbest,
            beam_size=s.beam_size,
            beam_threshold=s.beam_threshold,
            lm_weight=s.lm_weight,
            word_score=s.word_score,
            blank_token=PAD,
            sil_token=WORD_DELIMITER,
            unk_word=UNK_WORD,
        )
        # One free frame after the clip: the lexicon spells every word with a closing "|", our labels have none
        # after the last word (vocab.encode), so without it every hypothesis would pay for a "|" squeezed into
        # a frame where the acoustic model says blank. Blank or "|" cost nothing there, anything else is barred.
        self._end_frame = torch.full((1, len(self.tokens)), -1e4, dtype=torch.float32)
        self._end_frame[0, [self.tokens.index(PAD), self.tokens.index(WORD_DELIMITER)]] = 0.0

    def _text(self, hypothesis) -> str:
        if self.lexicon is not None:
            return " ".join(w for w in hypothesis.words if w not in RESERVED_WORDS)
        chars = [self.tokens[i] for i in hypothesis.tokens.tolist()]
        text = "".join(" " if c == WORD_DELIMITER else c for c in chars if c not in (PAD, UNK))
        return " ".join(text.split())

    def _search(self, log_probs, lengths, n: int | None) -> list[list[tuple[str, float]]]:
        """Per row, up to ``n`` distinct texts (all when None) with their best score, best first."""
        emissions, sizes = _as_batch(log_probs, lengths, len(self.tokens))
        self._decoder.nbest = 1 if n == 1 else sys.maxsize  # the whole final beam, deduplicated below
        out = []
        for row, size in zip(emissions, sizes, strict=True):
            if size == 0:
                out.append([("", 0.0)])
                continue
            frames = row[:size]
            if self.lexicon is not None:
                frames = torch.cat([frames, self._end_frame])
            hypotheses = self._decoder(
                frames[None].contiguous(), torch.tensor([len(frames)], dtype=torch.int32)
            )[0]
            ranked = sorted(((self._text(h), float(h.score)) for h in hypotheses), key=lambda x: -x[1])
            seen: dict[str, float] = {}
            for text, score in ranked:
                seen.setdefault(text, score)
            out.append(list(seen.items())[:n])
        return out

    def decode(self, log_probs, lengths=None) -> list[str]:
        """The best hypothesis's text per row ("" when the search keeps none)."""
        return [found[0][0] if found else "" for found in self._search(log_probs, lengths, 1)]

    def nbest(self, log_probs, lengths=None, n: int | None = None) -> list[list[tuple[str, float]]]:
        """Per row, the ``n`` (default ``settings.nbest``) best *distinct* texts with their decoder scores,
        best first; fewer when the beam holds fewer. Hypotheses that differ only in alignment or word
        boundaries' silence give the same text; each text keeps its best score."""
        n = self.settings.nbest if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"nbest: n must be an integer >= 1, got {n!r}")
        return self._search(log_probs, lengths, n)

    def decode_list(self, log_probs: Sequence) -> list[str]:
        """:meth:`decode` of clips of different lengths, each ``[frames, tokens]`` (no padding needed)."""
        return [self.decode(torch.as_tensor(np.asarray(lp, dtype=np.float32))[None])[0] for lp in log_probs]
