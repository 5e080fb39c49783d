"""Per-document counts give exactly the competition metric, pooled or weighted, from one F-beta formula."""

import numpy as np
import pytest

from pii.data import Document, label_frame
from pii.labels import LABEL2ID, LABELS
from pii.scores import document_counts, fbeta, fold_f5, micro_f5
from pii.submission import submission_rows
from pii.synth import generate
from shared.metrics import pii_fbeta


def doc(document: int, labels: list[str]) -> Document:
    tokens = [f"w{i}" for i in range(len(labels))]
    return Document(document, " ".join(tokens), tokens, [True] * len(tokens), labels)


def ids(labels: list[str]) -> np.ndarray:
    return np.array([LABEL2ID[label] for label in labels])


def test_fbeta_against_hand_computed_values():
    precision, recall, score = fbeta(tp=3, fp=1, fn=2)
    assert (precision, recall) == (0.75, 0.6)
    assert score == pytest.approx(78 / (78 + 50 + 1))  # 0.60465...
    assert fbeta(0, 0, 4) == (0.0, 0.0, 0.0)
    _, _, scores = fbeta(np.array([3, 0]), np.array([1, 2]), np.array([2, 0]))
    assert scores.tolist() == pytest.approx([78 / 129, 0.0])


def test_counts_of_a_wrong_entity_are_one_fp_and_one_fn():
    docs = [
        doc(1, ["B-NAME_STUDENT", "I-NAME_STUDENT", "O", "B-EMAIL"]),
        doc(2, ["O", "B-NAME_STUDENT", "O"]),
    ]
    preds = [ids(["B-NAME_STUDENT", "B-NAME_STUDENT", "B-URL_PERSONAL", "O"]), ids(["O", "O", "O"])]
    # doc 1: token 0 hit; token 1 wrong prefix (FP + FN); token 2 FP; token 3 missed. doc 2: one miss.
    assert document_counts(docs, preds).tolist() == [[1, 2, 2], [0, 0, 1]]
    with pytest.raises(ValueError, match="document 3 has no labels"):
        document_counts([Document(3, "a", ["a"], [False])], [np.array([0])])


def test_pooled_counts_equal_the_competition_metric_on_real_looking_essays():
    docs = [essay.document for essay in generate(30, seed=11)]
    rng = np.random.default_rng(0)
    preds = []
    for d in docs:  # the truth with a tenth of the tokens relabelled at random
        p = ids(d.labels)
        flip = rng.random(len(p)) < 0.1
        p[flip] = rng.integers(0, len(LABELS), flip.sum())
        preds.append(p)
    counts = document_counts(docs, preds)
    expected = pii_fbeta(label_frame(docs), submission_rows(docs, preds)[["document", "token", "label"]])
    assert 0.05 < expected < 0.95
    assert micro_f5(counts) == pytest.approx(expected, abs=1e-12)
    fold = np.arange(len(docs)) % 3
    for k, score in enumerate(fold_f5(counts, fold)):
        rows = np.flatnonzero(fold == k)
        truth, pred = [docs[i] for i in rows], [preds[i] for i in rows]
        assert score == pytest.approx(pii_fbeta(label_frame(truth), submission_rows(truth, pred)), abs=1e-12)


def test_weights_count_a_document_as_often_as_it_was_drawn():
    counts = np.array([[1, 2, 2], [0, 0, 1], [4, 0, 0]])
    # document 0 twice, document 1 never, document 2 once: TP 6, FP 4, FN 4
    assert micro_f5(counts, np.array([2, 0, 1])) == pytest.approx(fbeta(6, 4, 4)[2])
    assert micro_f5(counts, np.ones(3)) == micro_f5(counts) == pytest.approx(fbeta(5, 2, 3)[2])
