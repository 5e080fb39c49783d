"""The token classifier: the O-weighted loss by hand, a CPU fit that learns, per-token probabilities."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, TrainingArguments

from pii.decode import blank_tokens
from pii.experiment import ExperimentConfig
from pii.labels import IGNORE_ID, LABELS, PLAIN_LABELS, to_plain
from pii.model import (
    OWeightedTrainer,
    drop_negative_windows,
    fit,
    load_model,
    o_weighted_cross_entropy,
    predict,
    resolve_backbone,
    training_windows,
)
from pii.synth import generate
from pii.windows import build_windows
from shared.tiny import minilm_path


@pytest.fixture(scope="module")
def docs():
    return [essay.document for essay in generate(10, seed=5)]


@pytest.fixture(scope="module")
def config(docs):
    backbone = resolve_backbone("tiny:deberta-v2", [doc.full_text for doc in docs])
    return ExperimentConfig(
        backbone=backbone, max_length=96, stride=24, epochs=2, learning_rate=1e-3, batch_size=8,
        gradient_accumulation_steps=1, warmup_ratio=0.0, bf16=False,
    )  # fmt: skip


def mean_loss(model, windows) -> float:
    """The mean cross-entropy over all training windows (one padded batch), with dropout off."""
    model.eval()
    with torch.no_grad():
        logits = model(
            input_ids=torch.as_tensor(windows.input_ids),
            attention_mask=torch.as_tensor(windows.attention_mask),
        ).logits
    return float(o_weighted_cross_entropy(logits, torch.as_tensor(windows.labels), 1.0))


def test_o_weighted_loss_matches_the_hand_computed_weighted_mean():
    # softmax([0,0,0]) gives 'O' 1/3; softmax([ln2,0,0]) gives class 2 1/4; softmax([ln3,0,0]) gives 'O' 3/5.
    logits = torch.tensor(
        [[[0.0, 0.0, 0.0], [math.log(2), 0.0, 0.0], [math.log(3), 0.0, 0.0], [9.0, -9.0, 5.0]]]
    )
    labels = torch.tensor([[0, 2, 0, IGNORE_ID]])
    w = 0.05
    expected = (w * math.log(3) + math.log(4) + w * math.log(5 / 3)) / (w + 1 + w)
    assert o_weighted_cross_entropy(logits, labels, w).item() == pytest.approx(expected, rel=1e-6)
    # weight 1 is the plain mean cross-entropy; the ignored position does not count, whatever its logits
    plain = (math.log(3) + math.log(4) + math.log(5 / 3)) / 3
    assert o_weighted_cross_entropy(logits, labels, 1.0).item() == pytest.approx(plain, rel=1e-6)
    assert F.cross_entropy(logits[0], labels[0], ignore_index=IGNORE_ID).item() == pytest.approx(
        plain, rel=1e-6
    )
    logits[0, 3] = torch.tensor([-50.0, 50.0, 0.0])
    assert o_weighted_cross_entropy(logits, labels, w).item() == pytest.approx(expected, rel=1e-6)
    assert o_weighted_cross_entropy(logits, torch.full_like(labels, IGNORE_ID), w).item() == 0.0


def test_the_trainer_trains_on_the_weighted_loss_not_the_models_own(docs, config, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(config.backbone)
    windows = training_windows(tokenizer, docs, config)
    rows = np.flatnonzero((windows.labels > 0).any(axis=1))[:4]  # windows with entities in them
    assert len(rows)
    model = load_model(config.backbone, False, seed=0)
    with torch.no_grad():
        model.classifier.bias[0] = 3.0  # favour 'O': its tokens now cost less than the entities'
    trainer = OWeightedTrainer(
        model=model,
        args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none"),
        o_weight=0.1,
    )
    batch = {
        "input_ids": torch.as_tensor(windows.input_ids[rows]),
        "attention_mask": torch.as_tensor(windows.attention_mask[rows]),
        "labels": torch.as_tensor(windows.labels[rows]),
    }
    model.eval()
    loss, outputs = trainer.compute_loss(model, dict(batch), return_outputs=True)
    assert loss.item() == pytest.approx(o_weighted_cross_entropy(outputs.logits, batch["labels"], 0.1).item())
    builtin = model(**batch).loss.item()  # the model's own, unweighted cross-entropy
    assert builtin == pytest.approx(
        o_weighted_cross_entropy(outputs.logits, batch["labels"], 1.0).item(), rel=1e-5
    )
    assert loss.item() > builtin + 0.2  # down-weighting the cheap 'O' tokens leaves the costly entities


def test_fit_lowers_the_training_loss_and_predict_gives_token_probabilities(docs, config):
    tokenizer = AutoTokenizer.from_pretrained(config.backbone)
    windows = training_windows(tokenizer, docs, config)
    before = mean_loss(load_model(config.backbone, False, config.seed), windows)  # fit's starting point
    model, tokenizer = fit(config, docs)
    after = mean_loss(model, windows)
    assert after < 0.5 * before, (before, after)

    probs = predict(model, tokenizer, docs[:3], config)
    assert len(probs) == 3
    blanks = 0
    for doc, p in zip(docs[:3], probs, strict=True):
        assert p.shape == (len(doc.tokens), len(LABELS))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        blank = blank_tokens(doc.tokens)
        blanks += int(blank.sum())
        assert (p[blank, 0] == 1.0).all()  # whitespace tokens are 'O'
    assert blanks > 0  # the essays do have whitespace tokens ("\n\n")


def test_prefix_free_mode_trains_and_predicts_eight_classes(docs, config):
    plain = replace(config, prefix_free=True, epochs=1.0)
    tokenizer = AutoTokenizer.from_pretrained(config.backbone)
    bio = build_windows(tokenizer, docs, max_length=96, stride=24, label_mode="all")
    windows = training_windows(tokenizer, docs, plain)
    np.testing.assert_array_equal(windows.labels, to_plain(bio.labels))
    assert windows.labels.max() > 0 and windows.labels.max() < len(PLAIN_LABELS)

    model, tokenizer = fit(plain, docs[:4])
    assert model.config.id2label == dict(enumerate(PLAIN_LABELS))
    probs = predict(model, tokenizer, docs[:2], plain)
    for doc, p in zip(docs[:2], probs, strict=True):
        assert p.shape == (len(doc.tokens), len(PLAIN_LABELS))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_resolve_backbone():
    assert resolve_backbone("microsoft/deberta-v3-large", ["x"]) == "microsoft/deberta-v3-large"
    assert resolve_backbone("minilm", ["x"]) == str(minilm_path())


def window_kinds(windows):
    """(positive, negative) window counts: windows with a non-'O' target, and the others."""
    positive = ((windows.labels != LABELS.index("O")) & (windows.labels != IGNORE_ID)).any(axis=1)
    return int(positive.sum()), int((~positive).sum())


def test_drop_negative_windows_keeps_every_pii_window_and_a_seeded_share_of_the_rest(docs, config):
    tokenizer = AutoTokenizer.from_pretrained(config.backbone)
    windows = build_windows(tokenizer, docs, max_length=48, stride=8, label_mode="all")
    positive, negative = window_kinds(windows)
    assert positive > 0 and negative > 20
    assert drop_negative_windows(windows, 1.0, seed=0) is windows
    kept = drop_negative_windows(windows, 0.3, seed=0)
    kept_positive, kept_negative = window_kinds(kept)
    assert kept_positive == positive
    assert 0 < kept_negative < negative
    assert abs(kept_negative / negative - 0.3) < 0.2
    again = drop_negative_windows(windows, 0.3, seed=0)
    assert np.array_equal(kept.input_ids, again.input_ids)
    assert not np.array_equal(drop_negative_windows(windows, 0.3, seed=1).doc, kept.doc)
    # every kept window is one of the originals, row arrays kept in step
    rows = [int(np.flatnonzero((windows.input_ids == row).all(axis=1))[0]) for row in kept.input_ids]
    assert rows == sorted(rows)
    for name in ("labels", "doc", "lengths", "subword", "attention_mask"):
        assert np.array_equal(getattr(kept, name), getattr(windows, name)[rows])


def test_drop_negative_windows_leaves_one_window_when_nothing_is_pii(docs, config):
    tokenizer = AutoTokenizer.from_pretrained(config.backbone)
    blank = [replace(doc, labels=["O"] * len(doc.tokens)) for doc in docs[:2]]
    windows = build_windows(tokenizer, blank, max_length=48, stride=8, label_mode="all")
    assert len(drop_negative_windows(windows, 1e-9, seed=0)) == 1


def test_load_model_keeps_only_the_first_layers_of_the_checkpoint():
    whole = load_model(str(minilm_path()), prefix_free=False, seed=0)
    cut = load_model(str(minilm_path()), prefix_free=False, seed=0, num_layers=2)
    assert whole.config.num_hidden_layers == 6 and cut.config.num_hidden_layers == 2
    assert len(cut.bert.encoder.layer) == 2
    for mine, theirs in zip(cut.bert.encoder.layer, whole.bert.encoder.layer[:2], strict=True):
        for (name, p), (_, q) in zip(mine.named_parameters(), theirs.named_parameters(), strict=True):
            assert torch.equal(p, q), name
    assert torch.equal(cut.classifier.weight, whole.classifier.weight)  # same seed, same new head
