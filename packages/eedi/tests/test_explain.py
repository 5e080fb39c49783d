"""CoT explanations: the request shows the question and both answers, the cleaner keeps the first sentences
of a reply without its junk, and the cache returns what was generated without asking the backend again,
while a changed question or generator is asked anew."""

import pandas as pd
import pytest
import yaml

from eedi import explain
from eedi.data import DataError, to_long

WIDE = pd.DataFrame({
    "QuestionId": [10, 11],
    "ConstructId": [100, 101],
    "ConstructName": ["Add fractions with different denominators", "Multiply negative integers"],
    "SubjectId": [7, 8],
    "SubjectName": ["Adding and Subtracting Fractions", "Negative Numbers"],
    "CorrectAnswer": ["A", "B"],
    "QuestionText": ["\\( \\frac{1}{2}+\\frac{1}{3}= \\)", "\\( (-3) \\times(-4)= \\)"],
    "AnswerAText": ["\\( \\frac{5}{6} \\)", "\\( -12 \\)"],
    "AnswerBText": ["\\( \\frac{2}{5} \\)", "\\( 12 \\)"],
    "AnswerCText": ["\\( \\frac{1}{5} \\)", "\\( -7 \\)"],
    "AnswerDText": ["\\( \\frac{2}{6} \\)", "\\( 1 \\)"],
})  # fmt: skip
LONG = to_long(WIDE, labelled=False)  # 6 rows: 10_B, 10_C, 10_D, 11_A, 11_C, 11_D


def config(**changes) -> explain.ExplainConfig:
    values = dict(generator="stub", backend="transformers", batch_size=4, seed=0)
    return explain.ExplainConfig(**(values | changes))


class Counting:
    """A backend that answers every request with the same reply and counts what it was asked."""

    def __init__(self, reply=" added the numerators and the denominators. Then more.\n\nQuestion: junk"):
        self.reply, self.calls, self.asked = reply, 0, []

    def complete(self, requests, seed, desc):
        self.calls += 1
        self.asked += list(requests)
        return [self.reply] * len(requests)


def test_request_shows_the_question_and_both_answers():
    messages = explain.request(LONG.iloc[0])
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[-1]["content"] == "The student"
    user = messages[1]["content"]
    assert "Construct: Add fractions with different denominators" in user
    assert "Question: \\( \\frac{1}{2}+\\frac{1}{3}= \\)" in user
    assert (
        "A student answered \\( \\frac{2}{5} \\) to this question whose correct answer is "
        "\\( \\frac{5}{6} \\)" in user
    )
    assert "explain the mistake the student most likely made" in user


def test_the_default_decodes_greedily():
    assert explain.ExplainConfig().temperature == 0


@pytest.mark.parametrize(
    ("reply", "cleaned"),
    [
        ("The student added. They confused the operations. Also a third sentence.",
         "The student added. They confused the operations."),
        ("**The student** added the numerators.\nQuestion: What is 1+1?\nCorrect answer: 2",
         "The student added the numerators."),
        ("The student added 0.5 and 0.25 to get 0.30. They treat decimals as whole numbers and then they",
         "The student added 0.5 and 0.25 to get 0.30."),
        ("The student thinks that", "The student thinks that"),
        ("The student  multiplied\nthe signs wrongly.\n\nExplanation: more",
         "The student multiplied the signs wrongly."),
        ("", ""),
    ],
)  # fmt: skip
def test_clean_keeps_the_first_sentences_without_junk(reply, cleaned):
    assert explain.clean(reply) == cleaned


def test_clean_caps_the_length_at_a_word_boundary():
    reply = "The student " + " ".join(f"word{i}" for i in range(200))
    cleaned = explain.clean(reply, max_chars=100)
    assert 90 < len(cleaned) <= 100 and reply.startswith(cleaned) and reply[len(cleaned)] == " "
    assert explain.clean("x" * 500, max_chars=50) == "x" * 50


def test_explanations_are_cached_and_not_generated_twice(tmp_path):
    cache = tmp_path / "cache.csv"
    first = Counting()
    series = explain.explain(config(), LONG, first, cache=cache)
    assert first.calls == 1 and len(first.asked) == len(LONG) == 6
    assert (
        series.index.tolist() == LONG["QuestionId_Answer"].tolist()
        and series.index.name == "QuestionId_Answer"
    )
    assert set(series) == {"The student added the numerators and the denominators. Then more."}

    again = Counting(reply=" never asked.")
    assert explain.explain(config(), LONG, again, cache=cache).equals(series)
    assert again.calls == 0

    changed = LONG.copy()
    changed.loc[4, "AnswerText"] = "\\( -1 \\)"  # 11_C: a new request, so a new key
    third = Counting(reply=" subtracted.")
    out = explain.explain(config(), changed, third, cache=cache)
    assert len(third.asked) == 1 and "A student answered \\( -1 \\)" in third.asked[0][1]["content"]
    assert out["11_C"] == "The student subtracted." and out.drop("11_C").equals(series.drop("11_C"))

    other_model = Counting(reply=" guessed.")
    assert set(explain.explain(config(generator="another"), LONG, other_model, cache=cache)) == {
        "The student guessed."
    }
    assert len(other_model.asked) == 6
    assert len(explain.load_cache(cache)) == 6 + 1 + 6  # every answer kept, under its own key


def test_cache_round_trips_through_its_file(tmp_path):
    index = pd.MultiIndex.from_tuples(
        [("10_B", "k1"), ("10_C", "k2"), ("11_A", "k1")], names=["QuestionId_Answer", "key"]
    )
    cache = pd.Series(['Adds tops, then "bottoms".', "", "12"], index=index, name="Explanation")
    loaded = explain.load_cache(explain.save_cache(cache, tmp_path / "sub" / "cache.csv"))
    assert loaded.equals(cache) and loaded.index.names == ["QuestionId_Answer", "key"]
    assert explain.load_cache(tmp_path / "absent.csv").empty


def test_a_cache_without_its_columns_is_a_one_line_error(tmp_path):
    path = tmp_path / "cache.csv"
    path.write_text("QuestionId_Answer,Explanation\n10_B,x\n")
    with pytest.raises(DataError, match=r"cache.csv: column key: missing"):
        explain.load_cache(path)


def test_a_key_depends_on_the_generator_settings_and_the_request():
    messages = explain.request(LONG.iloc[0])
    key = explain.cache_key(config(), messages)
    assert key == explain.cache_key(config(batch_size=1), messages)  # batching does not change the text
    assert key != explain.cache_key(config(generator="other"), messages)
    assert key != explain.cache_key(config(max_new_tokens=32), messages)
    assert key != explain.cache_key(config(), explain.request(LONG.iloc[1]))


@pytest.fixture
def data_dir(tmp_path):
    pd.DataFrame(
        {"MisconceptionId": [0, 1], "MisconceptionName": ["Adds tops and bottoms", "Sign error"]}
    ).to_csv(tmp_path / "misconception_mapping.csv", index=False)
    WIDE.iloc[1:].assign(QuestionId=20).to_csv(tmp_path / "test.csv", index=False)
    labels = {f"Misconception{x}Id": [None, None] for x in "ABCD"}
    WIDE.assign(**labels).to_csv(tmp_path / "train.csv", index=False)
    return tmp_path


@pytest.fixture
def keep_logging(monkeypatch):
    """The command sends the libraries' logging to its run.log process-wide: leave this process' alone."""
    monkeypatch.setenv("KLS_VERBOSE", "1")


def test_command_explains_train_and_test_and_a_rerun_reads_the_cache(
    data_dir, tmp_path, capsys, keep_logging
):
    flags = ["--data-dir", str(data_dir), "--generator", "tiny:qwen2", "--chat_template", "false",
             "--backend", "transformers", "--max_new_tokens", "8",
             "--cache", str(tmp_path / "cache.csv")]  # fmt: skip
    explain.main([*flags, "--output-dir", str(tmp_path / "one")])
    written = pd.read_csv(tmp_path / "one" / "explanations.csv", keep_default_na=False)
    assert written.columns.tolist() == ["QuestionId_Answer", "Explanation"]
    assert written["QuestionId_Answer"].tolist() == [*LONG["QuestionId_Answer"], "20_A", "20_C", "20_D"]
    assert "9 wrong answers explained (9 generated" in capsys.readouterr().out
    assert yaml.safe_load((tmp_path / "one" / "config.yaml").read_text())["max_new_tokens"] == 8

    explain.main([*flags, "--output-dir", str(tmp_path / "two")])
    assert "(0 generated, 9 from" in capsys.readouterr().out
    assert pd.read_csv(tmp_path / "two" / "explanations.csv", keep_default_na=False).equals(written)


def test_read_explanations_indexes_by_row_and_refuses_a_repeated_row(tmp_path):
    path = tmp_path / "explanations.csv"
    path.write_text('QuestionId_Answer,Explanation\n1_A,"Added the tops, then the bottoms."\n1_C,\n')
    read = explain.read_explanations(path)
    assert read.to_dict() == {"1_A": "Added the tops, then the bottoms.", "1_C": ""}
    path.write_text("QuestionId_Answer,Explanation\n1_A,x\n1_A,y\n")
    with pytest.raises(DataError, match=r"explanations.csv: row 3: column QuestionId_Answer: 1_A is given twice"):
        explain.read_explanations(path)
    with pytest.raises(DataError, match="file not found"):
        explain.read_explanations(tmp_path / "absent.csv")
