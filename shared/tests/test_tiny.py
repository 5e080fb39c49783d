"""Tiny checkpoints: real loading code works, builds are deterministic and cached."""

import hashlib
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoConfig,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)

from shared.tiny import minilm_path, resolve_backbone, tiny_causal_lm, tiny_encoder

TEXTS = [
    "Dear Dr. Alice Smith, my email is alice.smith@example.com and my phone is 555-0134.",
    "Solve for x: 2x + 3 = 11, so x = 4 and the answer is \\boxed{4}.",
    "This comment is toxic and rude!\n\nAnother paragraph follows here.",
    "Summaries should reuse the prompt text without copying it word for word.",
] * 8


def file_hashes(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("arch", ["deberta-v2", "bert"])
def test_tiny_encoder_loads_as_token_classifier_with_offsets(arch, tmp_path):
    path = tiny_encoder(TEXTS, arch=arch, cache_dir=tmp_path)
    tok = AutoTokenizer.from_pretrained(path)
    assert tok.is_fast
    text = "Alice Smith wrote to alice.smith@example.com"
    enc = tok(text, return_offsets_mapping=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")[0].tolist()
    # every non-special token maps back to a span of the original text
    pieces = [text[s:e] for s, e in offsets if e > s]
    assert "".join(pieces).replace(" ", "").lower() == text.replace(" ", "").lower()
    assert (
        enc["input_ids"][0, 0].item() == tok.cls_token_id
        and enc["input_ids"][0, -1].item() == tok.sep_token_id
    )
    model = AutoModelForTokenClassification.from_pretrained(path, num_labels=5)
    assert model.config.model_type == arch
    logits = model(**enc).logits
    assert logits.shape == (1, enc["input_ids"].shape[1], 5)


BUILDERS = {
    "deberta-v2": lambda **kw: tiny_encoder(TEXTS, arch="deberta-v2", **kw),
    "bert": lambda **kw: tiny_encoder(TEXTS, arch="bert", **kw),
    "qwen2": lambda **kw: tiny_causal_lm(TEXTS, **kw),
}


@pytest.mark.parametrize("arch", BUILDERS)
def test_builds_are_deterministic_and_cached(arch, tmp_path):
    build = BUILDERS[arch]
    first = build(cache_dir=tmp_path / "a")
    second = build(cache_dir=tmp_path / "b")
    assert first.name == second.name
    assert file_hashes(first) == file_hashes(second)  # tokenizer.json included: vocabulary and scores
    mtime = (first / "model.safetensors").stat().st_mtime_ns
    assert build(cache_dir=tmp_path / "a") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == mtime  # reused, not rebuilt
    other = build(seed=1, cache_dir=tmp_path / "a")
    assert other != first
    a, b = (AutoModel.from_pretrained(p).get_input_embeddings().weight for p in (first, other))
    assert not torch.equal(a, b)


@pytest.mark.parametrize(
    "build", [BUILDERS["bert"], lambda **kw: tiny_causal_lm(TEXTS, vocab_size=300, **kw)]
)
def test_a_cache_miss_leaves_the_global_rng_where_a_hit_does(build, tmp_path):
    # A chapter seeds, resolves its backbone (a build on a fresh machine, a cache hit later), then
    # initialises a new head: the head must not depend on whether the build happened.
    torch.manual_seed(123)
    build(cache_dir=tmp_path)  # miss: builds
    after_miss = torch.rand(4)
    torch.manual_seed(123)
    build(cache_dir=tmp_path)  # hit
    after_hit = torch.rand(4)
    assert torch.equal(after_miss, after_hit)


def test_tiny_causal_lm_chat_template_and_generation(tmp_path):
    path = tiny_causal_lm(TEXTS, extra_special_tokens=["<think>", "</think>"], cache_dir=tmp_path)
    tok = AutoTokenizer.from_pretrained(path)
    chat = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "<think>easy</think>\\boxed{4}"},
    ]
    text = tok.apply_chat_template(chat, tokenize=False)
    assert (
        text
        == "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>easy</think>\\boxed{4}<|im_end|>\n"
    )
    assert tok.tokenize("<think>")[0] == "<think>"  # one token, not split into bytes
    prompt = tok.apply_chat_template(
        chat[:1], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    assert tok.decode(prompt["input_ids"][0]).endswith("<|im_start|>assistant\n")
    model = AutoModelForCausalLM.from_pretrained(path)
    assert model.config.model_type == "qwen2" and model.config.eos_token_id == tok.convert_tokens_to_ids(
        "<|im_end|>"
    )
    out = model.generate(**prompt, max_new_tokens=4, do_sample=False)
    assert out.shape[1] <= prompt["input_ids"].shape[1] + 4
    assert torch.equal(out, model.generate(**prompt, max_new_tokens=4, do_sample=False))


def test_tiny_causal_lm_loss_goes_down_and_loads_as_classifier(tmp_path):
    path = tiny_causal_lm(TEXTS, cache_dir=tmp_path)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    batch = tok(TEXTS[:4], return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optim = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(15):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    clf = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2)
    assert clf.config.pad_token_id == tok.pad_token_id
    assert clf(**batch).logits.shape == (4, 2)


def test_bad_texts_are_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one text"):
        tiny_encoder([], cache_dir=tmp_path)
    with pytest.raises(ValueError, match="item 1 is int"):
        tiny_causal_lm(["a", 3], cache_dir=tmp_path)
    with pytest.raises(ValueError, match="arch"):
        tiny_encoder(["a"], arch="roberta", cache_dir=tmp_path)


def test_minilm_is_a_real_pretrained_encoder_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    path = minilm_path()
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()

    def embed(text):
        enc = tok(text, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**enc).last_hidden_state
        return torch.nn.functional.normalize(hidden.mean(dim=1), dim=-1)[0]

    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6
    # pretrained weights know that paraphrases are closer than unrelated sentences
    cat, kitten, stocks = (
        embed("A cat sits on the mat."),
        embed("A kitten is sitting on a rug."),
        embed("Stock markets fell sharply today."),
    )
    assert cat @ kitten > cat @ stocks + 0.2


def test_resolve_backbone_builds_tiny_models_names_minilm_and_passes_the_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("KLS_TINY_CACHE", str(tmp_path))
    texts = ["Tiny models for CPU runs", "are built from this text"] * 4
    bert = AutoConfig.from_pretrained(resolve_backbone("tiny:bert", texts))
    assert (bert.model_type, bert.hidden_size, bert.num_attention_heads) == ("bert", 64, 2)
    assert AutoConfig.from_pretrained(resolve_backbone("tiny:qwen2", texts)).model_type == "qwen2"
    assert Path(resolve_backbone("tiny:bert", texts)).parent == tmp_path
    assert resolve_backbone("minilm", texts) == str(minilm_path())
    assert resolve_backbone("microsoft/deberta-v3-large", texts) == "microsoft/deberta-v3-large"
