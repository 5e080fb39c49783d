"""One token sequence per (prompt, response A, response B) triple, never longer than ``max_length``.

The sequence is ``BOS? + prefix + P + before_a + A + before_b + B + suffix``: the fixed text of a
:class:`Template` around the three fields. Each field is tokenised alone (:func:`shared.llm.encode_text`) and
cut to its budget by :func:`wsdm.truncation.truncate`; the template is never cut, so the question at the
end — the cue after which the generation and judge heads read the next token (:func:`answer_ids`), and the
last token the classification head pools — is always there. Tokenising the pieces apart can split a word
differently at a seam than tokenising the whole text would; the same split is used in training and at
inference, so the model sees one consistent format.

:meth:`Template.chat` puts the same body inside a tokenizer's chat template (one user turn, then the
generation prompt), for instruction-tuned backbones used zero-shot or fine-tuned in their own format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from transformers import PreTrainedTokenizerBase

from shared.llm import answer_token_ids, bos_ids, encode_text
from wsdm.truncation import STRATEGIES, truncate

QUESTION = "\n\nWhich response is better, A or B?"
CHAT_QUESTION = QUESTION + " Reply with A or B only."  # the end of the user turn in Template.chat
_MARKER = "\u241f\u241fBODY\u241f\u241f"  # stands for the body while the chat template renders
FIELDS = ("prompt", "response_a", "response_b")


@dataclass(frozen=True)
class Template:
    """The fixed text around the three fields; the same text for every head."""

    prefix: str = "User prompt:\n"
    before_a: str = "\n\nResponse A:\n"
    before_b: str = "\n\nResponse B:\n"
    suffix: str = QUESTION + " Answer:"

    @classmethod
    def chat(cls, tokenizer: PreTrainedTokenizerBase, question: str = CHAT_QUESTION) -> Template:
        """The plain body (prefix, fields, ``question``) as the one user turn of ``tokenizer``'s chat
        template with the generation prompt after it: ``suffix`` ends where the assistant's answer starts.
        A BOS that the template writes is dropped when the tokenizer adds one itself (as
        :func:`encode_triple` does), so it is never doubled."""
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                f"tokenizer {tokenizer.name_or_path!r}: has no chat template; use the plain Template()"
            )
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": _MARKER}], add_generation_prompt=True, tokenize=False
        )
        if text.count(_MARKER) != 1:
            raise ValueError(
                f"tokenizer {tokenizer.name_or_path!r}: its chat template does not render the user turn's "
                f"content verbatim ({text!r})"
            )
        before, after = text.split(_MARKER)
        bos = tokenizer.bos_token
        if bos and bos_ids(tokenizer) and before.startswith(bos):
            before = before[len(bos) :]
        plain = cls()
        return cls(prefix=before + plain.prefix, before_a=plain.before_a, before_b=plain.before_b,
                   suffix=question + after)  # fmt: skip


@dataclass(frozen=True)
class Truncation:
    """How a triple is fitted into ``max_length`` tokens (see :mod:`wsdm.truncation`)."""

    max_length: int = 1024
    strategy: str = "ratio"
    head_fraction: float = 0.5
    shares: tuple[float, float, float] = (0.2, 0.4, 0.4)
    min_tokens: int = 16

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(
                f"truncation strategy {self.strategy!r}: expected one of {', '.join(STRATEGIES)}"
            )
        if self.max_length < 1:
            raise ValueError(f"max_length {self.max_length}: must be >= 1")
        if not 0.0 <= self.head_fraction <= 1.0:
            raise ValueError(f"head_fraction {self.head_fraction}: must be in [0, 1]")
        if len(self.shares) != 3 or not all(s > 0 for s in self.shares):
            raise ValueError(f"shares {tuple(self.shares)}: need three shares > 0 (prompt, A, B)")
        if self.min_tokens < 1:
            raise ValueError(f"min_tokens {self.min_tokens}: must be >= 1")


def _template_ids(tokenizer: PreTrainedTokenizerBase, template: Template) -> list[list[int]]:
    """[BOS + prefix, before_a, before_b, suffix] as token ids."""
    pieces = [encode_text(tokenizer, t) for t in (template.prefix, template.before_a, template.before_b,
                                                  template.suffix)]  # fmt: skip
    pieces[0] = bos_ids(tokenizer) + pieces[0]
    return pieces


def _assemble(pieces: list[list[int]], fields: Sequence[Sequence[int]], truncation: Truncation) -> list[int]:
    fixed = sum(len(p) for p in pieces)
    budget = truncation.max_length - fixed
    if budget < 0 or (sum(len(f) for f in fields) > budget and budget < len(fields)):
        raise ValueError(
            f"max_length {truncation.max_length}: the template alone takes {fixed} tokens, leaving "
            f"{budget} for the three fields (at least 3 are needed to truncate them)"
        )
    prompt, a, b = fields if sum(len(f) for f in fields) <= budget else truncate(
        fields, budget, truncation.strategy, head_fraction=truncation.head_fraction,
        shares=truncation.shares, min_tokens=truncation.min_tokens,
    )  # fmt: skip
    start, before_a, before_b, suffix = pieces
    return start + prompt + before_a + a + before_b + b + suffix


def encode_triple(tokenizer: PreTrainedTokenizerBase, prompt: str, a: str, b: str, template: Template,
                  truncation: Truncation) -> list[int]:  # fmt: skip
    """The ids of one triple: ``BOS? + prefix + P + before_a + A + before_b + B + suffix``, at most
    ``truncation.max_length`` long. Raises ``ValueError`` naming ``max_length`` when the template leaves
    too little room."""
    fields = [encode_text(tokenizer, t) for t in (prompt, a, b)]
    return _assemble(_template_ids(tokenizer, template), fields, truncation)


def encode_frame(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, template: Template,
                 truncation: Truncation, swap: bool = False) -> list[list[int]]:  # fmt: skip
    """:func:`encode_triple` for every row of ``frame`` (columns ``prompt``, ``response_a``,
    ``response_b``), the fields tokenised in batches; ``swap`` shows ``response_b`` as A and ``response_a``
    as B."""
    missing = [c for c in FIELDS if c not in frame.columns]
    if missing:
        raise ValueError(f"encode_frame: missing column(s) {missing}")
    order = ("prompt", "response_b", "response_a") if swap else FIELDS
    columns = []
    for column in order:
        texts = frame[column].tolist()
        bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
        if bad is not None:
            where = f" (id {frame['id'].iloc[bad]!r})" if "id" in frame.columns else ""
            raise ValueError(
                f"encode_frame: row {bad + 1}{where}: column {column!r}: expected text, got {texts[bad]!r}"
            )
        # verbose=False: no "longer than the model's maximum" warning, the fields are cut below
        columns.append(
            tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"] if texts else []
        )
    pieces = _template_ids(tokenizer, template)
    return [_assemble(pieces, fields, truncation) for fields in zip(*columns, strict=True)]


def answer_ids(tokenizer: PreTrainedTokenizerBase, template: Template) -> tuple[int, int]:
    """The ids of "A" and "B" as the model sees them right after ``template.suffix``."""
    return answer_token_ids(tokenizer, template.suffix, ("A", "B"))
