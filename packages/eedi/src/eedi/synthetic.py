"""Synthetic questions for misconceptions that no training question has (§11.8).

Most misconceptions of the test set never occur in train.csv, so a retriever or reranker trained on train
alone has never seen them as a positive. The winners had an LLM write questions for them: 1st place had
Claude 3.5 Sonnet write ~10.6k questions (5 per cluster of related misconceptions, judged by GPT-4o); 5th
place had Gemini write one question per unseen misconception, 4-shot, the shots chosen from misconceptions
with similar names (+0.01 CV over random shots; more than one question per misconception did worse).

Here each target misconception (by default those with no training row, ``only_unseen``) is sent
``per_misconception`` times to the generator with :func:`request`: the misconception, ``few_shot`` training
questions of the misconceptions whose names are closest (TF-IDF over names) written in the reply format
(:func:`format_example`), and the fixed reply format (:data:`FORMAT`): construct, subject, question, the
correct answer, the incorrect answer a pupil with this misconception gives, and two other incorrect answers.
The answer is started with ``Construct:`` so that even a small model stays in the format.

Every generation goes through :func:`parse`, which returns the question or the reason it is rejected (a
missing or empty field, a wrong number of answers, a formula cut short, an "incorrect" answer equal to the
correct one, two equal answers: :data:`PARSE_REASONS`), then two filters: the question must not be a training question, nor one generated before. Nothing is dropped
silently: ``counts`` has ``asked == kept + sum(dropped_*)`` and ``parsed == asked - sum(dropped_<parse
reason>)``. The kept questions come out in train.csv's wide layout (QuestionIds from ``id_start``, far above
the competition's, the four answers shuffled to letters with the seed, the targeted incorrect answer
labelled with its misconception and the two others unlabelled), ready to be named as an extra set.

``eedi-generate --config recipe.yaml [--data-dir DIR] [--output-dir DIR]`` writes ``synthetic.csv``,
``counts.json`` and the resolved ``config.yaml`` into the run folder. On CPU the generator is
``tiny:qwen2-pretrained`` (``chat_template: false``), pretrained on each labelled training question written
as the answer to its own request (:func:`pretraining_texts`), so that it has seen the task it is asked.

:class:`SynthConfig` extends ``shared.generation.GenerationConfig`` (the generator, backend, decoding and
vLLM engine fields, shared with ``eedi.explain`` and the other chapters' generators) with the task's fields;
``shared.generation.make_backend`` builds the backend.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import yaml
from transformers import HfArgumentParser

from eedi.data import LETTERS, MISCONCEPTION_COLUMNS, TRAIN_COLUMNS, to_long
from eedi.tfidf import TfidfRetriever
from shared.generation import Backend, GenerationConfig, Messages, make_backend, render
from shared.recipes import ConfigError, flag, parse_config

PARSE_REASONS = (
    "missing_field", "too_few_answers", "too_many_answers", "empty_field", "unbalanced_latex",
    "incorrect_is_correct", "duplicate_options",
)  # fmt: skip
FILTER_REASONS = ("copied_question", "duplicate_question")
FIELDS = ("construct", "subject", "question", "correct", "incorrect", "other1", "other2")

SYSTEM = (
    "You are a maths teacher who writes diagnostic multiple-choice questions: each incorrect answer is the "
    "one a pupil with a particular misconception would give."
)
FORMAT = (
    "Construct: <the skill the question tests>\nSubject: <the topic>\nQuestion: <the question>\n"
    "Correct answer: <the answer>\nIncorrect answer: <the answer a pupil with this misconception gives>\n"
    "Other incorrect answer: <another plausible mistake>\nOther incorrect answer: <another plausible mistake>"
)
ANSWER_START = "Construct:"


@dataclass
class SynthConfig(GenerationConfig):
    """What ``eedi-generate`` asks for, and with which model and engine."""

    generator: str = flag(
        "Qwen/Qwen2.5-72B-Instruct-AWQ", "the LLM (HF id or path); 'tiny:qwen2-pretrained' on CPU"
    )
    only_unseen: bool = flag(True, "write questions only for misconceptions that no training row has")
    max_misconceptions: int = flag(0, "a seeded sample of this many target misconceptions (0 = all)")
    per_misconception: int = flag(1, "questions asked per misconception, each sampled anew")
    few_shot: int = flag(4, "training questions of the closest-named misconceptions shown in the prompt")
    id_start: int = flag(1_000_000, "QuestionId of the first kept question (far above train's and test's)")

    LOWEST: ClassVar[dict] = GenerationConfig.LOWEST | {
        "max_misconceptions": 0, "per_misconception": 1, "few_shot": 0, "id_start": 1,
    }  # fmt: skip


# --- prompt, reply format and parser ------------------------------------------------------------------------


def request(misconception_name: str, examples: Sequence[str] = ()) -> Messages:
    """The chat asking for one question that diagnoses the misconception; ``examples`` are
    :func:`format_example` texts. The last (assistant) message starts the answer."""
    shown = ""
    if examples:
        shown = "Questions written for related misconceptions:\n\n" + "\n\n".join(e.strip() for e in examples)
        shown += "\n\n"
    user = (
        f"{shown}Write one new multiple-choice maths question that diagnoses this misconception:\n"
        f"Misconception: {misconception_name.strip()}\n\n"
        "The incorrect answer must be exactly the answer a pupil with this misconception gives; the correct "
        "answer and the three incorrect answers must all differ. Reply in exactly this format:\n" + FORMAT
    )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user},
        {"role": "assistant", "content": ANSWER_START},
    ]


def format_reply(question: dict[str, str]) -> str:
    """A question (:data:`FIELDS`) written in :data:`FORMAT`: what :func:`parse` reads."""
    q = question
    return (f"Construct: {q['construct']}\nSubject: {q['subject']}\nQuestion: {q['question']}\n"
            f"Correct answer: {q['correct']}\nIncorrect answer: {q['incorrect']}\n"
            f"Other incorrect answer: {q['other1']}\nOther incorrect answer: {q['other2']}")  # fmt: skip


def format_example(row, letter: str, name: str) -> str:
    """A wide training row written as the reply for its wrong answer ``letter`` (whose misconception is
    ``name``), under a ``Misconception:`` line: a few-shot example. The two other wrong answers follow in
    letter order."""
    correct = row["CorrectAnswer"]
    if letter == correct or letter not in LETTERS:
        raise ValueError(f"question {row['QuestionId']}: {letter!r} is not one of its wrong answers")
    others = [row[f"Answer{x}Text"] for x in LETTERS if x not in (correct, letter)]
    question = dict(construct=row["ConstructName"], subject=row["SubjectName"], question=row["QuestionText"],
                    correct=row[f"Answer{correct}Text"], incorrect=row[f"Answer{letter}Text"],
                    other1=others[0], other2=others[1])  # fmt: skip
    return f"Misconception: {name}\n" + format_reply({k: str(v).strip() for k, v in question.items()})


_KEYS = {"construct": "construct", "subject": "subject", "question": "question", "correct answer": "correct",
         "incorrect answer": "incorrect", "other incorrect answer": "other"}  # fmt: skip
_FIELD = re.compile(
    r"^[\s*#>-]*(construct|subject|question|correct answer|incorrect answer|other incorrect answer)"
    r"(?:\s*\d)?\s*\**\s*[:：]\s*\**\s*(.*)$", re.I,
)  # fmt: skip


def _norm(text: str) -> str:
    """A text compared for equality: lower case, LaTeX delimiters and all whitespace gone, no final full stop
    (signs and symbols stay: "-3" is not "3")."""
    text = re.sub(r"\\[()\[\]]|\$", "", str(text).lower())
    return re.sub(r"\s+", "", text).rstrip(".")


_PLACEHOLDER = re.compile(r"<[^<>]*>")


def _unbalanced(text: str) -> bool:
    """Braces or inline-maths delimiters that do not pair up: a formula cut short or garbled."""
    return text.count("{") != text.count("}") or text.count("\\(") != text.count("\\)")


def parse(text: str) -> dict[str, str] | str:
    """The question (:data:`FIELDS`) from a generation in :data:`FORMAT`, or the reason it is rejected (one
    of :data:`PARSE_REASONS`). Each field is a ``Name: value`` line (markdown bold and list marks allowed);
    the question may go on over the next lines; other lines (explanations, chatter) are ignored, and a field
    seen a second time (a second question) ends the reply."""
    found: dict[str, str] = {}
    others: list[str] = []
    current = None
    for line in text.strip().splitlines():
        match = _FIELD.match(line)
        if match:
            key, value = _KEYS[match.group(1).lower()], match.group(2).strip().rstrip("*").strip()
            if key == "other":
                others.append(value)
            elif key in found or others:  # a second question, or a field after the answers
                break
            else:
                found[key] = value
            current = key
        elif current == "question" and line.strip():
            found["question"] = (found["question"] + "\n" + line.strip()).strip()
    if any(key not in found for key in FIELDS[:5]):
        return "missing_field"
    if len(others) < 2:
        return "too_few_answers"
    if len(others) > 2:
        return "too_many_answers"
    question = {**found, "other1": others[0], "other2": others[1]}
    if not all(_norm(value) and not _PLACEHOLDER.fullmatch(value) for value in question.values()):
        return "empty_field"  # an empty formula, or the format's "<placeholder>" copied, is empty too
    if any(_unbalanced(question[key]) for key in FIELDS):
        return "unbalanced_latex"
    if _norm(question["incorrect"]) == _norm(question["correct"]):
        return "incorrect_is_correct"
    answers = {_norm(question[key]) for key in ("correct", "incorrect", "other1", "other2")}
    if len(answers) < 4:
        return "duplicate_options"
    return {key: question[key] for key in FIELDS}


# --- targets and few-shot examples --------------------------------------------------------------------------


def seen_ids(train: pd.DataFrame) -> set[int]:
    """The misconception ids that label at least one training answer."""
    ids = pd.concat([train[c] for c in MISCONCEPTION_COLUMNS]).dropna()
    return {int(i) for i in ids}


def pick_misconceptions(
    config: SynthConfig, misconceptions: pd.DataFrame, train: pd.DataFrame
) -> pd.DataFrame:
    """The misconceptions asked about: those without a training row when ``only_unseen`` (else all), a
    seeded sample of ``max_misconceptions`` of them (all when 0 or fewer are left), in file order."""
    chosen = misconceptions
    if config.only_unseen:
        chosen = chosen[~chosen["MisconceptionId"].isin(seen_ids(train))]
    if config.max_misconceptions and config.max_misconceptions < len(chosen):
        rows = np.random.default_rng(config.seed).choice(
            len(chosen), config.max_misconceptions, replace=False
        )
        chosen = chosen.iloc[np.sort(rows)]
    return chosen


def few_shot_examples(targets: pd.DataFrame, misconceptions: pd.DataFrame, train: pd.DataFrame,
                      k: int) -> list[list[str]]:  # fmt: skip
    """For each target misconception, the :func:`format_example` of the first training question of each of
    the ``k`` other misconceptions whose names are closest to its own (TF-IDF cosine over names; ties in
    file order), closest first."""
    if k == 0 or targets.empty:
        return [[] for _ in range(len(targets))]
    long = to_long(train, labelled=True).dropna(subset=["MisconceptionId"])
    firsts = long.drop_duplicates("MisconceptionId")
    if firsts.empty:
        return [[] for _ in range(len(targets))]
    names = dict(zip(misconceptions["MisconceptionId"], misconceptions["MisconceptionName"], strict=True))
    candidates = [int(i) for i in firsts["MisconceptionId"]]
    similar = (
        TfidfRetriever().fit([names[i] for i in candidates]).scores(targets["MisconceptionName"].tolist())
    )
    similar[np.asarray(targets["MisconceptionId"])[:, None] == np.asarray(candidates)[None, :]] = -np.inf
    wide = train.set_index("QuestionId", drop=False)
    out = []
    for row in similar:
        picks = [c for c in np.argsort(-row, kind="stable")[:k] if np.isfinite(row[c])]
        out.append([format_example(wide.loc[firsts["QuestionId"].iloc[c]], firsts["Answer"].iloc[c],
                                   names[candidates[c]]) for c in picks])  # fmt: skip
    return out


# --- generation ---------------------------------------------------------------------------------------------


def _ids(names: Sequence[str], known: dict[str, int]) -> list[int]:
    """An id per name: train's where the name is train's, else new ones after the largest known id."""
    known, last = dict(known), max(known.values(), default=0)
    for name in names:
        if name not in known:
            last += 1
            known[name] = last
    return [known[name] for name in names]


def to_wide(questions: Sequence[dict[str, str]], targets: Sequence[int], train: pd.DataFrame, *,
            id_start: int, seed: int) -> pd.DataFrame:  # fmt: skip
    """Parsed questions in train.csv's layout: QuestionIds from ``id_start``, the four answers shuffled to the
    letters (seeded), the incorrect answer labelled with its target misconception, the two others <NA>; a
    construct or subject keeps train's id when train has its name."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (q, target) in enumerate(zip(questions, targets, strict=True)):
        letters = [LETTERS[j] for j in rng.permutation(len(LETTERS))]  # correct, incorrect, other1, other2
        row = {"QuestionId": id_start + i, "ConstructName": q["construct"], "SubjectName": q["subject"],
               "CorrectAnswer": letters[0], "QuestionText": q["question"]}  # fmt: skip
        for letter, key in zip(letters, ("correct", "incorrect", "other1", "other2"), strict=True):
            row[f"Answer{letter}Text"] = q[key]
            row[f"Misconception{letter}Id"] = target if key == "incorrect" else pd.NA
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(TRAIN_COLUMNS))
    for kind in ("Construct", "Subject"):
        known = dict(zip(train[f"{kind}Name"], train[f"{kind}Id"], strict=True))
        frame[f"{kind}Id"] = pd.array(_ids(frame[f"{kind}Name"].tolist(), known), dtype="int64")
    frame["QuestionId"] = frame["QuestionId"].astype("int64")
    for column in MISCONCEPTION_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    return frame


def generate_questions(
    config: SynthConfig, misconceptions: pd.DataFrame, train: pd.DataFrame, backend: Backend | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Questions for the target misconceptions (:func:`pick_misconceptions`) and the counts (module
    docstring): ``{"misconceptions", "asked", "parsed", "dropped_<reason>" for every reason, "kept"}``.
    ``backend`` replaces the configured one (tests inject a scripted one)."""
    targets = pick_misconceptions(config, misconceptions, train)
    if targets.empty:
        raise ValueError("misconceptions: none to write questions for (every one has a training row)")
    examples = few_shot_examples(targets, misconceptions, train, config.few_shot)
    jobs = [(int(mid), request(name, shots))
            for mid, name, shots in zip(targets["MisconceptionId"], targets["MisconceptionName"], examples,
                                        strict=True)
            for _ in range(config.per_misconception)]  # fmt: skip
    backend = backend or make_backend(config)
    texts = backend.complete([messages for _, messages in jobs], config.seed, "generate questions")
    if len(texts) != len(jobs):
        raise RuntimeError(f"backend: {len(texts)} generations for {len(jobs)} requests")
    drops = dict.fromkeys(PARSE_REASONS + FILTER_REASONS, 0)
    copied, seen = {_norm(q) for q in train["QuestionText"]}, set()
    kept, labels = [], []
    for (mid, _), text in zip(jobs, texts, strict=True):
        parsed = parse(ANSWER_START + text)
        if isinstance(parsed, str):
            drops[parsed] += 1
            continue
        key = _norm(parsed["question"])
        if key in copied or key in seen:
            drops["copied_question" if key in copied else "duplicate_question"] += 1
            continue
        seen.add(key)
        kept.append(parsed)
        labels.append(mid)
    counts = {"misconceptions": len(targets), "asked": len(jobs),
              "parsed": len(jobs) - sum(drops[r] for r in PARSE_REASONS)}  # fmt: skip
    counts |= {f"dropped_{reason}": n for reason, n in drops.items()} | {"kept": len(kept)}
    return to_wide(kept, labels, train, id_start=config.id_start, seed=config.seed), counts


def pretraining_texts(train: pd.DataFrame, misconceptions: pd.DataFrame, few_shot: int,
                      repeat: int = 3) -> list[str]:  # fmt: skip
    """What a ``tiny:`` generator learns from: ``repeat`` times each labelled wrong answer of ``train`` as
    the reply to its own plain-text :func:`request` (with its ``few_shot`` examples), so that the stand-in
    has seen the task it is asked. These use the labels: build them from the run's training rows only,
    never from rows that are validated on."""
    long = to_long(train, labelled=True).dropna(subset=["MisconceptionId"])
    names = dict(zip(misconceptions["MisconceptionId"], misconceptions["MisconceptionName"], strict=True))
    ids = long["MisconceptionId"].astype(int).tolist()
    targets = pd.DataFrame({"MisconceptionId": ids, "MisconceptionName": [names[i] for i in ids]})
    shots = few_shot_examples(targets, misconceptions, train, few_shot)
    wide = train.set_index("QuestionId", drop=False)
    texts = []
    for row, target, examples in zip(long.itertuples(index=False), targets.itertuples(index=False), shots,
                                     strict=True):  # fmt: skip
        prompt, _ = render(None, request(target.MisconceptionName, examples), chat_template=False)
        reply = format_example(wide.loc[row.QuestionId], row.Answer, target.MisconceptionName)
        texts.append(prompt + reply.split("\n", 1)[1].removeprefix(ANSWER_START))
    return texts * repeat


# --- command ------------------------------------------------------------------------------------------------


@dataclass
class RunArguments:
    """Where ``eedi-generate`` reads and writes."""

    data_dir: str | None = flag(None, "the Kaggle files; default competitions/eedi/data, else the sample")
    output_dir: str | None = flag(None, "the run folder; default outputs/eedi/generate-<timestamp>")
    verbose: bool = flag(False, "show the libraries' own output instead of <run folder>/run.log")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((SynthConfig, RunArguments))


def generate_from_data(config: SynthConfig, run: RunArguments) -> str:
    """The command's work: load the data, generate, write ``synthetic.csv``, ``counts.json`` and
    ``config.yaml`` into the run folder; returns the summary line."""
    from eedi.data import load_competition  # the data layer and paths only when the command runs
    from eedi.paths import open_run, resolve_data_dir

    data_dir, described = resolve_data_dir(run.data_dir)
    data = load_competition(data_dir)
    taken = max([*data.train["QuestionId"], *data.test["QuestionId"]], default=0)
    if config.id_start <= taken:
        raise ConfigError(
            f"id_start: {config.id_start} is not above the largest train/test QuestionId {taken}"
        )
    folder = open_run(run.output_dir, "generate", run.verbose)
    (folder / "config.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))
    tiny = config.generator.startswith("tiny:")
    texts = pretraining_texts(data.train, data.misconceptions, config.few_shot) if tiny else ()
    frame, counts = generate_questions(config, data.misconceptions, data.train, make_backend(config, texts))
    frame.to_csv(folder / "synthetic.csv", index=False)
    (folder / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    dropped = [f"{name.removeprefix('dropped_')} {n}" for name, n in counts.items()
               if name.startswith("dropped_") and n]  # fmt: skip
    return (f"{config.generator} on {described}: {counts['kept']}/{counts['asked']} questions kept for "
            f"{counts['misconceptions']} misconceptions (dropped: {', '.join(dropped) or 'none'}); wrote "
            f"{folder / 'synthetic.csv'}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """``eedi-generate --config recipe.yaml [--data-dir DIR] [--output-dir DIR]``."""
    from eedi.data import DataError

    try:
        summary = generate_from_data(*parse_config(make_parser(), argv))
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    print(summary)


if __name__ == "__main__":
    main()
