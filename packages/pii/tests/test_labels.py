"""Label set, ids and BIO conversions against hand-written cases."""

import numpy as np
import pytest

from pii.labels import (
    ENTITY_TYPES,
    ID2LABEL,
    IGNORE_ID,
    LABEL2ID,
    LABELS,
    PLAIN2ID,
    PLAIN_LABELS,
    Span,
    bio_to_spans,
    plain_probs,
    plain_to_bio,
    spans_to_bio,
    to_plain,
)


def test_thirteen_labels_o_first_and_ids_round_trip():
    assert len(ENTITY_TYPES) == 7 and len(LABELS) == 13 and LABELS[0] == "O"
    assert {label[2:] for label in LABELS[1:]} == set(ENTITY_TYPES)
    assert "I-EMAIL" not in LABELS and "I-USERNAME" not in LABELS and "I-STREET_ADDRESS" in LABELS
    assert all(ID2LABEL[LABEL2ID[label]] == label for label in LABELS)
    assert ("O", *ENTITY_TYPES) == PLAIN_LABELS and PLAIN2ID["O"] == 0


def test_bio_to_spans_hand_cases():
    labels = ["B-NAME_STUDENT", "I-NAME_STUDENT", "O", "I-PHONE_NUM", "B-URL_PERSONAL", "B-URL_PERSONAL",
              "I-URL_PERSONAL", "I-ID_NUM", "B-STREET_ADDRESS", "I-STREET_ADDRESS", "I-STREET_ADDRESS"]  # fmt: skip
    assert bio_to_spans(labels) == [
        Span("NAME_STUDENT", 0, 2),
        Span("PHONE_NUM", 3, 4),  # a stray I- still makes an entity
        Span("URL_PERSONAL", 4, 5),  # B after B: two entities
        Span("URL_PERSONAL", 5, 7),
        Span("ID_NUM", 7, 8),  # I- of another type starts a new entity
        Span("STREET_ADDRESS", 8, 11),  # runs to the end
    ]
    assert bio_to_spans([LABEL2ID[x] for x in labels]) == bio_to_spans(labels)
    assert bio_to_spans(["O", "O"]) == [] and bio_to_spans([]) == []


def test_spans_to_bio_inverts_bio_to_spans():
    rng = np.random.default_rng(0)
    for _ in range(50):
        labels = [LABELS[i] for i in rng.integers(0, 13, size=20)]
        spans = bio_to_spans(labels)
        rebuilt = spans_to_bio(spans, 20)
        assert bio_to_spans(rebuilt) == spans
        # rebuilt labels differ from the input only where a stray I- became B-
        assert all(a == b or (a[0] == "I" and b == "B" + a[1:]) for a, b in zip(labels, rebuilt, strict=True))
    with pytest.raises(ValueError, match="EMAIL span covers one token"):
        spans_to_bio([Span("EMAIL", 1, 3)], 4)


def test_prefix_free_mapping_and_rebuild():
    ids = np.array(
        [LABEL2ID[x] for x in ["O", "B-EMAIL", "B-PHONE_NUM", "I-PHONE_NUM", "I-STREET_ADDRESS"]]
        + [IGNORE_ID]
    )
    assert to_plain(ids).tolist() == [0, PLAIN2ID["EMAIL"], PLAIN2ID["PHONE_NUM"], PLAIN2ID["PHONE_NUM"],
                                      PLAIN2ID["STREET_ADDRESS"], IGNORE_ID]  # fmt: skip
    plain = np.array([0, 1, 1, 0, 2, 2, 6, 6, 6, 1, 3])
    expected = ["O", "B-NAME_STUDENT", "I-NAME_STUDENT", "O", "B-EMAIL", "B-EMAIL", "B-URL_PERSONAL",
                "I-URL_PERSONAL", "I-URL_PERSONAL", "B-NAME_STUDENT", "B-USERNAME"]  # fmt: skip
    assert [ID2LABEL[i] for i in plain_to_bio(plain)] == expected
    assert plain_to_bio(to_plain([LABEL2ID[x] for x in expected])).tolist() == [LABEL2ID[x] for x in expected]


def test_plain_probs_adds_b_and_i():
    probs = np.zeros((2, 13))
    probs[0, [0, LABEL2ID["B-PHONE_NUM"], LABEL2ID["I-PHONE_NUM"]]] = [0.5, 0.2, 0.3]
    probs[1, [LABEL2ID["I-NAME_STUDENT"], LABEL2ID["B-ID_NUM"]]] = [0.6, 0.4]
    out = plain_probs(probs)
    assert out.shape == (2, 8)
    np.testing.assert_allclose(out[0], [0.5, 0, 0, 0, 0, 0.5, 0, 0])
    np.testing.assert_allclose(out[1], [0, 0.6, 0, 0, 0.4, 0, 0, 0])
    assert plain_probs(probs[None]).shape == (1, 2, 8)
