"""One Bengali text normalisation, applied identically to labels and predictions before WER.

The competition's transcripts were typed by crowd workers: the same word arrives in several Unicode
spellings (``ো`` as one code point or as ``ে`` + ``া``; ``ড়`` precomposed or ``ড`` + nukta; ``উত্স`` for
``উৎস``; repeated folas such as ``গ্র্রাম``; legacy letters like ``ঀ``), and the sentence mark as ``।``,
``|``, ``৷`` (the currency numerator four, which looks the same) or ``॥``. A model that writes another
spelling of the right word is not wrong, so both sides go through :func:`normalize` before the WER, as the
top solutions did with Bengali.AI's own ``bnunicodenormalizer``.

Rules, in order:

1. Marks. The kept marks are :data:`PUNCTUATION`; ``|``, ``॥``, ``৷`` become ``।``; full-width ``？！，``
   become ``?!,``. A ``,`` or ``.`` between two digits is a number separator and is removed (``১,০০০`` ->
   ``১০০০``). Apostrophes (``'`` ``’`` ``‘`` ``ʼ`` `````) are removed inside words; every other punctuation
   or symbol (quotes, brackets, dashes, ``.``, ``;``, ``:``, ``৳``, ``%``, emoji, ...) separates words and
   is dropped; control and format characters other than ZWJ/ZWNJ (which ``bnunicodenormalizer`` handles
   as part of ``র‍্য``) are dropped.
2. Case and digits. Latin letters are lower-cased (case is not audible) and ASCII digits become Bengali
   digits (``2`` and ``২`` are the same spoken number).
3. Words. ``bnunicodenormalizer.Normalizer(allow_english=True, legacy_maps="default")`` on each word:
   broken diacritics and nukta forms, ``ত্`` + consonant -> ``ৎ``, doubled folas and hasantas, legacy
   letters mapped to their look-alikes (``ঀ`` -> ``৭``). English letters are allowed so that a code-switched
   word is kept rather than deleted; characters outside Bengali and ASCII are dropped inside a word.
   When the normaliser returns ``None`` (nothing valid was left, e.g. a word wholly in another script or
   a lone vowel sign), the word is kept as it was if it has a letter or a digit in it (a spoken word the
   label should not lose), and dropped otherwise (stray diacritics, ZWJ, a lone hasanta).
4. Layout. A mark attaches to the word before it (no space before it), one space between words, no
   leading or trailing space. A run of marks after one word keeps the strongest (``?`` > ``!`` > ``।``
   > ``,``), so every word carries at most one mark (what the punctuation model predicts); marks
   before the first word are dropped. ``punctuation=False`` drops every mark.

The result is a fixed point: ``normalize(normalize(t)) == normalize(t)`` (tested), and
``strip_punctuation(normalize(t)) == strip_punctuation(t)``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bnunicodenormalizer import Normalizer

PUNCTUATION = ("।", ",", "?", "!")
DARI = "।"
# A run of marks after one word keeps the strongest: a question stays a question.
_STRENGTH = {"?": 3, "!": 2, "।": 1, ",": 0}
_MAP = str.maketrans(
    {
        "|": DARI,
        "॥": DARI,
        "৷": DARI,
        "？": "?",
        "！": "!",
        "，": ",",
        **dict(zip("0123456789", "০১২৩৪৫৬৭৮৯", strict=True)),
    }
)
_APOSTROPHES = frozenset("'’‘ʼ`´")
_KEEP_FORMAT = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: part of Bengali spelling (র‍্য)
_NUMBER_SEPARATOR = re.compile(r"(?<=[০-৯])[,.](?=[০-৯])")

_normalizer = Normalizer(allow_english=True, legacy_maps="default")


def _char_class(ch: str) -> str:
    """'m' a kept mark, 'w' part of a word, 'x' removed, ' ' a word separator."""
    if ch in _STRENGTH:
        return "m"
    if ch in _APOSTROPHES:
        return "x"
    if ch.isspace():
        return " "
    cat = unicodedata.category(ch)
    if cat[0] in "LMN":
        return "w"
    if cat[0] in "PSZ":
        return " "
    return "w" if ch in _KEEP_FORMAT else "x"  # Cc, Cf, Co, Cn


def _tokens(text: str) -> list[str]:
    """Words and marks of ``text`` after rules 1-2, in order (words not yet normalised)."""
    text = _NUMBER_SEPARATOR.sub("", text.translate(_MAP).lower())
    out, word = [], []
    for ch in text:
        kind = _char_class(ch)
        if kind == "w":
            word.append(ch)
        elif kind == "x":
            continue
        else:
            if word:
                out.append("".join(word))
                word = []
            if kind == "m":
                out.append(ch)
    if word:
        out.append("".join(word))
    return out


@lru_cache(maxsize=200_000)
def normalize_word(word: str) -> str:
    """``bnunicodenormalizer`` on one word (no spaces, no kept marks), repeated until it stops changing;
    ``""`` when the word is to be dropped (see rule 3 of the module docstring)."""
    current = word
    for step in range(4):
        result = _normalizer(current)["normalized"]
        if result is None:
            if step == 0:
                return word if any(unicodedata.category(c)[0] in "LN" for c in word) else ""
            return current
        if result == current:
            return result
        current = result
    return current


def normalize(text: str, punctuation: bool = True) -> str:
    """The normalised form of ``text`` (see the module docstring); ``punctuation=False`` drops the marks."""
    if not isinstance(text, str):
        raise TypeError(f"normalize: expected str, got {type(text).__name__}")
    words: list[str] = []
    marks: list[str] = []  # marks[i]: the mark after words[i], "" for none
    for token in _tokens(text):
        if token in _STRENGTH:
            if punctuation and words and _STRENGTH[token] >= _STRENGTH.get(marks[-1], -1):
                marks[-1] = token
            continue
        word = normalize_word(token)
        if word:
            words.append(word)
            marks.append("")
    return " ".join(w + m for w, m in zip(words, marks, strict=True))


def strip_punctuation(text: str) -> str:
    """``normalize(text, punctuation=False)``: the text that the acoustic model and the LM see."""
    return normalize(text, punctuation=False)


def end_with_dari(text: str) -> str:
    """``text`` normalised, with a dari after its last word unless it already ends in a mark: the rule a
    practitioner applies before any punctuation model (an early public notebook gained 0.009 with it)."""
    text = normalize(text)
    return text if not text or text[-1] in PUNCTUATION else text + DARI
