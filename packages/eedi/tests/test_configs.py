"""Every recipe field is checked when the config is made: one FieldError naming the field."""

import pytest

from eedi.configs import ExperimentConfig
from shared.recipes import FieldError


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (dict(retrievers=["bm25"]), "retrievers"),
        (dict(retrievers=["tfidf", "tfidf"]), "retrievers"),
        (dict(retrievers=[]), "retrievers"),
        (dict(n_folds=1), "n_folds"),
        (dict(holdout_misconceptions=1.0), "holdout_misconceptions"),
        (dict(embedder_batch_size=1), "embedder_batch_size"),
        (dict(hard_negatives=5, hard_negative_top=5), "hard_negative_top"),
        (dict(rerank="cross-encoder"), "rerank"),
        (dict(pointwise_candidates=8, pointwise_negatives=8), "pointwise_negatives"),
        (dict(pointwise_candidates=4, pointwise_negatives=2, listwise_candidates=5), "listwise_candidates"),
        (dict(listwise_candidates=27, pointwise_candidates=40), "listwise_candidates"),
        (dict(inference_backend="tgi"), "inference_backend"),
        (dict(embedder_pooling="max"), "embedder_pooling"),
    ],
)
def test_bad_fields_raise_one_error_naming_the_field(changes, field):
    with pytest.raises(FieldError) as err:
        ExperimentConfig(**changes)
    assert err.value.field == field and str(err.value).startswith(f"{field}:")


def test_defaults_are_the_full_recipe_and_valid():
    config = ExperimentConfig()
    assert (config.embedder, config.rerank, config.pointwise_backbone) == (
        "BAAI/bge-large-en-v1.5", "pointwise", "Qwen/Qwen2.5-14B-Instruct",
    )  # fmt: skip
    assert config.reranks and not config.listwise
