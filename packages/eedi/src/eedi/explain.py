"""Chain-of-thought explanations of each wrong answer, as extra retriever and reranker input (§11.8).

The misconception is the step from the correct answer to the wrong one, which a query of question and
answers leaves implicit; an LLM can say it in words first. 5th place added Qwen2.5-32B-Instruct's
explanation of the wrong answer to the bi-encoder's input (+0.04 CV) and the listwise reranker's (+0.01 CV);
1st place distilled Claude 3.5 Sonnet's rationales into Qwen2.5 7B/14B/32B reasoners and put their CoT in
half of the reranker's training inputs (+0.019 private LB).

Each (question, wrong answer) row gets one :func:`request` ("A student answered X to this question whose
correct answer is Y ... explain the mistake"), the reply started with "The student" and decoded greedily by
default; :func:`clean` keeps its first sentences, without format junk, under a length cap. The text goes
into ``eedi.text.query_texts(..., explanations=...)`` as a "Why:" line (an empty explanation adds none).

Generation is the slow part, so explanations are cached in a CSV (``QuestionId_Answer, key,
Explanation``): ``key`` hashes the generator's name, the decoding settings and the request itself, so a
rerun generates only the rows it lacks, and a changed question or model is never answered from the cache.
With sampling (``temperature`` > 0) a row's text depends on the batch it was sampled in, so a run that
finds half its rows cached may word the other half differently from a run that found none; the greedy
default does not.

``eedi-explain --config recipe.yaml [--data-dir DIR] [--output-dir DIR] [--cache FILE]`` explains every
wrong answer of train and test and writes ``explanations.csv`` (``QuestionId_Answer, Explanation``) and the
resolved ``config.yaml`` into the run folder. On CPU the generator is ``tiny:qwen2-pretrained``, pretrained
on the requests themselves (no labels are involved): its explanations show the mechanics, not reasoning.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import yaml
from transformers import HfArgumentParser

from shared.generation import Backend, GenerationConfig, Messages, make_backend, render
from shared.recipes import ConfigError, flag, parse_config

SYSTEM = "You are a maths teacher who diagnoses the misconceptions behind pupils' wrong answers."
ANSWER_START = "The student"
MAX_SENTENCES = 2
MAX_CHARS = 300
KEY = "QuestionId_Answer"
CACHE_COLUMNS = (KEY, "key", "Explanation")
REQUEST_COLUMNS = ("ConstructName", "SubjectName", "QuestionText", "CorrectAnswerText", "AnswerText")


@dataclass
class ExplainConfig(GenerationConfig):
    """What ``eedi-explain`` asks, and with which model and engine."""

    generator: str = flag(
        "Qwen/Qwen2.5-32B-Instruct-AWQ", "the LLM (HF id or path); 'tiny:qwen2-pretrained' on CPU"
    )
    max_new_tokens: int = flag(96, "tokens one explanation may take (it is cut to two sentences)")
    temperature: float = flag(0.0, "sampling temperature; 0 decodes greedily (reproducible, cache-stable)")
    top_p: float = flag(1.0, "nucleus sampling mass")


def request(row) -> Messages:
    """The chat asking why a pupil gave the row's wrong answer (a long-format row); the last (assistant)
    message starts the answer."""
    user = (
        f"Construct: {str(row['ConstructName']).strip()}\nSubject: {str(row['SubjectName']).strip()}\n"
        f"Question: {str(row['QuestionText']).strip()}\n\n"
        f"A student answered {str(row['AnswerText']).strip()} to this question whose correct answer is "
        f"{str(row['CorrectAnswerText']).strip()}. In one or two sentences, explain the mistake the student "
        "most likely made."
    )
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user},
        {"role": "assistant", "content": ANSWER_START},
    ]


_LABEL = re.compile(r"^\s*[A-Z][A-Za-z ]{0,30}:\s")  # "Question: ...", "Correct answer: ...": a new field
_MARKUP = re.compile(r"\*\*|__|`|^#+\s*", re.M)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def clean(text: str, max_sentences: int = MAX_SENTENCES, max_chars: int = MAX_CHARS) -> str:
    """The explanation in a reply: its first paragraph up to any line that starts a new field
    (``Question: ...``), without markdown, whitespace collapsed, its first ``max_sentences`` complete
    sentences (an unfinished last sentence is dropped unless it is all there is), cut at a word boundary
    to at most ``max_chars`` characters."""
    paragraph = re.split(r"\n\s*\n", _MARKUP.sub("", text).strip(), maxsplit=1)[0]
    lines = paragraph.splitlines()
    end = next((i for i, line in enumerate(lines) if i and _LABEL.match(line)), len(lines))
    flat = " ".join(" ".join(lines[:end]).split())
    sentences = _SENTENCE_END.split(flat) if flat else []
    if len(sentences) > 1 and not sentences[-1].endswith((".", "!", "?")):
        sentences = sentences[:-1]
    kept = " ".join(sentences[:max_sentences])
    if len(kept) > max_chars:  # up to the last space that keeps it within max_chars, else a hard cut
        kept = kept[: max_chars + 1].rsplit(" ", 1)[0][:max_chars].rstrip(",;: ")
    return kept


def cache_key(config: ExplainConfig, messages: Messages) -> str:
    """What an explanation depends on, hashed: the generator's name, the decoding settings, the request."""
    names = ("generator", "max_new_tokens", "temperature", "top_p", "seed", "chat_template")
    settings = {name: getattr(config, name) for name in names}
    blob = json.dumps({**settings, "messages": messages}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _empty_cache() -> pd.Series:
    return pd.Series([], index=pd.MultiIndex.from_tuples([], names=[KEY, "key"]), name="Explanation",
                     dtype=object)  # fmt: skip


def load_cache(path: str | Path) -> pd.Series:
    """The cached explanations, indexed by (``QuestionId_Answer``, ``key``); empty when the file is absent."""
    from eedi.data import read_csv

    path = Path(path)
    if not path.is_file():
        return _empty_cache()
    frame = read_csv(path, CACHE_COLUMNS)
    return frame.drop_duplicates([KEY, "key"], keep="last").set_index([KEY, "key"])["Explanation"]


def read_explanations(path: str | Path) -> pd.Series:
    """``explanations.csv`` (``QuestionId_Answer, Explanation``, what ``eedi-explain`` writes) as a Series
    indexed by ``QuestionId_Answer``, what ``eedi.text.query_texts`` takes; a missing file or column, or a
    key given twice, is a one-line ``DataError``."""
    from eedi.data import DataError, read_csv

    frame = read_csv(Path(path), (KEY, "Explanation"))
    repeated = frame[KEY].duplicated()
    if repeated.any():
        row = int(repeated.to_numpy().argmax())
        raise DataError(f"{path}: row {row + 2}: column {KEY}: {frame[KEY].iloc[row]} is given twice")
    return frame.set_index(KEY)["Explanation"]


def save_cache(cache: pd.Series, path: str | Path) -> Path:
    """Write the explanations indexed by (``QuestionId_Answer``, ``key``) as :func:`load_cache` reads them."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cache.rename("Explanation").reset_index()[list(CACHE_COLUMNS)].to_csv(path, index=False)
    return path


def pretraining_texts(long: pd.DataFrame) -> list[str]:
    """What a ``tiny:`` generator learns from: each row's plain-text request (no label is involved)."""
    return [render(None, request(row), chat_template=False)[0] for _, row in long.iterrows()]


def explain(config: ExplainConfig, long: pd.DataFrame, backend: Backend | None = None,
            cache: str | Path | None = None) -> pd.Series:  # fmt: skip
    """The cleaned explanation of every row of a long frame, indexed by ``QuestionId_Answer`` in row order.
    With ``cache`` (a CSV), rows found there are not asked again, and the new ones are added to it. The
    backend (``backend``, else the configured one) is built and asked only when some row is missing."""
    missing = [c for c in (KEY, *REQUEST_COLUMNS) if c not in long.columns]
    if missing:
        raise ValueError(f"long rows: missing column(s) {', '.join(missing)}")
    if long[KEY].duplicated().any():
        raise ValueError(f"long rows: {KEY} {long[KEY][long[KEY].duplicated()].iloc[0]} is there twice")
    requests = [request(row) for _, row in long.iterrows()]
    index = pd.MultiIndex.from_arrays(
        [long[KEY].astype(str).tolist(), [cache_key(config, m) for m in requests]], names=[KEY, "key"]
    )
    stored = load_cache(cache) if cache is not None else _empty_cache()
    todo = [i for i, pair in enumerate(index) if pair not in stored.index]
    if todo:
        backend = backend or make_backend(config, pretraining_texts(long))
        texts = backend.complete([requests[i] for i in todo], config.seed, "explain wrong answers")
        if len(texts) != len(todo):
            raise RuntimeError(f"backend: {len(texts)} generations for {len(todo)} requests")
        cleaned = [clean(ANSWER_START + t) if t.strip() else "" for t in texts]
        new = pd.Series(cleaned, index=index[todo], name="Explanation")
        stored = pd.concat([stored, new])
        if cache is not None:
            save_cache(stored, cache)
    return pd.Series(stored.reindex(index).to_numpy(), index=pd.Index(index.get_level_values(KEY), name=KEY),
                     name="Explanation")  # fmt: skip


# --- command ------------------------------------------------------------------------------------------------


@dataclass
class RunArguments:
    """Where ``eedi-explain`` reads and writes."""

    data_dir: str | None = flag(None, "the Kaggle files; default competitions/eedi/data, else the sample")
    output_dir: str | None = flag(None, "the run folder; default outputs/eedi/explain-<timestamp>")
    cache: str | None = flag(
        None, "the explanation cache kept between runs; default outputs/eedi/explain-cache.csv"
    )
    verbose: bool = flag(False, "show the libraries' own output instead of <run folder>/run.log")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExplainConfig, RunArguments))


def explain_data(config: ExplainConfig, run: RunArguments) -> str:
    """The command's work: explain every wrong answer of train and test, write ``explanations.csv`` and
    ``config.yaml`` into the run folder; returns the summary line."""
    from eedi.data import load_competition, to_long  # the data layer and paths only when the command runs
    from eedi.paths import CHAPTER, open_run, resolve_data_dir
    from shared.runs import output_root

    data_dir, described = resolve_data_dir(run.data_dir)
    data = load_competition(data_dir)
    folder = open_run(run.output_dir, "explain", run.verbose)
    (folder / "config.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))
    long = pd.concat(
        [to_long(data.train, labelled=False), to_long(data.test, labelled=False)], ignore_index=True
    )
    cache = Path(run.cache) if run.cache else output_root(CHAPTER) / "explain-cache.csv"
    before = len(load_cache(cache))
    explanations = explain(config, long, cache=cache)
    target = folder / "explanations.csv"
    explanations.reset_index().to_csv(target, index=False)
    generated = len(load_cache(cache)) - before
    empty = int((explanations == "").sum())
    return (f"{config.generator} on {described}: {len(explanations)} wrong answers explained ({generated} "
            f"generated, {len(explanations) - generated} from {cache}; {empty} empty); "
            f"wrote {target}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """``eedi-explain --config recipe.yaml [--data-dir DIR] [--output-dir DIR] [--cache FILE]``."""
    from eedi.data import DataError

    try:
        summary = explain_data(*parse_config(make_parser(), argv))
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    print(summary)


if __name__ == "__main__":
    main()
