"""The bi-encoder: last-token pooling, hard negatives, false-negative-free MNRL batches on the trainer's own
dataloader, LoRA, save/load offline, and fine-tuning that learns a toy."""

import socket

import numpy as np
import pytest
import torch

from eedi import embedder
from eedi.ranking import map_at_k, top_k

DOCS = [
    "Adds the numerators and adds the denominators",
    "Thinks a negative times a negative is negative",
    "Confuses the area with the perimeter",
    "Believes angles on a straight line add up to 360 degrees",
    "Multiplies by 10 to convert centimetres to metres",
    "Rounds down when the next digit is 5 or more",
]


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails."""

    def refuse(*args, **kwargs):
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


def qwen(**kwargs):
    return embedder.load("tiny:qwen2", texts=DOCS * 3, max_length=48, **kwargs)


def test_causal_lm_pools_the_last_real_token_of_plain_right_padded_text():
    model = qwen()
    transformer = model[0]
    assert model[1].pooling_mode == "lasttoken" and transformer.tokenizer.padding_side == "right"
    texts = ["a", DOCS[0], DOCS[3]]  # different lengths: the short ones are padded
    pooled = embedder.encode(model, texts)
    for text, vector in zip(texts, pooled, strict=True):
        ids = transformer.tokenizer(text, return_tensors="pt")  # no chat template, no padding
        with torch.no_grad():
            hidden = transformer.auto_model(**ids).last_hidden_state[0, -1]
        np.testing.assert_allclose(vector, (hidden / hidden.norm()).numpy(), atol=1e-5)


def test_a_tokenizer_without_pad_token_pads_with_eos():
    tokenizer = qwen()[0].tokenizer
    tokenizer.padding_side, tokenizer.pad_token = "left", None
    embedder.pad_right(tokenizer)
    assert tokenizer.padding_side == "right" and tokenizer.pad_token == tokenizer.eos_token == "<|im_end|>"
    tokenizer.eos_token = None
    tokenizer.pad_token = None
    with pytest.raises(ValueError, match="neither a pad nor an EOS token"):
        embedder.pad_right(tokenizer)


def test_encoder_pooling_and_first_layers():
    full = embedder.load("minilm", max_length=32)
    cut = embedder.load("minilm", max_length=32, num_layers=2, pooling="cls")
    assert len(full[0].auto_model.encoder.layer) == 6 and len(cut[0].auto_model.encoder.layer) == 2
    assert full[1].pooling_mode == "mean" and cut[1].pooling_mode == "cls"
    torch.testing.assert_close(
        cut[0].auto_model.encoder.layer[1].output.dense.weight,
        full[0].auto_model.encoder.layer[1].output.dense.weight,
    )
    emb = embedder.encode(full, DOCS)
    assert emb.dtype == np.float32 and emb.shape == (6, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="pooling 'max'"):
        embedder.load("minilm", pooling="max")


def test_hard_negatives_come_from_the_top_and_are_never_the_positive():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((300, 40)).astype(np.float32)
    positive = rng.integers(0, 40, size=300)
    scores[:150, :] += 5 * (np.arange(40) == positive[:150, None])  # half the positives rank first
    negatives = embedder.mine_hard_negatives(scores, positive, n=3, top=6, seed=1)
    assert negatives.shape == (300, 3)
    assert not (negatives == positive[:, None]).any()
    top = top_k(scores, 6)
    assert all(set(row) <= set(best) for row, best in zip(negatives.tolist(), top.tolist(), strict=True))
    assert all(len(set(row)) == 3 for row in negatives.tolist())
    np.testing.assert_array_equal(
        negatives, embedder.mine_hard_negatives(scores, positive, n=3, top=6, seed=1)
    )
    assert not np.array_equal(negatives, embedder.mine_hard_negatives(scores, positive, n=3, top=6, seed=2))
    # a column whose name repeats the positive's is not a negative either
    groups = np.arange(40)
    groups[positive[0]] = groups[top[0, 1]] = 99
    again = embedder.mine_hard_negatives(scores, positive, n=3, top=6, seed=1, groups=groups)
    assert top[0, 1] not in again[0]
    with pytest.raises(ValueError, match=r"need 1 <= n \(6\) < top \(6\)"):
        embedder.mine_hard_negatives(scores, positive, n=6, top=6)


def batch_labels(tokenizer, batch, key_of_text):
    """Each column of a collated batch decoded back to the labels of its texts."""
    columns = sorted({k.removesuffix("_input_ids") for k in batch if k.endswith("_input_ids")})
    decoded = {c: tokenizer.batch_decode(batch[f"{c}_input_ids"], skip_special_tokens=True) for c in columns}
    return {c: [key_of_text[t] for t in texts] for c, texts in decoded.items()}


def test_mnrl_batches_of_the_trainers_dataloader_hold_no_false_negative(tmp_path):
    # 48 rows over 10 misconceptions, batches of 6, one hard negative each that is another row's positive;
    # docs 10 and 11 repeat the names of docs 0 and 1 under other ids
    extra = ["Thinks 0.5 is less than 0.25", "Divides instead of multiplying", "Ignores the sign of a number",
             "Believes the median is the middle of the list before sorting"]  # fmt: skip
    docs = [*DOCS, *extra, DOCS[0], DOCS[1]]
    rng = np.random.default_rng(0)
    positives = np.concatenate([np.repeat(np.arange(10), 4), [10, 10, 10, 10, 11, 11, 11, 11]])
    negatives = ((positives % 10 + rng.integers(1, 10, size=48)) % 10)[:, None]
    queries = [f"question number {i}" for i in range(48)]
    model = embedder.load("minilm", max_length=16, num_layers=1)
    trainer = embedder.trainer(
        model, queries, positives, negatives, docs, output_dir=tmp_path, batch_size=6, seed=3
    )
    tokenizer = model[0].tokenizer
    key_of_text = {
        tokenizer.decode(tokenizer(t)["input_ids"], skip_special_tokens=True): i
        for i, t in enumerate(queries)
    }
    groups = embedder.doc_groups(docs)  # docs 10 and 11 fall in the groups of 0 and 1
    assert groups[10] == groups[0] and groups[11] == groups[1]
    for i, doc in enumerate(docs):
        key_of_text[tokenizer.decode(tokenizer(doc)["input_ids"], skip_special_tokens=True)] = (
            f"doc{groups[i]}"
        )

    def epoch_batches(epoch):
        loader = trainer.get_train_dataloader()
        loader.set_epoch(epoch)
        return [batch_labels(tokenizer, batch, key_of_text) for batch in loader]

    batches = epoch_batches(0)
    seen_rows = sorted(row for b in batches for row in b["anchor"])
    assert seen_rows == list(range(48))  # every row once per epoch
    assert sum(len(b["anchor"]) == 6 for b in batches) >= 4  # yet most batches are full
    for b in batches:
        for i, positive in enumerate(b["positive"]):
            others = [p for j, p in enumerate(b["positive"]) if j != i] + b["negative_1"]
            assert positive not in others
            assert b["positive"][i] == f"doc{groups[positives[b['anchor'][i]]]}"  # columns stay aligned
    assert epoch_batches(0) == batches  # deterministic under the seed
    assert epoch_batches(1) != batches  # reshuffled each epoch

    # the same rows cut into consecutive batches of a plain shuffle would hold false negatives
    label_pos, label_neg = groups[positives], groups[negatives[:, 0]]
    clashes = 0
    for rows in np.array_split(np.random.default_rng(3).permutation(48), 8):
        pos, neg = label_pos[rows].tolist(), set(label_neg[rows].tolist())
        clashes += len(pos) - len(set(pos)) + len(set(pos) & neg)
    assert clashes > 5


def test_training_rows_refuse_bad_columns():
    with pytest.raises(ValueError, match="row 1 has a hard negative with the same name as its positive"):
        embedder.training_rows(["q0", "q1"], np.array([0, 0]), np.array([[1], [6]]), [*DOCS, DOCS[0]])
    with pytest.raises(ValueError, match=r"positives row 1 has a column outside 0\.\.5"):
        embedder.training_rows(["q0", "q1"], np.array([0, 6]), None, DOCS)
    dataset, pos, neg = embedder.training_rows(
        ["q0"], np.array([2]), np.array([[0, 1]]), DOCS, "query: ", "doc: "
    )
    assert dataset.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert dataset[0] == {
        "anchor": "query: q0",
        "positive": "doc: " + DOCS[2],
        "negative_1": "doc: " + DOCS[0],
        "negative_2": "doc: " + DOCS[1],
    }
    assert pos.shape == (1,) and neg.shape == (1, 2)


def toy(n_per_doc=4):
    """Queries that name their misconception only through an arbitrary code word."""
    queries, positives = [], []
    for i in range(len(DOCS)):
        for j in range(n_per_doc):
            queries.append(f"pupil answer {j} shows mistake type {'klm'[i % 3]}{'xyz'[i // 3]} again")
            positives.append(i)
    return queries, np.array(positives)


def test_lora_trains_only_the_adapters_and_round_trips_offline(tmp_path, offline):
    queries, positives = toy(2)
    model = qwen(lora_r=4, num_layers=1, seed=0)
    assert len(model[0].auto_model.layers) == 1
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    embedder.fine_tune(model, queries, positives, None, DOCS, epochs=1, batch_size=6, learning_rate=1e-2,
                       warmup_ratio=0.0, gradient_checkpointing=True)  # fmt: skip
    after = dict(model.named_parameters())
    for name, value in before.items():
        assert torch.equal(value, after[name]) == (name not in trainable), name
    emb = embedder.encode(model, queries)
    # loaded as predict does, with the recipe's lora_r: the saved adapters, no second adapter on top
    loaded = embedder.load(embedder.save(model, tmp_path / "lora"), max_length=48, lora_r=4)
    assert (tmp_path / "lora" / "adapter_model.safetensors").is_file()  # the adapters, not a full copy
    assert len(loaded[0].auto_model.layers) == 1  # the cut survives although the base config has 2 layers
    np.testing.assert_array_equal(embedder.encode(loaded, queries), emb)


def test_full_model_round_trips_offline(tmp_path, offline):
    model = embedder.load("minilm", max_length=32, num_layers=2)
    loaded = embedder.load(embedder.save(model, tmp_path / "minilm"), max_length=32)
    assert len(loaded[0].auto_model.encoder.layer) == 2
    np.testing.assert_array_equal(embedder.encode(loaded, DOCS), embedder.encode(model, DOCS))


def test_fine_tuning_is_deterministic_under_the_seed():
    queries, positives = toy(2)
    runs = []
    for seed in (0, 0, 1):
        model = embedder.load("tiny:bert", texts=DOCS + queries, max_length=32)
        embedder.fine_tune(
            model, queries, positives, None, DOCS, epochs=1, batch_size=4, learning_rate=1e-3, seed=seed
        )
        runs.append(embedder.encode(model, DOCS))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


@pytest.mark.slow
def test_mnrl_fine_tuning_learns_a_toy(tmp_path):
    queries, positives = toy(4)
    model = embedder.load("minilm", max_length=24, num_layers=2)
    before = map_at_k(embedder.scores(model, queries, DOCS), positives, k=3)
    first_stage = embedder.scores(model, queries, DOCS)
    negatives = embedder.mine_hard_negatives(first_stage, positives, n=1, top=3, seed=0)
    trainer = embedder.trainer(model, queries, positives, negatives, DOCS, output_dir=tmp_path, epochs=4,
                               batch_size=6, learning_rate=1e-4, logging_steps=1, seed=0)  # fmt: skip
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    after = map_at_k(embedder.scores(model, queries, DOCS), positives, k=3)
    assert after > before + 0.2
