"""The LLM classifier of §6.8: a decoder backbone, last-token pooling, LoRA adapters, optional 4-bit (QLoRA)."""

import pytest
import torch
from transformers import AutoTokenizer

from jigsaw.transformer import Collator, ToxicityModel, encode, layerwise_groups, resolve_backbone
from shared.testing import needs

TEXTS = ["you are an idiot", "thanks for the article", "what a moron you are", "good point on the budget"] * 5


@pytest.fixture(scope="module")
def decoder():
    return resolve_backbone("tiny:qwen2", TEXTS)


def batch(path):
    tokenizer = AutoTokenizer.from_pretrained(path)
    inputs = Collator(tokenizer.pad_token_id)([{"input_ids": x} for x in encode(tokenizer, TEXTS[:4], 32, 8)])
    return inputs | {
        "target": torch.tensor([1.0, 0.0, 1.0, 0.0]),
        "weight": torch.ones(4),
        "aux": torch.rand(4, 2),
    }


def test_lora_trains_adapters_and_head_only(decoder):
    torch.manual_seed(0)
    model = ToxicityModel(decoder, n_aux=2, pooling="last", lora_r=4)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    frozen_before = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    lora_before = {n: p.detach().clone() for n, p in model.named_parameters() if "lora_B" in n}
    optimizer = torch.optim.AdamW(layerwise_groups(model, lr=1e-2, decay=1.0, weight_decay=0.0))
    for _ in range(2):
        loss = model(**batch(decoder))["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    named = dict(model.named_parameters())
    assert all(torch.equal(named[n], before) for n, before in frozen_before.items())
    assert any(not torch.equal(named[n], before) for n, before in lora_before.items())


def test_qlora_quantises_the_frozen_weights_and_still_learns(decoder):
    bnb = needs("bitsandbytes", "QLoRA")
    torch.manual_seed(0)
    model = ToxicityModel(decoder, n_aux=2, pooling="last", lora_r=4, load_in_4bit=True)
    assert any(isinstance(m, bnb.nn.Linear4bit) for m in model.backbone.modules())
    loss = model(**batch(decoder))["loss"]
    loss.backward()
    assert torch.isfinite(loss)
    grads = [
        p.grad for n, p in model.named_parameters() if "lora_B" in n
    ]  # B starts at 0, so A gets no grad yet
    assert grads and any(g is not None and g.abs().sum() > 0 for g in grads)


def test_a_saved_lora_model_keeps_only_its_adapters_and_predicts_the_same(sample_dir, tmp_path):
    """The base is recorded, not copied; ``base`` on load says where it lies on the predicting machine."""
    from jigsaw.data import load
    from jigsaw.experiment import ExperimentConfig
    from jigsaw.transformer import TransformerModel, fit

    train = load(sample_dir).train.iloc[:64]
    config = ExperimentConfig(model="transformer", backbone="tiny:qwen2", pooling="last", lora_r=4, max_length=32,
                              learning_rate=2e-3, batch_size=32, epochs=1)  # fmt: skip
    model = fit(config, train, torch.ones(len(train)).numpy())
    model.save(tmp_path / "m")
    files = {p.name for p in (tmp_path / "m" / "adapter").iterdir()}
    assert "adapter_model.safetensors" in files and not (tmp_path / "m" / "backbone").exists()
    texts = ["you idiot", "thanks for this", "what a moron"]
    base = model.settings["base"]
    again = TransformerModel.load(tmp_path / "m", base=str(base))
    assert torch.allclose(torch.tensor(again.predict(texts)), torch.tensor(model.predict(texts)), atol=1e-6)
    with pytest.raises(OSError):
        TransformerModel.load(tmp_path / "m", base=str(tmp_path / "no-such-base"))


def test_four_bit_needs_lora(decoder):
    with pytest.raises(ValueError, match="needs LoRA"):
        ToxicityModel(decoder, n_aux=0, load_in_4bit=True)
