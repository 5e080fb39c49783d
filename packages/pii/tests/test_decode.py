"""Decoding: thresholds on hand-made probabilities, BIO rebuilt from prefix-free classes, tuning whose
best thresholds and scores are computed by hand, and probability averaging."""

import numpy as np
import pytest

from pii.data import Document
from pii.decode import (
    argmax_decode,
    average_probs,
    decode_documents,
    plain_to_bio,
    plot_thresholds,
    threshold_decode,
    tune_thresholds,
)
from pii.labels import LABEL2ID, LABELS, PLAIN2ID, PLAIN_LABELS
from pii.submission import submission_rows
from shared.metrics import pii_fbeta


def document(doc_id: int, tokens: list[str], labels: list[str] | None = None) -> Document:
    return Document(doc_id, "".join(tokens), tokens, [False] * len(tokens), labels)


def rows(*tokens: tuple[float, str], plain: bool = False) -> np.ndarray:
    """One probability row per token: P(O) and the rest of the mass on one label (or class)."""
    index, width = (PLAIN2ID, len(PLAIN_LABELS)) if plain else (LABEL2ID, len(LABELS))
    out = np.zeros((len(tokens), width))
    for i, (p_o, label) in enumerate(tokens):
        out[i, 0] = p_o
        out[i, index[label]] += 1 - p_o
    return out


def names(ids) -> list[str]:
    return [LABELS[i] for i in ids]


def test_argmax_and_threshold_decode():
    probs = rows((0.95, "B-EMAIL"), (0.3, "I-NAME_STUDENT"), (0.999, "B-NAME_STUDENT"))
    assert names(argmax_decode(probs)) == ["O", "I-NAME_STUDENT", "O"]
    assert names(threshold_decode(probs, 0.99)) == ["B-EMAIL", "I-NAME_STUDENT", "O"]
    assert names(threshold_decode(probs, 0.9)) == ["O", "I-NAME_STUDENT", "O"]
    # The rule is "P(O) < threshold", not argmax: a threshold below P(O) drops even the argmax entity.
    assert names(threshold_decode(probs, 0.2)) == ["O", "O", "O"]


def test_threshold_decode_picks_the_best_non_o_label():
    probs = np.zeros((1, len(LABELS)))
    probs[0, [0, LABEL2ID["B-USERNAME"], LABEL2ID["I-ID_NUM"]]] = [0.9, 0.04, 0.06]
    assert names(threshold_decode(probs, 0.95)) == ["I-ID_NUM"]


def test_per_label_thresholds_override_the_global_one():
    probs = rows((0.95, "B-EMAIL"), (0.95, "B-NAME_STUDENT"), (0.5, "B-URL_PERSONAL"))
    assert names(threshold_decode(probs, 0.9)) == ["O", "O", "B-URL_PERSONAL"]
    per_label = {"EMAIL": 0.99, "URL_PERSONAL": 0.4}
    assert names(threshold_decode(probs, 0.9, per_label)) == ["B-EMAIL", "O", "O"]
    plain = rows((0.95, "EMAIL"), (0.95, "NAME_STUDENT"), plain=True)
    assert threshold_decode(plain, 0.9, {"EMAIL": 0.99}).tolist() == [PLAIN2ID["EMAIL"], 0]
    with pytest.raises(ValueError, match="'NAME' is not one of"):
        threshold_decode(probs, 0.9, {"NAME": 0.5})
    with pytest.raises(ValueError, match=r"expected shape \(n_tokens, 13 BIO or 8"):
        threshold_decode(np.zeros((2, 15)), 0.9)


TOKENS = [
    "Lives",
    " ",
    "12",
    "Elm",
    "St",
    "\n",
    "Boston",
    "MA",
    "\n",
    "John",
    "\n",
    "Mary",
    "Smith",
    "\n\n",
    "Bye",
]
ADDRESS, NAME = "STREET_ADDRESS", "NAME_STUDENT"
PLAIN = ["O", "O", ADDRESS, ADDRESS, ADDRESS, "O", ADDRESS, ADDRESS, "O", NAME, "O", NAME, NAME, "O", "O"]
BIO = ["O", "O", "B-STREET_ADDRESS", "I-STREET_ADDRESS", "I-STREET_ADDRESS", "I-STREET_ADDRESS",
       "I-STREET_ADDRESS", "I-STREET_ADDRESS", "O", "B-NAME_STUDENT", "O", "B-NAME_STUDENT",
       "I-NAME_STUDENT", "O", "O"]  # fmt: skip


def test_plain_to_bio_joins_addresses_across_line_breaks_but_not_names():
    plain = np.array([PLAIN2ID[label] for label in PLAIN])
    assert names(plain_to_bio(plain, TOKENS)) == BIO
    # Without joining, the second address line is a new entity.
    split = names(plain_to_bio(plain, TOKENS, join=()))
    assert split[5:7] == ["O", "B-STREET_ADDRESS"]
    with pytest.raises(ValueError, match="shape"):
        plain_to_bio(plain[:-1], TOKENS)


def test_decode_documents_rebuilds_bio_from_prefix_free_probabilities():
    doc = document(3, TOKENS)
    plain_probs = rows(*[(0.9, "EMAIL") if label == "O" else (0.6, label) for label in PLAIN], plain=True)
    assert names(decode_documents([plain_probs], [doc], 0.8)[0]) == BIO
    bio_probs = rows(*[(0.9, "B-EMAIL") if label == "O" else (0.6, label) for label in BIO])
    assert names(decode_documents([bio_probs], [doc], 0.8)[0]) == BIO
    with pytest.raises(ValueError, match="document 3 has shape \\(14, 13\\) for 15 tokens"):
        decode_documents([bio_probs[:-1]], [doc], 0.8)


def test_tuning_finds_the_hand_computed_global_and_per_label_thresholds(tmp_path):
    # (P(O), best label) and truth per token:
    #   a 0.80 NAME  true | b 0.97 NAME  true | c 0.60 EMAIL true | d 0.95 EMAIL false alarm
    docs = [
        document(0, ["a", "x", "c"], ["B-NAME_STUDENT", "O", "B-EMAIL"]),
        document(1, ["b", "d"], ["B-NAME_STUDENT", "O"]),
    ]
    probs = [
        rows((0.8, "B-NAME_STUDENT"), (0.999, "B-USERNAME"), (0.6, "B-EMAIL")),
        rows((0.97, "B-NAME_STUDENT"), (0.95, "B-EMAIL")),
    ]
    result = tune_thresholds(probs, docs, grid=[0.99, 0.5, 0.9], max_passes=5)
    # t=0.5: nothing predicted -> 0; t=0.9: a, c (TP 2, FN 1) -> 52/77;
    # t=0.99: a, b, c, d (TP 3, FP 1) -> 78/79.
    assert result.curve["threshold"].tolist() == [0.5, 0.9, 0.99]
    assert result.curve["score"].tolist() == pytest.approx([0.0, 52 / 77, 78 / 79])
    assert result.threshold == 0.99 and result.global_score == pytest.approx(78 / 79)
    # EMAIL at 0.9 keeps c and drops d: all three right, F5 = 1.
    assert result.per_label["EMAIL"] == 0.9 and result.score == pytest.approx(1.0)
    assert {k: v for k, v in result.per_label.items() if k != "EMAIL"} == dict.fromkeys(
        ["NAME_STUDENT", "USERNAME", "ID_NUM", "PHONE_NUM", "URL_PERSONAL", "STREET_ADDRESS"], 0.99
    )
    # Pass 0 improves, pass 1 does not and stops the ascent: 2 passes of 7 types x 3 thresholds.
    assert result.label_curves["round"].tolist() == [0] * 21 + [1] * 21
    sweep = result.label_curves.query("round == 0 and entity == 'NAME_STUDENT'")
    assert sweep["score"].tolist() == pytest.approx([26 / 77, 52 / 78, 78 / 79])
    decoded = result.decode_documents(probs, docs)
    assert pii_fbeta(submission_rows(docs, [np.array([1, 0, 3]), np.array([1, 0])]),
                     submission_rows(docs, decoded)) == 1.0  # fmt: skip
    png = plot_thresholds(result, tmp_path / "thresholds.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    only_global = tune_thresholds(probs, docs, grid=[0.5, 0.9, 0.99], per_label=False)
    assert only_global.score == only_global.global_score and only_global.label_curves.empty


def test_tuning_prefix_free_probabilities_scores_rebuilt_bio_per_document():
    # Document 1 starts with a name right after document 0 ends with one: it must be B-, not I-.
    docs = [
        document(0, ["Hi", "John", "Smith"], ["O", "B-NAME_STUDENT", "I-NAME_STUDENT"]),
        document(1, ["Mary", "wrote"], ["B-NAME_STUDENT", "O"]),
    ]
    probs = [
        rows((0.99, "EMAIL"), (0.7, "NAME_STUDENT"), (0.7, "NAME_STUDENT"), plain=True),
        rows((0.7, "NAME_STUDENT"), (0.995, "EMAIL"), plain=True),
    ]
    result = tune_thresholds(probs, docs, grid=[0.5, 0.9, 0.999])
    # t=0.5: nothing; t=0.9: the three name tokens, all right; t=0.999: plus two false alarms -> 78/80.
    assert result.curve["score"].tolist() == pytest.approx([0.0, 1.0, 78 / 80])
    assert result.threshold == 0.9
    assert [names(ids) for ids in result.decode_documents(probs, docs)] == [doc.labels for doc in docs]


def test_tuning_checks_its_inputs():
    docs = [document(5, ["a", "b"], ["O", "O"])]
    with pytest.raises(ValueError, match="document 5 has shape \\(3, 13\\) for 2 tokens"):
        tune_thresholds([np.zeros((3, len(LABELS)))], docs)
    with pytest.raises(ValueError, match="thresholds in \\[0, 1\\]"):
        tune_thresholds([np.zeros((2, len(LABELS)))], docs, grid=[0.5, 1.5])
    with pytest.raises(ValueError, match="document 5 has no labels"):
        tune_thresholds([np.zeros((2, len(LABELS)))], [document(5, ["a", "b"])])


def test_average_probs_weights_and_shape_checks():
    a = [np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.5, 0.5]])]
    b = [np.array([[0.0, 1.0], [0.0, 1.0]]), np.array([[1.0, 0.0]])]
    mean = average_probs([a, b])
    np.testing.assert_allclose(mean[0], [[0.5, 0.5], [0.0, 1.0]])
    np.testing.assert_allclose(mean[1], [[0.75, 0.25]])
    weighted = average_probs([a, b], weights=[1, 3])
    np.testing.assert_allclose(weighted[0], [[0.25, 0.75], [0.0, 1.0]])
    np.testing.assert_allclose(weighted[1], [[0.875, 0.125]])
    assert weighted[0].dtype == np.float32
    with pytest.raises(
        ValueError, match="document 42: models\\[1\\] has shape \\(1, 3\\), models\\[0\\] has \\(1, 2\\)"
    ):
        average_probs([a, [b[0], np.zeros((1, 3))]], doc_ids=[41, 42])
    with pytest.raises(ValueError, match="models\\[1\\]: 1 documents, models\\[0\\] has 2"):
        average_probs([a, b[:1]])
    with pytest.raises(ValueError, match="weights: expected 2 non-negative"):
        average_probs([a, b], weights=[1, -1])
    assert average_probs([[], []]) == []
