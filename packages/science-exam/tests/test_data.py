"""Loading: the Kaggle files, extra MCQ sets and the corpus are read as written; each broken input stops with one
line naming the file, the row (or line) and the column; a corpus is read only from where it was asked for."""

import json
import shutil

import pandas as pd
import pytest

from science_exam.data import LETTERS, DataError, load_articles, load_competition, load_mcq, load_test


def mcq(ids, answers=None, **cells):
    frame = pd.DataFrame({"id": ids, "prompt": [f"Question {i}?" for i in ids],
                          **{L: [f"{L}{i}" for i in ids] for L in LETTERS}})  # fmt: skip
    if answers is not None:
        frame["answer"] = answers
    for column, (row, value) in cells.items():
        frame.loc[row, column] = value
    return frame


def write_dir(directory, **files):
    """A data dir with a valid train/test/sample submission, overridden or extended by ``files``."""
    directory.mkdir(exist_ok=True)
    base = {
        "train.csv": mcq(["007", "8", "9"], ["A", "E", "C"]),
        "test.csv": mcq(["t1", "t2"]),
        "sample_submission.csv": pd.DataFrame({"id": ["t1", "t2"], "prediction": ["A B C"] * 2}),
    }
    for name, frame in {**base, **files}.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(frame, str):
            path.write_text(frame)
        elif frame is not None:
            frame.to_csv(path, index=False, lineterminator="\n")
    return directory


def test_files_are_read_as_strings_with_options_like_none_kept(tmp_path):
    train = mcq(["007", "8", "9"], ["A", "E", "C"], B=(1, "None"), C=(2, "NA"))
    data = load_competition(write_dir(tmp_path, **{"train.csv": train}))
    assert data.train["id"].tolist() == ["007", "8", "9"]
    assert list(data.train.columns) == ["id", "prompt", *LETTERS, "answer"]
    assert data.train.loc[1, "B"] == "None" and data.train.loc[2, "C"] == "NA"
    assert list(data.test.columns) == ["id", "prompt", *LETTERS]
    assert data.test_labels is None and data.gold is None and data.kinds is None
    assert data.articles is None and data.corpus_source == "none"
    assert data.extra.empty and list(data.extra.columns) == ["id", "prompt", *LETTERS, "answer", "source"]
    assert load_test(tmp_path)["id"].tolist() == ["t1", "t2"]


def test_sample_loads_with_labels_gold_kinds_and_its_own_corpus(sample_dir):
    data = load_competition(sample_dir, extra=["extra/generated.csv"])
    assert len(data.train) == 60 and len(data.test) == 30 and len(data.extra) == 60
    assert set(data.extra["source"]) == {"generated"}
    assert data.test_labels["id"].tolist() == data.test["id"].tolist()
    assert set(data.gold["id"]) <= set(data.train["id"]) | set(data.test["id"])
    assert set(data.kinds["kind"]) == {"lexical", "paraphrase", "two_hop", "no_retrieval"}
    assert data.corpus_source == str(sample_dir / "corpus") and list(data.articles.columns) == [
        "title",
        "text",
    ]


def test_user_data_never_picks_up_the_sample_corpus(sample_dir, tmp_path):
    user = tmp_path / "kaggle"
    user.mkdir()
    for name in ("train.csv", "test.csv", "sample_submission.csv"):
        shutil.copy(sample_dir / name, user / name)
    assert load_competition(user).articles is None
    named = load_competition(user, corpus=sample_dir / "corpus" / "articles.parquet")
    assert named.corpus_source.endswith("articles.parquet") and len(named.articles) > 0


def test_extra_sets_without_ids_get_stem_row_ids(tmp_path):
    extra = mcq(["x", "y"], ["B", "D"]).drop(columns="id")
    write_dir(tmp_path, **{"more/sixty_k.csv": extra})
    data = load_competition(tmp_path, extra=["more/sixty_k.csv"])
    assert data.extra["id"].tolist() == ["sixty_k-1", "sixty_k-2"]
    assert data.extra["source"].tolist() == ["sixty_k", "sixty_k"]
    assert data.extra["answer"].tolist() == ["B", "D"]
    assert load_competition(tmp_path, extra="more/sixty_k.csv").extra.equals(data.extra)  # one path alone


def test_corpus_from_jsonl_and_parquet_in_file_order(tmp_path):
    write_dir(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pd.DataFrame({"title": ["P1", None], "text": ["Para one.\n\nPara two.", "Second."]}).to_parquet(
        corpus / "a.parquet"
    )
    (corpus / "b.jsonl").write_text(json.dumps({"text": "No title here."}) + "\n\n" +
                                    json.dumps({"title": "J2", "text": "Two.", "url": "u"}) + "\n")  # fmt: skip
    data = load_competition(tmp_path)
    assert data.articles.to_dict("list") == {
        "title": ["P1", "", "", "J2"],
        "text": ["Para one.\n\nPara two.", "Second.", "No title here.", "Two."],
    }
    assert data.corpus_source == str(corpus)


def jsonl(*rows):
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"


BROKEN_MCQ = [
    ("train.csv", mcq(["1", "2", "3"], ["A", "F", "C"]), ["row 2", "'2'", "'answer'", "'F'"]),
    ("train.csv", mcq(["1", "2", "3"], ["A", "b", "C"]), ["row 2", "'answer'"]),
    ("train.csv", mcq(["1", "2", "3"], ["A", "B", "C"], C=(2, "")), ["row 3", "'3'", "'C'", "empty"]),
    ("train.csv", mcq(["1", "2", "3"], ["A", "B", "C"], prompt=(0, " ")), ["row 1", "'prompt'", "empty"]),
    ("train.csv", mcq(["1", "2", "1"], ["A", "B", "C"]), ["'id'", "'1'", "rows 1 and 3"]),
    ("train.csv", mcq(["1", "2"], ["A", "B"]).drop(columns="E"), ["missing column", "'E'"]),
    ("train.csv", mcq(["1", "2"]), ["missing column", "'answer'"]),
    ("test.csv", None, ["test.csv", "file not found"]),
    ("test.csv", mcq(["t1", "t1"]), ["test.csv", "'id'", "rows 1 and 2"]),
    ("sample_submission.csv", pd.DataFrame({"id": ["t1", "zz"], "prediction": ["A"] * 2}),
     ["row 2", "'id'", "'zz'", "not in test.csv"]),
    ("test_labels.csv", pd.DataFrame({"id": ["t1", "t3"], "answer": ["A", "B"]}), ["row 2", "'id'", "'t3'"]),
    ("test_labels.csv", pd.DataFrame({"id": ["t1", "t2"], "answer": ["A", "G"]}), ["row 2", "'answer'", "'G'"]),
    ("test_labels.csv", pd.DataFrame({"id": ["t2"], "answer": ["A"]}), ["'id'", "lacks 't1'"]),
    ("gold.csv", pd.DataFrame({"id": ["8", "nope"], "evidence": ["x", "y"]}), ["row 2", "'id'", "'nope'"]),
    ("gold.csv", pd.DataFrame({"id": ["8", "9"], "evidence": ["x", ""]}), ["row 2", "'evidence'", "empty"]),
    ("question_kinds.csv", pd.DataFrame({"id": ["8"], "kind": [""]}), ["row 1", "'kind'", "empty"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "frame", "expected"), BROKEN_MCQ)
def test_broken_question_files_name_file_row_and_column(tmp_path, name, frame, expected):
    write_dir(tmp_path, **{name: frame})  # None: the file is not written
    with pytest.raises(DataError) as err:
        load_competition(tmp_path)
    message = str(err.value)
    assert "\n" not in message and name in message
    for part in expected:
        assert part in message


def test_broken_extra_set_names_its_own_file(tmp_path):
    write_dir(tmp_path, **{"extra/gen.csv": mcq(["g1", "g2"], ["A", "Z"])})
    with pytest.raises(DataError, match=r"gen\.csv: id 'g2' \(row 2\): column 'answer' is 'Z'"):
        load_competition(tmp_path, extra=["extra/gen.csv"])
    with pytest.raises(DataError, match=r"missing\.csv: file not found"):
        load_competition(tmp_path, extra=["missing.csv"])


BROKEN_CORPUS = [
    ("a.parquet", pd.DataFrame({"title": ["x"], "body": ["y"]}), ["a.parquet", "missing column 'text'"]),
    ("a.parquet", pd.DataFrame({"title": ["x", "y"], "text": ["ok", "  "]}), ["row 2", "'text' is empty"]),
    ("a.parquet", pd.DataFrame({"title": ["x", "y", "z"], "text": ["ok", "ok", None]}), ["row 3", "'text' is missing"]),
    ("a.jsonl", jsonl({"title": "a", "body": "b"}, {"title": "c"}), ["a.jsonl", "missing column 'text'"]),
    ("a.jsonl", jsonl({"text": "fine"}, {"title": "no text"}), ["line 2", "'text' is missing"]),
    ("a.jsonl", jsonl({"text": "fine"}, {"text": 5}), ["line 2", "'text' is 5, expected text"]),
    ("a.jsonl", jsonl({"text": "fine"}, "", "{broken"), ["line 3", "not valid JSON"]),
    ("a.parquet", "not parquet at all", ["a.parquet", "cannot be read as parquet"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "expected"), BROKEN_CORPUS)
def test_broken_corpus_names_file_row_and_column(tmp_path, name, content, expected):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    else:
        content.to_parquet(path)
    with pytest.raises(DataError) as err:
        load_articles([path])
    assert "\n" not in str(err.value)
    for part in expected:
        assert part in str(err.value)


def test_corpus_argument_must_exist_and_hold_corpus_files(tmp_path):
    write_dir(tmp_path)
    with pytest.raises(DataError, match="nowhere: corpus not found"):
        load_competition(tmp_path, corpus=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no \*\.parquet or \*\.jsonl corpus files"):
        load_competition(tmp_path, corpus=tmp_path / "empty")
    with pytest.raises(DataError, match=r"train\.csv: a corpus file must be \.parquet or \.jsonl"):
        load_competition(tmp_path, corpus=tmp_path / "train.csv")


def test_load_mcq_unlabelled_ignores_other_columns(tmp_path):
    path = tmp_path / "q.csv"
    mcq(["1"]).assign(context="long text").to_csv(path, index=False)
    assert list(load_mcq(path, labelled=False).columns) == ["id", "prompt", *LETTERS]


def test_extra_questions_that_repeat_a_competition_prompt_are_dropped_and_counted(tmp_path):
    extra = mcq(["x1", "x2", "x3"], ["B", "D", "A"])
    extra.loc[0, "prompt"] = " question 8? "  # train.csv's "Question 8?" in other case and spacing
    extra.loc[2, "prompt"] = "Question t2?"  # test.csv's
    write_dir(tmp_path, **{"extra/sixty_k.csv": extra})
    data = load_competition(tmp_path, extra=["extra/sixty_k.csv"])
    assert data.extra["id"].tolist() == ["x2"] and data.extra_overlap == 2


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "test.csv": mcq(["t1", "8"]),
                "sample_submission.csv": pd.DataFrame({"id": ["t1", "8"], "prediction": "A B C"}),
            },
            "test.csv: row 2: column id: '8' is also an id in train.csv",
        ),
        (
            {"extra/a.csv": mcq(["z", "t2"], ["A", "B"])},
            "a.csv: row 2: column id: 't2' is also an id in test.csv",
        ),
    ],
)
def test_an_id_in_two_files_is_an_error_naming_both(tmp_path, files, expected):
    write_dir(tmp_path, **files)
    with pytest.raises(DataError) as err:
        load_competition(tmp_path, extra=[p for p in files if p.startswith("extra/")])
    assert str(err.value) == expected
