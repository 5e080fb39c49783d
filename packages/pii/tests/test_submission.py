"""Submission rows in Kaggle's layout, their validation, and their F5 on a hand-computed case."""

import numpy as np
import pandas as pd
import pytest

from pii.data import DataError, Document
from pii.labels import LABEL2ID
from pii.submission import submission_rows, validate_submission, write_submission
from shared.metrics import pii_fbeta


def document(doc_id: int, tokens: list[str], labels: list[str] | None = None) -> Document:
    return Document(doc_id, " ".join(tokens) + " ", tokens, [True] * len(tokens), labels)


def ids(*labels: str) -> np.ndarray:
    return np.array([LABEL2ID[label] for label in labels])


DOCS = [document(7, ["Hi", "Ann", "Lee"]), document(2, ["ann@x.org", "bye"])]
PREDS = [ids("O", "B-NAME_STUDENT", "I-NAME_STUDENT"), ids("B-EMAIL", "O")]


def test_rows_are_non_o_tokens_in_document_then_token_order():
    frame = submission_rows(DOCS, PREDS)
    assert list(frame.columns) == ["row_id", "document", "token", "label"]
    assert frame.values.tolist() == [
        [0, 7, 1, "B-NAME_STUDENT"],
        [1, 7, 2, "I-NAME_STUDENT"],
        [2, 2, 0, "B-EMAIL"],
    ]


def test_written_file_reads_back_in_kaggle_format(tmp_path):
    path = tmp_path / "out" / "submission.csv"
    written = write_submission(path, DOCS, PREDS)
    assert path.read_text().splitlines()[0] == "row_id,document,token,label"
    back = pd.read_csv(path)
    pd.testing.assert_frame_equal(back, written)
    validate_submission(back, DOCS)


def test_no_predictions_gives_header_only(tmp_path):
    path = tmp_path / "submission.csv"
    write_submission(path, DOCS, [ids("O", "O", "O"), ids("O", "O")])
    assert path.read_text().strip() == "row_id,document,token,label"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns="row_id"), r"columns are \['document', 'token', 'label'\]"),
        (lambda f: f.assign(row_id=[0, 1, 5]), "column 'row_id' at row 2 is 5, expected 2"),
        (lambda f: f.assign(document=[7, 9, 2]), "column 'document' at row 1 is 9, not one of the documents"),
        (lambda f: f.assign(token=[1, 3, 0]), "column 'token' at row 1 is 3, outside document 7's 3 tokens"),
        (lambda f: f.assign(label=["B-NAME_STUDENT", "O", "B-EMAIL"]), "column 'label' at row 1 is 'O'"),
        (
            lambda f: f.assign(label=["B-NAME", "I-NAME_STUDENT", "B-EMAIL"]),
            "column 'label' at row 0 is 'B-NAME'",
        ),
        (lambda f: f.assign(token=[1, 1, 0]), "row 1 repeats document 7 token 1"),
        (lambda f: f.assign(token=[1.0, 2.0, 0.0]), "column 'token' must hold integers"),
    ],
)
def test_invalid_submission_is_named(edit, message):
    with pytest.raises(DataError, match=message):
        validate_submission(edit(submission_rows(DOCS, PREDS)), DOCS)


def test_predictions_must_match_the_documents():
    with pytest.raises(ValueError, match="document 2 has predictions of shape \\(3,\\) for 2 tokens"):
        submission_rows(DOCS, [PREDS[0], ids("B-EMAIL", "O", "O")])
    with pytest.raises(ValueError, match="document 7 token 2 has label id 15"):
        submission_rows(DOCS, [np.array([0, 1, 15]), PREDS[1]])
    with pytest.raises(ValueError, match="1 documents' predictions for 2 documents"):
        submission_rows(DOCS, PREDS[:1])


def test_f5_of_the_rows_matches_a_hand_computed_case():
    docs = [
        document(
            0, ["Ann", "Lee", "wrote", "ann@x.org"], ["B-NAME_STUDENT", "I-NAME_STUDENT", "O", "B-EMAIL"]
        )
    ]
    truth = submission_rows(docs, [ids(*docs[0].labels)])
    # Token 0 right (TP); token 1 B- instead of I- (one FP and one FN); the email missed (FN).
    pred = submission_rows(docs, [ids("B-NAME_STUDENT", "B-NAME_STUDENT", "O", "O")])
    assert pii_fbeta(truth, pred) == pytest.approx(26 / (26 + 25 * 2 + 1))
    assert pii_fbeta(truth, truth) == 1.0
