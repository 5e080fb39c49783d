"""The transformer classifier's mechanisms: truncation, auxiliary heads, LLRD, bucketing, a fold that learns."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer
from transformers.trainer_pt_utils import LengthGroupedSampler

from jigsaw.data import SCORED_IDENTITIES, load
from jigsaw.experiment import ExperimentConfig, sample_weights
from jigsaw.transformer import (
    Collator,
    ToxicityModel,
    TransformerModel,
    encode,
    fit,
    head_tail,
    layerwise_groups,
    resolve_backbone,
    sorted_batches,
)
from shared.metrics import jigsaw_bias_summary

TEXTS = [
    "you are an idiot and a fool",
    "thanks for the thoughtful article",
    "what a moron",
    "good point about the budget",
] * 5


@pytest.fixture(scope="module")
def backbone():
    return resolve_backbone("tiny:deberta-v2", TEXTS)


def test_head_tail_keeps_the_first_and_last_tokens():
    ids = list(range(100))
    assert head_tail(ids, 10, 4) == [0, 1, 2, 3, 94, 95, 96, 97, 98, 99]
    assert head_tail(ids, 10, 10) == list(range(10))
    assert head_tail(ids[:8], 10, 4) == ids[:8]  # short sequences untouched


def test_encode_adds_special_tokens_around_the_truncated_body(backbone):
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    long_text = "start " + "middle " * 200 + "final insult idiot"
    (ids,) = encode(tokenizer, [long_text], max_length=24, head_tokens=6)
    assert len(ids) == 24
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    body = tokenizer(long_text, add_special_tokens=False)["input_ids"]
    assert ids[1:7] == body[:6] and ids[7:-1] == body[-16:]  # head 6 + tail 16 = 22 content tokens


def test_aux_heads_get_gradients_and_weights_scale_the_loss(backbone):
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    model = ToxicityModel(backbone, n_aux=3)
    batch = Collator(tokenizer.pad_token_id)([{"input_ids": x} for x in encode(tokenizer, TEXTS[:4], 32, 8)])
    target = torch.tensor([1.0, 0.0, 1.0, 0.0])
    out = model(**batch, target=target, aux=torch.rand(4, 3), weight=torch.ones(4))
    out["loss"].backward()
    assert out["logits"].shape == (4, 4)
    assert model.head.weight.grad[1:].abs().sum() > 0  # the auxiliary outputs are trained
    assert next(model.backbone.parameters()).grad is not None
    # a weight of zero removes a row from the main loss
    model.eval()
    with torch.no_grad():
        only_first = model(**batch, target=target, weight=torch.tensor([1.0, 0.0, 0.0, 0.0]))["loss"]
        first_row = model(**{k: v[:1] for k, v in batch.items()}, target=target[:1], weight=torch.ones(1))[
            "loss"
        ]
    assert only_first.item() == pytest.approx(first_row.item(), abs=1e-5)


def test_layerwise_decay_orders_learning_rates(backbone):
    model = ToxicityModel(backbone, n_aux=0)
    groups = layerwise_groups(model, lr=1e-3, decay=0.5, weight_decay=0.01)
    lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["head.weight"])] == 1e-3
    top = lr_of[id(named["backbone.encoder.layer.1.attention.self.query_proj.weight"])]
    bottom = lr_of[id(named["backbone.encoder.layer.0.attention.self.query_proj.weight"])]
    embeddings = lr_of[id(named["backbone.embeddings.word_embeddings.weight"])]
    assert (top, bottom, embeddings) == pytest.approx((5e-4, 2.5e-4, 1.25e-4))
    assert sum(len(g["params"]) for g in groups) == len(named)  # every parameter exactly once
    assert all(g["weight_decay"] == 0.0 for g in groups if any(p.ndim == 1 for p in g["params"]))


def test_bucketing_keeps_every_example_exactly_once():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 300, 1001).tolist()
    batches = sorted_batches(lengths, 64)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1001))
    assert all(np.diff([lengths[i] for i in flat]) >= 0)
    order = list(LengthGroupedSampler(32, lengths=lengths, generator=torch.Generator().manual_seed(0)))
    assert sorted(order) == list(range(1001))
    # within training batches the lengths are close: far less padding than a random order
    padded = sum(32 * max(lengths[i] for i in order[k : k + 32]) for k in range(0, 1001, 32))
    assert padded < 0.7 * sum(32 * 300 for _ in range(0, 1001, 32))


def test_dynamic_padding_pads_to_the_longest_in_the_batch():
    batch = Collator(pad_id=0)([{"input_ids": [5, 6, 7], "target": 1.0}, {"input_ids": [8], "target": 0.0}])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    fixed = Collator(pad_id=0, pad_to=6)([{"input_ids": [5, 6, 7]}])
    assert fixed["input_ids"].shape == (1, 6)


@pytest.mark.slow
def test_one_fold_learns_toxicity_and_a_saved_model_predicts_the_same(sample_dir, tmp_path):
    train = load(sample_dir).train
    fit_rows, valid = train.iloc[:2400], train.iloc[2400:]
    config = ExperimentConfig(model="transformer", weighting="metric", aux_targets="subtypes+identities", soft_targets=True,
                              backbone="tiny:deberta-v2", max_length=64, head_tokens=16, learning_rate=1e-3, epochs=2)  # fmt: skip
    model = fit(config, fit_rows, sample_weights(config, fit_rows))
    preds = model.predict(valid["comment_text"].tolist())
    assert preds.shape == (len(valid),) and ((preds > 0) & (preds < 1)).all()
    assert jigsaw_bias_summary(valid["target"], preds, valid[SCORED_IDENTITIES])["overall_auc"] > 0.8
    again = fit(config, fit_rows, sample_weights(config, fit_rows)).predict(valid["comment_text"].tolist())
    assert again == pytest.approx(preds, abs=1e-6)  # deterministic under the seed
    model.save(tmp_path / "m")
    saved = TransformerModel.load(tmp_path / "m")
    np.testing.assert_allclose(saved.predict(valid["comment_text"].tolist()), preds, atol=1e-6)
    assert (tmp_path / "m" / "backbone" / "model.safetensors").is_file()
    unbucketed = replace(config, bucketing=False)
    flat = fit(unbucketed, fit_rows.iloc[:200], np.ones(200)).predict(["you idiot"])
    assert 0 < flat[0] < 1


def test_gpt2_style_tokenizer_without_pad_uses_eos():
    from jigsaw.transformer import pad_token_id

    class NoPad:
        pad_token_id, eos_token_id = None, 50256

    assert pad_token_id(NoPad()) == 50256
