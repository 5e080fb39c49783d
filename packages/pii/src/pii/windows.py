"""Model inputs over long essays: sub-words aligned to spaCy tokens, sliding windows, and the way back.

The competition scores spaCy tokens, the model sees sub-words, and essays are longer than a window.
This module does the three steps of the §10.5 baseline with numpy over flat arrays of all documents
(no per-token Python loop), so the 6,807 training essays align, window and aggregate in seconds:

1. ``align``: tokenise each ``full_text`` with offsets and give every sub-word the spaCy token of its
   first non-whitespace character (SentencePiece pieces like ``▁word`` carry the preceding space in their
   offsets), found by binary search on the tokens' character ends; a sub-word over whitespace only gets
   none (-1). Tokens are placed by their lengths plus trailing whitespace, which is exactly how
   ``full_text`` is built. A token may get no sub-word of its own (spaCy splits ``cannot`` into
   ``can``/``not`` where the tokenizer keeps one piece): it borrows the sub-word that covers its first
   character.
2. ``make_windows``: windows of ``max_length`` (special tokens included) overlapping by ``stride``
   sub-words; the last window of a long document is aligned to its end (a full window, so its overlap
   can exceed ``stride``). Own slicing rather than the tokenizer's ``return_overflowing_tokens``: one
   tokenisation serves every window setting, and each window position keeps its document-wide sub-word
   index (see ``benchmarks/windows.py`` for the speed of both).
3. ``aggregate``: per spaCy token probabilities. Each sub-word's prediction is first averaged over the
   windows that contain it, then a token averages its sub-words (``pool="mean"``) or takes its first
   (``pool="first"``, for a model trained on first sub-words only). Averaging per sub-word first makes
   the result independent of how windows overlap: a position-free model gives exactly the unwindowed
   answer. Whitespace-only tokens, and tokens no sub-word covers, are forced to 'O'.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Literal

import numpy as np

from pii.data import Document
from pii.labels import IGNORE_ID, LABEL2ID, O_ID

_CHUNK = 256  # documents per tokenizer call: bounds the Python lists the tokenizer returns


@dataclass
class Alignment:
    """Sub-words of all documents mapped to their spaCy tokens; flat arrays, documents concatenated.

    Document ``d`` owns sub-words ``subword_starts[d]:subword_starts[d + 1]`` and tokens
    ``token_starts[d]:token_starts[d + 1]``. Indices stored per sub-word or token are local to the document.
    """

    input_ids: np.ndarray  # (S,) sub-word ids, no special tokens
    offsets: np.ndarray  # (S, 2) character span of each sub-word in its document's full_text
    token: np.ndarray  # (S,) spaCy token of each sub-word, -1 for none
    first: np.ndarray  # (S,) bool: first sub-word of its token
    subword_starts: np.ndarray  # (D + 1,)
    token_starts: np.ndarray  # (D + 1,)
    cover: np.ndarray  # (T,) sub-word covering each token's first character, -1 for none
    blank: np.ndarray  # (T,) bool: whitespace-only (or empty) token, always 'O'
    label_ids: np.ndarray | None  # (T,) label id of each token, None for unlabelled documents

    @property
    def n_documents(self) -> int:
        return len(self.token_starts) - 1

    def global_token(self) -> np.ndarray:
        """(S,) index of each sub-word's token in the flat token arrays, -1 for none."""
        doc = np.repeat(np.arange(self.n_documents), np.diff(self.subword_starts))
        return np.where(self.token >= 0, self.token + self.token_starts[doc], -1)


@dataclass
class Windows:
    """Fixed-size model inputs; a map-style dataset for ``Trainer`` (``[i]`` gives one window's lists).

    Arrays are (n_windows, max_length), padded; ``subword`` holds each position's sub-word index in the
    flat :class:`Alignment` arrays (-1 for special tokens and padding).
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    subword: np.ndarray
    labels: np.ndarray | None  # sub-word label ids, IGNORE_ID where there is no target
    doc: np.ndarray  # (n_windows,) document of each window
    lengths: np.ndarray  # (n_windows,) positions used, special tokens included
    alignment: Alignment

    def __len__(self) -> int:
        return len(self.doc)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        n = int(self.lengths[i])
        item = {
            "input_ids": self.input_ids[i, :n].tolist(),
            "attention_mask": self.attention_mask[i, :n].tolist(),
        }
        if self.labels is not None:
            item["labels"] = self.labels[i, :n].tolist()
        return item


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """Ids the tokenizer puts before and after a single sequence (e.g. ``[CLS]`` and ``[SEP]``)."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for i in range(len(full) - len(plain) + 1):
        if full[i : i + len(plain)] == plain:
            return full[:i], full[i + len(plain) :]
    raise ValueError(f"tokenizer: cannot find the text's ids {plain} inside {full} with special tokens")


def _flat(lists, dtype, count: int) -> np.ndarray:
    return np.fromiter(chain.from_iterable(lists), dtype=dtype, count=count)


def _tokenize(tokenizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat sub-word ids, (S, 2) character offsets and per-document counts, without special tokens."""
    ids, offsets, counts = [], [], []
    for at in range(0, len(texts), _CHUNK):
        enc = tokenizer(
            texts[at : at + _CHUNK],
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        n = np.fromiter(map(len, enc["input_ids"]), dtype=np.int64, count=len(enc["input_ids"]))
        total = int(n.sum())
        ids.append(_flat(enc["input_ids"], np.int64, total))
        offsets.append(_flat(chain.from_iterable(enc["offset_mapping"]), np.int64, 2 * total).reshape(-1, 2))
        counts.append(n)
    if not texts:
        return np.zeros(0, np.int64), np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    return np.concatenate(ids), np.concatenate(offsets), np.concatenate(counts)


def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(values)))


def align(tokenizer, documents: list[Document]) -> Alignment:
    """Tokenise every document with ``tokenizer`` (a fast one) and map its sub-words to spaCy tokens."""
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("tokenizer: a fast tokenizer is needed for character offsets")
    n_tokens = np.fromiter((len(doc.tokens) for doc in documents), dtype=np.int64, count=len(documents))
    total = int(n_tokens.sum())
    tokens = chain.from_iterable(doc.tokens for doc in documents)
    length = np.fromiter(map(len, tokens), dtype=np.int64, count=total)
    spaces = _flat((doc.trailing_whitespace for doc in documents), bool, total)
    tokens = chain.from_iterable(doc.tokens for doc in documents)
    blank = np.fromiter(map(str.isspace, tokens), dtype=bool, count=total) | (length == 0)
    # Character start of every token in the concatenation of all full_texts (a valid document's
    # full_text is its tokens joined with their trailing whitespace).
    start = _exclusive_cumsum(length + spaces)
    text_start, start = start[_exclusive_cumsum(n_tokens)[:-1]], start[:-1]
    token_starts = _exclusive_cumsum(n_tokens)

    ids, offsets, counts = _tokenize(tokenizer, [doc.full_text for doc in documents])
    subword_starts = _exclusive_cumsum(counts)
    sub_doc = np.repeat(np.arange(len(documents)), counts)
    sub_start = offsets[:, 0] + text_start[sub_doc]
    sub_end = offsets[:, 1] + text_start[sub_doc]

    # Sub-word -> the first non-blank token ending after the sub-word's start, if it starts before its end.
    word = np.flatnonzero(~blank)
    global_token = np.full(len(ids), -1, dtype=np.int64)
    if len(word):
        hit = np.searchsorted(start[word] + length[word], sub_start, side="right")
        candidate = word[np.minimum(hit, len(word) - 1)]
        owned = (hit < len(word)) & (start[candidate] < sub_end)
        global_token[owned] = candidate[owned]
        if np.any(np.diff(candidate[owned]) < 0):
            raise ValueError("tokenizer: sub-word offsets are not in text order")

    # Token -> the non-empty sub-word whose span holds the token's first character.
    token_doc = np.repeat(np.arange(len(documents)), n_tokens)
    cover = np.full(total, -1, dtype=np.int64)
    solid = np.flatnonzero(sub_end > sub_start)
    if len(solid):
        ends = sub_end[solid]
        if np.any(np.diff(ends) < 0):
            raise ValueError("tokenizer: sub-word offsets are not in text order")
        j = np.searchsorted(ends, start, side="right")
        candidate = solid[np.minimum(j, len(solid) - 1)]
        covered = (j < len(solid)) & (sub_start[candidate] <= start) & ~blank
        cover[covered] = candidate[covered] - subword_starts[token_doc[covered]]

    first = global_token >= 0
    first[1:] &= global_token[1:] != global_token[:-1]
    local = np.where(global_token >= 0, global_token - token_starts[sub_doc], -1)
    label_ids = None
    if documents and all(doc.labels is not None for doc in documents):
        labels = chain.from_iterable(doc.labels for doc in documents)
        label_ids = np.fromiter(map(LABEL2ID.__getitem__, labels), dtype=np.int64, count=total)
    return Alignment(ids, offsets, local, first, subword_starts, token_starts, cover, blank, label_ids)


def make_windows(
    alignment: Alignment,
    tokenizer,
    *,
    max_length: int = 512,
    stride: int = 128,
    label_mode: Literal["first", "all"] | None = None,
) -> Windows:
    """Windows of ``max_length`` positions over every document, overlapping by ``stride`` sub-words.

    ``label_mode`` adds training targets: every sub-word of a token gets the token's label (``"all"``) or
    only its first sub-word does (``"first"``); other positions get ``IGNORE_ID``.
    """
    prefix, suffix = special_tokens(tokenizer)
    content = max_length - len(prefix) - len(suffix)
    if not 0 <= stride < content:
        raise ValueError(f"stride: {stride} must be >= 0 and below the {content} sub-words a window holds")
    if label_mode not in (None, "first", "all"):
        raise ValueError(f"label_mode: {label_mode!r} is not one of first | all | None")
    if label_mode is not None and alignment.label_ids is None:
        raise ValueError("label_mode: the documents have no labels")
    n = np.diff(alignment.subword_starts)
    step = content - stride
    per_doc = np.where(n <= content, 1, 1 + -(-(n - content) // step))
    doc = np.repeat(np.arange(len(n)), per_doc)
    k = np.arange(len(doc)) - np.repeat(_exclusive_cumsum(per_doc)[:-1], per_doc)
    n_doc = n[doc]
    begin = np.where(n_doc <= content, 0, np.minimum(k * step, n_doc - content))
    used = np.minimum(n_doc, content)

    pos = np.arange(content)
    valid = pos < used[:, None]
    subword = np.where(valid, alignment.subword_starts[doc][:, None] + begin[:, None] + pos, -1)
    n_windows, p = len(doc), len(prefix)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids = np.full((n_windows, max_length), pad, dtype=np.int64)
    input_ids[:, :p] = prefix
    input_ids[:, p : p + content] = np.where(valid, alignment.input_ids[np.maximum(subword, 0)], pad)
    rows = np.arange(n_windows)
    for i, token_id in enumerate(suffix):
        input_ids[rows, p + used + i] = token_id
    lengths = p + used + len(suffix)
    attention_mask = (np.arange(max_length) < lengths[:, None]).astype(np.int64)
    positions = np.full((n_windows, max_length), -1, dtype=np.int64)
    positions[:, p : p + content] = subword

    labels = None
    if label_mode is not None:
        global_token = alignment.global_token()
        target = np.where(global_token >= 0, alignment.label_ids[np.maximum(global_token, 0)], IGNORE_ID)
        if label_mode == "first":
            target = np.where(alignment.first, target, IGNORE_ID)
        labels = np.where(positions >= 0, target[np.maximum(positions, 0)], IGNORE_ID)
    return Windows(input_ids, attention_mask, positions, labels, doc, lengths, alignment)


def build_windows(
    tokenizer,
    documents: list[Document],
    *,
    max_length: int = 512,
    stride: int = 128,
    label_mode: Literal["first", "all"] | None = None,
) -> Windows:
    """``make_windows(align(tokenizer, documents), ...)``: model inputs for the documents in one call."""
    return make_windows(
        align(tokenizer, documents), tokenizer, max_length=max_length, stride=stride, label_mode=label_mode
    )


def _flat_predictions(window_probs, windows: Windows) -> tuple[np.ndarray, np.ndarray]:
    """(positions' sub-word index, their probabilities) from a (W, L, K) array or W arrays (L_i, K)."""
    if isinstance(window_probs, np.ndarray):
        if window_probs.ndim != 3 or len(window_probs) != len(windows):
            raise ValueError(
                f"window_probs: expected shape ({len(windows)}, length, labels), got {window_probs.shape}"
            )
        length = window_probs.shape[1]
        short = np.flatnonzero(windows.lengths > length)
        if len(short):
            raise ValueError(
                f"window_probs: window {short[0]} needs {windows.lengths[short[0]]} positions, got {length}"
            )
        return windows.subword[:, :length].reshape(-1), window_probs.reshape(-1, window_probs.shape[2])
    if len(window_probs) != len(windows):
        raise ValueError(f"window_probs: expected {len(windows)} windows, got {len(window_probs)}")
    sizes = np.fromiter((len(w) for w in window_probs), dtype=np.int64, count=len(window_probs))
    short = np.flatnonzero(windows.lengths > sizes)
    if len(short):
        raise ValueError(
            f"window_probs: window {short[0]} needs {windows.lengths[short[0]]} positions, got {sizes[short[0]]}"
        )
    taken = np.arange(windows.subword.shape[1]) < np.minimum(sizes, windows.subword.shape[1])[:, None]
    probs = np.concatenate([np.asarray(w)[: windows.subword.shape[1]] for w in window_probs])
    return windows.subword[taken], probs


def aggregate(window_probs, windows: Windows, *, pool: Literal["mean", "first"] = "mean") -> list[np.ndarray]:
    """Per spaCy token probabilities (n_tokens, n_labels) of every document, from per-window predictions.

    ``window_probs`` is (n_windows, length, n_labels) with ``length`` at least each window's length, or a
    list of per-window (length_i, n_labels) arrays, in window order; positions of special tokens and
    padding are ignored. Returns float32 arrays, one per document, rows summing to what the windows' rows
    sum to (1 for probabilities).
    """
    if pool not in ("mean", "first"):
        raise ValueError(f"pool: {pool!r} is not one of mean | first")
    a = windows.alignment
    subword, probs = _flat_predictions(window_probs, windows)
    keep = np.flatnonzero(subword >= 0)
    # Mean over windows per sub-word: occurrences grouped by sub-word (nearly sorted already, so the
    # stable sort is cheap), then one segment sum.
    order = keep[np.argsort(subword[keep], kind="stable")]
    subword = subword[order]
    bounds = np.flatnonzero(np.diff(subword, prepend=-1))
    n_sub, n_tok, n_labels = len(a.token), len(a.blank), probs.shape[1]
    if len(bounds) != n_sub:
        raise ValueError(f"window_probs: predictions cover {len(bounds)} of the {n_sub} sub-words")
    sub_mean = np.zeros((n_sub, n_labels), dtype=np.float32)
    if n_sub:
        sub_mean[:] = np.add.reduceat(probs[order], bounds, axis=0)
        sub_mean /= np.diff(bounds, append=len(subword))[:, None]
    out = np.zeros((n_tok, n_labels), dtype=np.float32)
    # Mean over sub-words per token: a token's sub-words are consecutive, so again one segment sum.
    global_token = a.global_token()
    member = np.flatnonzero((global_token >= 0) & (a.first if pool == "first" else True))
    owner = global_token[member]
    if len(member):
        starts = np.flatnonzero(np.diff(owner, prepend=-1))
        sizes = np.diff(starts, append=len(owner))
        out[owner[starts]] = np.add.reduceat(sub_mean[member], starts, axis=0) / sizes[:, None]
    # Tokens without a sub-word of their own take the covering sub-word's mean.
    has_own = np.zeros(n_tok, dtype=bool)
    has_own[owner] = True
    token_doc = np.repeat(np.arange(a.n_documents), np.diff(a.token_starts))
    borrow = np.flatnonzero(~has_own & (a.cover >= 0))
    out[borrow] = sub_mean[a.cover[borrow] + a.subword_starts[token_doc[borrow]]]
    forced = a.blank | (~has_own & (a.cover < 0))
    out[forced] = 0.0
    out[forced, O_ID] = 1.0  # 'O' is column 0 of both the BIO and the prefix-free label sets
    return np.split(out, a.token_starts[1:-1])
