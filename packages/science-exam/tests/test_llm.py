"""The LLM option scorer: the shared-prefix KV cache scores exactly what separate forwards do, the answer
letters' token check, LoRA training that learns a planted rule, and an offline save/load round trip."""

import numpy as np
import pandas as pd
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

from science_exam import llm
from science_exam.configs import ExperimentConfig
from shared.llm import BASE, encode_text, ensure_padding
from shared.tiny import resolve_backbone

TEXTS = [
    "The mitochondrion makes most of the cell's energy. Answer: A B C D E",
    "Photosynthesis converts light into chemical energy in green plants.",
    "Question: Which planet is largest?\nA) Mars\nB) Jupiter\nC) Venus\nD) Earth\nE) Mercury\nAnswer: B",
] * 4
COLORS = ["red", "blue", "green", "amber", "violet", "silver", "orange", "purple", "golden", "white"]


@pytest.fixture(scope="module")
def tiny():
    path = resolve_backbone("tiny:qwen2", TEXTS)
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return path, tokenizer, model


def questions() -> pd.DataFrame:
    """Three questions whose options run from 1 to ~25 tokens, with long, empty and short contexts."""
    return pd.DataFrame({
        "id": ["q1", "q2", "q3"],
        "prompt": ["What makes most of the cell's energy?", "Which process converts light?", "Largest planet?"],
        "A": ["the mitochondrion", "photosynthesis in green plants and in many kinds of algae", "x"],
        "B": ["the nucleus of a eukaryotic cell", "respiration", "Jupiter"],
        "C": ["ribosome", "a", "a very large planet far from the sun with many moons and rings"],
        "D": ["cell wall", "fermentation of sugar", "Earth"],
        "E": ["golgi", "none of these", "Mercury, the smallest planet"],
        "context": ["The mitochondrion makes most of the cell's energy. " * 4, "", "Jupiter is large."],
    })  # fmt: skip


def reference_scores(model, prompts) -> torch.Tensor:
    """Mean log-probability of each option's tokens, one unpadded forward per (question, option), written
    out token by token."""
    out = torch.zeros(len(prompts), 5)
    for q, prompt in enumerate(prompts):
        for k, option in enumerate(prompt.options):
            seq = torch.tensor([prompt.prefix + option])
            logp = model(input_ids=seq).logits[0].log_softmax(-1)
            start = len(prompt.prefix)
            out[q, k] = sum(logp[start + t - 1, tok] for t, tok in enumerate(option)) / len(option)
    return out


@torch.no_grad()
def test_shared_prefix_cache_scores_exactly_what_separate_forwards_do(tiny):
    _, tokenizer, model = tiny
    prompts = llm.encode(tokenizer, questions(), "options", max_length=96)
    lengths = {len(o) for p in prompts for o in p.options}
    assert min(lengths) == 1 and max(lengths) >= 10  # options of very different lengths in one batch
    assert len({len(p.prefix) for p in prompts}) == 3  # and prefixes of different lengths (left padding)
    cached = llm.score_options_cached(model, prompts, tokenizer.pad_token_id)
    separate = llm.score_options_separate(model, prompts)
    torch.testing.assert_close(cached, reference_scores(model, prompts), atol=1e-5, rtol=0)
    torch.testing.assert_close(cached, separate, atol=1e-5, rtol=0)
    batch = llm.Collator("options", tokenizer.pad_token_id)([{"prompt": p} for p in prompts])
    training_path = llm.batch_scores(model, batch, None)  # one padded forward, no cache
    torch.testing.assert_close(training_path, separate, atol=1e-5, rtol=0)


def test_context_is_cut_to_max_length_but_never_the_question_or_options(tiny):
    _, tokenizer, _ = tiny
    frame = questions().iloc[:1]
    bare = llm.encode(tokenizer, frame.assign(context=""), "letters", 10_000)[0].prefix
    assert "Context:" not in tokenizer.decode(bare)
    budget = len(bare) + 20  # room for the "Context:" label and a few of the context's tokens
    short, long = (llm.encode(tokenizer, frame, "letters", n)[0].prefix for n in (budget, 10_000))
    assert len(short) == budget < len(long)
    text = tokenizer.decode(short)
    assert text.endswith(
        f"Question: {frame['prompt'].iloc[0]}\nA) the mitochondrion\nB) the nucleus of a "
        "eukaryotic cell\nC) ribosome\nD) cell wall\nE) golgi\nAnswer:"
    )
    tail = len(bare) - len(encode_text(tokenizer, llm.INSTRUCTION))  # question and options
    assert short[-tail:] == long[-tail:]
    assert short[:-tail] == long[: budget - tail]  # the context is cut at its end
    assert "Context: The mitochondrion" in text


def test_letter_tokens_are_single_tokens_after_the_answer_cue(tiny):
    _, tokenizer, _ = tiny
    ids = llm.letter_token_ids(tokenizer)
    assert [tokenizer.decode([i]) for i in ids] == [" A", " B", " C", " D", " E"]
    prompt = llm.encode(tokenizer, questions().iloc[:1], "letters", 10_000)[0].prefix
    assert tokenizer.encode(tokenizer.decode(prompt) + " C", add_special_tokens=False)[-1] == ids[2]


def test_letter_check_raises_when_letters_are_not_single_tokens():
    """A byte-level BPE that fuses ':A' into one token and splits ' A' into two: no form works."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)}
    merges = [(":", letter) for letter in "ABCDE"]
    vocab |= {a + b: len(vocab) + i for i, (a, b) in enumerate(merges)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok)
    assert tokenizer.tokenize("Answer: A")[-2:] == ["Ġ", "A"]
    with pytest.raises(
        ValueError, match=r"the answers \['A', 'B', 'C', 'D', 'E'\] are not single tokens after 'Answer:'.*llm_mode options"
    ):
        llm.letter_token_ids(tokenizer)


def planted(n: int, seed: int) -> pd.DataFrame:
    """Questions whose right option is always "green", at letter C three times in four. A random frozen
    base gives LoRA nothing to read the input with (its last hidden state barely depends on it), so the
    mechanics test plants rules that need no reading: ``letters`` can learn the C bias, ``options`` the
    word. Whether LoRA learns to *read* the context is measured on the pretrained stand-in instead."""
    rng = np.random.default_rng(seed)
    others = [c for c in COLORS if c != "green"]
    rows = []
    for i in range(n):
        k = 2 if rng.random() < 0.75 else int(rng.integers(5))
        options = list(rng.choice(others, 4, replace=False))
        options.insert(k, "green")
        rows.append({"id": f"p{i}", "prompt": "Which colour is the flag?", **dict(zip("ABCDE", options, strict=True)),
                     "answer": "ABCDE"[k], "context": f"The flag is {options[k]}."})  # fmt: skip
    return pd.DataFrame(rows)


def config(path: str, mode: str, **changes) -> ExperimentConfig:
    values = dict(reader="llm", backbone=path, llm_mode=mode, max_length=128, lora_r=8, lora_alpha=16,
                  lora_dropout=0.0, learning_rate=1e-2, epochs=4.0, batch_size=8, gradient_accumulation_steps=1,
                  warmup_ratio=0.0, weight_decay=0.0, scheduler="constant", bf16=False, seed=0)  # fmt: skip
    return ExperimentConfig(**(values | changes))


def cross_entropy(proba: np.ndarray, frame: pd.DataFrame) -> float:
    picked = proba[np.arange(len(frame)), frame["answer"].map("ABCDE".index).to_numpy()]
    return float(-np.log(picked).mean())


@pytest.mark.parametrize("mode", ["letters", "options"])
def test_lora_training_lowers_the_loss_and_moves_only_the_adapters(tiny, mode, tmp_path):
    path, tokenizer, _ = tiny
    frame = planted(32, seed=1)
    cfg = config(path, mode)
    reader = llm.fit(cfg, frame, desc="test llm")
    trainable = [name for name, p in reader.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    lora_b = [p for name, p in reader.model.named_parameters() if "lora_B" in name]
    assert all(p.abs().sum() > 0 for p in lora_b)  # lora_B starts at zero
    settings = reader.settings
    untrained = llm.LlmReader(
        AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32), tokenizer, settings
    )
    before, after = (
        cross_entropy(untrained.predict_proba(frame), frame),
        cross_entropy(reader.predict_proba(frame), frame),
    )
    assert after < before - 0.3, (before, after)

    proba = reader.predict_proba(frame)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-9)
    reader.save(tmp_path / "reader")
    again = llm.load(tmp_path / "reader")
    np.testing.assert_allclose(again.predict_proba(frame), proba, atol=1e-6)
    assert not any(p.requires_grad for p in again.model.parameters())
    # a tiny base (shared.tiny's cache, absent offline) travels with the adapters; the rest is unchanged
    assert again.settings.pop("base") == str(tmp_path / "reader" / BASE)
    assert again.settings == {k: v for k, v in settings.items() if k != "base"}


def test_fit_rejects_a_missing_answer_letter(tiny):
    path, _, _ = tiny
    frame = planted(4, seed=0)
    frame.loc[2, "answer"] = "F"
    with pytest.raises(ValueError, match="id p2: column answer: 'F' is not A-E"):
        llm.fit(config(path, "letters"), frame, desc="bad")
