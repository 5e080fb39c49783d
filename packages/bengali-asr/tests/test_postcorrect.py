"""LLM post-correction: n-best rescoring by a causal LM's sentence log-probability, weight tuning by WER, and
generative correction behind the hallucination guard."""

import itertools

import numpy as np
import pytest
import torch

from bengali_asr import postcorrect as pc
from shared.tiny import pretrained_causal_lm

WHEN = ["আজ", "কাল", "সকালে", "রাতে"]
WHO = ["আমি", "তুমি", "রহিম", "করিম", "মা", "বাবা", "শিক্ষক", "ছাত্র"]
WHAT = ["ভাত", "বই", "জল", "মাছ", "চিঠি", "গান", "ফল", "খবর"]
VERB = ["খায়", "পড়ে", "আনে", "দেখে", "চায়", "রাখে"]
CORPUS = [" ".join(words) for words in itertools.product(WHEN, WHO, WHAT, VERB)]  # 1,536 sentences


@pytest.fixture(scope="module")
def lm_dir():
    """A tiny Qwen2 pretrained on the corpus: 80 steps, ~5 s on one thread on a cache miss (cached after)."""
    arch = dict(vocab_size=400, hidden_size=64, intermediate_size=128)
    return str(pretrained_causal_lm(CORPUS, steps=80, seq_len=32, batch_size=8, **arch))


@pytest.fixture(scope="module")
def scorer(lm_dir):
    return pc.LMScorer(lm_dir, batch_size=4)


# The acoustic score prefers a non-word spelling (a letter swapped or replaced), the right sentence second.
NBEST = [
    [("আজ রহমি বই পড়ে", -1.0), ("আজ রহিম বই পড়ে", -3.0), ("আজ রহিম বঈ পড়ে", -3.5)],
    [("কাল মা চিঠই আনে", -0.5), ("কাল মা চিঠি আনে", -2.5)],
    [("রাতে বাবা মাছ খাই", -2.0), ("রাতে বাবা মাছ খায়", -4.0), ("রাতে বাবা মছ খায়", -4.1)],
]
RIGHT = ["আজ রহিম বই পড়ে", "কাল মা চিঠি আনে", "রাতে বাবা মাছ খায়"]


def test_the_lm_flips_the_acoustic_non_word_choice_to_the_right_sentence(lm_dir, scorer):
    acoustic = [hyps[0][0] for hyps in NBEST]
    assert pc.rescore(NBEST, "/no/such/lm", weight=0.0) == acoustic  # weight 0: the decoder's choice, no LM
    assert pc.rescore(NBEST, scorer, weight=0.0) == acoustic
    assert pc.rescore(NBEST, lm_dir, weight=1.0, batch_size=2) == RIGHT  # loaded from the path
    assert pc.rescore(NBEST, scorer, weight=5.0, length_norm="mean") == RIGHT  # per-token: a larger weight
    # the LM alone ranks every right sentence first, by a margin the acoustic gap (2 nats) cannot undo at 1.0
    for lm in pc.hypothesis_scores(NBEST, scorer):
        assert int(np.argmax(lm)) == 1 and lm[1] - lm[0] > 4


def test_a_batch_scores_each_text_as_it_scores_alone(lm_dir, scorer):
    texts = ["আজ রহিম বই পড়ে", "", "মা", "কাল মা চিঠি আনে আর রাতে বাবা মাছ খায়", "রহমি", "সকালে আমি ভাত"]
    sums, counts = scorer.score(texts)  # batches of 4, sorted by length, left-padded
    model = scorer.model
    for text, total, count in zip(texts, sums, counts, strict=True):
        ids = torch.tensor([scorer.encode(text)])
        with torch.no_grad():
            logp = model(input_ids=ids).logits[0, :-1].log_softmax(-1)  # unpadded, default positions
        expected = logp.gather(-1, ids[0, 1:, None]).sum().item()
        assert count == ids.shape[1] - 1  # every token after the start, the end token included
        assert total == pytest.approx(expected, abs=1e-4)
    assert counts[1] == 1  # an empty text still scores its end token
    single = pc.LMScorer(lm_dir, batch_size=1).score(texts)
    np.testing.assert_allclose(single[0], sums, atol=1e-4)


def test_the_text_is_framed_by_the_document_separator_or_bos_and_eos(scorer):
    tok = scorer.tokenizer
    separator = tok.convert_tokens_to_ids("<|endoftext|>")
    assert pc.boundary_ids(tok, scorer.model.config) == ([separator], [separator])  # Qwen2: no BOS
    assert scorer.encode("  আজ   রহিম ") == [
        separator,
        *tok.encode("আজ রহিম", add_special_tokens=False),
        separator,
    ]

    class Llama:  # a tokenizer that writes a BOS
        bos_token_id, eos_token_id, name_or_path = 1, 2, "llama"

        def __call__(self, text):
            return {"input_ids": [1, 99]}

    assert pc.boundary_ids(Llama(), scorer.model.config) == ([1], [2])


class TableScorer:
    """A stand-in LM with fixed scores, recording what it was asked."""

    def __init__(self, scores: dict[str, float]):
        self.scores, self.asked = scores, []

    def score(self, texts):
        self.asked.append(list(texts))
        return np.array([self.scores[t] for t in texts]), np.array([len(t.split()) + 1 for t in texts])


def test_tune_weight_picks_the_wer_minimising_weight():
    nbest = [
        [("x y z", 0.0), ("a b c", -1.0)],  # LM gap 4: the right one wins for weight > 0.25
        [("d e f", 0.0), ("d e g", -2.0)],  # LM prefers the wrong one by 2: it wins for weight > 1
        [("p q", 0.0), ("p r", -0.5), ("x y z", -9.0)],  # LM gap 1: the right one wins for weight > 0.5
    ]
    references = ["a b c।", "d e f?", "p, r"]  # punctuation is stripped before WER
    lm = TableScorer({"x y z": -5.0, "a b c": -1.0, "d e f": -3.0, "d e g": -1.0, "p q": -2.0, "p r": -1.0})
    best, table = pc.tune_weight(nbest, references, [2.0, 1.0, 0.75, 0.4, 0.0], lm)
    assert lm.asked == [["x y z", "a b c", "d e f", "d e g", "p q", "p r"]]  # each distinct text once
    wer = dict(zip(table["weight"], table["wer"], strict=True))
    # hand computed: 0 -> (1 + 0 + 1/2) / 3; 0.4 -> (0 + 0 + 1/2) / 3; 0.75 and 1 (a tie keeps d e f) -> 0;
    # 2 -> (0 + 1/3 + 0) / 3
    assert wer == pytest.approx({0.0: 0.5, 0.4: 1 / 6, 0.75: 0.0, 1.0: 0.0, 2.0: 1 / 9})
    assert best == 0.75  # the WER tie between 0.75 and 1.0 goes to the smaller weight
    assert dict(zip(table["weight"], table["changed"], strict=True)) == {
        0.0: 0,
        0.4: 1,
        0.75: 2,
        1.0: 2,
        2.0: 3,
    }
    # mean normalisation divides by the scored tokens (words + 1 here)
    mean = pc.hypothesis_scores(nbest[:1], TableScorer(lm.scores), "mean")[0]
    np.testing.assert_allclose(mean, [-5.0 / 4, -1.0 / 4])


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ValueError, match="nbest: list 1 is empty"):
        pc.rescore([[("a", 0.0)], []], "/no/such/lm", 0.0)
    with pytest.raises(ValueError, match="length_norm: 'max'"):
        pc.hypothesis_scores([[("a", 0.0)]], TableScorer({"a": -1.0}), "max")
    with pytest.raises(ValueError, match="references: 1 for 2"):
        pc.tune_weight([[("a", 0.0)], [("b", 0.0)]], ["a"], [0.0], TableScorer({}))
    with pytest.raises(ValueError, match=r"no \{text\} placeholder"):
        pc.correct(["a"], "/no/such/lm", prompt_template="Fix it.")


def test_rescore_settings_round_trip(tmp_path):
    settings = pc.RescoreSettings(weight=0.75, length_norm="mean", batch_size=8)
    assert pc.RescoreSettings.load(settings.save(tmp_path / "rescore.json")) == settings
    with pytest.raises(ValueError, match="length_norm"):
        pc.RescoreSettings(length_norm="max")
    with pytest.raises(ValueError, match="unknown key"):
        pc.RescoreSettings.from_dict({"weight": 1.0, "beam": 3})


class Scripted:
    """A stand-in generator: the reply to each transcript, and the requests it was sent."""

    def __init__(self, replies: dict[str, str]):
        self.replies, self.requests = replies, []

    def complete(self, requests, seed, desc):
        self.requests += requests
        return [self.replies[next(t for t in self.replies if t in r[0]["content"])] for r in requests]


def test_the_guard_keeps_the_input_when_the_llm_changes_too_much_or_answers_nothing():
    texts = ["আমি ভাত খাই আজ সকালে", "তুমি বই পরো আজ রাতে", "সে জল খায়", "মা গান শোনে", "বাবা চিঠি লেখে", ""]
    replies = {
        texts[0]: " আমি ভাত খাই আজ সকালে।\nExplanation: nothing to fix",  # punctuation only: 0 words change
        texts[1]: ' "তুমি বই পড়ো আজ রাতে"',  # one word of five (0.2 <= 0.3)
        texts[2]: " সে পানি পান করে",  # three edits over three words: a rewrite
        texts[3]: " ।।\n ",  # marks only: no word
        texts[4]: " Here is the corrected sentence: বাবা চিঠি লেখে",  # chatter: 5 edits over 3 words
    }
    backend = Scripted(replies)
    out = pc.correct(texts, "/unused", backend=backend, max_change=0.3)
    assert out == ["আমি ভাত খাই আজ সকালে।", "তুমি বই পড়ো আজ রাতে", texts[2], texts[3], texts[4], ""]
    assert len(backend.requests) == 5  # the empty transcript is not asked
    first = backend.requests[0]
    assert first[0]["content"] == pc.PROMPT.format(text=texts[0]) and first[-1] == {
        "role": "assistant", "content": pc.ANSWER_START}  # fmt: skip
    assert "answer with the corrected sentence only" in first[0]["content"]
    # a looser guard lets the rewrite through, a strict one keeps even the one-word fix out
    assert pc.correct(texts[2:3], "/unused", backend=Scripted(replies), max_change=1.0) == ["সে পানি পান করে"]
    assert pc.correct(texts[1:2], "/unused", backend=Scripted(replies), max_change=0.1) == [texts[1]]
    assert pc.guard("এক দুই", "", 1.0) == pc.guard("এক দুই", "  ", 1.0) == "এক দুই"  # an empty answer
    assert pc.word_change("এক দুই তিন চার", "এক দুই, তিন চার।") == 0.0
    assert pc.word_change("এক দুই তিন চার", "এক তিন চার পাঁচ") == 0.5


def test_correct_with_the_tiny_qwen2_is_a_deterministic_string_per_input(lm_dir):
    texts = ["আজ রহমি বই পড়ে", "কাল মা চিঠই আনে", "রাতে বাবা মাছ খায়"]
    first = pc.correct(texts, lm_dir, max_new_tokens=12, batch_size=2)  # chat template, greedy, guard 0.3
    assert pc.correct(texts, lm_dir, max_new_tokens=12, batch_size=3) == first  # deterministic across batches
    assert len(first) == 3 and all(isinstance(t, str) and t for t in first)
    for text, fixed in zip(texts, first, strict=True):  # the input, or a sentence within the guard
        assert fixed == text or pc.word_change(text, fixed) <= 0.3
