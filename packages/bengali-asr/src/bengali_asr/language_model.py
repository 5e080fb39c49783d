"""The chapter's n-gram LM end to end: built from text, tuned on the valid split, used to decode (§9.5.3).

:func:`build_language_model` writes the ARPA model (:mod:`bengali_asr.arpa`) and the lexicon of every LM word the
acoustic model can spell (:mod:`bengali_asr.lm`) into one folder, which ``models/lm`` copies for offline predict.
:func:`tune_cross_fitted` decodes the valid split (or a random subset of it, ``tune_clips``) once per (LM weight,
word score) and picks, for each half of the split, the setting that does best on the *other* half: the valid WER it
returns was not tuned on; the setting that does best on the whole split is the one kept for the test. A prebuilt
ARPA (``arpa``: KenLM's ``lmplz`` on a large corpus) replaces the one :mod:`bengali_asr.arpa` writes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bengali_asr.arpa import read_unigrams, write_arpa
from bengali_asr.configs import DecoderConfig
from bengali_asr.experiment import clip_wers
from bengali_asr.lm import DecoderSettings, LMDecoder, write_lexicon
from bengali_asr.normalize import strip_punctuation
from bengali_asr.vocab import tokens
from shared.console import progress

ARPA, LEXICON, TOKENS, STATS = "lm.arpa", "lexicon.txt", "tokens.json", "lm.json"
BATCH = 64  # clips per decoder call


@dataclass(frozen=True)
class LanguageModel:
    """An ARPA model and lexicon on disk, and the acoustic vocabulary's tokens they decode."""

    directory: Path
    tokens: list[str]
    order: int
    stats: dict

    @property
    def arpa(self) -> Path:
        return self.directory / ARPA

    @property
    def lexicon(self) -> Path:
        return self.directory / LEXICON

    def decoder(self, settings: DecoderSettings) -> LMDecoder:
        return LMDecoder(self.tokens, self.lexicon, self.arpa, settings)


def build_language_model(sentences: Sequence[str], vocab: dict[str, int], directory: Path, order: int,
                         arpa: str | Path | None = None) -> LanguageModel:  # fmt: skip
    """The LM of ``sentences`` (normalised, marks stripped), or the prebuilt ``arpa`` (copied; its own order; the
    sentences unused); the lexicon keeps the LM's words whose every character is in ``vocab`` (the others cannot be
    spelled by the acoustic model; how many is in ``stats``)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if arpa is None:
        texts = [t for t in (strip_punctuation(s) for s in sentences) if t]
        stats = {k: v for k, v in write_arpa(texts, directory / ARPA, order=order).items() if k != "order"}
        words = sorted({w for t in texts for w in t.split()})
        stats["sentences"] = len(texts)
    else:
        order, ngrams, words = read_unigrams(arpa)
        if order < 2:
            raise ValueError(f"{arpa}: a {order}-gram model; the decoder needs bigrams at least")
        if Path(arpa).resolve() != (directory / ARPA).resolve():
            shutil.copyfile(arpa, directory / ARPA)
        stats = {"source": str(arpa), "ngrams": ngrams}
        words = sorted(set(words))
    alphabet = set(vocab)
    spellable = [w for w in words if set(w) <= alphabet]
    write_lexicon(spellable, directory / LEXICON)
    stats |= {"words": len(words), "lexicon": len(spellable), "unspellable": len(words) - len(spellable)}
    token_list = tokens(vocab)
    (directory / TOKENS).write_text(json.dumps(token_list, ensure_ascii=False) + "\n")
    (directory / STATS).write_text(json.dumps({"order": order, **stats}, indent=2, default=str) + "\n")
    return LanguageModel(directory, token_list, order, stats)


def load_language_model(directory: Path) -> LanguageModel:
    """A saved LM folder (``models/lm``), offline."""
    directory = Path(directory)
    stats = json.loads((directory / STATS).read_text())
    return LanguageModel(directory, json.loads((directory / TOKENS).read_text()), stats.pop("order"), stats)


def decode_lm(lm: LanguageModel, emissions: Sequence[np.ndarray], settings: DecoderSettings,
              desc: str | None = "beam search") -> list[str]:  # fmt: skip
    """Each clip's best beam, in batches of :data:`BATCH` clips, under a bar named ``desc`` (None: no bar, for a
    caller whose own bar counts the decodes)."""
    decoder = lm.decoder(settings)
    out: list[str] = []
    batches = range(0, len(emissions), BATCH)
    for start in batches if desc is None else progress(batches, desc=desc, unit="batch"):
        out += decoder.decode_list(emissions[start : start + BATCH])
    return out


def nbest_lm(lm: LanguageModel, emissions: Sequence[np.ndarray], settings: DecoderSettings | Sequence[DecoderSettings],
             n: int, desc: str = "n-best") -> list[list[tuple[str, float]]]:  # fmt: skip
    """Each clip's ``n`` best distinct texts with their decoder scores, best first (the input of LLM rescoring);
    ``settings`` one for all clips, or one per clip (cross-fitted valid halves)."""
    per_clip = [settings] * len(emissions) if isinstance(settings, DecoderSettings) else list(settings)
    decoders = {}
    out = []
    for e, s in zip(progress(emissions, desc=desc, unit="clip"), per_clip, strict=True):
        decoder = decoders.setdefault((s.lm_weight, s.word_score), lm.decoder(s))
        out.append(decoder.nbest(torch.from_numpy(np.asarray(e, dtype=np.float32))[None], n=n)[0])
    return out


def tune_cross_fitted(lm: LanguageModel, emissions: Sequence[np.ndarray], references: Sequence[str],
                      halves: np.ndarray, config: DecoderConfig, seed: int = 0,
                      desc: str = "LM tuning") -> tuple[DecoderSettings, list[str], pd.DataFrame, list]:  # fmt: skip
    """(the setting best on the tuning clips, the cross-fitted valid transcripts, the grid's WERs, and per half ``h``
    of valid the setting it is decoded with: the one best on the other half's tuning clips).

    The tuning clips are all of valid, or ``config.tune_clips`` of them drawn with ``seed`` (a beam of 1024 over the
    competition's 41k valid clips for every setting of the grid is days of CPU); then every valid clip is decoded
    once more with its half's setting."""
    grid = list(product(config.lm_weights, config.word_scores))
    base = DecoderSettings(beam_size=config.beam_size)
    n, halves = len(references), np.asarray(halves)
    tuning = np.arange(n)
    if 0 < config.tune_clips < n:  # drawn half by half, so each half's setting is chosen on the other's clips
        rng = np.random.default_rng(seed)
        part_sizes = [config.tune_clips // 2, config.tune_clips - config.tune_clips // 2]
        drawn = [rng.choice(np.flatnonzero(halves == h), min(k, int((halves == h).sum())), replace=False)
                 for h, k in zip((0, 1), part_sizes, strict=True)]  # fmt: skip
        if min(len(d) for d in drawn) == 0:
            raise ValueError(
                f"tune_clips: {config.tune_clips} leaves a half of valid without tuning clips (need >= 2)"
            )
        tuning = np.sort(np.concatenate(drawn))
    hyps, wers = [], []
    for weight, score in progress(grid, desc=desc, unit="setting"):
        decoded = decode_lm(lm, [emissions[i] for i in tuning], replace(base, lm_weight=weight, word_score=score),
                            desc=None)  # fmt: skip
        hyps.append(decoded)
        wers.append(clip_wers([references[i] for i in tuning], decoded, punctuation=False))
    wers = np.array(wers)  # settings × tuning clips
    part = halves[tuning]
    chosen = [int(np.argmin(wers[:, part != h].mean(axis=1))) for h in (0, 1)]
    per_half = [replace(base, lm_weight=grid[c][0], word_score=grid[c][1]) for c in chosen]
    if len(tuning) == n:
        crossfit = [hyps[chosen[halves[i]]][i] for i in range(n)]
    else:
        crossfit = decode_cross_fitted(lm, emissions, halves, per_half, desc=f"{desc}: valid")
    best = int(np.argmin(wers.mean(axis=1)))
    table = pd.DataFrame({"lm_weight": [g[0] for g in grid], "word_score": [g[1] for g in grid],
                          "valid_wer": wers.mean(axis=1), "clips": len(tuning)})  # fmt: skip
    weight, score = grid[best]
    return replace(base, lm_weight=weight, word_score=score), crossfit, table, per_half


def decode_cross_fitted(lm: LanguageModel, emissions: Sequence[np.ndarray], halves: np.ndarray, per_half: list,
                        desc: str = "beam search") -> list[str]:  # fmt: skip
    """Valid transcripts decoded half by half with the settings :func:`tune_cross_fitted` chose for each half, for
    the later rungs that reuse the LM settings (denoising), so their valid WER stays cross-fitted too."""
    out = [""] * len(emissions)
    for h, settings in enumerate(per_half):
        index = np.flatnonzero(np.asarray(halves) == h)
        for i, text in zip(index, decode_lm(lm, [emissions[i] for i in index], settings, desc=f"{desc} ({h + 1}/2)"),
                           strict=True):  # fmt: skip
            out[i] = text
    return out
