"""Every recipe field is checked when the config is made: one FieldError naming the field."""

import pytest

from science_exam.configs import ExperimentConfig
from shared.recipes import FieldError


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (dict(retrieval="tfidf"), "retrieval"),
        (dict(rerank=True, retrieval="none"), "rerank"),
        (dict(candidates=3, context_passages=5), "context_passages"),
        (dict(chunk_window=2, chunk_overlap=2), "chunk_overlap"),
        (dict(ivf_nlist=16, ivf_nprobe=32), "ivf_nprobe"),
        (dict(reader="mc", load_in_4bit=True), "load_in_4bit"),
        (dict(tta_permutations=121), "tta_permutations"),
        (dict(n_folds=1), "n_folds"),
        (dict(llm_mode="perplexity"), "llm_mode"),
    ],
)
def test_bad_fields_raise_one_error_naming_the_field(changes, field):
    with pytest.raises(FieldError) as err:
        ExperimentConfig(**changes)
    assert err.value.field == field and str(err.value).startswith(f"{field}:")


def test_defaults_are_the_full_recipe_and_valid():
    config = ExperimentConfig()
    assert (config.backbone, config.retrieval, config.reader) == (
        "microsoft/deberta-v3-large",
        "hybrid",
        "mc",
    )
