"""The regressor: pooling over the summary mask, the weighted loss, EMA, layer-wise LR decay, freezing, a CPU
fit that learns, save/load and LoRA."""

import types
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from transformers import TrainingArguments

from commonlit.configs import ExperimentConfig
from commonlit.model import (
    Regressor,
    build_model,
    fit,
    load,
    load_backbone,
    pool,
    predict,
    save,
    weighted_mse,
)
from commonlit.optim import EmaCallback, LayerwiseTrainer, freeze_lower_layers, parameter_groups
from shared.tiny import resolve_backbone

WORDS = [
    "the",
    "river",
    "flows",
    "past",
    "stone",
    "mills",
    "where",
    "workers",
    "spend",
    "long",
    "hours",
    "under",
    "light",
    "and",
    "dark",
    "skies",
]


@pytest.fixture(scope="module")
def train():
    """Three prompts of 16 summaries; content follows the share of the word 'key' in the summary, wording the
    share of 'river' and 'stone': what mean pooling over the summary can read."""
    rng = np.random.default_rng(0)
    rows = []
    for p in range(3):
        prompt = " ".join(rng.choice(WORDS, 40))
        for _ in range(16):
            words = list(rng.choice([*WORDS, "key", "key", "key"], int(rng.integers(1, 12))))
            share = {w: words.count(w) / len(words) for w in ("key", "river", "stone")}
            rows.append({"text": " ".join(words), "prompt_question": f"What does text {p} say?",
                         "prompt_title": f"t{p}", "prompt_text": prompt, "content": 4 * share["key"] - 1,
                         "wording": 4 * (share["river"] + share["stone"]) - 0.5})  # fmt: skip
    return pd.DataFrame(rows)


def targets(frame: pd.DataFrame) -> np.ndarray:
    return frame[["content", "wording"]].to_numpy()


@pytest.fixture(scope="module")
def config():
    return ExperimentConfig(
        backbone="tiny:bert", variant="pooled", max_length=64, epochs=3, batch_size=8, learning_rate=1e-3,
        warmup_ratio=0.0, weight_decay=0.0, bf16=False, seed=7,
    )  # fmt: skip


# --- pooling -------------------------------------------------------------------------------------------------
def test_mean_pooling_over_the_summary_mask_ignores_every_other_token():
    hidden = torch.randn(2, 6, 4)
    attention = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    summary = torch.tensor([[0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]])  # row 1: an empty summary
    pooled = pool(hidden, attention, summary, "mean")
    torch.testing.assert_close(pooled[0], hidden[0, 2:4].mean(dim=0))
    torch.testing.assert_close(pooled[1], hidden[1, :4].mean(dim=0))  # falls back to the whole input
    changed = hidden.clone()
    changed[0, [0, 1, 4, 5]] += 100.0  # the question and prompt tokens
    torch.testing.assert_close(pool(changed, attention, summary, "mean")[0], pooled[0])
    changed[0, 3] += 1.0
    assert not torch.allclose(pool(changed, attention, summary, "mean")[0], pooled[0])
    torch.testing.assert_close(pool(hidden, attention, None, "mean")[0], hidden[0].mean(dim=0))


def test_last_and_cls_pooling():
    hidden = torch.randn(2, 5, 3)
    attention = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    summary = torch.tensor([[0, 1, 0, 0, 0], [0, 0, 1, 1, 0]])
    torch.testing.assert_close(pool(hidden, attention, None, "last"), hidden[[0, 1], [2, 4]])
    torch.testing.assert_close(pool(hidden, attention, summary, "last"), hidden[[0, 1], [1, 3]])
    torch.testing.assert_close(pool(hidden, attention, summary, "cls"), hidden[:, 0])


class EmbeddingBackbone(nn.Module):
    """A stand-in backbone with no attention: token i's hidden state depends on token i alone."""

    def __init__(self, vocab: int = 50, hidden: int = 8):
        super().__init__()
        self.config = types.SimpleNamespace(hidden_size=hidden)
        self.embed = nn.Embedding(vocab, hidden)

    def forward(self, input_ids, attention_mask):
        return types.SimpleNamespace(last_hidden_state=self.embed(input_ids))


def test_the_pooled_variant_reads_only_the_summary_and_the_naive_one_everything():
    torch.manual_seed(0)
    backbone = EmbeddingBackbone()
    pooled, naive = Regressor(backbone, "pooled", "mean"), Regressor(backbone, "naive", "mean")
    naive.head = pooled.head
    ids = torch.tensor([[1, 5, 2, 9, 8, 2, 30, 31, 2]])
    attention = torch.ones_like(ids)
    summary = torch.tensor([[0, 0, 0, 1, 1, 0, 0, 0, 0]])
    other_prompt = ids.clone()
    other_prompt[0, 6:8] = torch.tensor([40, 41])
    out = {name: [m(ids, attention, summary)["logits"], m(other_prompt, attention, summary)["logits"]]
           for name, m in (("pooled", pooled), ("naive", naive))}  # fmt: skip
    torch.testing.assert_close(out["pooled"][0], out["pooled"][1])
    assert not torch.allclose(out["naive"][0], out["naive"][1])


# --- loss ----------------------------------------------------------------------------------------------------
def test_weighted_mse_is_the_weighted_mean_of_the_per_row_mse():
    predictions = torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    labels = torch.tensor([[0.0, 0.0], [1.0, 1.0], [3.0, 1.0]])
    rows = [(1 + 4) / 2, (1 + 1) / 2, (0 + 4) / 2]  # 2.5, 1.0, 2.0
    w = [1.0, 0.5, 0.25]
    expected = sum(a * b for a, b in zip(w, rows, strict=True)) / sum(w)
    assert weighted_mse(predictions, labels, torch.tensor(w)).item() == pytest.approx(expected)
    assert weighted_mse(predictions, labels, None).item() == pytest.approx(sum(rows) / 3)
    model = Regressor(EmbeddingBackbone(), "naive", "mean")
    ids = torch.tensor([[1, 2, 3], [4, 5, 0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    out = model(ids, mask, labels=torch.tensor([[1.0, 0.0], [0.0, 2.0]]), weight=torch.tensor([1.0, 0.2]))
    assert out["loss"].item() == pytest.approx(
        weighted_mse(out["logits"], torch.tensor([[1.0, 0.0], [0.0, 2.0]]), torch.tensor([1.0, 0.2])).item()
    )


# --- EMA -----------------------------------------------------------------------------------------------------
def test_ema_shadow_is_the_hand_computed_average_and_ends_in_the_model():
    model = nn.Linear(1, 1)
    model.bias.requires_grad_(False)  # frozen: not averaged, left alone
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(7.0)
    ema = EmaCallback(decay=0.5)
    ema.on_train_begin(None, None, None, model=model)
    for value in (3.0, 5.0, -1.0):  # what three optimizer steps left in the weight
        with torch.no_grad():
            model.weight.fill_(value)
        ema.on_step_end(None, None, None, model=model)
    # s = 1 -> 0.5*1 + 0.5*3 = 2 -> 0.5*2 + 0.5*5 = 3.5 -> 0.5*3.5 + 0.5*(-1) = 1.25
    assert ema.shadow["weight"].item() == pytest.approx(1.25)
    assert "bias" not in ema.shadow
    ema.on_train_end(None, None, None, model=model)
    assert model.weight.item() == pytest.approx(1.25) and model.bias.item() == 7.0


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(2, 2)

    def forward(self, x, labels=None):
        out = self.head(x)
        return {"loss": ((out - labels) ** 2).mean(), "logits": out}


def test_ema_inside_trainer_follows_every_optimizer_step(tmp_path):
    from transformers import TrainerCallback

    class Record(TrainerCallback):
        def __init__(self):
            self.seen = []

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.seen.append(model.head.weight.detach().clone())

        def on_step_end(self, args, state, control, model=None, **kwargs):
            self.seen.append(model.head.weight.detach().clone())

    torch.manual_seed(0)
    data = [{"x": torch.randn(2), "labels": torch.randn(2)} for _ in range(12)]
    record, decay = Record(), 0.6
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, num_train_epochs=2,
                             learning_rate=0.1, use_cpu=True, report_to="none", save_strategy="no")  # fmt: skip
    model = Toy()
    trainer = LayerwiseTrainer(
        model=model, args=args, train_dataset=data, callbacks=[EmaCallback(decay), record]
    )
    trainer.train()
    assert len(record.seen) == 1 + 6  # the start and six optimizer steps
    shadow = record.seen[0]
    for weights in record.seen[1:]:
        shadow = decay * shadow + (1 - decay) * weights
    torch.testing.assert_close(model.head.weight.detach(), shadow)
    assert not torch.allclose(shadow, record.seen[-1])


# --- layer-wise LR decay and freezing --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_bert(train):
    return resolve_backbone("tiny:bert", train["text"].tolist() + train["prompt_text"].unique().tolist())


def test_layerwise_groups_decay_the_rate_from_the_top_layer_down(tiny_bert, config):
    model = Regressor(load_backbone(tiny_bert, config), "pooled", "mean")  # 2 layers
    groups = parameter_groups(model, lr=1e-3, head_lr=5e-3, llrd=0.5, weight_decay=0.01)
    where = {id(p): g for g in groups for p in g["params"]}
    assert len(where) == sum(1 for _ in model.parameters())
    for name, param in model.named_parameters():
        group = where[id(param)]
        if name.startswith("head."):
            rate = 5e-3
        elif ".layer.1." in name:
            rate = 1e-3
        elif ".layer.0." in name:
            rate = 1e-3 * 0.5
        else:
            assert "embeddings" in name, name
            rate = 1e-3 * 0.25
        assert group["lr"] == pytest.approx(rate), name
        no_decay = name.endswith("bias") or "LayerNorm" in name
        assert group["weight_decay"] == (0.0 if no_decay else 0.01), name
    trainer = LayerwiseTrainer(
        model=model, args=TrainingArguments(output_dir="unused", use_cpu=True, report_to="none",
                                            learning_rate=1e-3, weight_decay=0.01),
        head_learning_rate=5e-3, llrd=0.5,
    )  # fmt: skip
    optimizer = trainer.create_optimizer()
    assert isinstance(optimizer, torch.optim.AdamW)
    assert sorted(g["lr"] for g in optimizer.param_groups) == sorted(g["lr"] for g in groups)
    head = next(g for g in optimizer.param_groups if any(p is model.head.weight for p in g["params"]))
    assert head["lr"] == 5e-3 and head["weight_decay"] == 0.01


def test_freezing_the_embeddings_and_the_first_layers(tiny_bert, config):
    model = Regressor(load_backbone(tiny_bert, config), "pooled", "mean")
    freeze_lower_layers(model, 1)
    for name, param in model.named_parameters():
        assert param.requires_grad == (".layer.1." in name or name.startswith("head.")), name
    assert all(p["params"] for p in parameter_groups(model, 1e-3, 1e-3, 0.9, 0.0))
    with pytest.raises(ValueError, match="freeze_layers: 3 is more than the backbone's 2 layers"):
        freeze_lower_layers(model, 3)


def test_backbone_dropout_zero_turns_the_backbones_dropout_off(tiny_bert, config):
    kept = load_backbone(tiny_bert, config).config
    off = load_backbone(tiny_bert, replace(config, backbone_dropout=0.0)).config
    assert kept.hidden_dropout_prob > 0 and kept.attention_probs_dropout_prob > 0
    assert off.hidden_dropout_prob == 0 and off.attention_probs_dropout_prob == 0


# --- training ------------------------------------------------------------------------------------------------
def mse(model, tokenizer, frame, config) -> float:
    return float(((predict(model, tokenizer, frame, config) - targets(frame)) ** 2).mean())


def test_fit_lowers_the_loss_and_freezing_keeps_the_lower_layers(train, config, tiny_bert):
    frozen = replace(config, freeze_layers=1, epochs=6, learning_rate=3e-3)
    start = build_model(tiny_bert, frozen)  # the weights fit starts from (same seed)
    model, tokenizer = fit(frozen, train, targets(train), "test")
    before, after = mse(start, tokenizer, train, frozen), mse(model, tokenizer, train, frozen)
    assert after < 0.5 * before, (before, after)
    assert after < 0.6 * targets(train).var(axis=0).mean()  # far better than predicting the means
    initial = dict(start.named_parameters())
    for name, param in model.named_parameters():
        same = torch.equal(param, initial[name])
        assert same == (not param.requires_grad), name
        assert same == ("embeddings" in name or ".layer.0." in name), name


@pytest.mark.slow  # four fits
def test_fit_is_deterministic_and_weights_scale_the_rows(train, config):
    short = replace(config, epochs=1)
    a = predict(*fit(short, train, targets(train), "a"), train, short)
    b = predict(*fit(short, train, targets(train), "b"), train, short)
    np.testing.assert_array_equal(a, b)
    weighted = predict(
        *fit(short, train, targets(train), "c", weights=np.full(len(train), 0.3)), train, short
    )
    np.testing.assert_allclose(weighted, a, atol=1e-5)  # a constant weight is no weight at all
    halved = np.where(np.arange(len(train)) % 2 == 0, 1.0, 0.3)
    assert not np.allclose(predict(*fit(short, train, targets(train), "d", weights=halved), train, short), a)
    with pytest.raises(ValueError, match="targets: shape"):
        fit(short, train, targets(train)[:, :1], "e")


def test_save_load_predicts_identically_in_frame_order(train, config, tmp_path):
    cfg = replace(config, epochs=1, ema=0.9, llrd=0.8)
    model, tokenizer = fit(cfg, train, targets(train), "test")
    frame = pd.concat([train.iloc[:10], train.iloc[:1].assign(text="")], ignore_index=True)
    before = predict(model, tokenizer, frame, cfg)
    save(model, tokenizer, tmp_path / "m", cfg)
    again, tokenizer2 = load(tmp_path / "m")
    np.testing.assert_array_equal(predict(again, tokenizer2, frame, cfg), before)
    one_by_one = np.concatenate([predict(model, tokenizer, frame.iloc[[i]], cfg) for i in range(len(frame))])
    np.testing.assert_allclose(one_by_one, before, atol=1e-5)  # length-sorted batches, rows back in order
    assert np.isfinite(before).all() and predict(model, tokenizer, frame.iloc[:0], cfg).shape == (0, 2)
    with pytest.raises(ValueError, match="variant: the config says 'summary'"):
        predict(model, tokenizer, frame, replace(cfg, variant="summary"))


def test_lora_on_a_decoder_trains_only_the_adapters_and_the_head(train, config, tmp_path):
    cfg = replace(config, backbone="tiny:qwen2", variant="naive", pooling="last", lora_r=4, lora_alpha=8,
                  lora_dropout=0.0, lora_target_modules=["q_proj", "v_proj"], epochs=1)  # fmt: skip
    model, tokenizer = fit(cfg, train, targets(train), "lora")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    assert any(".q_proj.lora_B" in n for n in trainable) and any(".v_proj.lora_A" in n for n in trainable)
    start = build_model(model.backbone.peft_config["default"].base_model_name_or_path, cfg)
    initial = dict(start.named_parameters())
    for name, param in model.named_parameters():
        assert torch.equal(param, initial[name]) == (name not in trainable), name  # the base is untouched
    before = predict(model, tokenizer, train, cfg)
    save(model, tokenizer, tmp_path / "lora", cfg)
    again, tokenizer2 = load(tmp_path / "lora")  # adapters merged into a plain checkpoint
    assert not any("lora_" in n for n, _ in again.named_parameters())
    np.testing.assert_allclose(predict(again, tokenizer2, train, cfg), before, atol=1e-5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU fallback")
def test_4bit_without_cuda_falls_back_to_float32_and_says_so(tiny_bert, config):
    path = resolve_backbone("tiny:qwen2", ["a b c"])
    cfg = replace(config, lora_r=2, load_in_4bit=True, lora_target_modules=["q_proj"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        backbone = load_backbone(path, cfg)
    assert any("load_in_4bit: no CUDA device" in str(w.message) for w in caught)
    assert all(p.dtype == torch.float32 for p in backbone.parameters())
