"""The cross-encoder reranker: mined labels (hand-checked), sorting with stable ties, the BCE objective, a
planted positive ranked first after fine-tuning MiniLM, and save/load giving the same scores."""

import functools
import json
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from science_exam import rerank
from science_exam.configs import ExperimentConfig
from science_exam.data import LETTERS
from science_exam.reader import Collator, build_scorer, encode_pairs
from shared.tiny import minilm_path


def config(pooling: str, **overrides) -> SimpleNamespace:
    """An ExperimentConfig's fields for a MiniLM cross-encoder on CPU, plus its head."""
    fields = dict(rerank_backbone=str(minilm_path()), rerank_num_layers=1, rerank_max_length=64,
                  rerank_learning_rate=2e-4, rerank_epochs=1.0, rerank_batch_size=8, seed=0) | overrides  # fmt: skip
    return SimpleNamespace(**(asdict(ExperimentConfig(**fields)) | {"rerank_pooling": pooling}))


def small_corpus() -> tuple[pd.DataFrame, pd.DataFrame]:
    passages = pd.DataFrame({
        "passage_id": range(6),
        "title": ["Mars", "Venus", "Mars", "Jupiter", "Saturn", "Moon"],
        "text": ["Mars is red. It has two moons.", "Venus is hot.", "Mars has Olympus Mons.",
                 "Jupiter is the largest planet.", "Saturn has rings.", "The Moon orbits Earth."],
    })  # fmt: skip
    questions = pd.DataFrame({
        "id": ["q0", "q1", "q2"],
        "prompt": ["How many moons has Mars?", "Which planet is largest?", "What orbits Earth?"],
        "A": ["one", "Venus", "Mars"], "B": ["two", "Jupiter", "Saturn"], "C": ["three", "Mars", "Venus"],
        "D": ["four", "Moon", "Jupiter"], "E": ["five", "Saturn", "the moon"],
        "answer": ["B", "B", "E"],
    })  # fmt: skip
    return questions, passages


def test_mine_pairs_with_gold_evidence():
    questions, passages = small_corpus()
    ids = np.array([[2, 0, 1, 3], [1, 4, 5, -1], [5, 4, 3, 2]])
    gold = pd.DataFrame(
        {"id": ["q0", "q1"], "evidence": ["It has two moons.", "Jupiter is the largest planet."]}
    )
    pairs = rerank.mine_pairs(questions, passages, ids, gold=gold, negatives=2)
    # q0: passage 0 holds the evidence -> 1 positive, the 2 best-ranked others (2, 1) as negatives;
    # q1: the evidence's passage 3 was not retrieved -> nothing; q2: no gold rows -> skipped
    assert pairs[["id", "passage_id", "label"]].values.tolist() == [
        ["q0", 2, 0.0],
        ["q0", 0, 1.0],
        ["q0", 1, 0.0],
    ]
    assert pairs["query"].tolist() == ["How many moons has Mars?"] * 3
    assert pairs["passage"].tolist()[1] == "Mars: Mars is red. It has two moons."


def test_mine_pairs_without_gold_uses_the_correct_option_text():
    questions, passages = small_corpus()
    ids = np.array([[2, 0, 1, 3], [1, 4, 5, -1], [4, 3, 2, 5]])
    pairs = rerank.mine_pairs(questions, passages, ids, negatives=1)
    # q0's answer "two" is in passage 0 ("two moons") -> positive, 2 the best other; q1's "Jupiter" was not
    # retrieved in [1, 4, 5] -> nothing; q2's "the moon" matches "The Moon orbits Earth." (any case) -> 5 + 4
    assert pairs[["id", "passage_id", "label"]].values.tolist() == [
        ["q0", 2, 0.0],
        ["q0", 0, 1.0],
        ["q2", 4, 0.0],
        ["q2", 5, 1.0],
    ]
    with pytest.raises(ValueError, match=r"ids of shape \(2, 4\) for 3 questions"):
        rerank.mine_pairs(questions, passages, ids[:2])


class FixedScores(rerank.Reranker):
    """A reranker whose score of a passage is set by hand, to check the sorting alone."""

    def __init__(self, by_text: dict[str, float]):
        self.by_text = by_text

    def score(self, queries, passage_texts):
        return np.array([self.by_text[t] for t in passage_texts], dtype=np.float32)


def test_rerank_sorts_by_score_and_keeps_retrieval_order_on_ties():
    questions, passages = small_corpus()
    texts = rerank.passage_texts(passages)
    ranker = FixedScores(dict(zip(texts, [0.5, 2.0, 0.5, -1.0, 2.0, 0.0], strict=True)))
    ids = np.array([[0, 1, 2, 3], [3, 4, 1, -1], [2, 0, 5, 4]])
    new, scores = ranker.rerank(questions, passages, ids, top=3)
    # row 1: 4 and 1 tie at 2.0 -> retrieval order (4 before 1); row 2: 2 and 0 tie at 0.5 -> 2 first
    assert new.tolist() == [[1, 0, 2], [4, 1, 3], [4, 2, 0]]
    np.testing.assert_array_equal(scores, [[2.0, 0.5, 0.5], [2.0, 2.0, -1.0], [2.0, 0.5, 0.5]])
    new, scores = ranker.rerank(questions, passages, ids, top=10)
    assert new[1].tolist() == [4, 1, 3, -1] and scores[1, 3] == -np.inf  # a missing candidate stays last


@pytest.mark.parametrize("pooling", ["model", "mean"])
def test_the_cross_encoder_loss_is_binary_cross_entropy(pooling):
    cfg = config(pooling)
    extra = {"num_labels": 1, "problem_type": "multi_label_classification"} if pooling == "model" else {}
    model = build_scorer(
        AutoModelForSequenceClassification, minilm_path(), pooling, "binary", 1, "sdpa", 0, **extra
    )
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    encoded = encode_pairs(tokenizer, ["a query", "another"], ["a passage", "more text"], cfg.rerank_max_length,
                           context_first=False)  # fmt: skip
    features = [
        dict(zip(encoded, v, strict=True)) | {"labels": [y]}
        for *v, y in zip(*encoded.values(), [1.0, 0.0], strict=True)
    ]
    batch = Collator(0)(features)
    out = model(**batch)
    assert out.logits.shape == (2, 1)
    expected = F.binary_cross_entropy_with_logits(out.logits, torch.tensor([[1.0], [0.0]]))
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)


@functools.cache
def words() -> list[str]:
    """Whole lower-case words of MiniLM's vocabulary."""
    vocab = (minilm_path() / "vocab.txt").read_text().split("\n")
    return [w for w in vocab[2000:12000] if w.isalpha() and len(w) >= 4]


def planted(n: int, seed: int, candidates: int = 6):
    """Entities named by random whole words, one passage each; each question asks about one entity, and its
    candidates are its own passage among others, in random order."""
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(words()), 2 * n, replace=False)
    entities, traits = [words()[i] for i in picks[:n]], [words()[i] for i in picks[n:]]
    passages = pd.DataFrame({"passage_id": range(n), "title": entities,
                             "text": [f"The {e} is known for {t}." for e, t in zip(entities, traits, strict=True)]})  # fmt: skip
    questions = pd.DataFrame({
        "id": [f"q{i}" for i in range(n)], "prompt": [f"What is the {e} known for?" for e in entities],
        **{letter: [traits[(i + j) % n] for i in range(n)] for j, letter in enumerate(LETTERS)}, "answer": "A",
    })  # fmt: skip
    others = [rng.choice(np.delete(np.arange(n), i), candidates - 1, replace=False) for i in range(n)]
    ids = np.array([rng.permutation(np.r_[i, rest]) for i, rest in enumerate(others)])
    return questions, passages, ids


@pytest.mark.slow
def test_fine_tuned_reranker_ranks_the_planted_passage_first_and_round_trips(tmp_path):
    questions, passages, ids = planted(100, seed=0)
    pairs = rerank.mine_pairs(questions, passages, ids, negatives=3)
    assert len(pairs) == 400 and pairs["label"].sum() == 100
    ranker = rerank.fit_reranker(pairs, config("mean", rerank_num_layers=2, rerank_epochs=2.0), desc="rerank")
    questions, passages, ids = planted(40, seed=99)
    assert np.mean(ids[:, 0] == np.arange(40)) < 0.35  # retrieval order: the right passage first by chance
    new, scores = ranker.rerank(questions, passages, ids, top=3)
    assert np.mean(new[:, 0] == np.arange(40)) >= 0.8
    assert (np.diff(scores, axis=1) <= 0).all()
    ranker.save(tmp_path / "reranker")
    loaded = rerank.load(tmp_path / "reranker")
    again, again_scores = loaded.rerank(questions, passages, ids, top=3)
    np.testing.assert_array_equal(again, new)
    np.testing.assert_array_equal(again_scores, scores)


def test_model_head_round_trip_and_use_as_a_pretrained_cross_encoder(tmp_path):
    questions, passages, ids = planted(12, seed=1)
    pairs = rerank.mine_pairs(questions, passages, ids, negatives=1)
    ranker = rerank.fit_reranker(pairs, config("model"), desc="rerank")
    assert ranker.model.config.problem_type == "multi_label_classification"
    ranker.save(tmp_path / "cross")
    assert json.loads((tmp_path / "cross" / rerank.SETTINGS).read_text())["pooling"] == "model"
    queries, texts = pairs["query"].tolist(), pairs["passage"].tolist()
    expected = ranker.score(queries, texts)
    np.testing.assert_array_equal(rerank.load(tmp_path / "cross").score(queries, texts), expected)
    # a one-logit checkpoint is a cross-encoder that can be used without fine-tuning
    as_is = rerank.pretrained(config("model", rerank_backbone=str(tmp_path / "cross"), rerank_num_layers=0))
    np.testing.assert_allclose(as_is.score(queries, texts), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="has 2 labels, a cross-encoder has 1"):
        rerank.pretrained(config("model"))
    with pytest.raises(ValueError, match="no pairs"):
        rerank.fit_reranker(pairs.iloc[:0], config("model"), desc="rerank")
