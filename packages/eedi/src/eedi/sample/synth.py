"""A deterministic Eedi sample in the Kaggle layout, whose wrong answers are computed from misconceptions.

Written files (``train.csv`` last: its presence marks a complete sample):

- ``misconception_mapping.csv``: the ``n_misconceptions`` drawn from :mod:`catalogue`, ids 0..n-1 in a
  shuffled order; many of them occur nowhere, as in the real mapping;
- ``train.csv`` / ``test.csv`` (Kaggle's columns; misconception ids written as floats with NaN) and
  ``test_labels.csv`` (long ``QuestionId_Answer, MisconceptionId``: the labelled test rows only);
- ``sample_submission.csv``: every wrong answer of every test question, with 25 placeholder ids;
- ``extra/synthetic.csv``: one question per misconception of the mapping in train's layout, the stand-in
  for the LLM-written questions the winners made for misconceptions without a training question (here
  written by the same templates, which the report must say).

Each question targets one misconception: a construct it applies to is drawn, numbers are drawn until its
mechanism gives an answer different from the correct one, and the two other wrong answers come from other
misconceptions of that construct (labelled) or are slips (unlabelled: ``SLIP_RATE`` of the time, and
whenever no misconception fits; about a quarter of train's wrong answers end up unlabelled, Kaggle has 22 %).
The split mimics the competition: the misconceptions are divided into *train*, *unseen* (test only),
*unused* (in the mapping and the synthetic set only) and *spare* (joins train or test when first used as
a neighbouring wrong answer). Test questions target an unseen or a seen misconception, whichever has
fewer labelled test rows so far, so about half of the labelled test rows are unseen in train. Train
targets follow a Zipf law (a few frequent misconceptions, a long tail with one or two questions).
QuestionIds: train ``0..``, test ``10000..``, synthetic ``100000..``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from eedi.data import (
    ANSWER_COLUMNS,
    LETTERS,
    MISCONCEPTION_COLUMNS,
    QUESTION_COLUMNS,
    load_competition,
    to_long,
)
from eedi.sample.answers import Ans
from eedi.sample.catalogue import Misconception, catalogue, near_duplicates
from eedi.sample.families import CONSTRUCT_IDS, CONSTRUCTS, SUBJECT_IDS, Construct, answer, slips

TEST_START = 10_000
SYNTHETIC_START = 100_000
SLIP_RATE = 0.05  # chance that a non-target wrong answer is a slip (then unlabelled)
ZIPF = 0.7  # exponent of the train targets' frequencies
SHARE_IN_TRAIN = 0.45  # misconceptions of the train group, per train question (at most what is left)
SHARE_UNSEEN = 0.4  # misconceptions unseen in train but in test, per test question
SHARE_UNUSED = 0.15  # of the mapping: never in train or test (only in the synthetic set)


@dataclass
class Question:
    """A written question: its answers in letter order, the correct letter's index and each letter's label."""

    construct: Construct
    text: str
    answers: list[Ans]
    correct: int
    labels: list[int | None]  # misconception id per letter (None: the correct answer, or a slip)


def _fresh(candidate: Ans | None, answers: Sequence[Ans]) -> bool:
    return candidate is not None and all(candidate.key != a.key and candidate.text != a.text for a in answers)


def write_question(construct: Construct, target: Misconception | None,
                   candidates: Callable[[], list[Misconception]], rng: np.random.Generator, *,
                   slip_rate: float = SLIP_RATE, avoid: set[str] | None = None,
                   tries: int = 200) -> Question:  # fmt: skip
    """A question of ``construct`` whose first wrong answer is ``target``'s; each other wrong answer is the
    first fitting misconception of ``candidates()`` (a fresh preference order each time) unless it is a
    slip. Texts in ``avoid`` are redrawn during the first half of the tries."""
    for attempt in range(tries):
        p = construct.draw(rng) | {"construct": construct.key, "w": int(rng.integers(6))}
        text = construct.text(p)
        if avoid is not None and text in avoid and attempt < tries // 2:
            continue
        correct = answer(construct, construct.correct(p))
        if correct is None:
            raise AssertionError(f"construct {construct.key!r} cannot write its correct answer for {p}")
        answers, labels = [correct], [None]
        if target is not None:
            wrong = answer(construct, target.apply(p))
            if not _fresh(wrong, answers):
                continue
            answers.append(wrong)
            labels.append(target.id)
        while len(answers) < 4:
            found = None
            if rng.random() >= slip_rate:
                found = next(((a, m.id) for m in candidates() if _fresh(a := answer(construct, m.apply(p)), answers)),
                             None)  # fmt: skip
            if found is None:
                found = next(((s, None) for s in slips(construct, p, rng) if _fresh(s, answers)), None)
            if found is None:
                break
            answers.append(found[0])
            labels.append(found[1])
        if len(answers) < 4:
            continue
        order = rng.permutation(4)
        return Question(construct, text, [answers[i] for i in order], int(np.flatnonzero(order == 0)[0]),
                        [labels[i] for i in order])  # fmt: skip
    raise RuntimeError(f"no question of {construct.key!r} fits {target.name if target else 'no target'!r}")


@dataclass
class Sample:
    """The mapping, the three question sets and the split of the misconceptions."""

    misconceptions: list[Misconception]
    train: list[Question]
    test: list[Question]
    synthetic: list[Question]
    unseen: list[int]  # ids of the test labels that train never uses
    in_train: list[int]  # ids of the train labels


def _shuffled(items: list, rng: np.random.Generator) -> list:
    return [items[i] for i in rng.permutation(len(items))]


def generate(*, n_misconceptions: int = 300, n_train: int = 400, n_test: int = 150, seed: int = 0) -> Sample:
    """The mapping, the split and the train, test and synthetic questions, all from one seeded generator.

    Each misconception starts in one group: ``train`` (train targets, Zipf-weighted; the frequent ones are
    those whose constructs have many neighbours), ``unseen`` (test targets only), ``unused`` (synthetic set
    only) or ``spare``. A neighbouring wrong answer comes from the groups its split may use; a spare one
    joins the split's group once used, which keeps train's labels dense and gives the test unseen wrong
    answers beyond its targets. Each test question targets an unseen or a seen misconception, whichever
    has fewer labelled test rows so far, and prefers neighbours from that side too.
    """
    if n_train < 1 or n_test < 2 or n_train >= TEST_START or n_test > SYNTHETIC_START - TEST_START:
        raise ValueError(f"n_train={n_train}, n_test={n_test}: need 1 <= n_train < {TEST_START} and "
                         f"2 <= n_test <= {SYNTHETIC_START - TEST_START}")  # fmt: skip
    rng = np.random.default_rng(seed)
    mapping = catalogue(n_misconceptions, rng)
    k_unseen, k_unused = max(1, round(SHARE_UNSEEN * n_test)), round(SHARE_UNUSED * n_misconceptions)
    k_train = min(max(1, round(SHARE_IN_TRAIN * n_train)), n_misconceptions - k_unseen - k_unused)
    if k_train < 1:
        raise ValueError(f"n_misconceptions={n_misconceptions} is too few: the split needs {k_unseen} unseen in "
                         f"train for test, {k_unused} unused and some for train")  # fmt: skip
    order = [mapping[i] for i in rng.permutation(n_misconceptions)]
    unseen, in_train = order[:k_unseen], order[k_unseen : k_unseen + k_train]
    group = dict.fromkeys((m.id for m in mapping), "spare")
    group |= dict.fromkeys((m.id for m in unseen), "unseen") | dict.fromkeys((m.id for m in in_train), "train")
    group |= dict.fromkeys((m.id for m in order[n_misconceptions - k_unused :]), "unused")
    by_construct: dict[str, list[Misconception]] = {key: [] for key in CONSTRUCTS}
    for m in mapping:
        for key in m.constructs:
            by_construct[key].append(m)
    # the frequent train misconceptions are those with many possible neighbours (fewer unlabelled slips)
    siblings = [sum(group[o.id] in ("train", "spare") for key in m.constructs for o in by_construct[key])
                for m in in_train]  # fmt: skip
    in_train = [in_train[i] for i in np.argsort(-np.asarray(siblings), kind="stable")]
    weights = 1.0 / np.arange(1, k_train + 1) ** ZIPF
    weights /= weights.sum()
    frequent = lambda count: [in_train[i] for i in rng.choice(k_train, size=count, p=weights)]  # noqa: E731
    test_rows = {"unseen": 0, "train": 0}  # labelled test rows by group

    def fillers(groups: Sequence[str]) -> Callable[[Construct, Misconception], list[Misconception]]:
        def candidates(construct: Construct, target: Misconception) -> list[Misconception]:
            pool = [m for m in by_construct[construct.key] if m is not target]
            return [m for g in groups for m in _shuffled([m for m in pool if group[m.id] == g], rng)]

        return candidates

    def behind() -> bool:
        """Whether the test has no more unseen than seen labelled rows so far."""
        return test_rows["unseen"] <= test_rows["train"]

    def test_fillers(construct: Construct, target: Misconception) -> list[Misconception]:
        return fillers(("unseen", "spare", "train") if behind() else ("train", "unseen"))(construct, target)

    avoid: set[str] = set()
    train = []
    for target in _shuffled(in_train + frequent(n_train - k_train), rng):
        train.append(_question(target, fillers(("train", "spare")), rng, avoid))
        for m in train[-1].labels:
            if m is not None and group[m] == "spare":
                group[m] = "train"
    test, queue = [], list(unseen)
    for _ in range(n_test):
        if behind():
            target = queue.pop() if queue else unseen[int(rng.integers(k_unseen))]
        else:
            target = frequent(1)[0]
        test.append(_question(target, test_fillers, rng, avoid))
        for m in test[-1].labels:
            if m is not None:
                group[m] = "unseen" if group[m] == "spare" else group[m]
                test_rows[group[m]] += 1
    synthetic = [_question(target, fillers(("train", "unseen", "spare", "unused")), rng, avoid) for target in mapping]
    seen = {m for q in train for m in q.labels if m is not None}
    unseen_ids = {m for q in test for m in q.labels if m is not None} - seen
    return Sample(mapping, train, test, synthetic, sorted(unseen_ids), sorted(seen))


def _question(target: Misconception, pick_fillers, rng: np.random.Generator, avoid: set[str]) -> Question:
    """A question on one of ``target``'s constructs (drawn), its text added to ``avoid``."""
    construct = CONSTRUCTS[target.constructs[int(rng.integers(len(target.constructs)))]]
    question = write_question(construct, target, lambda: pick_fillers(construct, target), rng, avoid=avoid)
    avoid.add(question.text)
    return question


def _frame(questions: Sequence[Question], first_id: int, labelled: bool) -> pd.DataFrame:
    rows = []
    for offset, q in enumerate(questions):
        row = {"QuestionId": first_id + offset, "ConstructId": CONSTRUCT_IDS[q.construct.key],
               "ConstructName": q.construct.name, "SubjectId": SUBJECT_IDS[q.construct.subject],
               "SubjectName": q.construct.subject, "CorrectAnswer": LETTERS[q.correct], "QuestionText": q.text,
               **{col: a.text for col, a in zip(ANSWER_COLUMNS, q.answers, strict=True)}}  # fmt: skip
        if labelled:
            row |= {col: np.nan if m is None else float(m)
                    for col, m in zip(MISCONCEPTION_COLUMNS, q.labels, strict=True)}  # fmt: skip
        rows.append(row)
    columns = [*QUESTION_COLUMNS, *(MISCONCEPTION_COLUMNS if labelled else ())]
    return pd.DataFrame(rows, columns=columns)


def _long_labels(questions: Sequence[Question], first_id: int) -> pd.DataFrame:
    rows = [(f"{first_id + offset}_{letter}", m) for offset, q in enumerate(questions)
            for letter, m in zip(LETTERS, q.labels, strict=True) if m is not None]  # fmt: skip
    return pd.DataFrame(rows, columns=["QuestionId_Answer", "MisconceptionId"])


def make_sample(directory: str | Path, *, n_misconceptions: int = 300, n_train: int = 400, n_test: int = 150,
                seed: int = 0) -> Path:  # fmt: skip
    """Write the sample (see the module docstring) into ``directory``; the same seed gives the same bytes."""
    out = Path(directory)
    (out / "extra").mkdir(parents=True, exist_ok=True)
    sample = generate(n_misconceptions=n_misconceptions, n_train=n_train, n_test=n_test, seed=seed)
    csv = {"index": False, "lineterminator": "\n"}
    (out / "train.csv").unlink(missing_ok=True)  # a half-rewritten sample must not look finished
    pd.DataFrame({"MisconceptionId": [m.id for m in sample.misconceptions],
                  "MisconceptionName": [m.name for m in sample.misconceptions]}).to_csv(
        out / "misconception_mapping.csv", **csv)  # fmt: skip
    _frame(sample.synthetic, SYNTHETIC_START, True).to_csv(out / "extra" / "synthetic.csv", **csv)
    test = _frame(sample.test, TEST_START, False)
    test.to_csv(out / "test.csv", **csv)
    _long_labels(sample.test, TEST_START).to_csv(out / "test_labels.csv", **csv)
    placeholder = " ".join(str(m.id) for m in sample.misconceptions[:25])
    keys = [f"{qid}_{letter}" for qid, correct in zip(test["QuestionId"], test["CorrectAnswer"], strict=True)
            for letter in LETTERS if letter != correct]  # fmt: skip
    pd.DataFrame({"QuestionId_Answer": keys, "MisconceptionId": placeholder}).to_csv(
        out / "sample_submission.csv", **csv)  # fmt: skip
    _frame(sample.train, 0, True).to_csv(out / "train.csv", **csv)
    return out


def describe(data_dir: str | Path) -> dict[str, float]:
    """What makes the sample's problem real, measured on its files: label coverage, the skew of train's
    misconception frequencies, the unseen share of the labelled test rows and the near-duplicate names.
    Any data dir in the Kaggle layout will do; the test figures need ``test_labels.csv``."""
    synthetic = Path(data_dir) / "extra" / "synthetic.csv"
    data = load_competition(data_dir, extra=[synthetic] if synthetic.is_file() else [])
    train_ids = to_long(data.train, labelled=True)["MisconceptionId"].dropna()
    counts = train_ids.value_counts()
    wrong = 3 * len(data.train)
    test_ids = data.test_labels["MisconceptionId"] if data.test_labels is not None else pd.Series(dtype=int)
    unseen = ~test_ids.isin(set(counts.index))
    names = data.misconceptions["MisconceptionName"].tolist()
    used = set(counts.index) | set(test_ids)
    return {
        "misconceptions": len(names),
        "train_questions": len(data.train),
        "test_questions": len(data.test),
        "extra_questions": len(data.extra),
        "train_label_rate": len(train_ids) / wrong if wrong else 0.0,
        "train_misconceptions": len(counts),
        "train_most_frequent": int(counts.max()) if len(counts) else 0,
        "train_rare": int((counts <= 2).sum()),
        "test_labelled_rows": len(test_ids),
        "test_misconceptions": int(test_ids.nunique()),
        "test_unseen_misconceptions": int(test_ids[unseen].nunique()),
        "test_unseen_share": float(unseen.mean()) if len(test_ids) else 0.0,
        "unused_misconceptions": len(names) - len(used),
        "near_duplicate_pairs": len(near_duplicates(names)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic Eedi sample: maths questions whose wrong answers are computed from a "
        "catalogue of misconceptions, in the Kaggle layout."
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-misconceptions", type=int, default=300, help="size of the mapping")
    parser.add_argument("--n-train", type=int, default=400)
    parser.add_argument("--n-test", type=int, default=150)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = make_sample(args.out, n_misconceptions=args.n_misconceptions, n_train=args.n_train, n_test=args.n_test,
                      seed=args.seed)  # fmt: skip
    seconds = time.perf_counter() - start
    s = describe(out)
    print(f"wrote the Eedi sample to {out} in {seconds:.1f} s: {s['train_questions']} train and "
          f"{s['test_questions']} test questions, {s['misconceptions']} misconceptions ({s['train_misconceptions']} "
          f"in train, {s['test_misconceptions']} in test; {s['test_unseen_share']:.0%} of the labelled test rows "
          f"unseen in train; {s['near_duplicate_pairs']} near-duplicate name pairs), {s['extra_questions']} "
          "template-written synthetic questions in extra/synthetic.csv")  # fmt: skip
