"""The three inputs of the chapter's transformer (§7.4), built from the pieces' token ids.

- ``summary``: ``[CLS] summary [SEP]``; the model never sees the prompt, so it can only judge the summary
  against summaries of other prompts.
- ``naive`` and ``pooled``: one and the same sequence, ``[CLS] question [SEP] summary [SEP] prompt text
  [SEP]``. ``naive`` pools over all of it; ``pooled`` is the 2nd place's "head mask" (Kaggle discussion
  446573): the prompt is in the input so that attention can compare the summary with it, but the head pools
  only the summary's sub-words (``summary_mask``).

Each piece is tokenised on its own (``add_special_tokens=False``) and the sequence is assembled from the
ids with the tokenizer's own special tokens (found by encoding a text pair), so the summary's position is
known exactly rather than recovered from offsets. Truncation cuts the prompt text from its end
(``max_prompt_tokens`` caps it first), never the question or the summary; only when question and summary
alone do not fit is the summary's end cut, and its mask follows.

A decoder tokenizer without ``[CLS]``/``[SEP]`` (Qwen2, Gemma) gets its EOS token as the separator and as the
last token (its pad token, or else a newline, when it has no EOS). A decoder attends only to earlier
tokens, so for it the summary comes *last*: ``question [EOS] prompt text [EOS] summary [EOS]``. With the
summary first its tokens could never see the prompt, and the head mask would pool a summary-only model;
this way every summary token has read the prompt, and the last token (``pooling="last"``) has read
everything.

An empty summary is a valid input: its ``summary_mask`` is all zero and the model's pooling falls back to
the whole input for that row (``commonlit.model.pool``).
"""

from __future__ import annotations

import pandas as pd
from transformers import PreTrainedTokenizerBase

VARIANTS = ("summary", "naive", "pooled")


def _pair(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int], list[int]]:
    """The ids of "a", of "b", and of the pair ("a", "b") with the tokenizer's special tokens."""
    a = tokenizer("a", add_special_tokens=False)["input_ids"]
    b = tokenizer("b", add_special_tokens=False)["input_ids"]
    return a, b, tokenizer("a", "b")["input_ids"]


def special_tokens(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int], list[int]]:
    """(prefix, separator, suffix) ids the tokenizer puts around a text pair: ``[CLS]``, ``[SEP]``, ``[SEP]``
    for BERT/DeBERTa. Tokenizers that add none (decoders) get ``[]``, EOS, EOS (see the module docstring)."""
    a, b, pair = _pair(tokenizer)
    start = next(i for i in range(len(pair)) if pair[i : i + len(a)] == a)
    end = next(i for i in range(len(pair) - len(b), start + len(a) - 1, -1) if pair[i : i + len(b)] == b)
    prefix, separator, suffix = pair[:start], pair[start + len(a) : end], pair[end + len(b) :]
    if separator:
        return prefix, separator, suffix
    for token in (tokenizer.eos_token_id, tokenizer.pad_token_id):
        if token is not None:
            return prefix, [token], [token]
    newline = tokenizer("\n", add_special_tokens=False)["input_ids"]
    return prefix, newline, newline


def is_causal(tokenizer: PreTrainedTokenizerBase) -> bool:
    """True for a tokenizer that puts no separator between a text pair: a decoder's (see the module
    docstring)."""
    a, b, pair = _pair(tokenizer)
    return any(pair[i : i + len(a) + len(b)] == a + b for i in range(len(pair)))


def _tokenize(tokenizer: PreTrainedTokenizerBase, texts: pd.Series) -> list[list[int]]:
    """Sub-word ids of each text, tokenising each distinct text once (prompt texts repeat per summary)."""
    unique = list(dict.fromkeys(texts.tolist()))
    ids = (
        dict(zip(unique, tokenizer(unique, add_special_tokens=False)["input_ids"], strict=True))
        if unique
        else {}
    )
    return [ids[t] for t in texts]


def encode(
    tokenizer: PreTrainedTokenizerBase,
    frame: pd.DataFrame,
    variant: str,
    max_length: int,
    max_prompt_tokens: int = 0,
) -> dict[str, list[list[int]]]:
    """``input_ids``, ``attention_mask`` and ``summary_mask`` (1 exactly on the summary's sub-words) of every
    row of ``frame`` (columns ``text``, and for ``naive``/``pooled`` also ``prompt_question`` and
    ``prompt_text``), unpadded, each at most ``max_length`` ids long, special tokens included."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: {variant!r} is not one of {' | '.join(VARIANTS)}")
    prefix, sep, suffix = special_tokens(tokenizer)
    summaries = _tokenize(tokenizer, frame["text"].fillna("").astype(str))
    ids, masks = [], []
    if variant == "summary":
        room = max_length - len(prefix) - len(suffix)
        if room < 0:
            raise ValueError(f"max_length: {max_length} leaves no room for the special tokens")
        for summary in summaries:
            summary = summary[:room]
            ids.append(prefix + summary + suffix)
            masks.append([0] * len(prefix) + [1] * len(summary) + [0] * len(suffix))
    else:
        questions = _tokenize(tokenizer, frame["prompt_question"].astype(str))
        prompts = _tokenize(tokenizer, frame["prompt_text"].astype(str))
        room = max_length - len(prefix) - 2 * len(sep) - len(suffix)
        if room < 0:
            raise ValueError(f"max_length: {max_length} leaves no room for the special tokens")
        summary_last = is_causal(tokenizer)
        for question, summary, prompt in zip(questions, summaries, prompts, strict=True):
            question = question[:room]  # only a question longer than the whole input is ever cut
            summary = summary[: room - len(question)]
            if max_prompt_tokens > 0:
                prompt = prompt[:max_prompt_tokens]
            prompt = prompt[: room - len(question) - len(summary)]
            if summary_last:
                ids.append(prefix + question + sep + prompt + sep + summary + suffix)
                before = len(prefix) + len(question) + len(sep) + len(prompt) + len(sep)
                after = len(suffix)
            else:
                ids.append(prefix + question + sep + summary + sep + prompt + suffix)
                before = len(prefix) + len(question) + len(sep)
                after = len(sep) + len(prompt) + len(suffix)
            masks.append([0] * before + [1] * len(summary) + [0] * after)
    return {"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids], "summary_mask": masks}
