"""The generated sample: same bytes for the same seed, exactly the Kaggle columns, five distinct options with the
answer among them, gold evidence that occurs once in the corpus, the requested kind mix, and test entities that
no extra question mentions."""

import re

import pandas as pd
import pytest
import Stemmer

from science_exam.corpus import chunk
from science_exam.data import LETTERS, load_competition
from science_exam.sample.questions import kind_counts
from science_exam.sample.synth import generate, main, make_sample

STEMMER = Stemmer.Stemmer("english")
SMALL = {"n_entities": 300, "n_train": 60, "n_test": 30, "n_extra": 60}
FILES = ["corpus/articles.parquet", "extra/generated.csv", "gold.csv", "question_kinds.csv",
         "sample_submission.csv", "test.csv", "test_labels.csv", "train.csv"]  # fmt: skip
STOP = {"the", "of", "a", "an", "is", "in", "at", "to", "and", "what", "which", "that", "does", "do", "how", "its",
        "it", "by", "for", "from", "on", "was", "were", "has", "have", "with", "up", "one"}  # fmt: skip


@pytest.fixture(scope="module")
def small():
    return generate(**SMALL, seed=0)


def test_same_seed_same_bytes_other_seed_other_sample(sample_dir, tmp_path):
    again = make_sample(tmp_path / "again", **SMALL, seed=0)
    for name in FILES:
        assert (again / name).read_bytes() == (sample_dir / name).read_bytes(), name
    other = make_sample(tmp_path / "other", **SMALL, seed=1)
    assert (other / "train.csv").read_bytes() != (sample_dir / "train.csv").read_bytes()


def test_files_have_exactly_the_kaggle_columns(sample_dir):
    assert sorted(str(p.relative_to(sample_dir)) for p in sample_dir.rglob("*") if p.is_file()) == FILES
    columns = {
        name: list(pd.read_csv(sample_dir / name, nrows=1).columns) for name in FILES if name.endswith(".csv")
    }
    mcq = ["id", "prompt", *LETTERS]
    assert columns["train.csv"] == [*mcq, "answer"] == columns["extra/generated.csv"]
    assert columns["test.csv"] == mcq
    assert columns["sample_submission.csv"] == ["id", "prediction"]
    assert columns["test_labels.csv"] == ["id", "answer"]
    assert columns["gold.csv"] == ["id", "evidence"]
    assert columns["question_kinds.csv"] == ["id", "kind"]
    assert set(pd.read_csv(sample_dir / "sample_submission.csv")["prediction"]) == {"A B C"}
    assert list(pd.read_parquet(sample_dir / "corpus" / "articles.parquet").columns) == ["title", "text"]
    # the loader accepts everything it wrote
    data = load_competition(sample_dir, extra=["extra/generated.csv"])
    assert (len(data.train), len(data.test), len(data.extra)) == (60, 30, 60)
    assert data.articles["text"].str.contains("\n\n").mean() > 0.5  # most articles have several paragraphs


def test_options_are_five_distinct_values_with_the_answer_among_them(small):
    for split, frame in small.questions.items():
        options = frame[list(LETTERS)]
        assert (options.nunique(axis=1) == 5).all(), split
        assert frame["answer"].isin(LETTERS).all()
        assert set(frame["answer"]) == set(LETTERS), split  # the answer's position is shuffled


def test_each_split_has_the_requested_kind_mix(small):
    for split, n in (("train", 60), ("test", 30), ("extra", 60)):
        counts = small.questions[split]["kind"].value_counts().to_dict()
        assert counts == kind_counts(n, (0.4, 0.3, 0.15, 0.15)), split


def test_kind_counts_round_and_give_the_remainder_to_lexical():
    assert kind_counts(10, (0.4, 0.3, 0.15, 0.15)) == {
        "lexical": 3,
        "paraphrase": 3,
        "two_hop": 2,
        "no_retrieval": 2,
    }
    assert kind_counts(7, (0, 0, 0, 1)) == {"lexical": 0, "paraphrase": 0, "two_hop": 0, "no_retrieval": 7}
    with pytest.raises(ValueError, match="summing to 1"):
        kind_counts(10, (0.5, 0.5, 0.5, 0))


def test_gold_evidence_occurs_in_exactly_one_paragraph_and_matches_the_kind(sample_dir):
    data = load_competition(sample_dir)
    paragraphs = chunk(data.articles)["text"].tolist()
    for sentence in data.gold["evidence"]:
        assert sum(sentence in p for p in paragraphs) == 1, sentence
    rows = data.gold["id"].value_counts()
    expected = {"lexical": 1, "paraphrase": 1, "two_hop": 2, "no_retrieval": 0}
    for qid, kind in zip(data.kinds["id"], data.kinds["kind"], strict=True):
        assert rows.get(qid, 0) == expected[kind], (qid, kind)


def test_evidence_states_the_answer(small):
    for frame in small.questions.values():
        for row in frame.itertuples():
            if row.evidence:
                answer = getattr(row, row.answer)
                assert answer in row.evidence[-1], (row.prompt, answer, row.evidence)


def words(text):
    """Content-word stems, as BM25 with an English stemmer sees them."""
    return set(STEMMER.stemWords([w for w in re.findall(r"[a-z]{2,}", text.lower()) if w not in STOP]))


def test_lexical_questions_share_words_with_their_evidence_and_paraphrases_do_not(small):
    frame = pd.concat(small.questions.values())
    overlap = {
        kind: [len(words(p) & words(e[0])) for p, e in zip(g["prompt"], g["evidence"], strict=True)]
        for kind, g in frame.groupby("kind") if kind in ("lexical", "paraphrase")
    }  # fmt: skip
    assert min(overlap["lexical"]) >= 2  # the entity's name and the attribute's words
    assert sum(overlap["paraphrase"]) / len(overlap["paraphrase"]) < 0.5


def test_test_entities_appear_nowhere_in_extra(small):
    test, extra = small.questions["test"], small.questions["extra"]
    names = set(test["entity"]) - {""}
    assert names and names.isdisjoint(extra["entity"])
    # nor as an option or inside a prompt (no-retrieval questions list names as options)
    extra_text = "\n".join(extra[["prompt", *LETTERS]].to_numpy().ravel())
    assert not [n for n in names if n in extra_text]


def test_two_hop_questions_name_the_founder_institution_not_the_entity(small):
    frame = pd.concat(small.questions.values())
    two_hop = frame[frame["kind"] == "two_hop"]
    for row in two_hop.itertuples():
        founding, fact = row.evidence
        institution = re.search(
            r"the (.+?) (?:described|catalogued|synthesised|mapped) one", row.prompt
        ).group(1)
        assert institution in founding and row.entity.lower() in fact.lower()
        assert row.entity.lower() not in row.prompt.lower()


def test_cli_writes_the_sample(tmp_path, capsys):
    main(["--out", str(tmp_path / "cli"), "--seed", "3", "--n-entities", "150", "--n-train", "20", "--n-test", "10",
          "--n-extra", "20"])  # fmt: skip
    assert len(pd.read_csv(tmp_path / "cli" / "train.csv")) == 20
    assert "wrote the LLM Science Exam sample" in capsys.readouterr().out


def test_too_few_entities_for_the_questions_is_a_clear_error():
    with pytest.raises(ValueError, match=r"increase n_entities|too few entities"):
        generate(n_entities=40, n_train=200, n_test=10, n_extra=10)
