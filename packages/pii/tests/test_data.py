"""Loading: the sample round-trips; a broken document stops with one line naming file, document and field,
or is skipped and reported under on_error="skip"."""

import json
import shutil

import pandas as pd
import pytest

from pii.data import DataError, Document, label_frame, load_competition, load_documents, load_external
from shared.metrics import pii_fbeta


def good(doc_id: int) -> dict:
    tokens = ["Hi", ",", "Nathalie", "Sylla", "\n\n", "bye"]
    spaces = [False, True, True, False, False, False]
    return {
        "document": doc_id,
        "full_text": "Hi, Nathalie Sylla\n\nbye",
        "tokens": tokens,
        "trailing_whitespace": spaces,
        "labels": ["O", "O", "B-NAME_STUDENT", "I-NAME_STUDENT", "O", "O"],
    }


def write(path, items):
    path.write_text(json.dumps(items))
    return path


def test_sample_loads_with_test_labels(sample_dir):
    data = load_competition(sample_dir)
    assert len(data.train) == 400 and len(data.test) == 40 and data.skipped == []
    assert all(doc.labels is None for doc in data.test)
    assert [d.document for d in data.test_labels] == [d.document for d in data.test]
    assert list(data.sample_submission.columns) == ["row_id", "document", "token", "label"]
    ids = [d.document for d in data.train + data.test]
    assert len(set(ids)) == len(ids)
    doc = data.train[0]
    assert doc.full_text == "".join(
        t + " " * s for t, s in zip(doc.tokens, doc.trailing_whitespace, strict=True)
    )


def test_good_document_is_read_as_written(tmp_path):
    docs, skipped = load_documents(write(tmp_path / "a.json", [good(3)]), labelled=True)
    assert skipped == []
    assert docs == [Document(3, "Hi, Nathalie Sylla\n\nbye", good(3)["tokens"], good(3)["trailing_whitespace"],
                             good(3)["labels"], source="a.json")]  # fmt: skip
    unlabelled, _ = load_documents(tmp_path / "a.json", labelled=False)
    assert unlabelled[0].labels is None


def edited(change):
    item = good(12)
    change(item)
    return item


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (edited(lambda d: d["labels"].pop()), r"document 12: field 'labels' has 5 items but 'tokens' has 6"),
        (
            edited(lambda d: d["trailing_whitespace"].append(True)),
            r"document 12: field 'trailing_whitespace' has 7 items but 'tokens' has 6",
        ),
        (
            edited(lambda d: d["labels"].__setitem__(5, "B-EMAIL_ADDRESS")),
            r"document 12: field 'labels' has unknown label 'B-EMAIL_ADDRESS' at token 5",
        ),
        (
            edited(lambda d: d["labels"].__setitem__(1, "I-EMAIL")),  # not in the data's 13 labels
            r"document 12: field 'labels' has unknown label 'I-EMAIL' at token 1",
        ),
        (
            edited(lambda d: d.__setitem__("full_text", "Hi,  Nathalie Sylla\n\nbye")),
            r"document 12: field 'full_text' differs .* at character 4",
        ),
        (
            edited(lambda d: d["trailing_whitespace"].__setitem__(2, 1)),
            r"document 12: field 'trailing_whitespace' item 2 is int, expected bool",
        ),
        (edited(lambda d: d.pop("tokens")), r"document 12: missing field 'tokens'"),
        (
            edited(lambda d: d.__setitem__("document", "12")),
            r"item 0: field 'document' is '12', expected an integer",
        ),
        (
            edited(lambda d: d.__setitem__("tokens", "Hi")),
            r"document 12: field 'tokens' is str, expected a list",
        ),
    ],
)
def test_broken_document_is_named(tmp_path, item, message):
    path = write(tmp_path / "train.json", [item])
    with pytest.raises(DataError, match=rf"train\.json: {message}") as err:
        load_documents(path, labelled=True)
    assert "\n" not in str(err.value)


def test_file_level_errors(tmp_path):
    with pytest.raises(DataError, match=r"nope\.json: file not found"):
        load_documents(tmp_path / "nope.json", labelled=True)
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(DataError, match=r"bad\.json: not valid JSON"):
        load_documents(tmp_path / "bad.json", labelled=True)
    with pytest.raises(DataError, match=r"obj\.json: expected a JSON list of documents, got dict"):
        load_documents(write(tmp_path / "obj.json", good(1)), labelled=True)
    with pytest.raises(DataError, match=r"dup\.json: document 1: field 'document' repeats an earlier id"):
        load_documents(write(tmp_path / "dup.json", [good(1), good(1)]), labelled=True)


def test_unlabelled_file_needs_no_labels(tmp_path):
    item = good(4)
    del item["labels"]
    docs, _ = load_documents(write(tmp_path / "test.json", [item]), labelled=False)
    assert docs[0].tokens[2] == "Nathalie"
    with pytest.raises(DataError, match="document 4: missing field 'labels'"):
        load_documents(tmp_path / "test.json", labelled=True)


def test_skip_mode_counts_and_reports_every_skip(tmp_path):
    bad_length = edited(lambda d: d["labels"].pop())
    bad_length["document"] = 5
    items = [good(1), bad_length, good(2), "not a document", good(2), good(9)]
    docs, skipped = load_documents(write(tmp_path / "x.json", items), labelled=True, on_error="skip")
    assert [d.document for d in docs] == [1, 2, 9]
    assert [(s.document, s.path.endswith("x.json")) for s in skipped] == [(5, True), (None, True), (2, True)]
    assert "field 'labels' has 5 items" in skipped[0].reason
    assert "item 3 is str" in skipped[1].reason
    assert "repeats an earlier id" in skipped[2].reason
    with pytest.raises(ValueError, match="on_error"):
        load_documents(tmp_path / "x.json", labelled=True, on_error="ignore")


def test_extra_data_sets_and_skips_across_files(sample_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(sample_dir, data_dir)
    (data_dir / "external").mkdir()
    write(data_dir / "external" / "mixtral.json", [good(1), edited(lambda d: d["labels"].pop())])
    absolute = write(tmp_path / "other.json", [good(2)])
    with pytest.raises(DataError, match=r"mixtral\.json: document 12: field 'labels'"):
        load_competition(data_dir, extra=["external/mixtral.json"])
    data = load_competition(data_dir, extra=["external/mixtral.json", str(absolute)], on_error="skip")
    assert list(data.extra) == ["external/mixtral.json", str(absolute)]
    assert [d.document for d in data.extra["external/mixtral.json"]] == [1]
    assert data.extra["external/mixtral.json"][0].source == "mixtral.json"
    assert [(s.document, "mixtral.json" in s.path) for s in data.skipped] == [(12, True)]


def test_test_labels_must_match_test(sample_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(sample_dir, data_dir)
    items = json.loads((data_dir / "test_labels.json").read_text())
    items[3]["tokens"][0] += "x"
    items[3]["full_text"] = "".join(
        t + " " * s for t, s in zip(items[3]["tokens"], items[3]["trailing_whitespace"], strict=True)
    )
    write(data_dir / "test_labels.json", items)
    with pytest.raises(
        DataError, match=rf"test_labels\.json: document {items[3]['document']}: field 'tokens' differs"
    ):
        load_competition(data_dir)


def test_sample_submission_rows_are_checked(sample_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(sample_dir, data_dir)
    frame = pd.read_csv(data_dir / "sample_submission.csv")
    frame.loc[2, "token"] = 10**6
    frame.to_csv(data_dir / "sample_submission.csv", index=False)
    with pytest.raises(
        DataError, match=r"sample_submission\.csv: column 'token' at row 2 is 1000000, outside"
    ):
        load_competition(data_dir)
    frame.loc[2, "token"] = 0
    frame.loc[1, "label"] = "B-NAME"
    frame.to_csv(data_dir / "sample_submission.csv", index=False)
    with pytest.raises(DataError, match=r"column 'label' at row 1 is 'B-NAME', expected a known label$"):
        load_competition(data_dir)
    frame.pop("label")
    frame.to_csv(data_dir / "sample_submission.csv", index=False)
    with pytest.raises(DataError, match=r"missing column\(s\) \['label'\]"):
        load_competition(data_dir)


def test_label_frame_is_what_the_metric_scores(tmp_path):
    docs, _ = load_documents(write(tmp_path / "a.json", [good(3), good(8)]), labelled=True)
    frame = label_frame(docs)
    assert frame.values.tolist() == [[3, 2, "B-NAME_STUDENT"], [3, 3, "I-NAME_STUDENT"],
                                     [8, 2, "B-NAME_STUDENT"], [8, 3, "I-NAME_STUDENT"]]  # fmt: skip
    assert pii_fbeta(frame, frame) == 1.0
    assert pii_fbeta(frame, frame.iloc[:2]) == pytest.approx(26 * 2 / (26 * 2 + 25 * 2))
    with pytest.raises(ValueError, match="document 3 has no labels"):
        label_frame(load_documents(tmp_path / "a.json", labelled=False)[0])


def _external_item(doc_id, tokens, labels):
    spaces = [True] * (len(tokens) - 1) + [False]
    text = "".join(t + " " if s else t for t, s in zip(tokens, spaces, strict=True))
    return {
        "document": doc_id,
        "full_text": text,
        "tokens": tokens,
        "trailing_whitespace": spaces,
        "labels": labels,
    }


def test_external_sets_in_the_public_schemas_are_converted_and_counted(tmp_path):
    """nbroad's Mixtral essays use string ids and split usernames (I-USERNAME); mpware's set string ids too."""
    nbroad = tmp_path / "mixtral.json"
    nbroad.write_text(json.dumps([
        _external_item("nb-1", ["I", "am", "john", "-", "doe99"], ["O", "O", "B-USERNAME", "I-USERNAME", "I-USERNAME"]),
        _external_item("nb-2", ["mail", "a@b.c"], ["O", "B-EMAIL"]),
    ]))  # fmt: skip
    mpware = tmp_path / "mpware.json"
    mpware.write_text(json.dumps([_external_item(7, ["Hi", "Ann"], ["O", "B-NAME_STUDENT"])]))
    docs, skipped, conversion = load_external(nbroad, first_id=100)
    assert [d.document for d in docs] == [100, 101] and not skipped
    assert docs[0].labels == ["O", "O", "B-USERNAME", "B-USERNAME", "B-USERNAME"]
    assert conversion.renumbered == 2 and conversion.relabelled == {"I-USERNAME": 2}
    assert conversion.summary().endswith(
        "2 documents given integer ids from 100; 2 tokens I-USERNAME -> B-USERNAME"
    )
    docs, _, conversion = load_external(mpware, first_id=100)
    assert [d.document for d in docs] == [7] and conversion.summary().endswith("nothing converted")
    # the competition's own files stay strict
    with pytest.raises(
        DataError, match=r"mixtral\.json: item 0: field 'document' is 'nb-1', expected an integer$"
    ):
        load_documents(nbroad, labelled=True)
    with pytest.raises(DataError, match=r"unknown label 'I-USERNAME' at token 3$"):
        load_documents(nbroad, labelled=True, items=[_external_item(1, ["a", "b", "x", "y"],
                                                                    ["O", "O", "B-USERNAME", "I-USERNAME"])])  # fmt: skip


def test_competition_gives_external_documents_ids_after_its_own(sample_dir, tmp_path):
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(json.dumps([_external_item("a", ["x"], ["O"]), _external_item("b", ["y"], ["O"])]))
    two.write_text(json.dumps([_external_item("c", ["z"], ["O"])]))
    data = load_competition(sample_dir, extra=[str(one), str(two)])
    top = max(d.document for d in [*data.train, *data.test])
    assert [d.document for d in data.extra[str(one)]] == [top + 1, top + 2]
    assert [d.document for d in data.extra[str(two)]] == [top + 3]
    assert [c.renumbered for c in data.conversions] == [2, 1]
