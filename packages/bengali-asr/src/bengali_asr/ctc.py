"""Greedy CTC decoding: the best path, its repeats merged, then its blanks dropped.

A CTC model emits one distribution per audio frame over the characters plus a blank. The best path takes
the most likely token of every frame; a character spoken over several frames repeats, so consecutive
repeats are merged first and the blanks removed second — in that order, so that a blank between two
equal characters keeps both (``a a <b> a`` -> ``aa``), which is how CTC spells a doubled letter. This is
the baseline decoder of the chapter's ladder; :mod:`bengali_asr.lm` adds the beam search with an n-gram LM.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from bengali_asr.vocab import PAD, UNK, WORD_DELIMITER


def collapse(ids: Sequence[int], blank: int = 0) -> list[int]:
    """Merge consecutive repeats of ``ids``, then drop ``blank``."""
    out: list[int] = []
    previous = None
    for i in ids:
        i = int(i)
        if i != previous and i != blank:
            out.append(i)
        previous = i
    return out


def ids_to_text(ids: Sequence[int], vocab: dict[str, int]) -> str:
    """Text of collapsed ids: ``|`` -> space, whitespace runs made one space, stripped. ``<pad>`` and
    ``<unk>`` write nothing (an unknown character cannot be spelled; writing the literal ``<unk>`` would
    only make a longer wrong word)."""
    inverse = {i: token for token, i in vocab.items()}
    skip = {PAD, UNK}
    chars = []
    for i in ids:
        token = inverse.get(int(i))
        if token is None:
            raise ValueError(f"ids: {int(i)} is not an id of the vocabulary (0..{len(vocab) - 1})")
        if token not in skip:
            chars.append(" " if token == WORD_DELIMITER else token)
    return " ".join("".join(chars).split())


def greedy_decode(
    log_probs: torch.Tensor | np.ndarray, vocab: dict[str, int], length: int | None = None
) -> str:
    """The best-path transcript of one utterance's ``[T, V]`` emissions (log-probabilities, probabilities or
    logits: only the argmax matters), reading the first ``length`` frames when given."""
    scores = torch.as_tensor(log_probs)
    if scores.ndim != 2:
        raise ValueError(f"log_probs: expected [T, V], got shape {tuple(scores.shape)}")
    if scores.shape[1] != len(vocab):
        raise ValueError(f"log_probs: {scores.shape[1]} classes but the vocabulary has {len(vocab)} tokens")
    if length is not None:
        if not 0 <= int(length) <= scores.shape[0]:
            raise ValueError(f"length: {int(length)} is outside 0..{scores.shape[0]} frames")
        scores = scores[: int(length)]
    best = scores.argmax(dim=-1).tolist() if scores.shape[0] else []
    return ids_to_text(collapse(best, blank=vocab[PAD]), vocab)


def greedy_decode_batch(
    log_probs: torch.Tensor | np.ndarray, vocab: dict[str, int], lengths: Sequence[int] | None = None
) -> list[str]:
    """:func:`greedy_decode` of each row of ``[B, T, V]`` emissions (``lengths``: valid frames per row)."""
    scores = torch.as_tensor(log_probs)
    if scores.ndim != 3:
        raise ValueError(f"log_probs: expected [B, T, V], got shape {tuple(scores.shape)}")
    if lengths is None:
        lengths = [scores.shape[1]] * scores.shape[0]
    if len(lengths) != scores.shape[0]:
        raise ValueError(f"lengths: {len(lengths)} values for {scores.shape[0]} rows")
    return [greedy_decode(row, vocab, int(n)) for row, n in zip(scores, lengths, strict=True)]
