"""Synthetic questions: the parser reads the reply format and names what is wrong with each malformed reply,
the filters' counts add up, the kept questions load as an extra set with the targeted answer labelled, the
targets are exactly the unseen misconceptions, and a tiny Qwen2 runs through the real transformers backend."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from eedi import synthetic
from eedi.data import LETTERS, load_extra, load_misconceptions, load_train, to_long
from shared.generation import render
from shared.recipes import FieldError

NAMES = [
    "Adds the numerators and the denominators when adding fractions",
    "Thinks a negative times a negative is negative",
    "Adds numerators together and denominators together when adding fractions",
    "Thinks multiplying by a negative number always gives a negative answer",
    "Confuses perimeter with area",
    "Believes the angles in a triangle add up to 360 degrees",
]
SEEN, UNSEEN = [0, 1, 4], [2, 3, 5]
TRAIN = pd.DataFrame({
    "QuestionId": [10, 11, 12],
    "ConstructId": [100, 101, 102],
    "ConstructName": ["Add fractions with different denominators", "Multiply negative integers",
                      "Calculate the perimeter of a rectangle"],
    "SubjectId": [7, 8, 9],
    "SubjectName": ["Adding and Subtracting Fractions", "Negative Numbers", "Perimeter"],
    "CorrectAnswer": ["A", "B", "C"],
    "QuestionText": ["\\( \\frac{1}{2}+\\frac{1}{3}= \\)", "\\( (-3) \\times(-4)= \\)",
                     "A rectangle is \\( 3 \\mathrm{~cm} \\) by \\( 4 \\mathrm{~cm} \\). "
                     "What is its perimeter?"],
    "AnswerAText": ["\\( \\frac{5}{6} \\)", "\\( -12 \\)", "\\( 12 \\mathrm{~cm} \\)"],
    "AnswerBText": ["\\( \\frac{2}{5} \\)", "\\( 12 \\)", "\\( 7 \\mathrm{~cm} \\)"],
    "AnswerCText": ["\\( \\frac{1}{5} \\)", "\\( -7 \\)", "\\( 14 \\mathrm{~cm} \\)"],
    "AnswerDText": ["\\( \\frac{2}{6} \\)", "\\( 1 \\)", "\\( 24 \\mathrm{~cm} \\)"],
    "MisconceptionAId": [None, 1, 4],
    "MisconceptionBId": [0, None, None],
    "MisconceptionCId": [None, None, None],
    "MisconceptionDId": [None, None, None],
})  # fmt: skip
GOOD = (
    "Construct: Add fractions with different denominators\nSubject: Adding and Subtracting Fractions\n"
    "Question: Work out \\( \\frac{1}{4}+\\frac{2}{3} \\)\nCorrect answer: \\( \\frac{11}{12} \\)\n"
    "Incorrect answer: \\( \\frac{3}{7} \\)\nOther incorrect answer: \\( \\frac{3}{12} \\)\n"
    "Other incorrect answer: \\( \\frac{2}{12} \\)"
)
PARSED = {"construct": "Add fractions with different denominators",
          "subject": "Adding and Subtracting Fractions",
          "question": "Work out \\( \\frac{1}{4}+\\frac{2}{3} \\)", "correct": "\\( \\frac{11}{12} \\)",
          "incorrect": "\\( \\frac{3}{7} \\)", "other1": "\\( \\frac{3}{12} \\)",
          "other2": "\\( \\frac{2}{12} \\)"}  # fmt: skip
TRIANGLE = (
    "Construct: Angles in a triangle\nSubject: Angle Facts\nQuestion: Two angles of a triangle are "
    "\\( 50^{\\circ} \\) and \\( 60^{\\circ} \\). What is the third?\nCorrect answer: \\( 70^{\\circ} \\)\n"
    "Incorrect answer: \\( 250^{\\circ} \\)\nOther incorrect answer: \\( 110^{\\circ} \\)\n"
    "Other incorrect answer: \\( 80^{\\circ} \\)"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """The three questions above in the Kaggle layout, with one test question."""
    folder = tmp_path_factory.mktemp("eedi-synthetic")
    pd.DataFrame({"MisconceptionId": range(len(NAMES)), "MisconceptionName": NAMES}).to_csv(
        folder / "misconception_mapping.csv", index=False
    )
    test = TRAIN.iloc[:1].drop(columns=[f"Misconception{x}Id" for x in LETTERS]).assign(QuestionId=20)
    test.to_csv(folder / "test.csv", index=False)
    TRAIN.to_csv(folder / "train.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def misconceptions(data_dir):
    return load_misconceptions(data_dir / "misconception_mapping.csv")


@pytest.fixture(scope="module")
def train(data_dir, misconceptions):
    return load_train(data_dir / "train.csv", misconceptions)


def config(**changes) -> synthetic.SynthConfig:
    values = dict(generator="stub", backend="transformers", per_misconception=1, few_shot=1,
                  max_new_tokens=64, temperature=0.0, batch_size=4, seed=0, id_start=5000)  # fmt: skip
    return synthetic.SynthConfig(**(values | changes))


class Scripted:
    """A backend that answers the requests with the given texts in turn and records what it was asked."""

    def __init__(self, texts):
        self.texts, self.asked = list(texts), []

    def complete(self, requests, seed, desc):
        self.asked += [(r, seed) for r in requests]
        return [self.texts[i % len(self.texts)] for i in range(len(requests))]


def strip(text: str) -> str:
    """A reply as the backend returns it: the continuation of the ``Construct:`` the prompt ends with."""
    return text.removeprefix(synthetic.ANSWER_START)


# --- parser -------------------------------------------------------------------------------------------------


def test_parser_reads_a_reply_in_the_format_and_ignores_what_follows():
    assert synthetic.parse(GOOD) == PARSED
    messy = (
        GOOD.replace("Question: Work out", "**Question:** Work out\nthe sum")
        .replace("Subject:", "- Subject:")
        .replace("Other incorrect answer: \\( \\frac{3}{12}", "Other incorrect answer 1: \\( \\frac{3}{12}")
        + "\nExplanation: the pupil adds the tops and the bottoms.\n\nConstruct: a second question"
    )
    assert synthetic.parse(messy) == {
        **PARSED,
        "question": "Work out\nthe sum \\( \\frac{1}{4}+\\frac{2}{3} \\)",
    }


def test_reply_format_round_trips_and_a_training_row_becomes_an_example(train):
    assert synthetic.parse(synthetic.format_reply(PARSED)) == PARSED
    example = synthetic.format_example(train.iloc[0], "B", NAMES[0])
    assert example.startswith(f"Misconception: {NAMES[0]}\nConstruct: Add fractions")
    parsed = synthetic.parse(example.split("\n", 1)[1])
    assert parsed["correct"] == "\\( \\frac{5}{6} \\)" and parsed["incorrect"] == "\\( \\frac{2}{5} \\)"
    assert (parsed["other1"], parsed["other2"]) == ("\\( \\frac{1}{5} \\)", "\\( \\frac{2}{6} \\)")  # C, D
    with pytest.raises(ValueError, match="'A' is not one of its wrong answers"):
        synthetic.format_example(train.iloc[0], "A", NAMES[0])


def _without(text: str, line_start: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(line_start))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Here is a question about fractions.", "missing_field"),
        (_without(GOOD, "Subject:"), "missing_field"),
        (_without(GOOD, "Question:"), "missing_field"),
        (GOOD.replace("\nOther incorrect answer: \\( \\frac{2}{12} \\)", ""), "too_few_answers"),
        (GOOD + "\nOther incorrect answer: 5", "too_many_answers"),
        (GOOD.replace("Construct: Add fractions with different denominators", "Construct:"), "empty_field"),
        (GOOD.replace("Other incorrect answer: \\( \\frac{2}{12} \\)", "Other incorrect answer: "),
         "empty_field"),
        (GOOD.replace("Correct answer: \\( \\frac{11}{12} \\)", "Correct answer: \\(  \\)"), "empty_field"),
        (GOOD.replace("\\( \\frac{2}{12} \\)", "<another plausible mistake>"), "empty_field"),
        (GOOD.replace("\\( \\frac{3}{7} \\)", "\\( \\frac{3}{7 \\)"), "unbalanced_latex"),
        (GOOD.replace("\\( \\frac{3}{7} \\)", "\\( \\frac{3}{7}"), "unbalanced_latex"),
        (GOOD.replace("Incorrect answer: \\( \\frac{3}{7} \\)", "Incorrect answer: \\(\\frac{11}{12}\\)."),
         "incorrect_is_correct"),
        (GOOD.replace("\\( \\frac{2}{12} \\)", "\\( \\frac{3}{7} \\)"), "duplicate_options"),
        (GOOD.replace("\\( \\frac{2}{12} \\)", "$\\frac{3}{12}$"), "duplicate_options"),
    ],
)  # fmt: skip
def test_parser_rejects_each_malformed_kind_with_its_reason(text, reason):
    assert reason in synthetic.PARSE_REASONS
    assert synthetic.parse(text) == reason


def test_answers_that_differ_only_in_sign_are_different_options():
    signed = GOOD.replace("\\( \\frac{3}{12} \\)", "\\( -\\frac{3}{7} \\)")
    assert synthetic.parse(signed)["other1"] == "\\( -\\frac{3}{7} \\)"
    inequality = GOOD.replace("\\( \\frac{3}{12} \\)", "\\( x<3 \\)")  # not a placeholder
    assert synthetic.parse(inequality)["other1"] == "\\( x<3 \\)"


# --- targets, prompt, generation ----------------------------------------------------------------------------


def test_targets_are_exactly_the_misconceptions_without_a_training_row(misconceptions, train):
    assert synthetic.seen_ids(train) == set(SEEN)
    assert (
        synthetic.pick_misconceptions(config(), misconceptions, train)["MisconceptionId"].tolist() == UNSEEN
    )
    every = synthetic.pick_misconceptions(config(only_unseen=False), misconceptions, train)
    assert every["MisconceptionId"].tolist() == list(range(len(NAMES)))
    two = synthetic.pick_misconceptions(config(max_misconceptions=2, seed=3), misconceptions, train)
    ids = two["MisconceptionId"].tolist()
    assert len(ids) == 2 and set(ids) < set(UNSEEN) and ids == sorted(ids)
    assert two.equals(
        synthetic.pick_misconceptions(config(max_misconceptions=2, seed=3), misconceptions, train)
    )
    with pytest.raises(ValueError, match="none to write questions for"):
        synthetic.generate_questions(config(), misconceptions.iloc[[0, 1, 4]], train, Scripted([GOOD]))


def test_few_shot_examples_come_from_the_closest_named_seen_misconceptions(misconceptions, train):
    targets = misconceptions.iloc[[2, 3, 1]]
    shots = synthetic.few_shot_examples(targets, misconceptions, train, k=1)
    assert shots[0] == [synthetic.format_example(train.iloc[0], "B", NAMES[0])]  # fractions -> fractions
    assert shots[1] == [synthetic.format_example(train.iloc[1], "A", NAMES[1])]  # negatives -> negatives
    assert NAMES[1] not in shots[2][0]  # never a target's own misconception
    assert [len(s) for s in synthetic.few_shot_examples(targets, misconceptions, train, k=5)] == [3, 3, 2]
    assert synthetic.few_shot_examples(targets, misconceptions, train, k=0) == [[], [], []]


def test_request_shows_the_misconception_the_examples_and_the_format():
    messages = synthetic.request(NAMES[2], ["Misconception: example one", "Misconception: example two"])
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[-1]["content"] == "Construct:"
    user = messages[1]["content"]
    assert f"Misconception: {NAMES[2]}" in user and user.endswith(synthetic.FORMAT)
    assert user.index("example one") < user.index("example two") < user.index(NAMES[2])
    assert "related misconceptions" not in synthetic.request(NAMES[2])[1]["content"]


def test_filters_count_every_drop_and_the_kept_rows_load_as_an_extra_set(misconceptions, train, tmp_path):
    # asked in turn about 2, 2, 3, 3, 5, 5:
    # kept, empty, duplicate, copied from train, incorrect = correct, kept
    copied = GOOD.replace("Work out \\( \\frac{1}{4}+\\frac{2}{3} \\)", "\\( (-3)  \\times(-4)= \\)")
    wrong = GOOD.replace("Incorrect answer: \\( \\frac{3}{7} \\)", "Incorrect answer: \\( \\frac{11}{12} \\)")
    backend = Scripted([strip(t) for t in (GOOD, "", GOOD, copied, wrong, TRIANGLE)])
    cfg = config(per_misconception=2)
    frame, counts = synthetic.generate_questions(cfg, misconceptions, train, backend)
    assert counts == {
        "misconceptions": 3, "asked": 6, "parsed": 4, "dropped_missing_field": 1,
        "dropped_too_few_answers": 0, "dropped_too_many_answers": 0, "dropped_empty_field": 0,
        "dropped_unbalanced_latex": 0,
        "dropped_incorrect_is_correct": 1, "dropped_duplicate_options": 0, "dropped_copied_question": 1,
        "dropped_duplicate_question": 1, "kept": 2,
    }  # fmt: skip
    assert counts["asked"] == counts["kept"] + sum(v for k, v in counts.items() if k.startswith("dropped_"))
    assert [seed for _, seed in backend.asked] == [0] * 6
    assert (
        NAMES[2] in backend.asked[0][0][1]["content"]
        and TRAIN["QuestionText"][0] in backend.asked[0][0][1]["content"]
    )

    path = tmp_path / "synthetic.csv"
    frame.to_csv(path, index=False)
    loaded = load_extra([path], misconceptions, dict.fromkeys(TRAIN["QuestionId"], "train.csv"))
    assert loaded["QuestionId"].tolist() == [5000, 5001]
    assert loaded["ConstructId"].tolist() == [100, 103]  # train's id for a construct train has; a new one
    labelled = to_long(loaded, labelled=True).dropna(subset=["MisconceptionId"])
    assert labelled["MisconceptionId"].tolist() == [2, 5]  # one labelled wrong answer per question
    assert labelled["AnswerText"].tolist() == ["\\( \\frac{3}{7} \\)", "\\( 250^{\\circ} \\)"]
    assert labelled["CorrectAnswerText"].tolist() == ["\\( \\frac{11}{12} \\)", "\\( 70^{\\circ} \\)"]
    again, _ = synthetic.generate_questions(cfg, misconceptions, train, Scripted(backend.texts))
    assert again.equals(frame)


def test_answers_are_shuffled_to_letters_with_the_seed(train):
    frame = synthetic.to_wide([PARSED] * 24, [2] * 24, train, id_start=100, seed=0)
    assert set(frame["CorrectAnswer"]) == set(LETTERS)
    for _, row in frame.iterrows():
        labelled = [x for x in LETTERS if not pd.isna(row[f"Misconception{x}Id"])]
        assert len(labelled) == 1 and row[f"Answer{labelled[0]}Text"] == PARSED["incorrect"]
        assert row[f"Answer{row['CorrectAnswer']}Text"] == PARSED["correct"]
    assert frame.equals(synthetic.to_wide([PARSED] * 24, [2] * 24, train, id_start=100, seed=0))
    other = synthetic.to_wide([PARSED] * 24, [2] * 24, train, id_start=100, seed=1)
    assert not np.array_equal(other["CorrectAnswer"], frame["CorrectAnswer"])


def test_config_rejects_out_of_range_fields():
    with pytest.raises(FieldError, match=r"backend: 'tgi' is not one of transformers \| vllm"):
        config(backend="tgi")
    with pytest.raises(FieldError, match="per_misconception: 0 must be >= 1"):
        config(per_misconception=0)
    with pytest.raises(FieldError, match=r"top_p: 1.5 must be in \(0, 1\]"):
        config(top_p=1.5)
    with pytest.raises(FieldError, match="chat_template: True with a tiny: generator"):
        config(generator="tiny:qwen2-pretrained", chat_template=True)


def test_pretraining_texts_show_only_the_given_rows_as_replies_to_their_own_requests(misconceptions, train):
    texts = synthetic.pretraining_texts(train, misconceptions, few_shot=1, repeat=2)
    assert len(texts) == 3 * 2 and texts[:3] == texts[3:]
    shots = synthetic.few_shot_examples(misconceptions.iloc[[0]], misconceptions, train, k=1)[0]
    prompt, _ = render(None, synthetic.request(NAMES[0], shots), chat_template=False)
    assert texts[0].startswith(prompt)
    assert synthetic.parse("Construct:" + texts[0][len(prompt) :])["incorrect"] == "\\( \\frac{2}{5} \\)"
    only_first = synthetic.pretraining_texts(train.iloc[:1], misconceptions, few_shot=1, repeat=1)
    assert len(only_first) == 1 and not any(q in only_first[0] for q in TRAIN["QuestionText"][1:])


# --- the real backend and the command -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_backend(misconceptions, train):
    """The transformers backend on a tiny random Qwen2 whose tokenizer is trained on the prompts."""
    cfg = config(
        generator="tiny:qwen2", chat_template=False, temperature=1.0, max_new_tokens=16, batch_size=2
    )
    return cfg, synthetic.make_backend(cfg, synthetic.pretraining_texts(train, misconceptions, few_shot=1))


def test_transformers_backend_samples_the_requested_number_reproducibly(tiny_backend):
    _, backend = tiny_backend
    requests = [synthetic.request(name) for name in NAMES[:3]]
    first = backend.complete(requests, 7, "a")
    assert len(first) == 3 and all(isinstance(t, str) for t in first)
    assert backend.complete(requests, 7, "b") == first
    assert backend.complete(requests, 8, "c") != first


def test_transformers_backend_runs_through_generation_and_the_counts_add_up(
    tiny_backend, misconceptions, train
):
    cfg, backend = tiny_backend
    frame, counts = synthetic.generate_questions(cfg, misconceptions, train, backend)
    assert counts["asked"] == 3 and counts["misconceptions"] == 3
    assert counts["asked"] == counts["kept"] + sum(v for k, v in counts.items() if k.startswith("dropped_"))
    assert len(frame) == counts["kept"] and list(frame.columns) == list(synthetic.TRAIN_COLUMNS)


@pytest.fixture
def keep_logging(monkeypatch):
    """The command sends the libraries' logging to its run.log process-wide: leave this process' alone."""
    monkeypatch.setenv("KLS_VERBOSE", "1")


def test_command_writes_the_questions_counts_and_config(
    data_dir, misconceptions, tmp_path, capsys, keep_logging
):
    synthetic.main([
        "--data-dir", str(data_dir), "--generator", "tiny:qwen2", "--chat_template", "false", "--backend",
        "transformers", "--per_misconception", "2", "--few_shot", "1", "--max_new_tokens", "12",
        "--temperature", "1.0", "--output-dir", str(tmp_path / "run"),
    ])  # fmt: skip
    run = tmp_path / "run"
    counts = json.loads((run / "counts.json").read_text())
    assert counts["misconceptions"] == 3 and counts["asked"] == 6 == counts["kept"] + sum(
        v for k, v in counts.items() if k.startswith("dropped_")
    )
    frame = load_extra(
        [run / "synthetic.csv"], misconceptions, dict.fromkeys(TRAIN["QuestionId"], "train.csv")
    )
    assert len(frame) == counts["kept"]
    assert yaml.safe_load((run / "config.yaml").read_text())["per_misconception"] == 2
    assert f"{counts['kept']}/6 questions kept for 3 misconceptions" in capsys.readouterr().out


def test_command_refuses_ids_that_collide_with_the_data(data_dir, tmp_path, keep_logging):
    with pytest.raises(
        SystemExit, match="error: id_start: 12 is not above the largest train/test QuestionId 20"
    ):
        synthetic.main(["--data-dir", str(data_dir), "--generator", "tiny:qwen2", "--chat_template", "false",
                        "--id_start", "12", "--output-dir", str(tmp_path / "run")])  # fmt: skip
