"""The pretrained tiny causal LM: it learns the text it is given, it is cached, its digits are tokens."""

import hashlib
import json
import random

import pytest
import torch
from tokenizers import Tokenizer
from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

import shared.tiny
from shared.tiny import pretrained_causal_lm, resolve_backbone

# Settings for test-sized builds (the defaults train for about a minute and a half).
SMALL = dict(steps=60, seq_len=32, batch_size=8, learning_rate=1e-2, vocab_size=300, hidden_size=64,
             intermediate_size=128)  # fmt: skip


def sentences(n: int, seed: int) -> list[str]:
    """Templated English with learnable regularities: a held-out draw shares them, not its exact texts."""
    rng = random.Random(seed)
    who = ["The farmer", "A young girl", "The old teacher", "My brother", "The scientist", "Our neighbour"]
    did = ["planted", "painted", "found", "carried", "studied", "repaired"]
    what = [
        "a red barn",
        "the tall tree",
        "an old boat",
        "the broken clock",
        "a small garden",
        "the river map",
    ]
    why = ["before the storm came.", "because the town needed it.", "while the children watched."]
    return [f"{rng.choice(who)} {rng.choice(did)} {rng.choice(what)} {rng.choice(why)}" for _ in range(n)]


TRAIN, HELD_OUT = sentences(300, seed=0), sentences(40, seed=1)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return pretrained_causal_lm(TRAIN, **SMALL, cache_dir=tmp_path_factory.mktemp("tiny"))


def held_out_loss(model, tok) -> float:
    batch = tok(HELD_OUT, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    with torch.no_grad():
        return model(**batch, labels=labels).loss.item()


def test_pretraining_lowers_held_out_loss_far_below_the_random_model(small):
    tok = AutoTokenizer.from_pretrained(small)
    pretrained = AutoModelForCausalLM.from_pretrained(small).eval()
    torch.manual_seed(0)
    random_model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(small)).eval()
    trained, untrained = held_out_loss(pretrained, tok), held_out_loss(random_model, tok)
    assert untrained > 5.0  # about ln(vocabulary): knows nothing
    assert trained < 0.5 * untrained
    record = json.loads((small / "pretraining.json").read_text())
    assert record["steps"] == 60 and record["loss_last"] < 0.5 * record["loss_first"]


def test_loads_as_causal_lm_and_as_classifier_and_generates(small):
    tok = AutoTokenizer.from_pretrained(small)
    model = AutoModelForCausalLM.from_pretrained(small)
    prompt = tok(["The farmer planted"], return_tensors="pt")
    out = model.generate(**prompt, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == prompt["input_ids"].shape[1] + 3
    assert tok.decode(out[0, -3:]).split()[0] in {"a", "the", "an"}  # it learned what follows a verb
    clf = AutoModelForSequenceClassification.from_pretrained(small, num_labels=2)
    assert clf.config.pad_token_id == tok.pad_token_id
    batch = tok(HELD_OUT[:3], return_tensors="pt", padding=True)
    assert clf(**batch).logits.shape == (3, 2)
    # ChatML as in tiny_causal_lm
    chat = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False
    )
    assert chat == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"


def test_every_digit_is_its_own_token_with_and_without_transformers(small):
    tok = AutoTokenizer.from_pretrained(small)
    assert tok.tokenize("12345") == ["1", "2", "3", "4", "5"]
    assert tok.decode(tok("x = 2024 + 17")["input_ids"]) == "x = 2024 + 17"
    # tokenizer.json itself splits the same way (what tokenizers, vLLM or transformers 4 would load)
    raw = Tokenizer.from_file(str(small / "tokenizer.json"))
    assert raw.encode("12345", add_special_tokens=False).tokens == ["1", "2", "3", "4", "5"]
    assert raw.encode("The farmer planted 42 trees").ids == tok("The farmer planted 42 trees")["input_ids"]


def test_a_second_call_reuses_the_checkpoint_and_builds_are_deterministic(small, tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(shared.tiny, "_pretrain", no_training)
    assert pretrained_causal_lm(TRAIN, **SMALL, cache_dir=small.parent) == small
    with pytest.raises(AssertionError, match="trained again"):  # other settings: a new checkpoint
        pretrained_causal_lm(TRAIN, **{**SMALL, "steps": 61}, cache_dir=small.parent)
    monkeypatch.undo()
    torch.manual_seed(7)
    again = pretrained_causal_lm(TRAIN, **SMALL, cache_dir=tmp_path)
    after_build = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(after_build, torch.rand(3))  # the caller's RNG did not move
    assert again.name == small.name

    def hashes(path):
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}

    assert hashes(again) == hashes(small)


def test_resolve_backbone_pretrains_with_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("KLS_TINY_CACHE", str(tmp_path))
    calls = []

    def fake_training(model, blocks, **settings):
        calls.append(settings)
        return [1.0]

    monkeypatch.setattr(shared.tiny, "_pretrain", fake_training)
    path = resolve_backbone("tiny:qwen2-pretrained", TRAIN * 4)
    config = AutoConfig.from_pretrained(path)
    assert (config.model_type, config.hidden_size, config.num_hidden_layers) == ("qwen2", 128, 2)
    assert calls == [dict(steps=300, seq_len=128, batch_size=16, learning_rate=3e-3, seed=0)]
    again = resolve_backbone("tiny:qwen2-pretrained", TRAIN * 4)
    assert again == path and len(calls) == 1


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"arch: unknown key\(s\) \['hidden'\]"):
        pretrained_causal_lm(TRAIN, hidden=3, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="steps: -1 must be >= 0"):
        pretrained_causal_lm(TRAIN, steps=-1, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="fewer than one seq_len=4096 block"):
        pretrained_causal_lm(TRAIN[:3], seq_len=4096, vocab_size=300, cache_dir=tmp_path)


def test_no_steps_keeps_the_random_weights_and_the_vocabulary_can_come_from_other_text(tmp_path):
    """``steps=0``: the seed's initialisation, untouched; ``tokenizer_texts``: words only they hold get pieces,
    and the cache tells the two roles apart."""
    other = ["zyxwvut qponmlk " * 3] * 50
    raw = pretrained_causal_lm(TRAIN[:50], steps=0, vocab_size=400, tokenizer_texts=TRAIN[:50] + other,
                               cache_dir=tmp_path)  # fmt: skip
    trained = pretrained_causal_lm(TRAIN[:50], steps=2, vocab_size=400, tokenizer_texts=TRAIN[:50] + other,
                                   cache_dir=tmp_path)  # fmt: skip
    assert json.loads((raw / "pretraining.json").read_text())["steps"] == 0
    a, b = (AutoModelForCausalLM.from_pretrained(p).state_dict() for p in (raw, trained))
    assert any(not torch.equal(a[k], b[k]) for k in a)
    again = pretrained_causal_lm(TRAIN[:50], steps=0, vocab_size=400, tokenizer_texts=TRAIN[:50] + other,
                                 cache_dir=tmp_path / "again")  # fmt: skip
    c = AutoModelForCausalLM.from_pretrained(again).state_dict()
    assert all(torch.equal(a[k], c[k]) for k in a)  # the seed decides the random weights
    tokenizer = AutoTokenizer.from_pretrained(raw)
    assert len(tokenizer.tokenize(" zyxwvut")) == 1
    plain = pretrained_causal_lm(TRAIN[:50], steps=0, vocab_size=400, cache_dir=tmp_path)
    assert plain != raw and len(AutoTokenizer.from_pretrained(plain).tokenize(" zyxwvut")) > 1
