"""The hand-made features of the §7.5 LightGBM baseline: how long a summary is, how much of the prompt's
wording it reuses, how much it copies verbatim, how it spells and how hard it reads.

These are the features the public notebooks and the top write-ups fed to LightGBM: ``content`` follows what
a summary takes from the passage (n-gram overlap), ``wording`` follows copying, spelling and length.

Words (for everything but readability) are ``tokenize``'s: the text lower-cased, ``’`` read as ``'``, and
the runs of letters or digits matched by ``[^\\W_]+(?:'[^\\W_]+)*`` (so ``don't`` is one word). Readability
follows ``textstat`` 0.7.3 exactly, with its own word, syllable (pyphen) and sentence counts.

Speed: features are computed for the whole frame at once, not row by row. Every word of every summary,
prompt text and question gets an integer id; an n-gram's id is the factorised pair (its (n-1)-gram's id,
its last word's id), so n-grams of all summaries are matched against their own prompt's n-grams with one
``np.isin`` per n. The longest copied span grows n one step at a time over only the summary positions
whose n-gram is still in the prompt (and the prompt positions that still match one), until none is left.
The spell checker and the syllable counter run once per distinct word; the readability formulas are
numpy over the counts, with textstat's rounding. ``benchmarks/features.py`` checks the values against a
plain per-row version and measures the speed-up.
"""

from __future__ import annotations

import functools
import re
from itertools import chain

import numpy as np
import pandas as pd
import textstat  # after commonlit's quiet_imports, which silences its pkg_resources warning

COLUMNS = ("text", "prompt_id", "prompt_text", "prompt_question")
COPY_MIN = 4  # a word is "copied" when it lies in a run of >= COPY_MIN words found verbatim in the prompt
OVERLAP_N = (1, 2, 3)
QUESTION_N = (1, 2)
READABILITY = (
    "flesch_reading_ease",
    "flesch_kincaid_grade",
    "coleman_liau_index",
    "automated_readability_index",
)

FEATURES: tuple[str, ...] = (
    "n_chars",  # characters of the raw text
    "n_words",  # tokenize's words
    "n_sentences",  # textstat.sentence_count (sentences of > 2 words, at least 1)
    "unique_ratio",  # distinct words / words
    "mean_word_len",  # mean characters per word
    *(
        f"prompt_share_{n}" for n in OVERLAP_N
    ),  # distinct summary n-grams found in the prompt text / all of them
    *(f"prompt_count_{n}" for n in OVERLAP_N),  # distinct summary n-grams found in the prompt text
    *(f"question_share_{n}" for n in QUESTION_N),  # the same share against the prompt question
    "longest_copied_span",  # longest run of consecutive summary words found verbatim in the prompt text
    "copied_ratio",  # share of summary words inside a verbatim run of >= COPY_MIN words
    "spelling_errors",  # words neither in pyspellchecker's English dictionary nor in this prompt's text
    "spelling_error_ratio",  # spelling_errors / words
    *READABILITY,  # textstat's values
)

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# textstat 0.7.3's own definitions (remove_punctuation with rm_apostrophe=True, sentence_count)
_PUNCT = re.compile(r"[^\w\s]")
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*", re.UNICODE)
_SPACE = re.compile(r"\s")


def tokenize(text: str) -> list[str]:
    """The words of ``text``: lower-cased runs of letters/digits, inner apostrophes kept."""
    return WORD.findall(text.lower().replace("’", "'"))


def extract(frame: pd.DataFrame) -> pd.DataFrame:
    """The FEATURES of every row of ``frame`` (columns text, prompt_id, prompt_text, prompt_question).

    Returns float64 columns FEATURES with ``frame``'s index and row order. Each prompt is read from the first
    row of its ``prompt_id``. A summary without words gets 0 for every feature (textstat alone would give
    it a Flesch reading ease of 206.84).
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"features.extract: the frame has no column {', '.join(map(repr, missing))}")
    texts = frame["text"].fillna("").astype(str).tolist()
    row_prompt = pd.factorize(frame["prompt_id"].astype(str))[0]
    first = np.unique(row_prompt, return_index=True)[1]  # each prompt's first row, in prompt-code order
    prompts = frame["prompt_text"].iloc[first].fillna("").astype(str).tolist()
    questions = frame["prompt_question"].iloc[first].fillna("").astype(str).tolist()

    words = _Words([tokenize(t) for t in texts], [tokenize(p) for p in prompts],
                   [tokenize(q) for q in questions], row_prompt)  # fmt: skip
    out = {"n_chars": np.array([len(t) for t in texts], dtype=np.float64)}
    n_words = words.n_summary_words()
    out["n_words"] = n_words.astype(np.float64)
    out["unique_ratio"] = _ratio(words.distinct_summary_ngrams(1)[0], n_words)
    out["mean_word_len"] = _ratio(
        np.bincount(words.row, words.lengths.astype(np.float64), len(texts)), n_words
    )
    for n in OVERLAP_N:
        shared, total = words.shared_ngrams(n, words.PROMPT)
        out[f"prompt_share_{n}"] = _ratio(shared, total)
        out[f"prompt_count_{n}"] = shared.astype(np.float64)
    for n in QUESTION_N:
        out[f"question_share_{n}"] = _ratio(*words.shared_ngrams(n, words.QUESTION))
    longest, in_prompt, copied = words.copying()
    out["longest_copied_span"] = longest.astype(np.float64)
    out["copied_ratio"] = _ratio(np.bincount(words.row, copied.astype(np.float64), len(texts)), n_words)
    unknown = _unknown_words(words.vocabulary)
    error = unknown[words.ids[: words.n_summary]] & ~in_prompt
    errors = np.bincount(words.row, error.astype(np.float64), len(texts))
    out["spelling_errors"] = errors
    out["spelling_error_ratio"] = _ratio(errors, n_words)
    out.update(_readability(texts))

    result = pd.DataFrame({name: out[name] for name in FEATURES}, index=frame.index, dtype=np.float64)
    result.loc[n_words == 0, :] = 0.0
    return result


class _Words:
    """Every word of the summaries, then of the prompt texts, then of the questions, as one id array.

    ``doc_end[p]`` is where position ``p``'s document ends (exclusive), so an n-gram starting at ``p`` exists
    when ``p + n <= doc_end[p]``; ``group[p]`` is the prompt the position belongs to (a summary's own prompt).
    A key ``group * width + n-gram id`` matches an n-gram within one prompt's documents only.
    """

    SUMMARY, PROMPT, QUESTION = 0, 1, 2

    def __init__(self, summaries: list[list[str]], prompts: list[list[str]], questions: list[list[str]],
                 row_prompt: np.ndarray):  # fmt: skip
        docs = summaries + prompts + questions
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        flat = list(chain.from_iterable(docs))
        self.ids, self.vocabulary = _factorize(flat)
        self.n_rows = len(summaries)
        self.row_prompt = np.asarray(row_prompt, dtype=np.int64)
        doc = np.repeat(np.arange(len(docs)), lengths)
        self.doc_end = np.repeat(np.cumsum(lengths), lengths)
        n_prompts = len(prompts)
        self.group = np.concatenate([self.row_prompt, np.arange(n_prompts), np.arange(n_prompts)])[doc]
        kinds = np.repeat([self.SUMMARY, self.PROMPT, self.QUESTION], [len(summaries), n_prompts, n_prompts])
        self.kind = kinds[doc]
        self.n_summary = int(lengths[: len(summaries)].sum())  # summary positions come first: 0..n_summary-1
        self.row = doc[: self.n_summary]
        self.lengths = np.fromiter(map(len, flat[: self.n_summary]), dtype=np.int64, count=self.n_summary)
        self._levels = {1: (np.arange(len(self.ids)), self.ids)}
        self._distinct: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def n_summary_words(self) -> np.ndarray:
        return np.bincount(self.row, minlength=self.n_rows)

    def ngrams(self, n: int) -> tuple[np.ndarray, np.ndarray, int]:
        """(start positions, ids, id bound) of every n-gram inside a document; ids are shared by all documents."""
        if n not in self._levels:
            self._levels[n] = self._extend(*self.ngrams(n - 1)[:2], n)
        pos, codes = self._levels[n]
        return pos, codes, int(codes.max(initial=0)) + 1

    def _extend(self, pos: np.ndarray, codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram ids at ``pos`` from their (n-1)-gram prefixes' ``codes``, for the n-grams that fit."""
        fits = pos + n <= self.doc_end[pos]
        pos, codes = pos[fits], codes[fits]
        pairs = codes * (len(self.vocabulary) + 1) + self.ids[pos + n - 1]
        return pos, pd.factorize(pairs)[0].astype(np.int64)

    def distinct_summary_ngrams(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(count per row, row, key) of the distinct n-grams of each row."""
        if n not in self._distinct:
            pos, codes, width = self.ngrams(n)
            summary = pos < self.n_summary
            pairs = pd.unique(self.row[pos[summary]] * width + codes[summary])
            rows = pairs // width
            keys = self.row_prompt[rows] * width + pairs % width
            self._distinct[n] = np.bincount(rows, minlength=self.n_rows), rows, keys
        return self._distinct[n]

    def shared_ngrams(self, n: int, kind: int) -> tuple[np.ndarray, np.ndarray]:
        """(shared, total) per row: distinct n-grams of the row found in its prompt's ``kind`` document, and all."""
        total, rows, keys = self.distinct_summary_ngrams(n)
        pos, codes, width = self.ngrams(n)
        target = self.kind[pos] == kind
        shared = np.isin(keys, self.group[pos[target]] * width + codes[target])
        return np.bincount(rows, shared.astype(np.float64), self.n_rows), total

    def copying(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(longest verbatim run per row, summary words found in the prompt text, words in a run >= COPY_MIN).

        Grows n from 1 over the summary n-grams still found in the prompt text and the prompt n-grams that
        still match one of them: a row's longest run is the last n at which it has a match.
        """
        s_pos = np.arange(self.n_summary)
        p_pos = np.flatnonzero(self.kind == self.PROMPT)
        s_code, p_code = self.ids[s_pos], self.ids[p_pos]
        longest = np.zeros(self.n_rows, dtype=np.int64)
        in_prompt = copied = np.zeros(self.n_summary, dtype=bool)
        for n in range(1, self.n_summary + 2):
            width = int(max(s_code.max(initial=0), p_code.max(initial=0))) + 1
            s_key, p_key = self.group[s_pos] * width + s_code, self.group[p_pos] * width + p_code
            hit = np.isin(s_key, p_key)
            s_pos, s_code = s_pos[hit], s_code[hit]
            if n == 1:
                in_prompt = hit
            if n == COPY_MIN:  # each copied window covers its COPY_MIN words
                covered = np.zeros(self.n_summary + COPY_MIN, dtype=bool)
                for k in range(COPY_MIN):
                    covered[s_pos + k] = True
                copied = covered[: self.n_summary]
            if not s_pos.size:
                break
            longest[self.row[s_pos]] = n
            keep = np.isin(p_key, s_key[hit])
            pos, codes = self._extend(
                np.concatenate([s_pos, p_pos[keep]]), np.concatenate([s_code, p_code[keep]]), n + 1
            )
            split = int(np.searchsorted(pos, self.n_summary))
            s_pos, s_code, p_pos, p_code = pos[:split], codes[:split], pos[split:], codes[split:]
        return longest, in_prompt, copied


def _factorize(words: list[str]) -> tuple[np.ndarray, list[str]]:
    """(id of each word, the distinct words in order of first appearance)."""
    if not words:
        return np.zeros(0, dtype=np.int64), []
    ids, vocabulary = pd.factorize(np.array(words, dtype=object))
    return ids.astype(np.int64), list(vocabulary)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator as float64, 0 where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


@functools.cache
def _spell_checker():
    from spellchecker import SpellChecker

    return SpellChecker(language="en")


def _unknown_words(vocabulary: list[str]) -> np.ndarray:
    """Per word id: True when pyspellchecker's English dictionary lacks the word (numbers are known)."""
    unknown = _spell_checker().unknown(vocabulary)
    return np.array([word in unknown for word in vocabulary], dtype=bool)


def _legacy_round(x: np.ndarray, points: int) -> np.ndarray:
    """textstat's ``_legacy_round``: half away from zero, in the same float operations."""
    p = 10**points
    return np.floor(x * p + np.copysign(0.5, x)) / p


def _readability(texts: list[str]) -> dict[str, np.ndarray]:
    """textstat 0.7.3's sentence count and READABILITY scores, from per-text counts (syllables per distinct word)."""
    n = len(texts)
    words, letters, chars, sentences = (np.zeros(n, dtype=np.float64) for _ in range(4))
    lowered: list[list[str]] = []
    for i, text in enumerate(texts):
        stripped = _PUNCT.sub("", text).split()
        words[i] = len(stripped)
        letters[i] = sum(map(len, stripped))
        chars[i] = len(text) - len(_SPACE.findall(text))
        long_ones = sum(len(_PUNCT.sub("", s).split()) > 2 for s in _SENTENCE.findall(text))
        sentences[i] = max(1, long_ones)
        lowered.append(_PUNCT.sub("", text.lower()).split())
    codes, vocabulary = _factorize(list(chain.from_iterable(lowered)))
    per_word = np.array([textstat.syllable_count(w) for w in vocabulary], dtype=np.float64)
    rows = np.repeat(np.arange(n), [len(w) for w in lowered])
    syllables = np.bincount(rows, per_word[codes], n)

    asl = _legacy_round(_ratio(words, sentences), 1)  # avg_sentence_length
    spw = _legacy_round(_ratio(syllables, words), 1)  # avg_syllables_per_word
    letters_pw = _legacy_round(_legacy_round(_ratio(letters, words), 2) * 100, 2)
    sentences_pw = _legacy_round(_legacy_round(_ratio(sentences, words), 2) * 100, 2)
    return {
        "n_sentences": sentences,
        "flesch_reading_ease": _legacy_round(206.835 - 1.015 * asl - 84.6 * spw, 2),
        "flesch_kincaid_grade": _legacy_round(0.39 * asl + 11.8 * spw - 15.59, 1),
        "coleman_liau_index": _legacy_round(0.058 * letters_pw - 0.296 * sentences_pw - 15.8, 2),
        "automated_readability_index": _legacy_round(
            4.71 * _legacy_round(_ratio(chars, words), 2)
            + 0.5 * _legacy_round(_ratio(words, sentences), 2)
            - 21.43,
            1,
        ),
    }
