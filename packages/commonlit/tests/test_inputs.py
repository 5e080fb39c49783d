"""The three inputs: the summary mask covers exactly the summary's sub-words, under every truncation."""

import pandas as pd
import pytest
from transformers import AutoTokenizer

from commonlit.inputs import encode, is_causal, special_tokens
from shared.tiny import minilm_path, tiny_causal_lm

QUESTION = "Summarize how the factory system changed the lives of workers."
SUMMARY = "Factories made workers labour long hours for low pay, and children worked too."
PROMPT = (
    "The factory system began in Britain.\r\nWorkers moved from farms to cities, where they laboured "
    "twelve or more hours a day in loud, unsafe mills.\r\n\r\nChildren as young as six worked beside them, "
    "and wages were low."
)


@pytest.fixture(scope="module")
def minilm():
    return AutoTokenizer.from_pretrained(minilm_path())


@pytest.fixture(scope="module")
def qwen2():
    return AutoTokenizer.from_pretrained(tiny_causal_lm([QUESTION, SUMMARY, PROMPT], vocab_size=400))


def frame(text=SUMMARY, question=QUESTION, prompt=PROMPT) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [text],
            "prompt_question": [question],
            "prompt_title": ["Factories"],
            "prompt_text": [prompt],
        }
    )


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def summary_part(encoded: dict, row: int = 0) -> list[int]:
    """The ids under the summary mask, checking that the mask is one contiguous run."""
    mask = encoded["summary_mask"][row]
    on = [i for i, m in enumerate(mask) if m]
    assert on == list(range(on[0], on[0] + len(on))) if on else True
    return [encoded["input_ids"][row][i] for i in on]


def test_the_summary_variant_is_the_tokenizers_own_encoding_of_the_summary(minilm):
    encoded = encode(minilm, frame(), "summary", max_length=64)
    assert encoded["input_ids"][0] == minilm(SUMMARY)["input_ids"]
    assert summary_part(encoded) == ids(minilm, SUMMARY)
    assert encoded["summary_mask"][0][0] == 0 and encoded["summary_mask"][0][-1] == 0  # [CLS], [SEP]
    cut = encode(minilm, frame(), "summary", max_length=8)
    assert cut["input_ids"][0] == [minilm.cls_token_id, *ids(minilm, SUMMARY)[:6], minilm.sep_token_id]
    assert cut["attention_mask"][0] == [1] * 8


@pytest.mark.parametrize("variant", ["naive", "pooled"])
def test_question_summary_prompt_with_the_tokenizers_separators(minilm, variant):
    encoded = encode(minilm, frame(), variant, max_length=256)
    q, s, p = ids(minilm, QUESTION), ids(minilm, SUMMARY), ids(minilm, PROMPT)
    cls, sep = minilm.cls_token_id, minilm.sep_token_id
    assert encoded["input_ids"][0] == [cls, *q, sep, *s, sep, *p, sep]
    # the first three pieces are exactly the tokenizer's own pair encoding
    assert encoded["input_ids"][0][: len(q) + len(s) + 3] == minilm(QUESTION, SUMMARY)["input_ids"]
    assert summary_part(encoded) == s
    assert encoded["summary_mask"][0].index(1) == len(q) + 2


def test_naive_and_pooled_are_the_same_input(minilm, qwen2):
    rows = pd.concat(
        [frame(), frame(text=""), frame(text="Short one.", prompt="Tiny prompt.")], ignore_index=True
    )
    for tokenizer in (minilm, qwen2):
        for max_length, cap in ((256, 0), (40, 0), (64, 5)):
            assert encode(tokenizer, rows, "naive", max_length, cap) == encode(
                tokenizer, rows, "pooled", max_length, cap
            )


def test_a_long_prompt_text_is_cut_from_its_end_and_the_summary_stays_whole(minilm):
    q, s, p = ids(minilm, QUESTION), ids(minilm, SUMMARY), ids(minilm, PROMPT)
    max_length = len(q) + len(s) + 4 + 10  # room for 10 prompt sub-words
    encoded = encode(minilm, frame(), "pooled", max_length)
    row = encoded["input_ids"][0]
    assert len(row) == max_length
    assert summary_part(encoded) == s
    assert row[len(q) + len(s) + 3 : -1] == p[:10]
    assert row[: len(q) + 1] == [minilm.cls_token_id, *q]


def test_max_prompt_tokens_caps_the_prompt_text_first(minilm):
    q, s, p = ids(minilm, QUESTION), ids(minilm, SUMMARY), ids(minilm, PROMPT)
    encoded = encode(minilm, frame(), "pooled", max_length=512, max_prompt_tokens=7)
    assert encoded["input_ids"][0] == [minilm.cls_token_id, *q, 102, *s, 102, *p[:7], 102]
    tighter = encode(minilm, frame(), "pooled", max_length=len(q) + len(s) + 4 + 3, max_prompt_tokens=7)
    assert tighter["input_ids"][0][-4:-1] == p[:3]  # max_length still wins when it is the tighter cut
    assert summary_part(tighter) == s


def test_question_and_summary_too_long_cut_the_summary_and_the_mask_follows(minilm):
    q, s = ids(minilm, QUESTION), ids(minilm, SUMMARY)
    max_length = len(q) + 4 + 5  # five summary sub-words fit, no prompt
    encoded = encode(minilm, frame(), "pooled", max_length)
    row = encoded["input_ids"][0]
    assert len(row) == max_length
    assert summary_part(encoded) == s[:5]
    assert row == [minilm.cls_token_id, *q, 102, *s[:5], 102, 102]  # the prompt text is gone entirely
    assert minilm.decode(summary_part(encoded)) == minilm.decode(s[:5])


def test_an_empty_summary_is_a_valid_input_with_an_empty_mask(minilm, qwen2):
    for tokenizer in (minilm, qwen2):
        for variant in ("summary", "pooled"):
            encoded = encode(tokenizer, frame(text=""), variant, max_length=128)
            assert sum(encoded["summary_mask"][0]) == 0
            assert len(encoded["input_ids"][0]) == len(encoded["attention_mask"][0]) > 0
    nan = frame()
    nan.loc[0, "text"] = None  # a NaN summary read from a CSV is an empty one
    assert sum(encode(minilm, nan, "pooled", 128)["summary_mask"][0]) == 0


def test_a_decoder_reads_the_prompt_before_the_summary_between_eos_tokens(qwen2, minilm):
    prefix, sep, suffix = special_tokens(qwen2)
    assert (prefix, sep, suffix) == ([], [qwen2.eos_token_id], [qwen2.eos_token_id])
    assert is_causal(qwen2) and not is_causal(minilm)
    q, s, p = ids(qwen2, QUESTION), ids(qwen2, SUMMARY), ids(qwen2, PROMPT)
    eos = qwen2.eos_token_id
    encoded = encode(qwen2, frame(), "pooled", max_length=512)
    # causal attention: the summary comes last, so each of its tokens has read the prompt
    assert encoded["input_ids"][0] == [*q, eos, *p, eos, *s, eos]
    assert summary_part(encoded) == s
    assert qwen2.decode(summary_part(encoded)) == SUMMARY
    cut = encode(qwen2, frame(), "naive", max_length=len(q) + 3 + 4)
    assert summary_part(cut) == s[:4] and cut["input_ids"][0][-1] == eos
    assert encode(qwen2, frame(), "summary", max_length=512)["input_ids"][0] == [*s, eos]


def test_rows_keep_their_order_and_repeated_prompts_tokenise_alike(minilm):
    rows = pd.concat(
        [frame(text="First summary."), frame(text="Second one here."), frame()], ignore_index=True
    )
    encoded = encode(minilm, rows, "pooled", 256)
    assert [minilm.decode(summary_part(encoded, i)) for i in range(3)] == [
        "first summary.", "second one here.", minilm.decode(ids(minilm, SUMMARY))
    ]  # fmt: skip


def test_unknown_variant_and_too_short_max_length_are_refused(minilm):
    with pytest.raises(ValueError, match="variant: 'prompt'"):
        encode(minilm, frame(), "prompt", 64)
    with pytest.raises(ValueError, match="max_length: 3"):
        encode(minilm, frame(), "naive", 3)
