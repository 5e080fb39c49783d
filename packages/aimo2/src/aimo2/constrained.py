r"""Constrained decoding that always ends a generation with ``\boxed{<integer>}`` (Fast-Math-R1, §13.7.2).

A reasoning model cut off by its token budget has no box, so its sample casts no vote, however far
its reasoning had got. Forcing the ending turns such a sample into a vote, and so does forcing the
box right after ``</think>`` instead of letting the model write a long summary first (``after_think``).

Once triggered, the generation is forced through ``</think>`` (only while the model is still thinking),
then the tokens of ``"\n\n\boxed{"``, then one to ``max_digits`` single-digit tokens, then ``}``, then
EOS. The trigger is the token budget (``budget`` free tokens, then the forced ending), or with
``after_think`` the model's own ``</think>``. Digits are single-digit tokens only (Qwen2 tokenizers
split numbers into digits anyway), so the digit count is the token count. ``max_digits`` defaults to 6
rather than 3: a model that means 1234 writes it whole, and ``extract_answer`` reduces it mod 1000
(234), where a 3-digit cap would have cut it to the wrong 123.

Two implementations of the same rule:

* :class:`ForceBoxLogitsProcessor`, a transformers ``LogitsProcessor`` with one :class:`BoxForcer`
  state per row, so it works with batches and ``num_return_sequences``;
* for vLLM, :func:`forced_prefix` and :func:`digits_regex`, used by ``VLLMBackend`` as a two-pass
  continuation: generate ``budget`` tokens (stopping at ``</think>`` with ``after_think``), then
  continue the cut-off samples from their token ids plus the forced prefix under a structured-output
  regex ``[0-9]{1,max_digits}\}``. Why not a vLLM logits processor: vLLM 0.33's default Model Runner V2
  takes processors of a new batch-level interface that sees only on-device token history, rows reordered
  each step, and slots recycled on preemption; a per-row automaton there needs either a device-to-host
  copy of each step's tokens (stalling its asynchronous scheduling) or a GPU reimplementation, and the
  interface differs again when vLLM falls back to the V1 runner. The continuation uses public APIs only,
  costs one short request per cut-off sample, and its prefill is served from the prefix cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import LogitsProcessor, PreTrainedTokenizerBase

from aimo2.prompts import THINK_END

__all__ = [
    "BOX_PREFIX",
    "BoxForcer",
    "BoxForcing",
    "BoxTokens",
    "ForceBoxLogitsProcessor",
    "digits_regex",
    "forced_prefix",
]

BOX_PREFIX = "\n\n\\boxed{"


@dataclass(frozen=True)
class BoxForcing:
    """When and how to force the final box; the budget comes from each call's ``max_new_tokens``."""

    after_think: bool = False
    max_digits: int = 6

    def __post_init__(self) -> None:
        if self.max_digits < 1:
            raise ValueError(f"max_digits must be >= 1, got {self.max_digits}")


@dataclass(frozen=True)
class BoxTokens:
    """The token ids the forced ending is made of, for one tokenizer."""

    think_end: int | None  # None when the tokenizer has no single </think> token (not a reasoning model)
    prefix: tuple[int, ...]
    close: int
    digits: tuple[int, ...]
    eos: int

    @classmethod
    def from_tokenizer(cls, tokenizer: PreTrainedTokenizerBase) -> BoxTokens:
        def single(text: str) -> int | None:
            ids = tokenizer.encode(text, add_special_tokens=False)
            return ids[0] if len(ids) == 1 else None

        digits = [single(str(d)) for d in range(10)]
        close = single("}")
        name = getattr(tokenizer, "name_or_path", type(tokenizer).__name__)  # vLLM's wrappers may lack it
        if None in digits or close is None:
            raise ValueError(f"tokenizer {name!r} has no single token for every digit and '}}'")
        if tokenizer.eos_token_id is None:
            raise ValueError(f"tokenizer {name!r} has no EOS token to end the forced box with")
        return cls(
            think_end=single(THINK_END),
            prefix=tuple(tokenizer.encode(BOX_PREFIX, add_special_tokens=False)),
            close=close,
            digits=tuple(digits),
            eos=tokenizer.eos_token_id,
        )

    def reserve(self, forcing: BoxForcing) -> int:
        """The most tokens the forced ending takes: ``</think>``, prefix, digits, ``}`` and EOS."""
        return (self.think_end is not None) + len(self.prefix) + forcing.max_digits + 2


def forced_prefix(thinking: bool) -> str:
    r"""The text forced before the digits: ``</think>`` if still thinking, then ``"\n\n\boxed{"``."""
    return (THINK_END if thinking else "") + BOX_PREFIX


def digits_regex(max_digits: int) -> str:
    """What may follow the forced prefix: 1 to ``max_digits`` digits and the closing brace."""
    return rf"[0-9]{{1,{max_digits}}}\}}"


class BoxForcer:
    """The forcing state of one generated sequence, advanced one token at a time.

    ``allowed()`` is None while the model is free, else the token ids it may emit next.
    """

    def __init__(self, tokens: BoxTokens, forcing: BoxForcing, budget: int, thinking: bool) -> None:
        self.tokens = tokens
        self.forcing = forcing
        self.budget = budget
        self.thinking = thinking and tokens.think_end is not None
        self.n_seen = 0
        self._queue: list[int] | None = None  # forced tokens still to emit; None while free
        self._digits = 0  # digits emitted inside the box
        self._closed = False
        if budget <= 0:
            self._trigger()

    def _trigger(self) -> None:
        self._queue = ([self.tokens.think_end] if self.thinking else []) + list(self.tokens.prefix)

    def observe(self, token: int) -> None:
        """Advance with the token just generated."""
        self.n_seen += 1
        if self._queue is None:
            if token == self.tokens.think_end:
                self.thinking = False
                if self.forcing.after_think:
                    self._trigger()
            if self._queue is None and self.n_seen >= self.budget:
                self._trigger()
        elif self._queue:
            self._queue.pop(0)
        elif not self._closed:
            if token == self.tokens.close:
                self._closed = True
            else:
                self._digits += 1

    def allowed(self) -> list[int] | None:
        if self._queue is None:
            return None
        if self._queue:
            return [self._queue[0]]
        if self._closed:
            return [self.tokens.eos]
        if self._digits == self.forcing.max_digits:
            return [self.tokens.close]
        return list(self.tokens.digits) + ([self.tokens.close] if self._digits else [])


class ForceBoxLogitsProcessor(LogitsProcessor):
    """transformers ``LogitsProcessor`` applying one :class:`BoxForcer` per row of a ``generate`` call.

    ``budgets`` and ``thinking`` hold one entry per prompt (rows are prompts repeated
    ``num_return_sequences`` times, as transformers lays them out); ``prompt_length`` is the padded
    prompt length. Use one instance per ``generate`` call.
    """

    def __init__(
        self,
        tokens: BoxTokens,
        forcing: BoxForcing,
        *,
        budgets: list[int],
        thinking: list[bool],
        prompt_length: int,
        num_return_sequences: int = 1,
    ) -> None:
        self.prompt_length = prompt_length
        self.rows = [
            BoxForcer(tokens, forcing, budget, flag)
            for budget, flag in zip(budgets, thinking, strict=True)
            for _ in range(num_return_sequences)
        ]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if input_ids.shape[0] != len(self.rows):
            raise ValueError(f"expected {len(self.rows)} rows, got {input_ids.shape[0]}")
        if input_ids.shape[1] > self.prompt_length:
            for row, token in zip(self.rows, input_ids[:, -1].tolist(), strict=True):
                row.observe(token)
        constrained = [
            (i, allowed) for i, row in enumerate(self.rows) if (allowed := row.allowed()) is not None
        ]
        if not constrained:
            return scores
        keep = torch.ones_like(scores, dtype=torch.bool)
        for i, allowed in constrained:
            keep[i] = False
            keep[i, allowed] = True
        return scores.masked_fill(~keep, float("-inf"))
