"""The hand-made features on hand-made summaries: values computed by hand, textstat's own readability."""

import numpy as np
import pandas as pd
import pytest

# textstat through commonlit.features: commonlit's quiet_imports silences its pkg_resources warning first
from commonlit.features import COPY_MIN, FEATURES, READABILITY, extract, textstat, tokenize

PROMPT = (
    "The old lighthouse keeper, Mr. Okonkwo, climbed the stairs every night to light the lamp for the ships."
)
QUESTION = "Why did the keeper climb the stairs?"


def frame(texts, prompt=PROMPT, question=QUESTION, prompt_id="p1", index=None) -> pd.DataFrame:
    return pd.DataFrame(
        {"text": texts, "prompt_id": prompt_id, "prompt_text": prompt, "prompt_question": question},
        index=index,
    )


def test_tokenize_lowercases_and_keeps_inner_apostrophes():
    assert tokenize("Mr. Okonkwo’s keeper didn't-stop, 3 times!") == [
        "mr", "okonkwo's", "keeper", "didn't", "stop", "3", "times",
    ]  # fmt: skip


def test_copied_span_ratio_and_overlap_by_hand():
    # he climbed the stairs every night to help the ships: 10 words, 9 distinct ("the" twice)
    row = extract(frame(["He climbed the stairs every night to help the ships."])).iloc[0]
    assert row["n_words"] == 10
    assert row["longest_copied_span"] == 6  # climbed the stairs every night to
    assert COPY_MIN == 4
    assert row["copied_ratio"] == pytest.approx(6 / 10)  # those 6 words; "the ships" is only 2
    # unigrams in the prompt: climbed the stairs every night to ships (7 of 9)
    assert (row["prompt_count_1"], row["prompt_share_1"]) == (7, pytest.approx(7 / 9))
    # bigrams in the prompt: climbed-the the-stairs stairs-every every-night night-to the-ships (6 of 9)
    assert (row["prompt_count_2"], row["prompt_share_2"]) == (6, pytest.approx(6 / 9))
    # trigrams: climbed-the-stairs the-stairs-every stairs-every-night every-night-to (4 of 8)
    assert (row["prompt_count_3"], row["prompt_share_3"]) == (4, pytest.approx(4 / 8))
    assert row["question_share_1"] == pytest.approx(2 / 9)  # the, stairs
    assert row["question_share_2"] == pytest.approx(1 / 9)  # the stairs
    assert row["unique_ratio"] == pytest.approx(9 / 10)
    assert row["mean_word_len"] == pytest.approx((2 + 7 + 3 + 6 + 5 + 5 + 2 + 4 + 3 + 5) / 10)
    assert row["spelling_errors"] == 0


def test_copied_windows_stitched_from_two_places_are_not_one_span():
    prompt = "One two three four five. Seven three four five six eight."
    row = extract(frame(["one two three four five six"], prompt=prompt)).iloc[0]
    assert row["longest_copied_span"] == 5  # one..five; three..six is another place in the prompt
    assert row["copied_ratio"] == 1.0  # every word lies in a verbatim 4-word window


def test_spans_never_cross_rows_or_documents():
    rows = extract(frame(["xyz abc climbed the", "stairs every night", "the ships"]))
    assert rows["longest_copied_span"].tolist() == [2, 3, 2]
    assert rows["copied_ratio"].tolist() == [0, 0, 0]


def test_spelling_errors_know_this_prompts_proper_nouns():
    from spellchecker import SpellChecker

    assert SpellChecker().unknown(["okonkwo", "kepper"]) == {"okonkwo", "kepper"}
    text = "Okonkwo was a kepper who lit the lamp."  # 8 words
    mixed = pd.concat([frame([text]), frame([text], prompt="A storm hit the coast.", prompt_id="p2")])
    rows = extract(mixed.reset_index(drop=True))
    assert rows["spelling_errors"].tolist() == [1, 2]  # kepper; kepper and okonkwo for the other prompt
    assert rows["spelling_error_ratio"].tolist() == [pytest.approx(1 / 8), pytest.approx(2 / 8)]


def test_empty_and_wordless_summaries_give_zeros():
    rows = extract(frame(["", "  ... !! ", "Stairs."]))
    assert rows.shape == (3, len(FEATURES)) and list(rows.columns) == list(FEATURES)
    assert (rows.iloc[:2] == 0).all().all()
    assert np.isfinite(rows.to_numpy()).all() and rows.iloc[2]["n_words"] == 1


TEXTS = [
    "The keeper climbed the stairs. He lit the lamp! Ships saw it. Yes. Did they know why the light was so "
    "important to sailors, merchants and fishermen alike?",
    "Okonkwo's dedication, unwavering and extraordinary, demonstrated responsibility; the community "
    "appreciated it... Nevertheless, isolation characterized his existence",
    "hi",
]


@pytest.mark.parametrize("text", TEXTS)
def test_readability_equals_textstat(text):
    row = extract(frame([text])).iloc[0]
    assert row["n_sentences"] == textstat.sentence_count(text)
    for name in READABILITY:
        assert row[name] == getattr(textstat, name)(text), name


def test_rows_keep_index_and_order_with_interleaved_prompts():
    prompts = {"p1": PROMPT, "p2": "A storm hit the coast and the ships stayed in the harbour."}
    texts = ["He climbed the stairs every night.", "The ships stayed in the harbour.", "Storm.",
             "The lamp for the ships.", ""]  # fmt: skip
    ids = ["p1", "p2", "p2", "p1", "p2"]
    data = pd.DataFrame({"text": texts, "prompt_id": ids, "prompt_text": [prompts[i] for i in ids],
                         "prompt_question": QUESTION}, index=[40, 7, 12, 3, 99])  # fmt: skip
    rows = extract(data)
    assert list(rows.index) == [40, 7, 12, 3, 99]
    assert (rows.dtypes == np.float64).all()
    for label in data.index:
        alone = extract(data.loc[[label]])
        pd.testing.assert_frame_equal(rows.loc[[label]], alone)
    assert rows.loc[7, "longest_copied_span"] == 6  # the ships stayed in the harbour, from p2's text


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="'prompt_question'"):
        extract(frame(["x"]).drop(columns="prompt_question"))
