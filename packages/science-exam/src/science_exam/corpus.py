"""Split articles into passages for retrieval: by paragraph, or by overlapping windows of whole sentences.

Both modes keep sentences whole, so an evidence sentence of an article is found verbatim inside the
passage(s) that hold it. Paragraphs are separated by blank lines. The sentence splitter ends a sentence
at ``.``, ``!`` or ``?`` followed by whitespace and a capital letter, a digit or an opening quote, except
after a known abbreviation (``Dr.``, ``St.``, ``e.g.``, ``approx.`` ...) or a single capital initial
(``J. Smith``); a decimal point (``1.5 g``) is never followed by whitespace, so it never ends one.
"""

from __future__ import annotations

import re

import pandas as pd

ABBREVIATIONS = frozenset((
    "dr", "prof", "mr", "mrs", "ms", "st", "mt", "ft", "no", "nos", "vs", "etc", "e.g", "i.e", "approx", "ca", "c",
    "cf", "al", "fig", "figs", "jr", "sr", "vol", "pp", "ed", "eds", "inc", "ltd", "co", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
))  # fmt: skip
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n")


def split_paragraphs(text: str) -> list[str]:
    """The non-empty paragraphs of ``text``, stripped (split on blank lines)."""
    return [p.strip() for p in _PARAGRAPH.split(text) if p.strip()]


def _abbreviation_before(text: str, end: int) -> bool:
    """Whether the word ending at the full stop ``text[end]`` is an abbreviation or an initial."""
    words = text[:end].split()
    if not words:
        return False
    word = words[-1].lstrip("([\"'")
    return word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper())


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (one paragraph or more), each a verbatim, stripped substring."""
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        if text[match.start()] == "." and _abbreviation_before(text, match.start()):
            continue
        end = match.end() - (len(match.group()) - len(match.group().rstrip()))
        sentences.append(text[start:end].strip())
        start = match.end()
    tail = text[start:].strip()
    return [s for s in (*sentences, tail) if s]


def _windows(n: int, window: int, overlap: int) -> list[tuple[int, int]]:
    """``[start, stop)`` windows over ``n`` sentences, ``window - overlap`` apart; the last one reaches
    the end and none lies inside the one before."""
    spans: list[tuple[int, int]] = []
    start = 0
    while start < n:
        spans.append((start, min(start + window, n)))
        if start + window >= n:
            break
        start += window - overlap
    return spans


def chunk(articles: pd.DataFrame, mode: str = "paragraph", window: int = 3, overlap: int = 1) -> pd.DataFrame:
    """Passages of ``articles`` (``title, text``): ``passage_id`` (0..n-1), ``title``, ``text``, ``article``
    (the article's row). ``mode="paragraph"``: one passage per paragraph. ``mode="sentences"``: windows of
    ``window`` sentences of the article, consecutive windows sharing ``overlap`` sentences."""
    if mode not in ("paragraph", "sentences"):
        raise ValueError(f"mode={mode!r}: expected 'paragraph' or 'sentences'")
    if mode == "sentences" and not (window >= 1 and 0 <= overlap < window):
        raise ValueError(f"window={window}, overlap={overlap}: need window >= 1 and 0 <= overlap < window")
    rows = []
    for article, (title, text) in enumerate(zip(articles["title"], articles["text"], strict=True)):
        paragraphs = split_paragraphs(text)
        if mode == "paragraph":
            rows.extend((title, p, article) for p in paragraphs)
            continue
        sentences = [s for p in paragraphs for s in split_sentences(p)]
        rows.extend(
            (title, " ".join(sentences[a:b]), article) for a, b in _windows(len(sentences), window, overlap)
        )
    passages = pd.DataFrame(rows, columns=["title", "text", "article"])
    passages.insert(0, "passage_id", range(len(passages)))
    return passages.astype({"passage_id": "int64", "article": "int64"})
