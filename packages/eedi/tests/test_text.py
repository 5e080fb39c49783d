"""Query and document texts on hand-built rows."""

import numpy as np
import pandas as pd
import pytest

from eedi.text import clean, doc_texts, query_texts


def long_rows():
    return pd.DataFrame(
        {
            "QuestionId_Answer": ["7_B", "7_C"],
            "ConstructName": ["Add fractions with different denominators"] * 2,
            "SubjectName": ["Fractions", np.nan],
            "QuestionText": [
                "Work out \\( \\frac{1}{2}+\\frac{1}{3} \\)\n\n=  ?",
                "Work out \\(\\frac{1}{2}+\\frac{1}{3}\\)",
            ],
            "CorrectAnswerText": ["\\( \\frac{5}{6} \\)", "\\( \\frac{5}{6} \\)"],
            "AnswerText": ["\\( \\frac{2}{5} \\)", "\\[ \\frac{1}{6} \\]"],
            "MisconceptionId": [12, 40],
        },
        index=[10, 11],
    )  # fmt: skip


def test_query_text_of_a_hand_built_row():
    texts = query_texts(long_rows())
    assert texts[0] == (
        "Construct: Add fractions with different denominators\n"
        "Subject: Fractions\n"
        "Question: Work out \\frac{1}{2}+\\frac{1}{3} = ?\n"
        "Correct answer: \\frac{5}{6}\n"
        "Incorrect answer: \\frac{2}{5}"
    )
    assert texts[1].splitlines()[1] == "Subject: "  # a missing subject is an empty field
    assert texts[1].endswith("Incorrect answer: \\frac{1}{6}")


def test_explanations_are_matched_by_question_id_answer_not_by_position():
    why = pd.Series({"7_C": "They multiplied the  denominators\ninstead.", "9_A": "other question"})
    texts = query_texts(long_rows(), explanations=why)
    assert "Why" not in texts[0]  # no explanation for 7_B
    assert texts[1].endswith("Incorrect answer: \\frac{1}{6}\nWhy: They multiplied the denominators instead.")
    with pytest.raises(ValueError, match="duplicates"):
        query_texts(long_rows(), explanations=pd.Series(["a", "b"], index=["7_B", "7_B"]))


def test_doc_texts_and_cleanup():
    mapping = pd.DataFrame(
        {"MisconceptionId": [0, 1], "MisconceptionName": ["Adds  \\(a\\) and b", "Thinks 0.5 > 0.25"]}
    )
    assert doc_texts(mapping) == ["Adds a and b", "Thinks 0.5 > 0.25"]
    assert clean(None) == "" and clean(np.nan) == "" and clean(3) == "3"
    with pytest.raises(ValueError, match="query rows: missing column\\(s\\) AnswerText"):
        query_texts(long_rows().drop(columns="AnswerText"))
