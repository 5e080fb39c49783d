"""The multiple-choice reader on the real MiniLM (cut to 1-2 layers): inputs keep the question and option
whole, the collator gives (batch, 5, seq), training learns a planted task, and a saved reader predicts
exactly what the trained one did."""

import json

import numpy as np
import pandas as pd
import pytest
from transformers import AutoTokenizer

from science_exam import reader
from science_exam.configs import ExperimentConfig
from science_exam.data import LETTERS
from shared.tiny import minilm_path


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(minilm_path())


def config(pooling: str, **overrides) -> ExperimentConfig:
    """MiniLM on CPU with the given head."""
    fields = dict(backbone=str(minilm_path()), num_layers=1, mc_pooling=pooling, max_length=64, learning_rate=2e-4,
                  epochs=1.0, batch_size=4, gradient_accumulation_steps=1, warmup_ratio=0.0, scheduler="linear",
                  bf16=False, seed=0)  # fmt: skip
    return ExperimentConfig(**(fields | overrides))


def planted(n: int, seed: int) -> pd.DataFrame:
    """Five random whole words per question; the context names the correct one."""
    vocab = (minilm_path() / "vocab.txt").read_text().split("\n")
    words = [w for w in vocab[2000:12000] if w.isalpha() and len(w) >= 4]
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        options = [words[j] for j in rng.choice(len(words), 5, replace=False)]
        answer = int(rng.integers(5))
        rows.append({"id": f"p{seed}-{i}", "prompt": "Which word does the passage mention?",
                     **dict(zip(LETTERS, options, strict=True)), "answer": LETTERS[answer],
                     "context": f"The passage says {options[answer]}."})  # fmt: skip
    return pd.DataFrame(rows)


def test_truncation_cuts_the_context_and_keeps_the_question_and_option(tokenizer):
    frame = planted(2, seed=5)
    long_context = " ".join(["photosynthesis converts light energy into chemical energy"] * 20)
    frame["context"] = [long_context, ""]
    features = reader.option_inputs(tokenizer, frame, max_length=32)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    context_ids = tokenizer(long_context, add_special_tokens=False)["input_ids"]
    for j, letter in enumerate(LETTERS):
        question = tokenizer(f"{frame.prompt[0]} {frame[letter][0]}", add_special_tokens=False)["input_ids"]
        ids = features[0]["input_ids"][j]
        assert len(ids) == 32
        kept = 32 - len(question) - 3
        assert ids == [cls, *context_ids[:kept], sep, *question, sep]
        assert features[0]["token_type_ids"][j] == [0] * (kept + 2) + [1] * (len(question) + 1)
        # no context: the question and option alone
        alone = tokenizer(f"{frame.prompt[1]} {frame[letter][1]}")["input_ids"]
        assert features[1]["input_ids"][j] == alone
    # a short context is not cut
    frame["context"] = ["short context", "x"]
    features = reader.option_inputs(tokenizer, frame, max_length=32)
    assert (
        features[0]["input_ids"][0]
        == tokenizer("short context", f"{frame.prompt[0]} {frame.A[0]}")["input_ids"]
    )


def test_a_question_longer_than_max_length_cuts_both_sides(tokenizer):
    frame = planted(1, seed=6).assign(prompt=" ".join(["why"] * 40), context="some context words")
    features = reader.option_inputs(tokenizer, frame, max_length=16)
    assert [len(ids) for ids in features[0]["input_ids"]] == [16] * 5
    assert all(ids.count(tokenizer.sep_token_id) == 2 for ids in features[0]["input_ids"])


def test_collator_pads_five_options_per_question():
    features = [
        {"input_ids": [[5, 6, 7], [5, 6], [5], [5, 6], [5]], "attention_mask": [[1, 1, 1], [1, 1], [1], [1, 1], [1]],
         "labels": 2},
        {"input_ids": [[8], [8], [8], [8], [8, 9]], "attention_mask": [[1], [1], [1], [1], [1, 1]], "labels": 0},
    ]  # fmt: skip
    batch = reader.Collator(pad_id=0)(features)
    assert batch["input_ids"].shape == (2, 5, 3)
    assert batch["input_ids"][0, 1].tolist() == [5, 6, 0]
    assert batch["attention_mask"][1, 4].tolist() == [1, 1, 0]
    assert batch["labels"].tolist() == [2, 0]


def test_a_bad_answer_names_the_id_and_column(tokenizer):
    frame = planted(3, seed=7)
    frame.loc[1, "answer"] = "F"
    with pytest.raises(ValueError, match=r"id p7-1, column answer: 'F' is not one of A-E"):
        reader.labels_of(frame)


@pytest.mark.slow
def test_the_mean_pooled_reader_learns_a_planted_task():
    trained = reader.fit(config("mean", num_layers=2, epochs=2.0), planted(160, seed=0), desc="reader")
    first, last = np.mean(trained.losses[:3]), np.mean(trained.losses[-3:])
    assert first == pytest.approx(np.log(5), abs=0.05)  # starts at chance: five equal logits
    assert last < first - 0.4
    held_out = planted(40, seed=99)
    proba = trained.predict_proba(held_out)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    accuracy = np.mean(proba.argmax(axis=1) == held_out["answer"].map(LETTERS.index).to_numpy())
    assert accuracy >= 0.6  # chance is 0.2


@pytest.mark.parametrize("pooling", ["model", "mean"])
def test_training_is_seeded_and_a_saved_reader_predicts_the_same(pooling, tmp_path):
    train, test = planted(8, seed=1), planted(6, seed=2)
    trained = reader.fit(config(pooling), train, desc="reader")
    again = reader.fit(config(pooling), train, desc="reader")
    proba = trained.predict_proba(test)
    np.testing.assert_array_equal(again.predict_proba(test), proba)
    assert np.ptp(proba) > 1e-6  # the rows and options differ, so equality below means something
    trained.save(tmp_path / "reader")
    settings = json.loads((tmp_path / "reader" / "reader.json").read_text())
    assert settings == {"pooling": pooling, "max_length": 64, "batch_size": 8, "bf16": False,
                        "attn_implementation": "sdpa"}  # fmt: skip
    assert (tmp_path / "reader" / reader.POOLED_HEAD).is_file() == (pooling == "mean")
    loaded = reader.load(tmp_path / "reader")
    encoder = loaded.model if pooling == "model" else loaded.model.backbone
    assert encoder.config.num_hidden_layers == 1  # saved cut, loaded cut
    np.testing.assert_array_equal(loaded.predict_proba(test), proba)
    assert loaded.predict_proba(test.iloc[:0]).shape == (0, 5)
