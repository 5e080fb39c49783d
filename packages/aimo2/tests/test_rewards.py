"""GRPO rewards on constructed completions, against values computed by hand."""

import math

import pytest

from aimo2.rewards import (
    REWARDS,
    CosineSchedule,
    accuracy_reward,
    boxed_in_think_reward,
    completion_text,
    cosine_scaled_reward,
    format_reward,
    get_reward_funcs,
    length_penalty_reward,
)


def chat(text: str) -> list[dict[str, str]]:
    """A conversational completion as trl passes it."""
    return [{"role": "assistant", "content": text}]


class WordTokenizer:
    """Stands in for a HF tokenizer: one token per whitespace-separated word."""

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": text.split()}


def test_completion_text_reads_strings_and_messages():
    assert completion_text("abc") == "abc"
    assert (
        completion_text([{"role": "assistant", "content": "ab"}, {"role": "tool", "content": "c"}]) == "abc"
    )
    with pytest.raises(TypeError, match="must be a string"):
        completion_text([{"role": "assistant", "content": [{"type": "text"}]}])


def test_accuracy_compares_the_last_box_mod_1000_with_the_answer():
    completions = [
        "<think>try \\boxed{3}</think> so \\boxed{42}",  # last box counts: right
        "\\boxed{42} no wait \\boxed{41}",  # last box wrong
        "the answer is 42",  # no box
        "\\boxed{1042}",  # 1042 mod 1000 = 42
        "\\boxed{\\frac{84}{2}}",  # an integral fraction
    ]
    assert accuracy_reward(completions, answer=[42] * 5) == [1.0, 0.0, 0.0, 1.0, 1.0]
    assert accuracy_reward([chat("\\boxed{7}")], answer=[7]) == [1.0]
    assert accuracy_reward(["\\boxed{7}"], answer=["7"]) == [1.0]  # an answer column read as text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>\nwork\n</think>\n\nSo \\boxed{5}.", 1.0),
        ("work, the template opened the block\n</think>\n\\boxed{5}", 1.0),  # <think> prefilled by the prompt
        ("  <think>w</think>\\boxed{x+1}", 1.0),  # any closed box; correctness is not format's business
        ("<think>\\boxed{5}</think> the answer is five", 0.0),  # box only inside the thinking
        ("<think>work</think>\\boxed{5", 0.0),  # box never closes
        ("<think>a</think><think>b</think>\\boxed{5}", 0.0),  # two think blocks
        ("<think>a</think>\\boxed{5}</think>", 0.0),  # </think> twice
        ("hello <think>a</think>\\boxed{5}", 0.0),  # <think> does not open the completion
        ("<think>a</think>\\boxed{5} <think>", 0.0),  # stray <think> in the answer
        ("no think block \\boxed{5}", 0.0),
    ],
)
def test_format_wants_one_think_block_then_a_closed_box(text, expected):
    assert format_reward([text]) == [expected]
    assert format_reward([chat(text)]) == [expected]


def test_boxed_in_think_wants_the_box_before_the_think_end():
    completions = [
        "<think>so \\boxed{5}</think>",  # Fast-Math-R1's target: answer stated, generation may stop here
        "<think>work</think>\\boxed{5}",  # box only after the block
        "<think>\\boxed{5} and no end",  # the block never closes
        "<think>\\boxed{5}</think><think>\\boxed{5}</think>",
    ]
    assert boxed_in_think_reward(completions) == [1.0, 0.0, 0.0, 0.0]


def test_cosine_schedule_by_hand():
    s = CosineSchedule(
        min_value_correct=0.5, max_value_correct=1.0, min_value_wrong=-1.0, max_value_wrong=-0.5, max_len=100
    )
    assert s(0, True) == pytest.approx(1.0)
    assert s(50, True) == pytest.approx(0.75)  # cos(pi/2) = 0: halfway
    assert s(25, True) == pytest.approx(0.5 + 0.25 * (1 + math.sqrt(0.5)))  # 0.92678
    assert s(100, True) == pytest.approx(0.5)
    assert s(250, True) == pytest.approx(0.5)  # clipped, does not come back up the cosine
    assert s(0, False) == pytest.approx(-1.0)  # short and wrong: the harshest
    assert s(50, False) == pytest.approx(-0.75)
    assert s(100, False) == pytest.approx(-0.5)  # long and wrong: penalised least
    assert s(75, True) > s(75, False)


def test_cosine_schedule_refuses_inverted_ranges():
    with pytest.raises(ValueError, match="max_len"):
        CosineSchedule(max_len=0)
    with pytest.raises(ValueError, match="min_value_correct"):
        CosineSchedule(min_value_correct=1.0, max_value_correct=0.5)
    with pytest.raises(ValueError, match="min_value_wrong"):
        CosineSchedule(min_value_wrong=0.0, max_value_wrong=-0.5)


def test_cosine_reward_measures_characters_or_tokens():
    s = CosineSchedule(
        min_value_correct=0.5, max_value_correct=1.0, min_value_wrong=-1.0, max_value_wrong=-0.5, max_len=20
    )
    right = "a b c d e \\boxed{7}"  # 19 characters, 6 words
    wrong = "\\boxed{8}"  # 9 characters, 1 word
    by_chars = cosine_scaled_reward(s)([right, chat(wrong)], answer=[7, 7])
    assert by_chars == pytest.approx([0.5 + 0.25 * (1 + math.cos(math.pi * 19 / 20)),
                                      -0.5 - 0.25 * (1 + math.cos(math.pi * 9 / 20))])  # fmt: skip
    by_tokens = cosine_scaled_reward(s, WordTokenizer())([right, wrong], answer=[7, 7])
    assert by_tokens == pytest.approx([0.5 + 0.25 * (1 + math.cos(math.pi * 6 / 20)),
                                       -0.5 - 0.25 * (1 + math.cos(math.pi / 20))])  # fmt: skip


def test_length_penalty_per_prompt_group_by_hand():
    reward = length_penalty_reward()
    p, q = [{"role": "user", "content": "P"}], [{"role": "user", "content": "Q"}]
    box = "\\boxed{{{}}}".format
    completions = [box(1), box(1) + "x" * 5, box(1) + "x" * 10, box(2), box(2) + "x" * 10, box(3), box(3)]
    answer = [1, 1, 9, 2, 9, 3, 3]
    prompts = [p, p, p, q, q, [], []]
    # group p: lengths 9, 14, 19 -> lam 0.5, 0, -0.5; the longest is wrong: min(0, -0.5) = -0.5
    # group q: lengths 9, 19 -> correct 0.5; wrong long: min(0, -0.5); group []: equal lengths -> 0
    assert reward(completions, answer=answer, prompts=prompts) == pytest.approx(
        [0.5, 0.0, -0.5, 0.5, -0.5, 0, 0]
    )
    # a short wrong completion gets min(0, 0.5) = 0, not a bonus
    assert reward(["\\boxed{5}", "\\boxed{1}xx"], answer=[1, 1]) == pytest.approx([0.0, -0.5])


def test_registry_names_the_functions_as_trl_logs_them():
    assert set(REWARDS) == {"accuracy", "format", "boxed_in_think", "cosine", "length"}
    funcs = get_reward_funcs(["accuracy", "cosine", "length"], schedule=CosineSchedule(max_len=9))
    assert [f.__name__ for f in funcs] == ["accuracy_reward", "cosine_reward", "length_reward"]
    assert funcs[1](["\\boxed{1}"], answer=[1]) == pytest.approx([0.1])  # 9 characters: min_value_correct
    with pytest.raises(ValueError, match=r"unknown reward function\(s\) \['speed'\]"):
        get_reward_funcs(["accuracy", "speed"])
