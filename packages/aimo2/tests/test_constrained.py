r"""Forcing the final ``\boxed{<integer>}``: the state machine by hand, then on a tiny random model."""

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList

from aimo2.answers import extract_answer
from aimo2.constrained import BOX_PREFIX, BoxForcer, BoxForcing, BoxTokens, ForceBoxLogitsProcessor
from aimo2.prompts import THINK_END, build_messages
from shared.tiny import tiny_causal_lm

# Hand-made vocabulary: 0-9 are the digits, 10 is "}", 11 is </think>, 12-14 the prefix, 15 EOS.
TOKENS = BoxTokens(think_end=11, prefix=(12, 13, 14), close=10, digits=tuple(range(10)), eos=15)
DIGITS = list(range(10))
FREE_TOKEN = 42


def run(forcer: BoxForcer, tokens: list[int]) -> BoxForcer:
    for token in tokens:
        forcer.observe(token)
    return forcer


def test_budget_forces_think_end_prefix_digits_close_then_eos():
    forcer = BoxForcer(TOKENS, BoxForcing(max_digits=2), budget=3, thinking=True)
    steps = []
    for token in [FREE_TOKEN, FREE_TOKEN, FREE_TOKEN, 11, 12, 13, 14, 7, 3, 10, 15]:
        steps.append(forcer.allowed())
        forcer.observe(token)
    assert steps == [
        None, None, None,  # three free tokens
        [11], [12], [13], [14],  # </think> and the prefix
        DIGITS,  # a first digit is required
        [*DIGITS, 10],  # then a digit or the closing brace
        [10],  # max_digits reached: close
        [15],  # then EOS
    ]  # fmt: skip


def test_a_closed_box_ends_with_eos_before_max_digits():
    forcer = run(BoxForcer(TOKENS, BoxForcing(max_digits=6), budget=0, thinking=False), [12, 13, 14, 4, 10])
    assert forcer.allowed() == [15]


def test_no_think_end_is_forced_once_the_model_stopped_thinking():
    forcer = run(BoxForcer(TOKENS, BoxForcing(), budget=4, thinking=True), [FREE_TOKEN, 11, FREE_TOKEN])
    assert forcer.allowed() is None  # </think> alone does not trigger without after_think
    forcer.observe(FREE_TOKEN)
    assert forcer.allowed() == [12]
    continuation = BoxForcer(TOKENS, BoxForcing(), budget=1, thinking=False)  # a turn already past </think>
    assert run(continuation, [FREE_TOKEN]).allowed() == [12]


def test_after_think_forces_the_box_right_after_the_models_own_think_end():
    forcer = run(BoxForcer(TOKENS, BoxForcing(after_think=True), budget=100, thinking=True), [FREE_TOKEN, 11])
    assert forcer.allowed() == [12]


def test_a_zero_budget_forces_from_the_first_token():
    assert BoxForcer(TOKENS, BoxForcing(), budget=0, thinking=True).allowed() == [11]


def test_max_digits_must_be_positive():
    with pytest.raises(ValueError, match="max_digits"):
        BoxForcing(max_digits=0)


def test_processor_keeps_one_state_per_row_with_num_return_sequences():
    # Prompt 0 has already left its reasoning, prompt 1 has not; two sequences each, budget of one token.
    processor = ForceBoxLogitsProcessor(
        TOKENS, BoxForcing(), budgets=[1, 1], thinking=[False, True], prompt_length=2, num_return_sequences=2
    )
    scores = torch.randn(4, 50)
    first = processor(torch.zeros(4, 2, dtype=torch.long), scores.clone())
    assert torch.equal(first, scores)  # nothing generated yet: untouched
    second = processor(torch.full((4, 3), FREE_TOKEN), scores.clone())
    allowed = [torch.isfinite(row).nonzero().flatten().tolist() for row in second]
    assert allowed == [[12], [12], [11], [11]]
    assert torch.equal(second[0, 12], scores[0, 12])  # the allowed token keeps its logit


@pytest.fixture(scope="module")
def tiny_path():
    texts = ["<think>\nLet x = 12. Then 3x = 36.\n</think>\n\nThe answer is \\boxed{36}.", "print(6*7)"] * 4
    return tiny_causal_lm(texts, extra_special_tokens=["<think>", "</think>"])


@pytest.fixture(scope="module")
def tiny(tiny_path):
    tokenizer = AutoTokenizer.from_pretrained(tiny_path)
    tokenizer.padding_side = "left"
    return tokenizer, AutoModelForCausalLM.from_pretrained(tiny_path).eval()


def test_box_tokens_of_a_real_tokenizer(tiny):
    tokenizer, _ = tiny
    tokens = BoxTokens.from_tokenizer(tokenizer)
    assert [tokenizer.decode([d]) for d in tokens.digits] == [str(d) for d in range(10)]
    assert tokenizer.decode(list(tokens.prefix)) == BOX_PREFIX
    assert tokenizer.decode([tokens.close]) == "}"
    assert tokenizer.decode([tokens.think_end]) == THINK_END
    assert tokens.eos == tokenizer.eos_token_id
    assert tokens.reserve(BoxForcing(max_digits=3)) == 1 + len(tokens.prefix) + 3 + 2


def generate(tiny, processor, prompts, n, max_new_tokens, seed=0):
    tokenizer, model = tiny
    texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    torch.manual_seed(seed)
    output = model.generate(
        **batch, do_sample=True, temperature=1.0, top_p=1.0, max_new_tokens=max_new_tokens,
        num_return_sequences=n, logits_processor=LogitsProcessorList([processor] if processor else []),
    )  # fmt: skip
    return batch["input_ids"].shape[1], output[:, batch["input_ids"].shape[1] :].tolist()


@pytest.mark.parametrize("budget", [0, 5, 17])
def test_random_model_ends_every_sample_with_a_box_after_the_budget(tiny, budget):
    tokenizer, _ = tiny
    tokens = BoxTokens.from_tokenizer(tokenizer)
    forcing = BoxForcing(max_digits=3)
    prompts = [build_messages("What is 6 times 7?"), build_messages("Compute 2 + 2.")]
    prompt_length = generate(tiny, None, prompts, 1, 1)[0]
    processor = ForceBoxLogitsProcessor(
        tokens,
        forcing,
        budgets=[budget] * 2,
        thinking=[True] * 2,
        prompt_length=prompt_length,
        num_return_sequences=3,
    )
    _, rows = generate(tiny, processor, prompts, 3, budget + tokens.reserve(forcing) + 5)
    for ids in rows:
        ids = ids[: ids.index(tokens.eos) + 1]  # the rest is padding
        assert len(ids) <= budget + tokens.reserve(forcing)
        start = budget if THINK_END in tokenizer.decode(ids[:budget]) else budget + 1
        if start == budget + 1:
            assert ids[budget] == tokens.think_end
        box = ids[start : start + len(tokens.prefix)]
        assert box == list(tokens.prefix)
        digits = ids[start + len(tokens.prefix) : -2]
        assert 1 <= len(digits) <= 3 and set(digits) <= set(tokens.digits)
        assert ids[-2:] == [tokens.close, tokens.eos]
        text = tokenizer.decode(ids, skip_special_tokens=False)
        assert extract_answer(text) == int(tokenizer.decode(digits)) % 1000


def test_an_untriggered_processor_leaves_generation_unchanged(tiny):
    tokenizer, _ = tiny
    prompts = [build_messages("What is 6 times 7?")]
    prompt_length, plain = generate(tiny, None, prompts, 2, 12, seed=3)
    processor = ForceBoxLogitsProcessor(
        BoxTokens.from_tokenizer(tokenizer), BoxForcing(), budgets=[1000], thinking=[True],
        prompt_length=prompt_length, num_return_sequences=2,
    )  # fmt: skip
    assert generate(tiny, processor, prompts, 2, 12, seed=3)[1] == plain
