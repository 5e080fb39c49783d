r"""Answer extraction and voting for AIMO2, where every answer is an integer in 0..999.

The top solutions (NemoSkills, Fast-Math-R1) sample many solutions per problem, read the integer in the
last ``\boxed{}`` of each, and return the most common one, stopping early once enough samples agree.
A sample whose box cannot be read as an integer casts no vote, so the parser is strict: it accepts the
spellings models really use for an integer (separators, units, integral fractions, powers) and nothing
that needs guessing. It is a hand-written parser over exact fractions, so no model text is ever evaluated.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

__all__ = ["EarlyStopVoter", "extract_answer", "extract_boxed", "majority_vote", "parse_integer_answer"]

_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{")

# Wrappers around text or roman letters; as a trailing group with letters they hold a unit ("\text{ cm}").
_WRAPPER = r"\\(?:text|textrm|textbf|mathrm|mathbf|mbox|operatorname)\s*\{"
_UNIT = re.compile(rf"^(?P<value>.*\S)\s*{_WRAPPER}[^{{}}]*[A-Za-z][^{{}}]*\}}$")
_UNWRAP = re.compile(rf"{_WRAPPER}([^{{}}]*)\}}")
_TRAILING_WORDS = re.compile(r"(?<=[\d}])\s+[A-Za-z][A-Za-z\s]*$")  # "42 apples"
_VARIABLE = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*=")  # "n = 42"; "n=5, m=6" stays unparseable
_THOUSANDS = re.compile(r"(?<=\d)[, ](?=\d{3}(?!\d))")
_TOKEN = re.compile(r"\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d{1,4})?|\.\d+|\\[A-Za-z]+|[-+*/^(){}])")

# Removed in this order ("\\$" before "$"): delimiters, spacing and signs that never change the value.
_REMOVED = (
    *("\\displaystyle", "\\left", "\\right", "\\(", "\\)", "\\[", "\\]", "\\!", "\\$", "$"),
    *("^{\\circ}", "^\\circ", "\\circ", "\\%", "%"),
)
_SPACES = ("\\,", "\\;", "\\:", "\\ ", "~")
_FRACTIONS = {"\\frac", "\\dfrac", "\\tfrac"}
_MULTIPLY = {"*", "\\times", "\\cdot"}
_DIVIDE = {"/", "\\div"}
_MAX_POWER_BITS = 1 << 16  # bounds b * log2(a) in a^b, so "10^{10^{9}}" is refused instead of computed


def extract_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{...}`` (or ``\fbox{...}``), braces balanced; None if absent.

    A last box whose braces never close (a generation cut off mid-answer) gives None rather than an
    earlier box, since the model had moved on from that earlier answer.
    """
    openings = list(_BOX_OPEN.finditer(text))
    if not openings:
        return None
    opening = openings[-1]
    depth, i = 1, opening.end()
    while i < len(text):
        char = text[i]
        if char == "\\":  # an escaped brace such as \{ does not open or close a group
            i += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[opening.end() : i].strip()
        i += 1
    return None


def parse_integer_answer(content: str) -> int | None:
    r"""The integer written in a box's content, reduced mod 1000; None if it is not an integer.

    ``\frac{6}{3}``, ``12.0`` and ``10^{3}`` are integers; ``\frac{1}{2}`` and ``12.5`` are not.
    Negative integers are reduced the Python way (-1 -> 999): the competition promises answers in
    0..999, and this keeps the vote well defined when a model breaks that promise.
    """
    tokens = _tokenize(_normalize(content))
    if tokens is None:
        return None
    try:
        value = _Parser(tokens).parse()
    except (_ParseError, ZeroDivisionError, RecursionError):  # RecursionError: degenerate "((((..." loops
        return None
    return value.numerator % 1000 if value.denominator == 1 else None


def extract_answer(text: str) -> int | None:
    """The integer answer of a generation (mod 1000), or None when its last box holds no integer."""
    content = extract_boxed(text)
    return None if content is None else parse_integer_answer(content)


def majority_vote(answers: Sequence[int | None], *, weights: Sequence[float] | None = None) -> int | None:
    """Most voted answer; None answers and zero weights cast no vote; None when nobody voted.

    Weights (e.g. per-sample confidences) are summed instead of counting one vote per sample. A tie is
    won by the answer that reached the winning total first, i.e. whose last vote came earliest: with
    samples listed in completion order, that is the answer an early stop would have returned.
    """
    if weights is None:
        weights = [1.0] * len(answers)
    elif len(weights) != len(answers):
        raise ValueError(f"weights has {len(weights)} entries but there are {len(answers)} answers")
    totals: dict[int, float] = {}
    last_vote: dict[int, int] = {}
    for i, (answer, weight) in enumerate(zip(answers, weights, strict=True)):
        weight = float(weight)
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"weights must be finite and >= 0, got {weight} at position {i}")
        if answer is not None and weight > 0:
            totals[answer] = totals.get(answer, 0.0) + weight
            last_vote[answer] = i
    if not totals:
        return None
    best = max(totals.values())
    tied = [answer for answer, total in totals.items() if math.isclose(total, best, rel_tol=1e-9)]
    return min(tied, key=last_vote.__getitem__)


class EarlyStopVoter:
    """Majority vote over samples arriving one at a time, saying when more samples would not help.

    Sampling stops once the leading answer has ``min_agree`` votes and leads the runner-up by
    ``margin``, or after ``max_samples`` samples: agreeing samples are strong evidence, and the time
    saved goes to harder problems under the competition's fixed time budget.
    """

    def __init__(self, min_agree: int, *, margin: int = 1, max_samples: int | None = None) -> None:
        if min_agree < 1:
            raise ValueError(f"min_agree must be >= 1, got {min_agree}")
        if margin < 1:
            raise ValueError(f"margin must be >= 1 so that the leader is unique, got {margin}")
        if max_samples is not None and max_samples < min_agree:
            raise ValueError(
                f"max_samples={max_samples} < min_agree={min_agree}: agreement could never stop it"
            )
        self.min_agree = min_agree
        self.margin = margin
        self.max_samples = max_samples
        self._answers: list[int | None] = []
        self._counts: Counter[int] = Counter()
        self._stopped = False

    def add(self, answer: int | None) -> bool:
        """Record one sample's answer (None if it had none); True once voting can stop."""
        if self._stopped:
            raise RuntimeError("voting has already stopped; start a new EarlyStopVoter for the next problem")
        self._answers.append(answer)
        if answer is not None:
            self._counts[answer] += 1
        top = [count for _, count in self._counts.most_common(2)] + [0, 0]
        agreed = top[0] >= self.min_agree and top[0] - top[1] >= self.margin
        self._stopped = agreed or (self.max_samples is not None and self.n_seen >= self.max_samples)
        return self._stopped

    @property
    def answer(self) -> int | None:
        """The current majority answer, ties broken as in :func:`majority_vote`."""
        return majority_vote(self._answers)

    @property
    def counts(self) -> dict[int, int]:
        """Votes per answer so far."""
        return dict(self._counts)

    @property
    def n_seen(self) -> int:
        """Samples added so far, including those without an answer."""
        return len(self._answers)

    @property
    def stopped(self) -> bool:
        return self._stopped


def _normalize(content: str) -> str:
    """Strip the decoration around a number: math delimiters, units, separators, a variable name."""
    text = content.replace("\u2212", "-")  # unicode minus
    for removed in _REMOVED:
        text = text.replace(removed, "")
    text = _VARIABLE.sub("", text.strip(), count=1).strip()
    if unit := _UNIT.match(text):
        text = unit["value"]
    while (unwrapped := _UNWRAP.sub(r"\1", text)) != text:
        text = unwrapped
    text = _TRAILING_WORDS.sub("", text.replace("{,}", ",").strip())
    for space in _SPACES:
        text = text.replace(space, " ")
    return _THOUSANDS.sub("", text.strip()).rstrip(".")


def _tokenize(text: str) -> list[str] | None:
    """Numbers, LaTeX commands and operator characters; None on anything else."""
    tokens, pos = [], 0
    while match := _TOKEN.match(text, pos):
        tokens.append(match[1])
        pos = match.end()
    return tokens if text[pos:].strip() == "" else None


class _ParseError(Exception):
    pass


class _Parser:
    r"""Recursive descent over exact fractions, for the grammar

    expr := [+|-] term;  term := power ((* | \times | \cdot | / | \div) power)*;
    power := atom [^ atom];  atom := number | \frac arg arg | ( expr ) | { expr }.
    Sums are deliberately absent: "3+4" in a box is not an answer.
    """

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> Fraction:
        value = self._expr()
        if self._peek() is not None:
            raise _ParseError(f"unexpected {self._peek()!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise _ParseError("unexpected end")
        self.pos += 1
        return token

    def _expr(self) -> Fraction:
        if self._peek() in ("+", "-"):
            return -self._term() if self._take() == "-" else self._term()
        return self._term()

    def _term(self) -> Fraction:
        value = self._power()
        while (op := self._peek()) in _MULTIPLY or op in _DIVIDE:
            self._take()
            value = value * self._power() if op in _MULTIPLY else value / self._power()
        return value

    def _power(self) -> Fraction:
        base = self._atom()
        if self._peek() != "^":
            return base
        self._take()
        exponent = self._atom()
        bits = max(base.numerator.bit_length(), base.denominator.bit_length())
        if exponent.denominator != 1 or abs(exponent.numerator) * bits > _MAX_POWER_BITS:
            raise _ParseError("exponent is not an integer or the power is too large")
        return base**exponent.numerator

    def _atom(self) -> Fraction:
        token = self._take()
        if token in _FRACTIONS:
            numerator = self._frac_argument()
            return numerator / self._frac_argument()
        if token in ("(", "{"):
            value = self._expr()
            if self._take() != {"(": ")", "{": "}"}[token]:
                raise _ParseError("unbalanced group")
            return value
        if token[0].isdigit() or token[0] == ".":
            return Fraction(token)
        raise _ParseError(f"unexpected {token!r}")

    def _frac_argument(self) -> Fraction:
        token = self._peek()
        if token is not None and token.isdigit() and len(token) > 1:  # TeX reads \frac12 as \frac{1}{2}
            self.tokens[self.pos] = token[1:]
            return Fraction(token[0])
        return self._atom()
