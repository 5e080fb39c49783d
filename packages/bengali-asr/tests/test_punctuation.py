"""Punctuation restoration: word labels round-trip with normalize, first-sub-word targets, a tiny model that
learns a sentence-level rule, deterministic training, and save/load for offline prediction."""

import random
from dataclasses import replace

import pytest
import torch

from bengali_asr.normalize import normalize, strip_punctuation
from bengali_asr.punctuation import (
    IGNORE_ID,
    LABEL2ID,
    LABELS,
    PunctuationModel,
    encode_words,
    from_labels,
    to_labels,
)

SUBJECTS = ["আমি", "তুমি", "সে", "রহিম", "করিম", "মা", "বাবা", "শিক্ষক", "ছাত্র", "বন্ধু"]
OBJECTS = ["ভাত", "বই", "গান", "চিঠি", "খেলা", "কাজ", "পানি", "ছবি"]
VERBS = ["খায়", "পড়ে", "গায়", "লেখে", "দেখে", "করে", "যায়", "আসে"]
QUESTION_WORDS = ["কি", "কেন", "কোথায়", "কখন"]


def sentence(rng: random.Random) -> str:
    """A sentence whose marks follow rules a model can learn from the words alone: a question word at the
    start makes a question, "বাহ" at the start an exclamation, "হ্যাঁ" at the start is followed by a comma,
    anything else ends in a dari."""
    body = " ".join([rng.choice(SUBJECTS), *rng.choices(OBJECTS, k=rng.randint(1, 3)), rng.choice(VERBS)])
    kind = rng.random()
    if kind < 0.35:
        return f"{rng.choice(QUESTION_WORDS)} {body}?"
    if kind < 0.5:
        return f"বাহ {body}!"
    if kind < 0.65:
        return f"হ্যাঁ, {body}।"
    return f"{body}।"


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [normalize(sentence(rng)) for _ in range(n)]


@pytest.fixture(scope="module")
def trained():
    return PunctuationModel(backbone="tiny:deberta-v2", max_length=32, epochs=8, learning_rate=5e-3,
                            batch_size=16, seed=0).fit(corpus(160, seed=0), desc="test punctuation")  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "আমি বাড়ি যাই।",
        "হ্যাঁ, সে কাল ঢাকায় যাবে!",
        "তুমি কোথায় যাও? আমি জানি না।",
        "কী সুন্দর",
        "এক, দুই, তিন।",
        "",
    ],
)
def test_labels_round_trip_with_normalize(text):
    assert from_labels(*to_labels(normalize(text))) == normalize(text)
    assert from_labels(*to_labels(text)) == normalize(text)  # to_labels normalises first


def test_to_labels_gives_the_mark_after_each_word():
    words, labels = to_labels("হ্যাঁ , সে এলো |  কেন এলো ?! বাহ!")
    assert words == ["হ্যাঁ", "সে", "এলো", "কেন", "এলো", "বাহ"]
    assert labels == ["COMMA", "O", "DARI", "O", "QUESTION", "EXCLAMATION"]
    assert " ".join(words) == strip_punctuation("হ্যাঁ , সে এলো |  কেন এলো ?! বাহ!")


def test_from_labels_takes_ids_and_rejects_mismatches():
    assert from_labels(["কে", "এলো"], [0, LABEL2ID["QUESTION"]]) == "কে এলো?"
    with pytest.raises(ValueError, match="2 words but 1 labels"):
        from_labels(["কে", "এলো"], ["O"])
    with pytest.raises(ValueError, match="unknown label 'PERIOD'"):
        from_labels(["কে"], ["PERIOD"])


def test_only_the_first_sub_word_of_a_word_carries_its_label(trained):
    words, labels = to_labels("শিক্ষকদের বইগুলো কোথায়? হ্যাঁ, বাহ!")
    (item,) = encode_words(trained.tokenizer, words, 64, labels)
    targets = item["labels"]
    assert [targets[p] for p in item["first"]] == [LABEL2ID[label] for label in labels]
    others = [t for p, t in enumerate(targets) if p not in item["first"]]
    assert others and set(others) == {IGNORE_ID}  # special tokens and continuation pieces
    assert len(targets) == len(item["input_ids"]) > len(words)  # some word was split into sub-words


def test_long_texts_are_cut_at_word_boundaries_not_truncated(trained):
    words, labels = to_labels(" ".join(corpus(6, seed=3)))
    items = encode_words(trained.tokenizer, words, 12, labels)
    assert len(items) > 1
    assert all(len(it["input_ids"]) <= 12 for it in items)
    got = [LABELS[it["labels"][p]] for it in items for p in it["first"]]
    assert got == labels  # every word once, in order
    long_text = " ".join(strip_punctuation(s) for s in corpus(6, seed=3))
    short_pieces = replace(trained, max_length=12).predict([long_text])[0]
    assert strip_punctuation(short_pieces) == long_text


def test_the_tiny_model_learns_where_the_marks_go(trained):
    held_out = corpus(80, seed=1)
    predicted = trained.predict([strip_punctuation(t) for t in held_out])
    exact = sum(p == t for p, t in zip(predicted, held_out, strict=True)) / len(held_out)
    final = sum(p[-1] == t[-1] for p, t in zip(predicted, held_out, strict=True)) / len(held_out)
    assert all(strip_punctuation(p) == strip_punctuation(t) for p, t in zip(predicted, held_out, strict=True))
    assert final >= 0.9, (final, predicted[:5])  # the question / exclamation / dari at the end
    assert exact >= 0.85, (exact, predicted[:5])  # and the comma after হ্যাঁ, nothing elsewhere
    # the marks on the input are ignored: the model sees the words only
    assert trained.predict(held_out[:10]) == predicted[:10]
    assert trained.predict([]) == [] and trained.predict([""]) == [""]


def test_save_and_load_give_identical_predictions(trained, tmp_path):
    trained.save(tmp_path / "punct")
    loaded = PunctuationModel.load(tmp_path / "punct")
    assert loaded.settings() == trained.settings()
    texts = [strip_punctuation(t) for t in corpus(30, seed=2)]
    assert loaded.predict(texts) == trained.predict(texts)
    probe = trained.tokenizer(texts[0], return_tensors="pt")
    with torch.inference_mode():
        assert torch.equal(loaded.model(**probe).logits, trained.model(**probe).logits)


def test_loading_a_directory_without_a_model_is_a_one_line_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"punctuation\.json: not found"):
        PunctuationModel.load(tmp_path)


def test_training_is_deterministic_under_a_seed():
    texts = corpus(32, seed=4)

    def weights(seed: int) -> dict:
        model = PunctuationModel(max_length=32, epochs=1, learning_rate=5e-3, batch_size=8, seed=seed)
        return model.fit(texts, desc="determinism").model.state_dict()

    first, again, other = weights(0), weights(0), weights(1)
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)
