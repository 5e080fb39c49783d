"""Question generation from corpus passages (§8.5.2): an LLM writes multiple-choice questions from the
Wikipedia-like passages, which become extra training sets (the winners trained on tens of thousands of
such questions, e.g. the public 60k set written by GPT-3.5 from STEM articles).

Each of ``n_passages`` passages (a seeded sample of those with at least ``min_passage_words`` words) is
sent ``per_passage`` times to the generator with :func:`request`: one question that the passage answers,
five options, in a fixed text format (:data:`FORMAT`). The answer is started with ``Question:`` so that
even a small model stays in the format. Every generation then goes through :func:`parse_mcq`, which
returns the question or the reason it is rejected, and two filters: the question must not be copied
verbatim from its passage, and must not repeat a question seen before (an earlier generation's or one of
the ``known`` ones, e.g. train.csv's). Nothing is dropped silently: ``counts`` has ``asked == kept +
sum(dropped_*)`` and ``parsed == asked - sum(dropped_<parse reason>)``.

Two backends behind one ``complete(requests, seed, desc) -> texts`` method (a test may inject its own):
``transformers`` (``generate`` on left-padded batches of ``batch_size``, batch ``b`` sampled from seed
``(seed, b)``; CPU or GPU) and ``vllm`` (``vllm.LLM.chat`` with the recipe's engine fields and one seed
per request; CUDA only, vLLM imported only there). With ``chat_template`` (instruct models) the messages go
through the generator's chat template; without it (base models, the tiny stand-in) as plain paragraphs.

``science-exam-generate --config recipe.yaml [--data-dir DIR] [--output FILE]`` chunks the corpus as the
recipe says, generates, and writes the kept questions (train.csv's layout plus ``passage_id``, ready to
be named in a recipe's ``extra``), with ``counts.json`` and the resolved ``config.yaml`` in the run folder.
On CPU the generator is ``tiny:qwen2-pretrained`` (``chat_template: false``), pretrained on the corpus and
on each training question written in :data:`FORMAT` as the answer to a plain-text request about the passage
holding its gold evidence (:func:`pretraining_texts`), so that it has seen the task it is asked.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import yaml
from transformers import HfArgumentParser

from science_exam.data import LETTERS
from shared.generation import Backend, GenerationConfig, Messages, make_backend, render
from shared.generation import VllmBackend as VllmBackend  # re-exported: callers reach qgen.VllmBackend
from shared.recipes import ConfigError, flag, parse_config

CHUNKS = ("paragraph", "sentences")
PARSE_REASONS = (
    "no_question", "too_few_options", "too_many_options", "bad_option_letters", "empty_option",
    "duplicate_options", "no_answer", "bad_answer",
)  # fmt: skip
FILTER_REASONS = ("copied_question", "duplicate_question")
COLUMNS = ("id", "prompt", *LETTERS, "answer", "passage_id")

SYSTEM = "You are a science teacher who writes multiple-choice exam questions."
FORMAT = "Question: <the question>\nA) <option>\nB) <option>\nC) <option>\nD) <option>\nE) <option>\nAnswer: <letter>"
ANSWER_START = "Question:"


@dataclass
class QgenConfig(GenerationConfig):
    """What ``science-exam-generate`` asks for, and with which model and engine (the generator, backend,
    decoding and engine fields are ``shared.generation.GenerationConfig``'s)."""

    top_p: float = flag(0.95, "nucleus sampling mass")
    n_passages: int = flag(5000, "how many passages to write questions from (0 = every eligible one)")
    per_passage: int = flag(1, "questions asked per passage, each sampled anew")
    min_passage_words: int = flag(30, "passages with fewer words are never asked about")
    chunk_mode: str = flag("paragraph", "how the corpus becomes passages: paragraph | sentences")
    chunk_window: int = flag(3, "chunk_mode sentences: sentences per passage")
    chunk_overlap: int = flag(1, "chunk_mode sentences: sentences two neighbouring passages share")

    CHOICES: ClassVar[dict] = GenerationConfig.CHOICES | {"chunk_mode": CHUNKS}
    LOWEST: ClassVar[dict] = GenerationConfig.LOWEST | {
        "n_passages": 0, "per_passage": 1, "min_passage_words": 1, "chunk_window": 1,
    }  # fmt: skip

    def problems(self) -> list[tuple[str, str]]:
        """The shared rules, then an overlap smaller than its window."""
        problems = super().problems()
        if not 0 <= self.chunk_overlap < self.chunk_window:
            problems.append(("chunk_overlap", "must be in [0, chunk_window)"))
        return problems


# --- prompt and parser --------------------------------------------------------------------------------------


def request(title: str, passage: str) -> Messages:
    """The chat asking for one MCQ on ``passage``; the last (assistant) message starts the answer."""
    user = (
        f'Passage from the article "{title}":\n{passage.strip()}\n\n'
        "Write one multiple-choice question that a student can answer from this passage. Give five options, "
        "exactly one of them right and the four others plausible but wrong, all different. Do not copy a "
        f"sentence of the passage as the question. Reply in exactly this format:\n{FORMAT}"
    )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user},
        {"role": "assistant", "content": ANSWER_START},
    ]


def format_mcq(row) -> str:
    """An MCQ (``prompt``, ``A``..``E``, ``answer``) written in :data:`FORMAT`: what :func:`parse_mcq` reads
    and what a tiny generator is pretrained on."""
    options = "".join(f"\n{letter}) {row[letter]}" for letter in LETTERS)
    return f"{ANSWER_START} {row['prompt']}{options}\nAnswer: {row['answer']}"


_OPTION = re.compile(r"^\s*\(?([A-Za-z])\s*[).:]\s?(.*)$")
_ANSWER = re.compile(r"^\s*(?:correct\s+)?answer\s*[:：]\s*(.*)$", re.I)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def parse_mcq(text: str) -> dict[str, str] | str:
    """``{"prompt", "A".."E", "answer"}`` from a generation in :data:`FORMAT` (the first question in it;
    anything after its ``Answer:`` line is ignored), or the reason it is rejected (one of
    :data:`PARSE_REASONS`). A question may span lines up to the first option; each option is one line
    ``X) text`` (``X.`` and ``X:`` too); the answer is the letter at the start of the ``Answer:`` line."""
    lines = text.strip().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().lower().startswith("question:")), None)
    if start is None:
        return "no_question"
    question, options, answer = [lines[start].strip()[len("question:") :].strip()], [], None
    for line in lines[start + 1 :]:
        found = _ANSWER.match(line)
        if found:
            answer = found.group(1).strip()
            break
        option = _OPTION.match(line)
        if option:
            options.append((option.group(1), option.group(2).strip()))
        elif options:  # text after the options that is neither an option nor the answer: ignore it
            continue
        else:
            question.append(line.strip())
    question = " ".join(q for q in question if q)
    if not question:
        return "no_question"
    if len(options) < len(LETTERS):
        return "too_few_options"
    if len(options) > len(LETTERS):
        return "too_many_options"
    if tuple(letter.upper() for letter, _ in options) != LETTERS:
        return "bad_option_letters"
    texts = [option for _, option in options]
    if not all(texts):
        return "empty_option"
    if len({_norm(t) for t in texts}) < len(texts):
        return "duplicate_options"
    if not answer:
        return "no_answer"
    letter = re.match(r"^[(\[*\s]*([A-Za-z])(?![A-Za-z])", answer)
    if letter is None or letter.group(1).upper() not in LETTERS:
        return "bad_answer"
    return {"prompt": question, **dict(zip(LETTERS, texts, strict=True)), "answer": letter.group(1).upper()}


# --- generation ---------------------------------------------------------------------------------------------


def pick_passages(config: QgenConfig, passages: pd.DataFrame) -> pd.DataFrame:
    """The passages asked about: those with ``min_passage_words`` words, a seeded sample of ``n_passages``
    of them (all when 0 or fewer are left), in corpus order."""
    missing = [c for c in ("passage_id", "title", "text") if c not in passages.columns]
    if missing:
        raise ValueError(f"passages: missing column(s) {missing}")
    eligible = passages[passages["text"].astype(str).str.split().str.len() >= config.min_passage_words]
    if config.n_passages and config.n_passages < len(eligible):
        rows = np.random.default_rng(config.seed).choice(len(eligible), config.n_passages, replace=False)
        eligible = eligible.iloc[np.sort(rows)]
    return eligible


def generate_questions(
    config: QgenConfig, passages: pd.DataFrame, backend: Backend | None = None, known: Sequence[str] = ()
) -> tuple[pd.DataFrame, dict[str, int]]:
    """MCQs written from ``passages`` (``passage_id, title, text``) and the counts (module docstring).

    Returns the kept rows (:data:`COLUMNS`; ids ``gen-<passage_id>-<k>``) and ``{"passages", "asked",
    "parsed", "dropped_<reason>" for every reason, "kept"}``. ``known`` questions (e.g. train.csv's) count
    as seen; ``backend`` replaces the configured one (tests inject a scripted one)."""
    chosen = pick_passages(config, passages)
    if chosen.empty:
        raise ValueError(f"passages: none has {config.min_passage_words} words or more to ask about")
    backend = backend or make_backend(config)
    jobs = [(p, k) for p in chosen.itertuples(index=False) for k in range(config.per_passage)]
    texts = backend.complete(
        [request(str(p.title), str(p.text)) for p, _ in jobs], config.seed, "generate questions"
    )
    if len(texts) != len(jobs):
        raise RuntimeError(f"backend: {len(texts)} generations for {len(jobs)} requests")
    drops = dict.fromkeys(PARSE_REASONS + FILTER_REASONS, 0)
    seen = {_norm(q) for q in known}
    rows = []
    for (p, k), text in zip(jobs, texts, strict=True):
        parsed = parse_mcq(ANSWER_START + text)
        if isinstance(parsed, str):
            drops[parsed] += 1
            continue
        key = _norm(parsed["prompt"])
        if f" {key} " in f" {_norm(str(p.text))} ":  # the whole question, word for word, in its passage
            drops["copied_question"] += 1
        elif key in seen:
            drops["duplicate_question"] += 1
        else:
            seen.add(key)
            rows.append({"id": f"gen-{p.passage_id}-{k}", **parsed, "passage_id": p.passage_id})
    counts = {"passages": len(chosen), "asked": len(jobs),
              "parsed": len(jobs) - sum(drops[r] for r in PARSE_REASONS)}  # fmt: skip
    counts |= {f"dropped_{reason}": n for reason, n in drops.items()} | {"kept": len(rows)}
    return pd.DataFrame(rows, columns=list(COLUMNS)), counts


def pretraining_texts(articles: pd.DataFrame, questions: pd.DataFrame, passages: pd.DataFrame,
                      gold: pd.DataFrame | None, repeat: int = 3) -> list[str]:  # fmt: skip
    """What a ``tiny:`` generator learns from: the articles, then ``repeat`` times each labelled question as
    the answer to a plain-text :func:`request` about the passage that holds its first gold evidence sentence
    (the question alone in :data:`FORMAT` when it has none), so that the stand-in has seen the task it is
    asked. On the default sample (400 training questions), ``tiny:qwen2-pretrained`` kept 1 of 40
    questions with the examples once and 47 of 80 with them three times (about half of its pretraining)."""
    texts = articles["text"].astype(str).tolist()
    if "answer" not in questions.columns:
        return [t for t in texts if t.strip()]
    evidence = {} if gold is None else gold.drop_duplicates("id").set_index("id")["evidence"].to_dict()
    examples = []
    for _, row in questions.iterrows():
        mcq = format_mcq(row)
        sentence = evidence.get(row["id"])
        holder = (
            passages[passages["text"].str.contains(sentence, regex=False)] if sentence else passages.iloc[:0]
        )
        if len(holder):
            passage = holder.iloc[0]
            shown, _ = render(None, request(str(passage["title"]), str(passage["text"])), chat_template=False)
            mcq = shown + mcq.removeprefix(ANSWER_START)
        examples.append(mcq)
    return [t for t in texts + examples * repeat if t.strip()]


@dataclass
class RunArguments:
    """Where ``science-exam-generate`` reads and writes."""

    data_dir: str | None = flag(
        None, "the Kaggle files; default competitions/science-exam/data, else the sample"
    )
    corpus: str | None = flag(
        None, "corpus folder or file of title, text articles; default <data-dir>/corpus"
    )
    output: str | None = flag(None, "the questions' CSV; default <run folder>/generated.csv")
    output_dir: str | None = flag(None, "the run folder; default outputs/science-exam/generate-<timestamp>")
    verbose: bool = flag(False, "show the libraries' own output instead of <run folder>/run.log")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((QgenConfig, RunArguments))


def generate_from_corpus(config: QgenConfig, run: RunArguments) -> str:
    """The command's work: load the data and its corpus, chunk it as the recipe says, generate, write the
    questions and, in the run folder, ``config.yaml`` and ``counts.json``; returns the summary line."""
    from science_exam.corpus import chunk  # the data layer only when the command runs
    from science_exam.data import DataError, load_competition
    from science_exam.paths import open_run, resolve_data_dir

    data_dir, described = resolve_data_dir(run.data_dir)
    data = load_competition(data_dir, corpus=run.corpus)
    if data.articles is None or data.articles.empty:
        raise DataError(f"{data_dir}: no corpus (corpus/*.parquet|*.jsonl or --corpus): nothing to ask about")
    folder = open_run(run.output_dir, "generate", run.verbose)
    (folder / "config.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))
    passages = chunk(
        data.articles, mode=config.chunk_mode, window=config.chunk_window, overlap=config.chunk_overlap
    )
    tiny = config.generator.startswith("tiny:")
    backend = make_backend(
        config, pretraining_texts(data.articles, data.train, passages, data.gold) if tiny else ()
    )
    frame, counts = generate_questions(config, passages, backend, known=data.train["prompt"])
    target = Path(run.output) if run.output else folder / "generated.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    (folder / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    dropped = [
        f"{name.removeprefix('dropped_')} {n}"
        for name, n in counts.items()
        if name.startswith("dropped_") and n
    ]
    return (f"{config.generator} on {described} ({data.corpus_source}): {counts['kept']}/{counts['asked']} "
            f"questions kept from {counts['passages']} passages (dropped: {', '.join(dropped) or 'none'}); "
            f"wrote {target}, counts in {folder}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """``science-exam-generate --config recipe.yaml [--data-dir DIR] [--corpus PATH] [--output FILE]``."""
    from science_exam.data import DataError

    try:
        summary = generate_from_corpus(*parse_config(make_parser(), argv))
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    print(summary)


if __name__ == "__main__":
    main()
