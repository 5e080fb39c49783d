"""Dense retrieval: the real MiniLM finds planted passages; faiss flat/IVF against the numpy reference."""

import numpy as np
import pytest

from science_exam.dense import DenseIndex, Embedder, brute_force
from shared.tiny import minilm_path

PASSAGES = [
    "Plants take in carbon dioxide from the air and give off oxygen during photosynthesis.",
    "The Eiffel Tower was completed in 1889 for the World's Fair in Paris.",
    "Volcanoes erupt when molten rock called magma rises to the surface.",
    "The violin is a string instrument played with a bow.",
    "Honey bees communicate the location of flowers with a waggle dance.",
]


@pytest.fixture(scope="module")
def embedder():
    return Embedder(minilm_path(), max_length=64, batch_size=2)


def clustered(n, dim=16, centres=8, seed=0):
    """Unit vectors scattered around a few random directions."""
    rng = np.random.default_rng(seed)
    middle = rng.standard_normal((centres, dim))
    x = middle[rng.integers(centres, size=n)] + 0.3 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_minilm_finds_planted_passages(embedder):
    emb = embedder.encode_passages(PASSAGES)
    assert emb.dtype == np.float32 and emb.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    q = embedder.encode_queries(
        ["What gas do leaves absorb to make sugar?", "How do insects tell each other where food is?"]
    )
    ids, scores = DenseIndex("flat").build(emb).search(q, k=3)
    assert ids[:, 0].tolist() == [0, 4]
    assert (np.diff(scores, axis=1) <= 0).all()


def test_prefixes_are_prepended(embedder):
    e5_style = Embedder(embedder.path, max_length=64, query_prefix="query: ", passage_prefix="passage: ")
    e5_style._model = embedder.model  # share the loaded weights
    np.testing.assert_allclose(
        e5_style.encode_queries(["a volcano"]), embedder.encode_queries(["query: a volcano"])
    )
    np.testing.assert_allclose(
        e5_style.encode_passages(["a bee"]), embedder.encode_passages(["passage: a bee"])
    )
    assert not np.allclose(e5_style.encode_queries(["a volcano"]), e5_style.encode_passages(["a volcano"]))


def test_brute_force_by_hand():
    emb = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    ids, scores = brute_force(emb, np.array([[1, 0], [0, 1]], dtype=np.float32), k=2)
    assert ids.tolist() == [[0, 2], [1, 2]]
    np.testing.assert_allclose(scores, [[1, 0.6], [1, 0.8]], rtol=1e-6)


def test_flat_matches_brute_force():
    emb, q = clustered(500), clustered(20, seed=1)
    ids, scores = DenseIndex("flat").build(emb).search(q, k=10)
    ref_ids, ref_scores = brute_force(emb, q, k=10)
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-5)


def test_ivf_probing_every_list_equals_flat():
    emb, q = clustered(2000), clustered(30, seed=1)
    ivf = DenseIndex("ivf", nlist=16, nprobe=16).build(emb)
    assert ivf.nlist == 16
    ids, scores = ivf.search(q, k=10)
    flat_ids, flat_scores = DenseIndex("flat").build(emb).search(q, k=10)
    np.testing.assert_array_equal(ids, flat_ids)
    np.testing.assert_allclose(scores, flat_scores, rtol=1e-5)


def test_ivf_lists_capped_by_the_data_and_too_little_data_is_an_error():
    index = DenseIndex("ivf", nlist=64, nprobe=8).build(clustered(100))
    assert index.nlist == 2 and index.index.nlist == 2 and index.index.nprobe == 2  # 100 // 39 lists
    with pytest.raises(ValueError, match=r"20 vectors cannot train even one list.*kind='flat'"):
        DenseIndex("ivf").build(clustered(20))
    with pytest.raises(ValueError, match="kind 'hnsw'"):
        DenseIndex("hnsw")


def test_ivf_save_load_round_trip(tmp_path):
    emb, q = clustered(1000), clustered(10, seed=2)
    index = DenseIndex("ivf", nlist=8, nprobe=3).build(emb)
    before = index.search(q, k=5)
    loaded = DenseIndex.load(index.save(tmp_path / "dense.faiss"))
    assert (loaded.kind, loaded.nlist, loaded.nprobe) == ("ivf", 8, 3)
    after = loaded.search(q, k=5)
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])
    assert DenseIndex.load(tmp_path / "dense.faiss", nprobe=8).index.nprobe == 8
