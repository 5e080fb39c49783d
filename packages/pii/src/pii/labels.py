"""The competition's 13 BIO labels, their ids, and conversions between tokens' labels and entity spans.

One label order for the whole chapter ('O' first, then B-/I- of each entity type) so that probability
matrices from any model, fold or seed line up column for column. The top solutions also trained on the
7 entity types without the B-/I- prefix and rebuilt BIO by rule afterwards (§10.7): the ``plain``
helpers map between the two label sets.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

ENTITY_TYPES = (
    "NAME_STUDENT",
    "EMAIL",
    "USERNAME",
    "ID_NUM",
    "PHONE_NUM",
    "URL_PERSONAL",
    "STREET_ADDRESS",
)
# spaCy keeps an email or a username in one token, so the data has no I-EMAIL or I-USERNAME: 13 labels.
SINGLE_TOKEN_TYPES = ("EMAIL", "USERNAME")
LABELS = (
    "O",
    *(
        f"{prefix}-{entity}"
        for entity in ENTITY_TYPES
        for prefix in ("B", "I")
        if prefix == "B" or entity not in SINGLE_TOKEN_TYPES
    ),
)
LABEL2ID = {label: i for i, label in enumerate(LABELS)}
ID2LABEL = dict(enumerate(LABELS))
O_ID = LABEL2ID["O"]
IGNORE_ID = -100  # sub-words without a training target, as transformers' losses expect

# Prefix-free classes: 'O' then the entity types, in the same order as LABELS.
PLAIN_LABELS = ("O", *ENTITY_TYPES)
PLAIN2ID = {label: i for i, label in enumerate(PLAIN_LABELS)}
# Lookup tables, so whole arrays convert at once: BIO id -> plain id, and plain id -> B / I id
# (the I id of a single-token type is its B id: adjacent emails are separate entities).
BIO_TO_PLAIN = np.array([PLAIN2ID[label[2:]] if label != "O" else 0 for label in LABELS], dtype=np.int64)
_B_ID = np.array([O_ID, *(LABEL2ID[f"B-{e}"] for e in ENTITY_TYPES)], dtype=np.int64)
_I_ID = np.array([O_ID, *(LABEL2ID.get(f"I-{e}", LABEL2ID[f"B-{e}"]) for e in ENTITY_TYPES)], dtype=np.int64)


class Span(NamedTuple):
    """An entity over tokens ``start`` (inclusive) to ``end`` (exclusive)."""

    entity: str
    start: int
    end: int


def bio_to_spans(labels) -> list[Span]:
    """Entity spans of a BIO label sequence (strings or ids).

    A ``B-`` starts a span; an ``I-`` continues the open span of the same type and otherwise starts one
    (lenient, like conlleval), so a stray ``I-`` is still an entity.

    >>> bio_to_spans(["O", "B-NAME_STUDENT", "I-NAME_STUDENT", "O", "I-EMAIL"])
    [Span(entity='NAME_STUDENT', start=1, end=3), Span(entity='EMAIL', start=4, end=5)]
    """
    spans: list[Span] = []
    entity, start = None, 0
    for i, label in enumerate(labels):
        label = ID2LABEL[int(label)] if not isinstance(label, str) else label
        prefix, kind = (label[0], label[2:]) if label != "O" else ("O", None)
        if entity is not None and (prefix != "I" or kind != entity):
            spans.append(Span(entity, start, i))
            entity = None
        if prefix in ("B", "I") and entity is None:
            entity, start = kind, i
    if entity is not None:
        spans.append(Span(entity, start, len(labels)))
    return spans


def spans_to_bio(spans, n_tokens: int) -> list[str]:
    """BIO labels for ``n_tokens`` tokens with the given spans ('O' elsewhere)."""
    labels = ["O"] * n_tokens
    for entity, start, end in spans:
        if entity in SINGLE_TOKEN_TYPES and end - start > 1:
            raise ValueError(f"spans_to_bio: a {entity} span covers one token, got {start}:{end}")
        labels[start] = f"B-{entity}"
        labels[start + 1 : end] = [f"I-{entity}"] * (end - start - 1)
    return labels


def to_plain(label_ids: np.ndarray) -> np.ndarray:
    """Prefix-free ids of BIO ids; negative ids (``IGNORE_ID``) are kept as they are."""
    label_ids = np.asarray(label_ids)
    return np.where(label_ids >= 0, BIO_TO_PLAIN[np.maximum(label_ids, 0)], label_ids)


def plain_to_bio(plain_ids: np.ndarray) -> np.ndarray:
    """BIO ids rebuilt by rule from prefix-free ids of consecutive tokens: the first token of a run of
    one entity type is ``B-``, the rest ``I-`` (two adjacent entities of one type merge into one, except
    for the single-token types, where every token is its own ``B-``)."""
    plain_ids = np.asarray(plain_ids, dtype=np.int64)
    previous = np.concatenate(([0], plain_ids[:-1]))
    return np.where(plain_ids == previous, _I_ID[plain_ids], _B_ID[plain_ids])


def plain_probs(probs: np.ndarray) -> np.ndarray:
    """Probabilities over the prefix-free classes: P(X) = P(B-X) + P(I-X); works on any leading shape."""
    probs = np.asarray(probs)
    return probs @ np.eye(len(PLAIN_LABELS), dtype=probs.dtype)[BIO_TO_PLAIN]
