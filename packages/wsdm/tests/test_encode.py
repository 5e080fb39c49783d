"""Encoding triples with two real tokenizers of different kinds: the tiny Qwen2 byte-level BPE (ChatML) and
the tiny DeBERTa-v3-style SentencePiece tokenizer (Metaspace, a BOS of its own) under a Gemma-style chat
template. The template is never cut, the total never exceeds max_length, the fields are cut as the
strategy says, and "A"/"B" are single tokens after the cue in both the plain and the chat template."""

import pandas as pd
import pytest
from transformers import AutoTokenizer

from shared.llm import bos_ids, encode_text
from shared.tiny import tiny_causal_lm, tiny_encoder
from wsdm.encode import CHAT_QUESTION, Template, Truncation, answer_ids, encode_frame, encode_triple
from wsdm.truncation import STRATEGIES

GEMMA_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m['role'] }}\n{{ m['content'] | trim }}"
    "<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
CORPUS = [
    "User prompt:\nWhat is the capital of France?\n\nResponse A:\nParis.\n\nResponse B:\nLyon.",
    "Which response is better, A or B? Answer: A",
    "Which response is better, A or B? Answer: B. Reply with A or B only.",
    "Let me think step by step about the question. So the answer is Paris.",
    "<start_of_turn>user\nhello<end_of_turn>\n<start_of_turn>model\nA",
    "A B A B. The first response is A, the second is B.",
] * 10
FILLER = "Let me think step by step about the question. " * 60


@pytest.fixture(scope="module")
def qwen():
    return AutoTokenizer.from_pretrained(tiny_causal_lm(CORPUS))


@pytest.fixture(scope="module")
def spm():
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder(CORPUS, arch="deberta-v2"))
    tokenizer.chat_template = GEMMA_TEMPLATE
    return tokenizer


@pytest.fixture(params=["qwen", "spm"])
def tokenizer(request):
    return request.getfixturevalue(request.param)


def test_the_two_tokenizers_differ_where_it_matters(qwen, spm):
    assert bos_ids(qwen) == [] and bos_ids(spm) == [spm.cls_token_id]
    assert qwen.convert_ids_to_tokens(encode_text(qwen, " A"))[0].startswith("Ġ")
    assert spm.convert_ids_to_tokens(encode_text(spm, "A"))[0].startswith("▁")


def test_chat_template_matches_rendering_the_whole_body(tokenizer):
    chat = Template.chat(tokenizer)
    prompt, a, b = "What is the capital of France?", "Paris.", "Lyon."
    body = f"{Template().prefix}{prompt}{Template().before_a}{a}{Template().before_b}{b}{CHAT_QUESTION}"
    whole = tokenizer.apply_chat_template(
        [{"role": "user", "content": body}], add_generation_prompt=True, tokenize=False
    )
    pieced = chat.prefix + prompt + chat.before_a + a + chat.before_b + b + chat.suffix
    if bos_ids(tokenizer):  # the template's BOS text is left to encode_triple
        assert whole == tokenizer.bos_token + pieced and not chat.prefix.startswith(tokenizer.bos_token)
    else:
        assert whole == pieced
    assert chat.suffix.endswith(("<|im_start|>assistant\n", "<start_of_turn>model\n"))


def test_chat_needs_a_chat_template(spm):
    plain = AutoTokenizer.from_pretrained(spm.name_or_path)
    with pytest.raises(ValueError, match="has no chat template"):
        Template.chat(plain)


def test_answer_ids_decode_to_a_and_b(tokenizer):
    for template in (Template(), Template.chat(tokenizer)):
        a, b = answer_ids(tokenizer, template)
        assert a != b and [tokenizer.decode([i]).strip() for i in (a, b)] == ["A", "B"]
        cue = len(encode_text(tokenizer, template.suffix))
        # what the model reads right after the cue in running text: " A" after "Answer:", "A" at the start of
        # the assistant's line after a chat template's "assistant\n"
        space = "" if template.suffix[-1].isspace() else " "
        follows = [tuple(encode_text(tokenizer, template.suffix + space + letter)[cue:]) for letter in "AB"]
        assert follows == [(a,), (b,)]


def test_short_triple_is_the_template_around_the_whole_fields(tokenizer):
    template = Template.chat(tokenizer)
    ids = encode_triple(tokenizer, "What is the capital of France?", "Paris.", "", template, Truncation())
    enc = lambda text: encode_text(tokenizer, text)  # noqa: E731
    expected = (
        bos_ids(tokenizer) + enc(template.prefix) + enc("What is the capital of France?") + enc(template.before_a)
        + enc("Paris.") + enc(template.before_b) + enc(template.suffix)
    )  # fmt: skip
    assert ids == expected


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_long_triple_never_exceeds_max_length(tokenizer, strategy):
    template = Template.chat(tokenizer)
    fixed = len(encode_triple(tokenizer, "", "", "", template, Truncation(strategy=strategy)))
    long = FILLER + "So the answer is Paris."
    for max_length in (fixed, fixed + 1, fixed + 3, fixed + 17, 64, 200, 333):
        if max_length < fixed + 3:  # below one token per field only empty fields fit
            assert (
                len(encode_triple(tokenizer, "", "", "", template, Truncation(max_length, strategy))) == fixed
            )
            continue
        ids = encode_triple(tokenizer, long, long, "Lyon." + long, template, Truncation(max_length, strategy))
        assert len(ids) == max_length
        suffix = encode_text(tokenizer, template.suffix)
        assert ids[-len(suffix) :] == suffix  # the cue is never cut
        assert ids[: len(bos_ids(tokenizer))] == bos_ids(tokenizer)


def test_too_small_max_length_names_it(tokenizer):
    fixed = len(encode_triple(tokenizer, "", "", "", Template(), Truncation()))
    with pytest.raises(ValueError, match=f"max_length {fixed - 1}: the template alone takes {fixed} tokens"):
        encode_triple(tokenizer, "", "", "", Template(), Truncation(max_length=fixed - 1))
    with pytest.raises(ValueError, match=f"max_length {fixed + 2}"):
        encode_triple(tokenizer, "a long prompt", "a", "b", Template(), Truncation(max_length=fixed + 2))


def test_decisive_tail_survives_head_tail_but_not_head(qwen):
    a = FILLER + "So the answer is Paris."
    b = FILLER + "So the answer is Lyon."
    for strategy, kept in (("head", False), ("head_tail", True), ("ratio", True)):
        ids = encode_triple(
            qwen, "What is the capital of France?", a, b, Template(), Truncation(256, strategy)
        )
        text = qwen.decode(ids)
        assert len(ids) == 256
        assert ("Paris" in text and "Lyon" in text) is kept, strategy
        assert "What is the capital of France?" in text and text.endswith(Template().suffix)


def test_encode_frame_matches_encode_triple_and_swaps(tokenizer):
    frame = pd.DataFrame({
        "id": ["x1", "x2", "x3"],
        "prompt": ["What is the capital of France?", "", FILLER],
        "response_a": ["Paris.", FILLER + "Paris.", "A"],
        "response_b": ["Lyon.", "B", ""],
    })  # fmt: skip
    template, truncation = Template.chat(tokenizer), Truncation(max_length=150, strategy="head_tail")
    rows = encode_frame(tokenizer, frame, template, truncation)
    swapped = encode_frame(tokenizer, frame, template, truncation, swap=True)
    for row, ids, ids_swapped in zip(frame.itertuples(), rows, swapped, strict=True):
        assert ids == encode_triple(
            tokenizer, row.prompt, row.response_a, row.response_b, template, truncation
        )
        assert ids_swapped == encode_triple(
            tokenizer, row.prompt, row.response_b, row.response_a, template, truncation
        )
        assert len(ids) <= 150
    assert encode_frame(tokenizer, frame.iloc[:0], template, truncation) == []


def test_encode_frame_errors(qwen):
    frame = pd.DataFrame({"id": ["x1", "x2"], "prompt": ["p", None], "response_a": ["a", "a"]})
    with pytest.raises(ValueError, match=r"missing column\(s\) \['response_b'\]"):
        encode_frame(qwen, frame, Template(), Truncation())
    frame["response_b"] = "b"
    with pytest.raises(ValueError, match="row 2 \\(id 'x2'\\): column 'prompt': expected text"):
        encode_frame(qwen, frame, Template(), Truncation())


def test_truncation_settings_are_checked():
    with pytest.raises(ValueError, match="strategy 'tail'"):
        Truncation(strategy="tail")
    with pytest.raises(ValueError, match="shares"):
        Truncation(shares=(0.5, 0.5))
    with pytest.raises(ValueError, match="head_fraction"):
        Truncation(head_fraction=2.0)
    with pytest.raises(ValueError, match="max_length 0"):
        Truncation(max_length=0)
