"""Prompt kinds and the two responses to each prompt, every response scored by the properties a judge sees.

A prompt asks one thing with a known answer: a fact of the table in :mod:`languages` (a capital, a
chemical symbol, a count) or a small sum, sometimes with a format instruction ("Answer in JSON."). A
response is described by a :class:`Spec` (its language, whether its answer is right, the format it uses
and its style) and scored by four properties, each visible on the surface of the text:

- ``correct``: the answer it states is the right one (a curt refusal states none);
- ``language``: it is written in the prompt's language;
- ``format``: it follows the prompt's format instruction (always true when there is none);
- ``length``: it is neither a curt refusal nor a bloated, repetitive one.

The quality of a response is ``sum(WEIGHTS[p] for p true)``. Each prompt *kind* makes the two responses
differ in one property (its key): ``facts`` and ``arithmetic`` in ``correct``, ``format`` in
``format``, ``language`` in ``language``, ``length`` in ``length``. Most pairs are controlled contrasts:
both responses are drawn from the same wording (the same sentence, closing and filler), so they differ
in that property alone, as when an arena user compares two answers that say the same thing and one of
them slips. A pair may also differ in a second property, pointing either way (right language and wrong
fact against wrong language and right fact), or in none at all (equal quality, different wording, where
only the position bias decides). A tiny LM fine-tuned on a few hundred mixed pairs learnt none of the
properties; one clean contrast at a time it learns the surface ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np

from wsdm.sample.languages import (
    CAPITALS,
    CLOSINGS,
    CONTEXT,
    COUNTS,
    FILLERS,
    NAMES,
    PHRASES,
    SEPARATOR,
    SYMBOLS,
)

KINDS = ("facts", "format", "language", "length", "arithmetic")
FORMATS = ("list", "word", "json")
WEIGHTS = {"correct": 1.0, "language": 1.2, "format": 0.9, "length": 0.8}
# the properties a second difference may touch, by kind (never the kind's own key)
SECONDARY = {
    "facts": ("language", "length"),
    "format": ("correct", "language"),
    "language": ("correct", "length"),
    "length": ("language",),
    "arithmetic": ("language",),
}
_COUNT_VALUES = sorted({value for _, value in COUNTS}, key=int)
# characters per token of a 4000-token byte-level BPE trained on the sample's own text (measured), to size
# the long fields; the repeated phrases merge into long tokens, Devanagari least
_CHARS_PER_TOKEN = {
    "English": 4.3,
    "Spanish": 4.7,
    "Russian": 4.8,
    "Chinese": 3.6,
    "Arabic": 3.9,
    "Hindi": 1.55,
    "Japanese": 4.6,
}


@dataclass(frozen=True)
class Query:
    """What a prompt asks: fact ``index`` of ``relation`` (capital, symbol, count) or the sum of
    ``terms``; ``want`` is the requested format (``None``: no instruction)."""

    relation: str
    index: int = -1
    terms: tuple[int, int] = (0, 0)
    want: str | None = None

    @property
    def right(self) -> object:
        """The key of the right answer: a fact index, a count's value or the sum."""
        if self.relation == "sum":
            return sum(self.terms)
        return COUNTS[self.index][1] if self.relation == "count" else self.index

    def wrong(self, rng: np.random.Generator) -> object:
        """The key of a wrong answer from the same table (a near miss for a sum)."""
        if self.relation == "sum":
            return self.right + int(rng.choice((-10, -2, -1, 1, 2, 10)))
        pool = (
            _COUNT_VALUES
            if self.relation == "count"
            else list(range(len(CAPITALS if self.relation == "capital" else SYMBOLS)))
        )
        choices = [key for key in pool if key != self.right]
        return choices[int(rng.integers(len(choices)))]

    def answer(self, language: str, key: object) -> str:
        if self.relation == "capital":
            return CAPITALS[key][1][language]
        return SYMBOLS[key][1] if self.relation == "symbol" else str(key)

    def ask(self, language: str) -> str:
        if self.relation == "sum":
            text = PHRASES["ask_sum"][language].format(a=self.terms[0], b=self.terms[1])
        elif self.relation == "count":
            text = COUNTS[self.index][0][language]
        else:
            table = CAPITALS if self.relation == "capital" else SYMBOLS
            text = PHRASES[f"ask_{self.relation}"][language].format(x=table[self.index][0][language])
        return (
            text if self.want is None else text + SEPARATOR[language] + PHRASES[f"want_{self.want}"][language]
        )

    def state(self, language: str, key: object) -> str:
        """The answer as a sentence that names what was asked, so it can be judged without the prompt."""
        y = self.answer(language, key)
        if self.relation == "sum":
            return f"{self.terms[0]} + {self.terms[1]} = {y}."
        if self.relation == "count":
            return PHRASES["state_answer"][language].format(y=y)
        table = CAPITALS if self.relation == "capital" else SYMBOLS
        return PHRASES[f"state_{self.relation}"][language].format(x=table[self.index][0][language], y=y)


@dataclass(frozen=True)
class Spec:
    """One response: its language, whether its answer is right, its format (plain, list, word, json) and
    its style (normal, curt: a refusal; bloated: repetitive; long: long reasoning before the answer)."""

    language: str
    correct: bool = True
    format: str = "plain"
    style: str = "normal"


def properties(spec: Spec, language: str, want: str | None) -> dict[str, bool]:
    """The four judged properties of a response to a prompt in ``language`` that asked for ``want``."""
    answered = spec.style != "curt"
    return {
        "correct": spec.correct and answered,
        "language": spec.language == language,
        "format": want is None or (spec.format == want and answered),
        "length": spec.style in ("normal", "long"),
    }


def quality(spec: Spec, language: str, want: str | None) -> float:
    return round(sum(WEIGHTS[name] for name, ok in properties(spec, language, want).items() if ok), 6)


def _numbers(template: str, rng: np.random.Generator) -> str:
    return template.format(n=int(rng.integers(2, 400)), year=int(rng.integers(1950, 2024)))


def _pick(items: list[str], rng: np.random.Generator) -> str:
    return items[int(rng.integers(len(items)))]


def paragraphs(pool: list[str], language: str, chars: int, rng: np.random.Generator) -> str:
    """Sentences of ``pool`` (numbers filled in) in paragraphs of 3-6 until about ``chars`` characters."""
    out, size = [], 0
    while size < chars:
        sentences = [_numbers(_pick(pool, rng), rng) for _ in range(int(rng.integers(3, 7)))]
        out.append(SEPARATOR[language].join(sentences))
        size += len(out[-1]) + 2
    return "\n\n".join(out)


def long_chars(language: str, tokens: int) -> int:
    """Characters of ``language`` that make about ``tokens`` tokens of a small BPE."""
    return int(tokens * _CHARS_PER_TOKEN[language])


def respond(
    query: Query, spec: Spec, rng: np.random.Generator, *, restate: bool = True, reasoning_tokens: int = 0
) -> str:
    """The text of a response. ``restate``: the answer sentence names the question's subject (else "It is
    Y."); a long response puts about ``reasoning_tokens`` of reasoning first and its answer last."""
    lang = spec.language
    if spec.style == "curt":
        return PHRASES["curt"][lang]
    wrong = query.wrong(rng)  # drawn either way, so two responses from one wording stay aligned
    key = query.right if spec.correct else wrong
    y = query.answer(lang, key)
    statement = query.state(lang, key) if restate else PHRASES["short"][lang].format(y=y)
    sep = SEPARATOR[lang]
    if spec.format == "word":
        body = y
    elif spec.format == "json":
        body = json.dumps({"answer": y}, ensure_ascii=False)
    elif spec.format == "list":
        body = f"- {statement}\n- {_pick(CLOSINGS[lang], rng)}"
    elif spec.style == "long":
        body = PHRASES["final"][lang].format(y=y)
    else:
        body = statement + (sep + _pick(CLOSINGS[lang], rng) if rng.random() < 0.4 else "")
    if spec.style == "bloated":
        filler = [_numbers(_pick(FILLERS[lang], rng), rng) for _ in range(int(rng.integers(3, 5)))]
        filler.insert(int(rng.integers(1, len(filler))), statement)
        body = sep.join([*filler, statement, filler[0], statement])
    elif spec.style == "long":
        body = paragraphs(FILLERS[lang], lang, long_chars(lang, reasoning_tokens), rng) + "\n\n" + body
    return body


def ask(query: Query, language: str, rng: np.random.Generator, *, context_tokens: int = 0) -> str:
    """The prompt; with ``context_tokens``, a pasted document of that size first and the question last."""
    question = query.ask(language)
    if not context_tokens:
        return question
    document = paragraphs(CONTEXT[language], language, long_chars(language, context_tokens), rng)
    sep = SEPARATOR[language]
    return f"{PHRASES['pasted'][language]}\n\n{document}\n\n{PHRASES['question'][language]}{sep}{question}"


def draw_query(kind: str, rng: np.random.Generator) -> Query:
    """A question of ``kind``: a sum for arithmetic, else a fact (with a format instruction for format)."""
    if kind == "arithmetic":
        return Query("sum", terms=(int(rng.integers(11, 90)), int(rng.integers(11, 90))))
    relation = ("capital", "symbol", "count")[int(rng.choice(3, p=(0.5, 0.25, 0.25)))]
    size = {"capital": len(CAPITALS), "symbol": len(SYMBOLS), "count": len(COUNTS)}[relation]
    want = FORMATS[int(rng.integers(len(FORMATS)))] if kind == "format" else None
    return Query(relation, index=int(rng.integers(size)), want=want)


def other_language(language: str, rng: np.random.Generator) -> str:
    """The language of a wrong-language response: English for a non-English prompt (4 times in 5, else
    another language), any other language for an English one."""
    if language != "English" and rng.random() < 0.8:
        return "English"
    choices = [name for name in NAMES if name not in (language, "English")]
    return choices[int(rng.integers(len(choices)))]


def flawed(good: Spec, prop: str, language: str, rng: np.random.Generator, want: str | None) -> Spec:
    """``good`` with ``prop`` made false (for a response that has it)."""
    if prop == "correct":
        return replace(good, correct=False)
    if prop == "language":
        return replace(good, language=other_language(language, rng))
    if prop == "format":  # plain prose half the time, else another format than the one asked for
        wrong = [f for f in FORMATS if f != want]
        return replace(good, format="plain" if rng.random() < 0.5 else wrong[int(rng.integers(len(wrong)))])
    return replace(good, style="curt" if rng.random() < 0.5 else "bloated")


KEY = {
    "facts": "correct",
    "arithmetic": "correct",
    "format": "format",
    "language": "language",
    "length": "length",
}


@dataclass
class Pair:
    """A prompt and two responses (in A, B order) with their qualities."""

    prompt: str
    response_a: str
    response_b: str
    quality_a: float
    quality_b: float
    want: str | None  # the format the prompt asked for


def make_pair(
    kind: str,
    language: str,
    rng: np.random.Generator,
    *,
    equal: bool = False,
    second: bool = False,
    long: str = "",
    long_tokens: int = 900,
) -> Pair:
    """A prompt of ``kind`` in ``language`` and two responses of one wording that differ in the kind's key
    property alone, or also in a second one (``second``), or in none (``equal``: the same properties,
    different wording).
    ``long``: "prompt" (a pasted document before the question), "responses" (long reasoning before each
    answer) or "both", about ``long_tokens`` in all; the decisive text is then at the end of each field,
    and the responses do not restate the question when the prompt is long."""
    query = draw_query(kind, rng)
    good = Spec(
        language, format=query.want or "plain", style="long" if long in ("responses", "both") else "normal"
    )
    bad = flawed(good, KEY[kind], language, rng, query.want)
    if equal:
        first = second_spec = good if rng.random() < 0.6 else bad
    else:
        first, second_spec = good, bad
        if second:
            prop = SECONDARY[kind][int(rng.integers(len(SECONDARY[kind])))]
            if rng.random() < 0.5 and not (prop == "correct" and first.style == "curt"):
                first = flawed(first, prop, language, rng, query.want)
            elif not (prop == "correct" and second_spec.style == "curt"):
                second_spec = flawed(second_spec, prop, language, rng, query.want)
    prompt_tokens = {"prompt": long_tokens, "both": long_tokens // 2}.get(long, 0)
    reasoning = {"responses": long_tokens // 2, "both": long_tokens // 4}.get(long, 0)
    prompt = ask(query, language, rng, context_tokens=prompt_tokens)
    restate = not prompt_tokens and rng.random() < 0.7
    wording = int(rng.integers(2**63))  # one wording for both responses, unless they are of equal quality
    texts = [
        respond(
            query,
            spec,
            rng if equal else np.random.default_rng(wording),
            restate=restate,
            reasoning_tokens=reasoning,
        )
        for spec in (first, second_spec)
    ]
    scores = [quality(spec, language, query.want) for spec in (first, second_spec)]
    if rng.random() < 0.5:
        texts.reverse()
        scores.reverse()
    return Pair(prompt, texts[0], texts[1], scores[0], scores[1], query.want)
