"""BM25: tokenisation, the Lucene formula by hand, planted passages, bm25s against the plain reference."""

import math

import numpy as np

from science_exam.sparse import Bm25Index, plain_bm25_index, plain_bm25_search, tokenize, top_k

PASSAGES = [
    "Saturn. Saturn is the sixth planet from the Sun and has prominent rings.",
    "Titan. Titan is the largest moon orbiting Saturn, with a thick nitrogen atmosphere.",
    "Mars. Mars is a cold desert planet with two small moons, Phobos and Deimos.",
    "Photosynthesis. Plants absorb carbon dioxide and release oxygen using sunlight.",
    "Granite. Granite is an igneous rock rich in quartz and feldspar.",
    "Europa. Europa is an icy moon of Jupiter that may hide a liquid ocean.",
]


def test_tokenize_lowercases_drops_stopwords_and_stems():
    assert tokenize(["The Planets are orbiting a star", "x"]) == [["planet", "orbit", "star"], []]


def test_scores_follow_the_lucene_formula_and_ties_go_to_the_lower_id():
    index = Bm25Index.build(["apple banana", "apple cherry cherry", "banana"], k1=1.5, b=0.75)
    ids, scores = index.search(["cherries", "durian"], k=3)
    # "cherry" is in 1 of 3 passages, twice in a 3-token passage; mean length (2 + 3 + 1) / 3 = 2
    idf = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    expected = idf * 2 / (2 + 1.5 * (1 - 0.75 + 0.75 * 3 / 2))
    # passages that share no word with the query are no matches: id -1, score -inf (not passages 0, 1, 2)
    assert ids.tolist() == [[1, -1, -1], [-1, -1, -1]]
    np.testing.assert_allclose(scores, [[expected, -np.inf, -np.inf], [-np.inf] * 3], rtol=1e-6)
    assert ids.dtype == np.int64 and scores.dtype == np.float32


def test_planted_passage_ranks_first_among_distractors():
    index = Bm25Index.build(PASSAGES)
    ids, _ = index.search(
        ["Which moon orbits Saturn and has a nitrogen atmosphere?", "rock with feldspar"], k=4
    )
    assert ids[:, 0].tolist() == [1, 4]
    assert ids.shape == (2, 4)


def test_k_beyond_the_corpus_returns_every_passage():
    ids, _ = Bm25Index.build(PASSAGES[:2]).search(["Saturn"], k=10)
    assert sorted(ids[0].tolist()) == [0, 1]


def test_top_k_breaks_ties_by_index():
    ids, values = top_k(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), 2)
    assert ids.tolist() == [1, 2] and values.tolist() == [3.0, 3.0]
    assert top_k(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), 4)[0].tolist() == [1, 2, 4, 3]


def test_bm25s_ranks_like_the_plain_python_reference():
    rng = np.random.default_rng(0)
    words = np.array([f"w{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(80)])
    probs = 1 / np.arange(1, 81)
    probs /= probs.sum()
    texts = [" ".join(rng.choice(words, size=rng.integers(5, 40), p=probs)) for _ in range(300)]
    questions = [" ".join(rng.choice(words, size=rng.integers(1, 8), p=probs)) for _ in range(40)]
    ids, scores = Bm25Index.build(texts, k1=1.2, b=0.6).search(questions, k=10)
    ref_ids, ref_scores = plain_bm25_search(
        plain_bm25_index(tokenize(texts)), tokenize(questions), 10, 1.2, 0.6
    )
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)


def test_save_load_round_trip(tmp_path):
    index = Bm25Index.build(PASSAGES, k1=1.2, b=0.5)
    before = index.search(["icy moon ocean", "quartz"], k=3)
    loaded = Bm25Index.load(index.save(tmp_path / "bm25"))
    after = loaded.search(["icy moon ocean", "quartz"], k=3)
    assert (loaded.k1, loaded.b, len(loaded)) == (1.2, 0.5, len(PASSAGES))
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
