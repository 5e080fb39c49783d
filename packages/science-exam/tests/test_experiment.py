"""The CV loop on the small sample: out-of-fold probabilities, fold pipelines that load back and score the
same, and retrieval shared between experiments."""

import numpy as np
import pytest

from science_exam.configs import ExperimentConfig
from science_exam.data import load_competition
from science_exam.experiment import assign_folds, prepare, run_experiment
from science_exam.pipeline import load_fold

TINY = dict(backbone="tiny:bert", max_length=96, epochs=1.0, batch_size=8, gradient_accumulation_steps=1,
            learning_rate=1e-3, bf16=False, n_folds=2, candidates=5, context_passages=2, retrieval="bm25",
            rerank_backbone="tiny:bert", rerank_max_length=64, rerank_epochs=1.0, rerank_batch_size=16,
            rerank_learning_rate=1e-3, mc_pooling="mean", rerank_pooling="mean")  # fmt: skip


@pytest.fixture(scope="module")
def data(sample_dir):
    return load_competition(sample_dir, extra=["extra/generated.csv"])


@pytest.mark.slow
def test_reranked_experiment_scores_every_question_once_and_its_folds_load_back(data, tmp_path):
    config = ExperimentConfig(name="bm25-rerank", rerank=True, **TINY)
    prep = prepare(data, config, tmp_path / "models", max_extra=30, seed=0)
    assert prep.index.dense is None  # BM25 alone needs no embedder
    assert (tmp_path / "models" / "index" / "passages.parquet").is_file()
    fold = assign_folds(data.train, config.n_folds, config.seed)
    result = run_experiment(config, prep, fold, tmp_path / "exp", tmp_path / "models" / "exp")
    assert result.oof.shape == (len(data.train), 5) and result.test.shape == (len(data.test), 5)
    np.testing.assert_allclose(result.oof.sum(axis=1), 1.0, atol=1e-6)
    assert result.ranked.shape == (len(data.train), config.candidates)
    # the reranker reorders the retrieved candidates, it does not invent passages
    cands = prep.candidates(result.config)["train"]
    assert all(set(a) == set(b) for a, b in zip(result.ranked, cands, strict=True))
    assert (tmp_path / "exp" / "oof.csv").is_file() and (tmp_path / "exp" / "scores.json").is_file()
    # fold 1's saved pipeline (reranker + reader) scores its validation questions as the CV did
    held = fold == 1
    models = load_fold(tmp_path / "models" / "exp" / "fold-1")
    assert models.reranker is not None
    again = models.proba(prep.passages, data.train[held].reset_index(drop=True), cands[held])
    np.testing.assert_allclose(again, result.oof[held], atol=1e-5)


@pytest.mark.slow
def test_no_context_experiment_ignores_the_corpus_and_the_folds_partition_the_questions(data, tmp_path):
    config = ExperimentConfig(name="none", **{**TINY, "retrieval": "none"})
    prep = prepare(data, config, None, max_extra=20, seed=0)
    assert prep.candidates(config) == {"train": None, "extra": None, "test": None}
    fold = assign_folds(data.train, 2, 0)
    assert sorted(np.bincount(fold)) == [len(data.train) // 2] * 2
    result = run_experiment(config, prep, fold)
    assert len(result.folds) == 2 and 0 <= result.cv <= 1
    assert result.ranked is None


def test_retrieval_is_computed_once_per_configuration(data, monkeypatch, tmp_path):
    import science_exam.experiment as experiment

    config = ExperimentConfig(name="a", **TINY)
    prep = prepare(data, config, None, max_extra=10, seed=0)
    calls = []
    real = experiment.candidates
    monkeypatch.setattr(experiment, "candidates", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = prep.candidates(config)
    prep.candidates(ExperimentConfig(name="b", **{**TINY, "learning_rate": 5e-4}))  # same retrieval
    assert len(calls) == 3  # train, extra, test once
    assert first["train"].shape == (len(data.train), config.candidates)
    assert first["extra"].shape == (10, config.candidates)
    prep.candidates(ExperimentConfig(name="c", **{**TINY, "candidates": 4}))
    assert len(calls) == 6
