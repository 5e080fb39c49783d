"""The corpus index: planted passages found by each method, option queries pooled, saved and reloaded
without re-indexing, recall@k by hand, and the errors for a bad passages frame."""

import json

import numpy as np
import pandas as pd
import pytest

from science_exam import retrieve
from science_exam.data import DataError
from science_exam.dense import Embedder
from science_exam.retrieve import CorpusIndex, passage_texts, recall_at_k, search
from shared.tiny import minilm_path

ARTICLES = [
    ("Quillfern", "Quillfern is a fern that grows only on basalt cliffs. Its spores ripen in late autumn."),
    ("Marrowbeck", "Marrowbeck is a river town known for copper mining. The mines closed in 1921."),
    ("Tessalite", "Tessalite is a green mineral that glows under ultraviolet light."),
    ("Orvane", "Orvane is a songbird that migrates across the desert every spring."),
    ("Brindle Lake", "Brindle Lake is a salt lake fed by three glaciers."),
    ("Halcyon Bridge", "Halcyon Bridge is a suspension bridge made of steel cables."),
]


def frame(articles=ARTICLES):
    return pd.DataFrame(
        [(i, title, text, i) for i, (title, text) in enumerate(articles)],
        columns=["passage_id", "title", "text", "article"],
    )


def questions(rows):
    """MCQ rows (prompt, A..E) with ids q0, q1, ..."""
    return pd.DataFrame(
        [(f"q{i}", prompt, *options) for i, (prompt, options) in enumerate(rows)],
        columns=["id", "prompt", "A", "B", "C", "D", "E"],
    )


QUESTIONS = questions(
    [
        (
            "Which mineral glows under ultraviolet light?",
            ["Quillfern", "Tessalite", "Orvane", "basalt", "copper"],
        ),
        (
            "Which bird crosses the desert when it migrates?",
            ["Orvane", "Quillfern", "Marrowbeck", "steel", "salt"],
        ),
    ]
)


@pytest.fixture(scope="module")
def hybrid_index():
    return CorpusIndex.build(frame(), minilm_path(), "flat", max_length=64, batch_size=8)


def test_indexed_text_is_title_dot_text():
    passages = frame([("Tessalite", "It glows."), ("", "No title here.")])
    assert passage_texts(passages) == ["Tessalite. It glows.", "No title here."]


@pytest.mark.parametrize("method", ["bm25", "dense", "hybrid"])
@pytest.mark.parametrize("query", ["prompt", "prompt+options"])
def test_each_method_finds_the_planted_passage(hybrid_index, method, query):
    ids, scores = search(hybrid_index, QUESTIONS, method=method, query=query, k=3)
    assert ids[:, 0].tolist() == [2, 3]
    assert ids.shape == scores.shape == (2, 3) and ids.dtype == np.int64 and scores.dtype == np.float32


def test_options_in_the_query_find_what_the_prompt_alone_cannot():
    # the prompt names nothing in the corpus; only the right option's passage mentions glaciers
    index = CorpusIndex.build(frame())
    options = ["volcanoes", "glaciers", "oceans", "clouds", "comets"]
    asked = questions([("Which of these draws on frozen meltwater?", options)])
    assert search(index, asked, query="prompt", k=2)[0][0].tolist() == [-1, -1]  # no passage matches
    assert search(index, asked, query="prompt+options", k=2)[0][0, 0] == 4


def fake_retriever(lists):
    """Stands in for ``retrieve._one``: each query text gets a fixed (ids, scores) list per method."""

    def one(index, texts, method, depth):
        rows = [lists[method][t] for t in texts]
        return np.array([r[0] for r in rows]), np.array([r[1] for r in rows], dtype=np.float32)

    return one


def test_prompt_plus_options_pooling_by_hand(monkeypatch):
    asked = questions([("P", ["a", "b", "c", "d", "e"])])
    bm25 = {"P a": ([1, 2], [3.0, 1.0]), "P b": ([2, 5], [4.0, 2.0]), "P c": ([5, 1], [2.0, 2.0]),
            "P d": ([7, 1], [0.5, 0.4]), "P e": ([1, 7], [1.0, 0.9])}  # fmt: skip
    dense = {"P a": ([7, 5], [0.9, 0.8]), "P b": ([5, 7], [0.7, 0.6]), "P c": ([8, 7], [0.95, 0.1]),
             "P d": ([1, 8], [0.5, 0.4]), "P e": ([2, 5], [0.3, 0.2])}  # fmt: skip
    monkeypatch.setattr(retrieve, "_one", fake_retriever({"bm25": bm25, "dense": dense}))
    index = CorpusIndex(frame(), bm25=None, dense=object())
    # bm25 pooled by max: 2: 4.0, 1: 3.0, 5: 2.0, 7: 0.9 (kept: the first k=3)
    ids, scores = search(index, asked, method="bm25", query="prompt+options", k=3)
    assert ids.tolist() == [[2, 1, 5]]
    np.testing.assert_allclose(scores, [[4.0, 3.0, 2.0]])
    # dense pooled: 8: 0.95, 7: 0.9, 5: 0.8; rrf of [2, 1, 5] and [8, 7, 5] with k=60:
    # 5 -> 1/63 + 1/63; 2 and 8 -> 1/61; 1 and 7 -> 1/62 (ties to the lower id)
    ids, scores = search(index, asked, method="hybrid", query="prompt+options", k=3, fusion="rrf", rrf_k=60)
    assert ids.tolist() == [[5, 2, 8]]
    np.testing.assert_allclose(scores, [[2 / 63, 1 / 61, 1 / 61]], rtol=1e-6)
    # weighted (dense 0.25): bm25 [2, 1, 5] scale to [1, 0.5, 0], dense [8, 7, 5] to [1, 2/3, 0]
    # -> 2: 0.75, 1: 0.375, 8: 0.25, 7: 1/6, 5: 0
    ids, scores = search(index, asked, method="hybrid", query="prompt+options", k=3, fusion="weighted",
                         dense_weight=0.25)  # fmt: skip
    assert ids.tolist() == [[2, 1, 8]]
    np.testing.assert_allclose(scores, [[0.75, 0.375, 0.25]], rtol=1e-6)


def test_save_load_gives_identical_results_without_reindexing(hybrid_index, tmp_path, monkeypatch):
    before = {
        m: search(hybrid_index, QUESTIONS, method=m, query="prompt+options", k=4) for m in retrieve.METHODS
    }
    hybrid_index.save(tmp_path / "index")
    settings = json.loads((tmp_path / "index" / "index.json").read_text())
    assert (
        settings["dense"]["embedder"] == "embedder"
        and (tmp_path / "index/embedder/model.safetensors").is_file()
    )
    assert {p.name for p in (tmp_path / "index").iterdir()} >= {"passages.parquet", "bm25", "dense.faiss"}

    def no_reindexing(*args, **kwargs):
        raise AssertionError("loading must not embed or tokenise the passages again")

    monkeypatch.setattr(Embedder, "encode_passages", no_reindexing)
    monkeypatch.setattr("bm25s.BM25.index", no_reindexing)
    loaded = CorpusIndex.load(tmp_path / "index")
    pd.testing.assert_frame_equal(loaded.passages, frame())
    for method, (ids, scores) in before.items():
        after_ids, after_scores = search(loaded, QUESTIONS, method=method, query="prompt+options", k=4)
        np.testing.assert_array_equal(after_ids, ids)
        np.testing.assert_allclose(after_scores, scores, rtol=1e-6)


def test_bm25_only_index_and_padding_beyond_the_corpus(tmp_path):
    index = CorpusIndex.load(CorpusIndex.build(frame()[:2]).save(tmp_path))
    ids, scores = search(index, QUESTIONS, k=4)
    assert ids[:, 2:].tolist() == [[-1, -1], [-1, -1]] and np.isneginf(scores[:, 2:]).all()
    with pytest.raises(ValueError, match="method 'dense' needs a dense index"):
        search(index, QUESTIONS, method="dense")
    with pytest.raises(ValueError, match=r"query 'options' is not one of prompt \| prompt\+options"):
        search(index, QUESTIONS, query="options")


def test_recall_at_k_by_hand():
    passages = frame([("A", "Alpha one. Alpha two."), ("B", "Beta one."), ("C", "Gamma one.")])
    gold = pd.DataFrame(
        {"id": ["q1", "q1", "q2", "q9"], "evidence": ["Alpha two.", "Gamma one.", "Beta one.", "x"]}
    )
    ids = np.array([[1, 0, 2], [1, -1, 2], [0, 1, 2]])
    # pairs: (q1, Alpha two.) at rank 2, (q1, Gamma one.) at rank 3, (q2, Beta one.) at rank 1; q3 has no gold
    result = recall_at_k(ids, passages, gold, ["q1", "q2", "q3"], ks=(1, 2, 3))
    assert result == {1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3), 3: 1.0, "pairs": 3}
    assert np.isnan(recall_at_k(ids, passages, gold, ["q3", "q4", "q5"])[1])


def test_bad_passages_name_the_row_and_column(tmp_path):
    with pytest.raises(DataError, match=r"^passages: no column 'text'"):
        CorpusIndex.build(frame().drop(columns="text"))
    shuffled = frame().iloc[[0, 2, 1, 3, 4, 5]].reset_index(drop=True)
    with pytest.raises(DataError, match=r"^passages: row 1: column 'passage_id' is 2, expected 1"):
        CorpusIndex.build(shuffled)
    CorpusIndex.build(frame()).save(tmp_path)
    frame().drop(columns="title").to_parquet(tmp_path / "passages.parquet")
    with pytest.raises(DataError, match=r"passages\.parquet: no column 'title'"):
        CorpusIndex.load(tmp_path)
