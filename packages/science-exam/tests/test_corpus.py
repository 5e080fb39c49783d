"""Chunking: sentences are never cut (decimals and abbreviations included), paragraphs split on blank lines,
sentence windows overlap by exactly ``overlap`` sentences, and gold evidence survives both modes."""

import pandas as pd
import pytest

from science_exam.corpus import chunk, split_paragraphs, split_sentences
from science_exam.data import load_competition


def articles(*texts, titles=None):
    return pd.DataFrame({"title": titles or [f"T{i}" for i in range(len(texts))], "text": list(texts)})


def test_sentences_keep_decimals_abbreviations_and_initials_whole():
    text = ('Dr. A. Kovacs found it near St. Aldric in 1843. It weighs approx. 1.5 g, i.e. very little! '
            'Is it rare? "Yes." Crystals, ef.g. needles, reach 2.5 cm. 3 samples exist.')  # fmt: skip
    assert split_sentences(text) == [
        "Dr. A. Kovacs found it near St. Aldric in 1843.",
        "It weighs approx. 1.5 g, i.e. very little!",
        "Is it rare?",
        '"Yes."',
        "Crystals, ef.g. needles, reach 2.5 cm.",
        "3 samples exist.",
    ]


def test_sentence_needs_a_capital_or_digit_after_the_stop():
    # "approx. three" and a lower-case continuation do not end a sentence; text without a stop is one sentence
    assert split_sentences("It is 5 cm. long and approx. three wide. Next one") == [
        "It is 5 cm. long and approx. three wide.",
        "Next one",
    ]
    assert split_sentences("  ") == []


def test_paragraphs_split_on_blank_lines_only():
    text = "One. Two.\nStill two.\n\n  \nThree.\r\n\r\nFour.\n\n"
    assert split_paragraphs(text) == ["One. Two.\nStill two.", "Three.", "Four."]


def test_paragraph_chunks_number_passages_and_keep_the_article_row():
    passages = chunk(articles("A one. A two.\n\nA three.", "B one."))
    assert passages.to_dict("list") == {
        "passage_id": [0, 1, 2],
        "title": ["T0", "T0", "T1"],
        "text": ["A one. A two.", "A three.", "B one."],
        "article": [0, 0, 1],
    }


def test_sentence_windows_overlap_and_cross_paragraphs():
    text = "S1 ab. S2 bc.\n\nS3 cd. S4 de. S5 ef.\n\nS6 fg."
    passages = chunk(articles(text), mode="sentences", window=3, overlap=1)
    assert passages["text"].tolist() == ["S1 ab. S2 bc. S3 cd.", "S3 cd. S4 de. S5 ef.", "S5 ef. S6 fg."]
    no_overlap = chunk(articles(text), mode="sentences", window=2, overlap=0)
    assert no_overlap["text"].tolist() == ["S1 ab. S2 bc.", "S3 cd. S4 de.", "S5 ef. S6 fg."]
    # the last window reaches the end without repeating a window that lies inside the one before
    assert chunk(articles("S1 ab. S2 bc. S3 cd. S4 de."), mode="sentences", window=3, overlap=2)[
        "text"
    ].tolist() == [
        "S1 ab. S2 bc. S3 cd.",
        "S2 bc. S3 cd. S4 de.",
    ]


def test_short_article_gives_one_window_and_ids_run_on():
    passages = chunk(
        articles("Only one.", "X1 ab. X2 bc. X3 cd. X4 de."), mode="sentences", window=3, overlap=1
    )
    assert passages["text"].tolist() == ["Only one.", "X1 ab. X2 bc. X3 cd.", "X3 cd. X4 de."]
    assert passages["passage_id"].tolist() == [0, 1, 2]
    assert passages["article"].tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "words"}, "mode='words'"),
        ({"mode": "sentences", "window": 2, "overlap": 2}, "overlap=2"),
        ({"mode": "sentences", "window": 0, "overlap": 0}, "window=0"),
    ],
)
def test_bad_chunk_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        chunk(articles("A."), **kwargs)


def test_gold_evidence_is_a_whole_sentence_and_survives_both_modes(sample_dir):
    data = load_competition(sample_dir)
    sentences = {
        s for text in data.articles["text"] for p in split_paragraphs(text) for s in split_sentences(p)
    }
    evidence = set(data.gold["evidence"])
    assert evidence <= sentences  # the splitter recovers every evidence sentence exactly
    paragraphs = chunk(data.articles)["text"].tolist()
    windows = chunk(data.articles, mode="sentences", window=3, overlap=1)["text"].tolist()
    for sentence in evidence:
        assert sum(sentence in p for p in paragraphs) == 1
        assert 1 <= sum(sentence in w for w in windows) <= 2
