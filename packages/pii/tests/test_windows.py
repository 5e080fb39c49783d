"""Sub-word <-> spaCy token alignment on tricky hand-made essays, windows, and the way back to tokens.

Two real tokenizer families: all-MiniLM-L6-v2 (WordPiece, lower-cases and strips accents, drops
zero-width characters) and a tiny DeBERTa-v2 (SentencePiece-style pieces whose offsets include the
preceding space, trained on a small unrelated corpus so that essay words split into many pieces).
"""

from itertools import pairwise

import numpy as np
import pytest
from transformers import AutoTokenizer

from pii.data import Document
from pii.labels import IGNORE_ID, LABEL2ID, O_ID
from pii.synth import generate
from pii.windows import aggregate, align, build_windows, make_windows, special_tokens
from shared.tiny import minilm_path, tiny_encoder

CORPUS = [
    "the design of the project was simple and the team liked it",
    "students wrote a reflection about their work in the course",
    "we used a map to see the problem and talk to people",
] * 4


def document(doc_id, pieces, labels=None):
    """A document from (token, trailing space) pairs, its full_text built the way the data's is."""
    tokens = [t for t, _ in pieces]
    spaces = [s for _, s in pieces]
    text = "".join(t + " " * s for t, s in pieces)
    labels = labels or ["O"] * len(tokens)
    return Document(doc_id, text, tokens, spaces, labels)


# fmt: off
TRICKY = [
    document(0, [("Contact", True), ("jane.doe@gmail.com", True), ("or", True), ("visit", True),
                 ("https://en.wikipedia.org/wiki/Design_thinking", False), (".", False)],
             ["O", "B-EMAIL", "O", "O", "O", "O"]),
    document(1, [("Nathalie", True), ("Sylla", False), ("\n\n", False), ("Challenge", False), ("\n", False),
                 ("Zoë", True), ("Müller", True), ("😀", True), ("café", False)],
             ["B-NAME_STUDENT", "I-NAME_STUDENT", "O", "O", "O", "B-NAME_STUDENT", "I-NAME_STUDENT", "O", "O"]),
    document(2, [("I", True), ("can", False), ("not", True), ("go", True), (" ", False), ("Pneumonoultramicroscopic", True),
                 ("Hi", True), ("\u200b", True), ("there", False)]),
    document(3, []),
]
# fmt: on


@pytest.fixture(scope="module")
def minilm():
    return AutoTokenizer.from_pretrained(minilm_path())


@pytest.fixture(scope="module")
def deberta():
    return AutoTokenizer.from_pretrained(tiny_encoder(CORPUS, arch="deberta-v2", vocab_size=200))


def token_spans(doc):
    starts = np.cumsum([0] + [len(t) + s for t, s in zip(doc.tokens, doc.trailing_whitespace, strict=True)])
    return [(int(s), int(s) + len(t)) for s, t in zip(starts, doc.tokens, strict=False)]


def doc_slice(alignment, d):
    return slice(alignment.subword_starts[d], alignment.subword_starts[d + 1])


@pytest.mark.parametrize("which", ["minilm", "deberta"])
def test_every_subword_in_exactly_one_token_or_none(request, which):
    tokenizer = request.getfixturevalue(which)
    a = align(tokenizer, TRICKY)
    for d, doc in enumerate(TRICKY):
        spans = token_spans(doc)
        for (start, end), token in zip(a.offsets[doc_slice(a, d)], a.token[doc_slice(a, d)], strict=True):
            piece = doc.full_text[start:end]
            if token < 0:
                assert piece.strip() == "", piece  # only pieces over whitespace have no token
                continue
            first = start + len(piece) - len(piece.lstrip())  # the piece's first non-space character
            assert spans[token][0] <= first < spans[token][1]
            assert not doc.tokens[token].isspace()


def test_minilm_alignment_hand_checked(minilm):
    a = align(minilm, TRICKY)

    def pieces_of(d, token):
        rows = np.flatnonzero(a.token[doc_slice(a, d)] == token)
        return [minilm.convert_ids_to_tokens(int(i)) for i in a.input_ids[doc_slice(a, d)][rows]]

    assert pieces_of(0, 1) == ["jane", ".", "doe", "@", "gma", "##il", ".", "com"]
    assert "".join(pieces_of(0, 4)).replace("##", "") == "https://en.wikipedia.org/wiki/design_thinking"
    assert pieces_of(1, 5) == ["zoe"] and pieces_of(1, 7) == ["[UNK]"]  # accents stripped, emoji unknown
    assert pieces_of(1, 2) == [] and pieces_of(1, 4) == []  # "\n\n" and "\n" get no sub-word
    many = pieces_of(2, 5)
    assert len(many) >= 4 and "".join(many).replace("##", "") == "pneumonoultramicroscopic"
    # "cannot" is one WordPiece: "not" has none of its own but is covered by the piece of "can"
    assert pieces_of(2, 1) == ["cannot"] and pieces_of(2, 2) == []
    start = a.subword_starts[2]
    assert a.token[start + a.cover[a.token_starts[2] + 2]] == 1
    # the zero-width space is dropped by the tokenizer: no sub-word and nothing covers it
    assert pieces_of(2, 7) == [] and a.cover[a.token_starts[2] + 7] == -1
    assert a.blank[a.token_starts[2] + 4] and a.blank[a.token_starts[1] + 2]
    assert a.subword_starts[4] == a.subword_starts[3]  # the empty document has no sub-words


def test_deberta_pieces_carry_the_space_before_them(deberta):
    a = align(deberta, TRICKY)
    doc = TRICKY[2]
    offsets, tokens = a.offsets[doc_slice(a, 2)], a.token[doc_slice(a, 2)]
    pieces = deberta.convert_ids_to_tokens(a.input_ids[doc_slice(a, 2)].tolist())
    texts = [doc.full_text[s:e] for s, e in offsets]
    there = texts.index(" the")  # "▁the" of "there": its span starts on the space before the word
    assert pieces[there] == "▁the" and doc.tokens[tokens[there]] == "there"
    assert all(t == -1 for p, t, x in zip(pieces, tokens, texts, strict=True) if p == "▁" and x.isspace())
    assert np.bincount(tokens[tokens >= 0]).max() >= 10  # "Pneumonoultramicroscopic" in many pieces


def position_free_probs(win, table):
    """A fake model: each position's output depends only on its sub-word id (specials included)."""
    return table[win.input_ids]


@pytest.mark.parametrize("which", ["minilm", "deberta"])
@pytest.mark.parametrize(("max_length", "stride"), [(8, 2), (12, 5), (33, 0)])
def test_windowed_equals_unwindowed_and_hand_mean(request, which, max_length, stride):
    tokenizer = request.getfixturevalue(which)
    docs = TRICKY + [e.document for e in generate(3, seed=5)]
    a = align(tokenizer, docs)
    table = np.random.default_rng(0).dirichlet(np.ones(13), size=len(tokenizer)).astype(np.float32)
    whole = make_windows(a, tokenizer, max_length=10_000, stride=0)
    assert len(whole) == len(docs)
    win = make_windows(a, tokenizer, max_length=max_length, stride=stride)
    assert len(win) > 2 * len(docs)
    full = aggregate(position_free_probs(whole, table), whole)
    sliced = aggregate(position_free_probs(win, table), win)
    for x, y in zip(full, sliced, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-6)
    # hand mean: a token's probability is the mean of its sub-words' rows; blank tokens are 'O'
    for d, doc in enumerate(docs):
        ids, owners = a.input_ids[doc_slice(a, d)], a.token[doc_slice(a, d)]
        for t, token in enumerate(doc.tokens):
            own = ids[owners == t]
            if token.isspace() or (token == "\u200b" and which == "minilm"):
                expected = np.eye(13)[O_ID]
            elif len(own):
                expected = table[own].mean(axis=0)
            else:  # borrows the covering sub-word
                expected = table[ids[a.cover[a.token_starts[d] + t]]]
            np.testing.assert_allclose(sliced[d][t], expected, atol=1e-6)


def test_first_pool_and_list_input(minilm):
    docs = TRICKY[:3]
    win = build_windows(minilm, docs, max_length=8, stride=3)
    table = np.random.default_rng(1).random((len(minilm), 13)).astype(np.float32)
    probs = table[win.input_ids]
    first = aggregate(probs, win, pool="first")
    url_pieces = win.alignment.input_ids[win.alignment.token == 4][:1]  # doc 0's first URL piece
    np.testing.assert_allclose(first[0][4], table[url_pieces[0]], rtol=1e-6)
    ragged = [p[: n + 3] for p, n in zip(probs, win.lengths, strict=True)]  # longer than needed is fine
    for x, y in zip(aggregate(ragged, win), aggregate(probs, win), strict=True):
        np.testing.assert_allclose(x, y)
    with pytest.raises(ValueError, match="window 0 needs"):
        aggregate(probs[:, :2], win)


def test_windows_layout_and_labels(minilm):
    docs = [e.document for e in generate(4, seed=2)] + TRICKY
    a = align(minilm, docs)
    prefix, suffix = special_tokens(minilm)
    assert prefix == [minilm.cls_token_id] and suffix == [minilm.sep_token_id]
    max_length, stride = 64, 16
    content = max_length - 2
    win = make_windows(a, minilm, max_length=max_length, stride=stride, label_mode="all")
    first = make_windows(a, minilm, max_length=max_length, stride=stride, label_mode="first")
    for d in range(len(docs)):
        rows = np.flatnonzero(win.doc == d)
        n = a.subword_starts[d + 1] - a.subword_starts[d]
        assert len(rows) == (1 if n <= content else 1 + int(np.ceil((n - content) / (content - stride))))
        covered = np.zeros(n, dtype=int)
        begins = []
        for r in rows:
            length = win.lengths[r]
            subs = win.subword[r, 1 : length - 1] - a.subword_starts[d]
            begins.append(subs[0] if len(subs) else 0)
            assert np.array_equal(subs, np.arange(subs[0], subs[0] + len(subs))) if len(subs) else True
            covered[subs] += 1
            ids = win.input_ids[r]
            assert ids[0] == minilm.cls_token_id and ids[length - 1] == minilm.sep_token_id
            assert np.array_equal(ids[1 : length - 1], a.input_ids[a.subword_starts[d] + subs])
            assert (ids[length:] == minilm.pad_token_id).all() and win.attention_mask[r].sum() == length
            assert win.labels[r, 0] == IGNORE_ID and (win.labels[r, length - 1 :] == IGNORE_ID).all()
        assert (covered >= 1).all()
        if len(rows) > 1:  # consecutive windows overlap by `stride`, the last one ends at the document's end
            assert all(b - a_ == content - stride for a_, b in pairwise(begins[:-1]))
            assert begins[-1] == n - content
    # labels: every sub-word of a token carries its label ("all"), or only the first one does ("first")
    doc_labels = np.array([LABEL2ID[x] for doc in docs for x in doc.labels])
    gt = a.global_token()
    flat = win.subword[win.subword >= 0]
    expected_all = np.where(gt[flat] >= 0, doc_labels[np.maximum(gt[flat], 0)], IGNORE_ID)
    assert np.array_equal(win.labels[win.subword >= 0], expected_all)
    expected_first = np.where(a.first[flat], expected_all, IGNORE_ID)
    assert np.array_equal(first.labels[first.subword >= 0], expected_first)
    email = a.global_token()  # TRICKY[0]'s email: its first piece "jane" gets B-EMAIL, the rest nothing
    email_pieces = np.flatnonzero(email == a.token_starts[4] + 1)
    assert a.first[email_pieces].tolist() == [True] + [False] * (len(email_pieces) - 1)
    assert (doc_labels[a.token_starts[4] + 1]) == LABEL2ID["B-EMAIL"]
    item = win[0]
    assert set(item) == {"input_ids", "attention_mask", "labels"} and len(item["input_ids"]) == win.lengths[0]


def test_bad_arguments(minilm):
    a = align(minilm, TRICKY)
    with pytest.raises(ValueError, match="stride: 10 must be"):
        make_windows(a, minilm, max_length=12, stride=10)
    unlabelled = align(minilm, [Document(0, "Hi", ["Hi"], [False])])
    with pytest.raises(ValueError, match="documents have no labels"):
        make_windows(unlabelled, minilm, label_mode="first")
    slow = AutoTokenizer.from_pretrained(minilm_path(), use_fast=False)
    if not slow.is_fast:
        with pytest.raises(ValueError, match="fast tokenizer"):
            align(slow, TRICKY)
