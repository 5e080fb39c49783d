r"""Reward functions for GRPO on AIMO2 problems, in the form ``trl.GRPOTrainer`` calls them.

Fast-Math-R1 (§13.7, arXiv 2507.08267) ran GRPO after SFT mainly to shorten solutions at equal accuracy:
its rewards pay for a well-placed ``\boxed{}``, for the right answer, and less for longer correct
solutions (a cosine schedule over the length) and for longer solutions within a group of samples of the
same problem (Kimi k1.5's length penalty). Each function takes ``(completions, answer, **kwargs)`` and
returns one float per completion; ``completions`` are plain strings or, for conversational prompts,
lists of message dicts, and ``answer`` is the dataset column of integer answers (0..999).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aimo2.answers import extract_answer, extract_boxed
from aimo2.prompts import THINK_END

__all__ = [
    "REWARDS",
    "CosineSchedule",
    "accuracy_reward",
    "boxed_in_think_reward",
    "completion_text",
    "cosine_scaled_reward",
    "format_reward",
    "get_reward_funcs",
    "length_penalty_reward",
]

THINK_START = "<think>"

RewardFunc = Callable[..., list[float]]


def completion_text(completion: str | Sequence[dict[str, Any]]) -> str:
    """The generated text: the string itself, or the joined contents of a conversational completion."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise TypeError(f"completion message content must be a string, got {type(content).__name__}")
        parts.append(content or "")
    return "".join(parts)


def _is_correct(text: str, answer: int | str) -> bool:
    """Whether the integer in the last box (mod 1000) equals the gold answer (mod 1000)."""
    return extract_answer(text) == int(answer) % 1000


def accuracy_reward(completions: Sequence, answer: Sequence[int], **kwargs: Any) -> list[float]:
    r"""1.0 when the integer in the completion's last ``\boxed{}`` (mod 1000) equals the answer, else 0.0."""
    return [float(_is_correct(completion_text(c), a)) for c, a in zip(completions, answer, strict=True)]


def _think_split(text: str) -> tuple[str, str] | None:
    """(thinking, final answer) around the single ``</think>``; None unless the text has one think block.

    The opening ``<think>`` may be missing, since DeepSeek-R1 distills' chat template writes it into the
    prompt; if present it must be the first thing in the completion and occur once.
    """
    if text.count(THINK_END) != 1:
        return None
    thinking, final = text.split(THINK_END)
    body = thinking.lstrip().removeprefix(THINK_START)
    if THINK_START in body or THINK_START in final:
        return None
    return thinking, final


def format_reward(completions: Sequence, **kwargs: Any) -> list[float]:
    r"""1.0 when the completion is one think block followed by a final answer holding a closed ``\boxed{}``.

    Precisely: ``</think>`` occurs exactly once; ``<think>`` occurs at most once and, when present, opens the
    completion (only whitespace before it); and the text after ``</think>`` contains a ``\boxed{...}`` whose
    braces close. Boxes inside the thinking neither count nor hurt; whether the box holds the right (or any)
    integer is :func:`accuracy_reward`'s business.
    """
    rewards = []
    for completion in completions:
        parts = _think_split(completion_text(completion))
        rewards.append(float(parts is not None and extract_boxed(parts[1]) is not None))
    return rewards


def boxed_in_think_reward(completions: Sequence, **kwargs: Any) -> list[float]:
    r"""1.0 when a closed ``\boxed{...}`` appears inside the think block, before its single ``</think>``.

    Fast-Math-R1's format reward: it teaches the model to state the answer before it stops thinking, so
    that inference can stop generating at ``</think>`` and still read the answer, saving the summary tokens.
    The think block is defined as in :func:`format_reward`.
    """
    rewards = []
    for completion in completions:
        parts = _think_split(completion_text(completion))
        rewards.append(float(parts is not None and extract_boxed(parts[0]) is not None))
    return rewards


def _length(text: str, tokenizer: Any | None) -> int:
    """Length in tokens of ``tokenizer`` (no special tokens added) when given, else in characters."""
    if tokenizer is None:
        return len(text)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


@dataclass(frozen=True)
class CosineSchedule:
    """Reward as a function of length and correctness, on a half cosine from length 0 to ``max_len``.

    With ``p = min(length / max_len, 1)`` and ``c = (1 + cos(pi * p)) / 2`` (1 at length 0, 0 at max_len):
    a correct answer gets ``min_value_correct + (max_value_correct - min_value_correct) * c``, so short
    correct answers earn the most; a wrong answer gets ``max_value_wrong + (min_value_wrong -
    max_value_wrong) * c``, so a long wrong answer (which at least tried) is penalised less than a short
    one. Lengths past ``max_len`` are clipped rather than wrapping around the cosine.
    Defaults: Fast-Math-R1's stage-2 values (lengths in characters).
    """

    min_value_correct: float = 0.1
    max_value_correct: float = 1.0
    min_value_wrong: float = -1.0
    max_value_wrong: float = -0.1
    max_len: int = 30000

    def __post_init__(self) -> None:
        if self.max_len <= 0:
            raise ValueError(f"max_len must be > 0, got {self.max_len}")
        if self.min_value_correct > self.max_value_correct:
            raise ValueError(
                f"min_value_correct={self.min_value_correct} > max_value_correct={self.max_value_correct}"
            )
        if self.min_value_wrong > self.max_value_wrong:
            raise ValueError(
                f"min_value_wrong={self.min_value_wrong} > max_value_wrong={self.max_value_wrong}"
            )

    def __call__(self, length: int, correct: bool) -> float:
        # The schedule of Yeo et al., "Demystifying Long Chain-of-Thought Reasoning in LLMs" (arXiv
        # 2502.03373), as open-r1's get_cosine_scaled_reward implements it, with the length clipped.
        c = 0.5 * (1.0 + math.cos(math.pi * min(length / self.max_len, 1.0)))
        if correct:
            return self.min_value_correct + (self.max_value_correct - self.min_value_correct) * c
        return self.max_value_wrong + (self.min_value_wrong - self.max_value_wrong) * c


def cosine_scaled_reward(schedule: CosineSchedule | None = None, tokenizer: Any | None = None) -> RewardFunc:
    """A reward function (``cosine_reward``): ``schedule`` of each completion's length and correctness.

    Lengths count the tokens of ``tokenizer`` when one is given, else characters.
    """
    schedule = schedule or CosineSchedule()

    def cosine_reward(completions: Sequence, answer: Sequence[int], **kwargs: Any) -> list[float]:
        texts = [completion_text(c) for c in completions]
        return [
            schedule(_length(text, tokenizer), _is_correct(text, gold))
            for text, gold in zip(texts, answer, strict=True)
        ]

    return cosine_reward


def length_penalty_reward(tokenizer: Any | None = None) -> RewardFunc:
    """A reward function (named ``length_reward``): Kimi k1.5's length penalty (arXiv 2501.12599, §2.3.3).

    Within each group of completions of the same prompt, with the group's shortest and longest lengths
    ``lo`` and ``hi``: ``lam = 0.5 - (length - lo) / (hi - lo)``; a correct completion gets ``lam``, a wrong
    one ``min(0, lam)``; every completion gets 0 when ``hi == lo``. Completions are grouped by the
    ``prompts`` trl passes; without them all completions form one group. Lengths as in
    :func:`cosine_scaled_reward`.
    """

    def length_reward(
        completions: Sequence, answer: Sequence[int], prompts: Sequence | None = None, **kwargs: Any
    ) -> list[float]:
        texts = [completion_text(c) for c in completions]
        lengths = [_length(text, tokenizer) for text in texts]
        keys = [0] * len(texts) if prompts is None else [json.dumps(p, sort_keys=True) for p in prompts]
        groups: dict[Any, list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            groups[key].append(i)
        rewards = [0.0] * len(texts)
        for members in groups.values():
            lo, hi = min(lengths[i] for i in members), max(lengths[i] for i in members)
            if hi == lo:
                continue
            for i in members:
                lam = 0.5 - (lengths[i] - lo) / (hi - lo)
                rewards[i] = lam if _is_correct(texts[i], answer[i]) else min(0.0, lam)
        return rewards

    return length_reward


REWARDS: dict[str, RewardFunc] = {
    "accuracy": accuracy_reward,
    "format": format_reward,
    "boxed_in_think": boxed_in_think_reward,
    "cosine": cosine_scaled_reward(),
    "length": length_penalty_reward(),
}


def get_reward_funcs(
    names: Sequence[str], *, schedule: CosineSchedule | None = None, tokenizer: Any | None = None
) -> list[RewardFunc]:
    """The reward functions called ``names`` (keys of :data:`REWARDS`), the length-based ones built with
    ``schedule`` and counting ``tokenizer``'s tokens when one is given."""
    unknown = [name for name in names if name not in REWARDS]
    if unknown:
        raise ValueError(f"unknown reward function(s) {unknown}; known: {sorted(REWARDS)}")
    configured = {
        "cosine": cosine_scaled_reward(schedule, tokenizer),
        "length": length_penalty_reward(tokenizer),
    }
    return [configured.get(name, REWARDS[name]) for name in names]
