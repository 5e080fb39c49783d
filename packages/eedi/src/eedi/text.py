"""Query and document texts for the retrievers and rerankers.

A query is one (question, wrong answer) row: its construct, subject, question, correct and incorrect
answer, one per line, so that the model sees which answer is wrong and what it was meant to be (the
misconception is the step from one to the other). A document is the misconception name. The LaTeX
inline delimiters ``\\(`` ``\\)`` ``\\[`` ``\\]`` are removed with their content kept (they are noise to a
tokenizer) and whitespace is collapsed to single spaces.
"""

from __future__ import annotations

import re

import pandas as pd

QUERY_COLUMNS = ("ConstructName", "SubjectName", "QuestionText", "CorrectAnswerText", "AnswerText")
_DELIMITERS = re.compile(r"\\[()\[\]]")
_SPACE = re.compile(r"\s+")


def clean(text) -> str:
    """``text`` without LaTeX inline delimiters, whitespace collapsed; a missing value gives ""."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return _SPACE.sub(" ", _DELIMITERS.sub(" ", str(text))).strip()


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}")


def query_texts(long: pd.DataFrame, explanations: pd.Series | None = None) -> list[str]:
    """One query per row of a long frame. ``explanations``, indexed by ``QuestionId_Answer`` (the CoT
    cache's key), adds a "Why:" line to the rows it has a non-empty text for."""
    _require(long, QUERY_COLUMNS, "query rows")
    construct, subject, question, correct, wrong = (long[c].map(clean).astype(str) for c in QUERY_COLUMNS)
    texts = (
        "Construct: " + construct + "\nSubject: " + subject + "\nQuestion: " + question
        + "\nCorrect answer: " + correct + "\nIncorrect answer: " + wrong
    ).tolist()  # fmt: skip
    if explanations is None:
        return texts
    _require(long, ["QuestionId_Answer"], "query rows with explanations")
    if not explanations.index.is_unique:
        raise ValueError("explanations: the QuestionId_Answer index has duplicates")
    why = explanations.reindex(long["QuestionId_Answer"].to_numpy()).map(clean).tolist()
    return [f"{t}\nWhy: {w}" if w else t for t, w in zip(texts, why, strict=True)]


def doc_texts(misconceptions: pd.DataFrame) -> list[str]:
    """One document per misconception, in the frame's order: its cleaned name."""
    _require(misconceptions, ["MisconceptionName"], "misconceptions")
    return misconceptions["MisconceptionName"].map(clean).tolist()
