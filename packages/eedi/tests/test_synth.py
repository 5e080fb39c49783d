"""The generated sample: the same bytes for the same seed, the Kaggle layout, wrong answers computed by the
misconceptions' mechanisms (hand-checked cases), four distinct options, about half of the labelled test rows
unseen in train, a skewed train, unused misconceptions, near-duplicate names and LaTeX in the questions."""

import os
import subprocess
import sys
from collections import Counter
from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest

from eedi.data import (
    ANSWER_COLUMNS,
    LETTERS,
    MISCONCEPTION_COLUMNS,
    QUESTION_COLUMNS,
    load_competition,
    to_long,
)
from eedi.sample.catalogue import CATALOGUE, catalogue, near_duplicates
from eedi.sample.families import CONSTRUCTS, answer
from eedi.sample.synth import (
    SYNTHETIC_START,
    TEST_START,
    describe,
    generate,
    main,
    make_sample,
    write_question,
)

SMALL = {"n_misconceptions": 300, "n_train": 120, "n_test": 60}
FILES = ["extra/synthetic.csv", "misconception_mapping.csv", "sample_submission.csv", "test.csv", "test_labels.csv",
         "train.csv"]  # fmt: skip


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("eedi") / "sample", **SMALL, seed=0)


@pytest.fixture(scope="module")
def data(sample):
    return load_competition(sample, extra=["extra/synthetic.csv"])


def test_same_seed_same_bytes_other_seed_other_sample(sample, tmp_path):
    again = make_sample(tmp_path / "again", **SMALL, seed=0)
    for name in FILES:
        assert (again / name).read_bytes() == (sample / name).read_bytes(), name
    other = make_sample(tmp_path / "other", **SMALL, seed=1)
    for name in ("train.csv", "test.csv", "misconception_mapping.csv"):
        assert (other / name).read_bytes() != (sample / name).read_bytes(), name


@pytest.mark.slow
def test_same_bytes_in_another_process_with_another_hash_seed(sample, tmp_path):
    code = ("from eedi.sample.synth import main; "
            f"main(['--out', {str(tmp_path / 'cli')!r}, '--n-train', '120', '--n-test', '60'])")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                   env={**os.environ, "PYTHONHASHSEED": "123"})  # fmt: skip
    for name in FILES:
        assert (tmp_path / "cli" / name).read_bytes() == (sample / name).read_bytes(), name


def test_files_have_the_kaggle_layout_and_load(sample, data):
    assert sorted(str(p.relative_to(sample)) for p in sample.rglob("*") if p.is_file()) == FILES
    header = {name: list(pd.read_csv(sample / name, nrows=0).columns) for name in FILES}
    train_columns = [*QUESTION_COLUMNS, *MISCONCEPTION_COLUMNS]
    assert header["train.csv"] == train_columns == header["extra/synthetic.csv"]
    assert header["test.csv"] == list(QUESTION_COLUMNS)
    assert header["misconception_mapping.csv"] == ["MisconceptionId", "MisconceptionName"]
    assert header["sample_submission.csv"] == header["test_labels.csv"] == ["QuestionId_Answer", "MisconceptionId"]
    assert ".0," in (sample / "train.csv").read_text()  # ids written as floats, as Kaggle's are
    assert (len(data.train), len(data.test), len(data.extra), len(data.misconceptions)) == (120, 60, 300, 300)
    assert data.train["QuestionId"].tolist() == list(range(120))
    assert data.test["QuestionId"].min() == TEST_START and data.extra["QuestionId"].min() == SYNTHETIC_START
    assert data.misconceptions["MisconceptionId"].tolist() == list(range(300))


def test_options_are_four_distinct_texts_and_the_correct_letter_varies(data):
    for frame in (data.train, data.test, data.extra):
        texts = frame[list(ANSWER_COLUMNS)]
        assert (texts.nunique(axis=1) == 4).all()
        assert set(frame["CorrectAnswer"]) == set(LETTERS)


def test_about_half_of_the_labelled_test_rows_are_unseen_in_train(sample, data):
    train_ids = set(to_long(data.train, labelled=True)["MisconceptionId"].dropna())
    unseen = ~data.test_labels["MisconceptionId"].isin(train_ids)
    assert 0.35 <= unseen.mean() <= 0.65
    assert describe(sample)["test_unseen_share"] == pytest.approx(unseen.mean())
    assert data.test_labels["MisconceptionId"][unseen].nunique() >= 15


def test_train_is_skewed_labels_are_dense_and_many_misconceptions_are_unused(sample, data):
    long = to_long(data.train, labelled=True)
    counts = long["MisconceptionId"].value_counts()
    assert counts.max() >= 4 * counts.median()  # a few frequent misconceptions
    assert (counts <= 2).sum() >= len(counts) / 4  # and a long tail
    assert 0.6 <= long["MisconceptionId"].notna().mean() <= 0.9  # Kaggle: 78 % of wrong answers labelled
    used = set(counts.index) | set(data.test_labels["MisconceptionId"])
    assert len(data.misconceptions) - len(used) >= 30
    stats = describe(sample)
    assert stats["train_misconceptions"] == len(counts) and stats["unused_misconceptions"] == 300 - len(used)


def test_every_mapped_misconception_has_a_synthetic_question(data):
    labelled = set(to_long(data.extra, labelled=True)["MisconceptionId"].dropna())
    assert labelled == set(data.misconceptions["MisconceptionId"])


def test_sample_submission_lists_every_wrong_answer_of_the_test_with_25_ids(sample, data):
    submission = pd.read_csv(sample / "sample_submission.csv")
    assert submission["QuestionId_Answer"].tolist() == to_long(data.test, labelled=False)["QuestionId_Answer"].tolist()
    ids = submission["MisconceptionId"].str.split()
    assert (ids.map(len) == 25).all() and (ids.map(lambda x: len(set(x))) == 25).all()


def test_question_texts_carry_latex_like_the_original(data):
    text = pd.concat([data.train["QuestionText"], data.test["QuestionText"]])
    assert text.str.contains(r"\(", regex=False).mean() > 0.85
    assert text.str.contains(r"\frac{", regex=False).any()


def wrong(name: str, construct: str, **p) -> str | None:
    """The text of the answer that misconception ``name`` gives on the question ``p`` of ``construct``."""
    misconception = next(m for m in CATALOGUE if m.name == name)
    result = answer(CONSTRUCTS[construct], misconception.apply(p | {"construct": construct}))
    return None if result is None else result.text


HAND_CHECKED = [
    ("Adds the numerators and the denominators", "frac_add", {"a": 1, "b": 2, "c": 1, "d": 3}, r"\( \frac{2}{5} \)"),
    ("Believes you multiply the denominators when adding fractions", "frac_add", {"a": 1, "b": 2, "c": 1, "d": 3},
     r"\( \frac{2}{6} \)"),
    ("Believes you add the denominators when adding fractions", "frac_add", {"a": 1, "b": 2, "c": 1, "d": 3},
     r"\( \frac{5}{12} \)"),
    ("Thinks a negative times a negative is negative", "neg_mul_two", {"x": -3, "y": -4}, r"\( -12 \)"),
    ("Believes dividing a negative by a negative gives a negative answer", "neg_div", {"x": 12, "y": 3}, None),
    ("Rounds down instead of up", "round_-1", {"x": F("3.47"), "exp": -1}, r"\( 3.4 \)"),
    ("Rounds down instead of up", "round_-1", {"x": F("3.43"), "exp": -1}, None),
    ("Rounds up instead of down", "round_-1", {"x": F("3.43"), "exp": -1}, r"\( 3.5 \)"),
    ("When rounding up from a 9, does not add one on to the digit to the left", "round_-1",
     {"x": F("3.96"), "exp": -1}, r"\( 3.10 \)"),
    ("Confuses the radius with the diameter", "circle_area_radius", {"r": 5}, r"\( \frac{25}{4} \pi \)"),
    ("Thinks there are 10 centimetres in a metre", "units_cm_m", {"x": F("3.5"), "down": True, "to": "cm"},
     r"\( 35 \mathrm{~cm} \)"),
    ("Thinks there are 100 minutes in an hour", "units_minutes_hours", {"x": F(5, 2), "down": True, "to": "minutes"},
     "250 minutes"),
    ("Adds zeros onto the end of a decimal when multiplying by a power of ten", "times_power_ten",
     {"x": F("3.4"), "k": 2, "f": 100}, r"\( 3.400 \)"),
    ("Does not square the units when calculating area", "area_rectangle", {"l": 4, "wd": 3}, r"\( 12 \mathrm{~cm} \)"),
    ("Believes the square of a negative will also be negative", "square_negative", {"a": 3}, r"\( -9 \)"),
    ("Uses additive rather than multiplicative reasoning in proportion problems", "direct_proportion",
     {"k": 3, "m": 5, "C": 12}, "£14"),
    ("Writes the numerator and the denominator either side of a decimal point", "fraction_to_decimal",
     {"a": 3, "b": 20}, r"\( 3.20 \)"),
    ("Mixes up the sides of a ratio", "ratio_simplify", {"a": 2, "b": 3, "P": 12, "Q": 18, "g": 6}, r"\( 3: 2 \)"),
    ("Only multiplies the first term in the expansion of a bracket", "expand_single",
     {"a": 3, "b": 2, "c": 5, "s": 1}, r"\( 6 x+5 \)"),
    ("Believes angles on a straight line add to 90 degrees", "angle_straight_line", {"g0": 35, "given": [35]},
     r"\( 55^{\circ} \)"),
    ("Believes angles on a straight line add to 90 degrees", "angle_straight_line", {"g0": 135, "given": [135]}, None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "construct", "p", "expected"), HAND_CHECKED)
def test_mechanisms_give_the_hand_computed_wrong_answer(name, construct, p, expected):
    assert wrong(name, construct, **p) == expected


@pytest.mark.parametrize(
    ("construct", "p", "expected"),
    [
        ("frac_add", {"a": 1, "b": 2, "c": 1, "d": 3}, r"\( \frac{5}{6} \)"),
        ("round_-1", {"x": F("3.96"), "exp": -1}, r"\( 4.0 \)"),
        ("area_rectangle", {"l": 4, "wd": 3}, r"\( 12 \mathrm{~cm}^{2} \)"),
        ("units_minutes_hours", {"x": F(5, 2), "down": True, "to": "minutes"}, "150 minutes"),
        ("direct_proportion", {"k": 3, "m": 5, "C": 12}, "£20"),
    ],
)
def test_correct_answers_are_hand_checked(construct, p, expected):
    assert answer(CONSTRUCTS[construct], CONSTRUCTS[construct].correct(p)).text == expected


def test_every_catalogue_misconception_can_be_the_target_on_each_of_its_constructs():
    rng = np.random.default_rng(0)
    by_construct = {key: [m for m in CATALOGUE if key in m.constructs] for key in CONSTRUCTS}
    assert all(by_construct.values())  # every construct has a misconception
    for misconception in CATALOGUE:
        for key in misconception.constructs:
            q = write_question(CONSTRUCTS[key], misconception, lambda key=key: by_construct[key], rng)
            assert misconception.id in q.labels and q.labels[q.correct] is None
            assert len({a.key for a in q.answers}) == len({a.text for a in q.answers}) == 4


def test_near_duplicate_names_exist_and_differ_in_their_answers(data):
    names = [m.name for m in CATALOGUE]
    pairs = {(names[i], names[j]) for i, j in near_duplicates(names)}
    assert ("Rounds down instead of up", "Rounds up instead of down") in pairs
    assert ("Believes you multiply the denominators when adding fractions",
            "Believes you add the denominators when adding fractions") in pairs  # fmt: skip
    assert ("Confuses the radius with the diameter", "Confuses the diameter with the radius") in pairs
    assert len(near_duplicates(data.misconceptions["MisconceptionName"].tolist())) >= 50
    assert near_duplicates(["Adds the numerators", "Adds the numerators and the denominators", "Adds the tops"]) == [
        (0, 2)
    ]


def test_catalogue_covers_many_families_and_names_are_unique():
    families = Counter(CONSTRUCTS[m.constructs[0]].family for m in CATALOGUE)
    assert len(families) >= 10 and len(CATALOGUE) >= 300
    assert len({m.name for m in CATALOGUE}) == len(CATALOGUE)
    chosen = catalogue(300, np.random.default_rng(0))
    assert [m.id for m in chosen] == list(range(300)) and len({m.name for m in chosen}) == 300
    with pytest.raises(ValueError, match="the catalogue holds 1 to"):
        catalogue(len(CATALOGUE) + 1, np.random.default_rng(0))


def test_too_few_misconceptions_for_the_split_is_a_clear_error():
    with pytest.raises(ValueError, match="n_misconceptions=60 is too few"):
        generate(n_misconceptions=60, n_train=400, n_test=150)
    big = generate(n_misconceptions=150, n_train=500, n_test=60)  # more questions than the split's share
    assert len(big.train) == 500 and len(big.in_train) <= 150 - 24 - 22


def test_cli_writes_the_sample_and_summarises_it(tmp_path, capsys):
    main(["--out", str(tmp_path / "cli"), "--seed", "3", "--n-train", "40", "--n-test", "20"])
    assert len(pd.read_csv(tmp_path / "cli" / "train.csv")) == 40
    out = capsys.readouterr().out
    assert out.startswith("wrote the Eedi sample") and "unseen in train" in out and out.count("\n") == 1
