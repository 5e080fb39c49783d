"""TF-IDF retrieval: exact names rank their document first; save/load gives the same scores."""

import numpy as np
import pytest

from eedi.tfidf import TfidfRetriever

DOCS = [
    "Adds the numerators and adds the denominators",
    "Thinks a negative times a negative is negative",
    "Confuses the area and the perimeter of a rectangle",
    "Multiplies the numerators but adds the denominators",
    "Believes angles on a straight line add to 360 degrees",
]


@pytest.mark.parametrize("analyzer,ngrams", [("char_wb", (3, 5)), ("word", (1, 2))])
def test_the_exact_name_ranks_its_document_first(analyzer, ngrams):
    retriever = TfidfRetriever(analyzer=analyzer, ngram_range=ngrams).fit(DOCS)
    scores = retriever.scores(DOCS)
    assert scores.dtype == np.float32 and scores.shape == (5, 5)
    assert np.argmax(scores, axis=1).tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(np.diag(scores), 1.0, rtol=1e-5)  # cosine of a text with itself
    assert (scores <= 1 + 1e-5).all() and (scores >= 0).all()


def test_a_paraphrase_finds_its_misconception():
    scores = (
        TfidfRetriever()
        .fit(DOCS)
        .scores(["the student added numerator to numerator and denominator to denominator"])
    )
    assert int(np.argmax(scores)) == 0


def test_save_load_round_trip(tmp_path):
    retriever = TfidfRetriever(ngram_range=(2, 4), sublinear_tf=False).fit(DOCS)
    queries = ["negative times negative", "perimeter of a square", "an unseen word xyz"]
    loaded = TfidfRetriever.load(retriever.save(tmp_path / "tfidf"))
    assert (loaded.analyzer, loaded.ngram_range, loaded.sublinear_tf) == ("char_wb", (2, 4), False)
    np.testing.assert_array_equal(loaded.scores(queries), retriever.scores(queries))


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="fit\\(\\) or load\\(\\)"):
        TfidfRetriever().scores(["x"])
    with pytest.raises(ValueError, match="analyzer 'chars'"):
        TfidfRetriever(analyzer="chars")
    with pytest.raises(FileNotFoundError, match=r"tfidf\.json is missing"):
        TfidfRetriever.load(tmp_path)
