"""A deterministic LLM Science Exam sample in the Kaggle layout, with a corpus that holds every answer.

Written files (``train.csv`` last: its presence marks a complete sample):

- ``train.csv`` (``id, prompt, A..E, answer``), ``test.csv`` (without ``answer``),
  ``sample_submission.csv`` (``id, prediction`` = ``"A B C"``) and ``test_labels.csv`` (``id, answer``);
- ``gold.csv`` (``id, evidence``): the sentence(s) of the corpus each train/test question needs (one for
  lexical and paraphrased questions, two for two-hop ones, none for the no-retrieval kind);
- ``question_kinds.csv`` (``id, kind``) for train and test, kept out of the Kaggle files;
- ``extra/generated.csv``: more questions in the train layout, about entities that no train or test
  question asks about (the stand-in for the public LLM-generated sets);
- ``corpus/articles.parquet`` (``title, text``; paragraphs separated by blank lines).

The entities are split by cluster (siblings together) between train, test and extra in proportion to
their question counts, so test and extra questions never share an entity. See :mod:`kb` for the
articles and :mod:`questions` for the question kinds.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from science_exam.data import LETTERS
from science_exam.sample.families import FAMILIES
from science_exam.sample.kb import World, build_world, write_articles
from science_exam.sample.questions import Question, kind_counts, write_questions

DEFAULT_MIX = (0.4, 0.3, 0.15, 0.15)  # lexical, paraphrase, two_hop, no_retrieval
SPLITS = ("train", "test", "extra")


@dataclass
class Sample:
    """The generated corpus and the questions of each split (with kind and evidence)."""

    articles: pd.DataFrame  # title, text
    questions: dict[str, pd.DataFrame]  # split -> id, prompt, A..E, answer, kind, evidence (list), entity


def split_clusters(world: World, sizes: dict[str, int], rng: np.random.Generator) -> dict[str, list[int]]:
    """Entity indices per split: each family's clusters shuffled and shared out in proportion to ``sizes``."""
    total = sum(sizes.values())
    pools: dict[str, list[int]] = {split: [] for split in sizes}
    for family in FAMILIES:
        clusters = [c for c in world.clusters if world.entities[c[0]].family is family]
        order = rng.permutation(len(clusters))
        bounds = np.round(np.cumsum([sizes[s] for s in sizes]) / total * len(clusters)).astype(int)
        for split, lo, hi in zip(sizes, np.r_[0, bounds[:-1]], bounds, strict=True):
            if hi == lo and sizes[split]:
                raise ValueError(f"too few entities: no {family.noun} cluster left for the {split} split")
            pools[split] += [e for i in order[lo:hi] for e in clusters[i]]
    return pools


def _frame(questions: list[Question], ids: list[str]) -> pd.DataFrame:
    rows = [(qid, q.prompt, *q.options, q.answer, q.kind, q.evidence, q.entity)
            for qid, q in zip(ids, questions, strict=True)]  # fmt: skip
    return pd.DataFrame(rows, columns=["id", "prompt", *LETTERS, "answer", "kind", "evidence", "entity"])


def generate(*, n_entities: int = 1000, n_train: int = 300, n_test: int = 200, n_extra: int = 600,
             mix: tuple[float, float, float, float] = DEFAULT_MIX, seed: int = 0) -> Sample:  # fmt: skip
    """The knowledge base, its articles and the three question sets, all from one seeded generator."""
    sizes = {"train": n_train, "test": n_test, "extra": n_extra}
    if min(sizes.values()) < 1:
        raise ValueError(f"question counts {sizes}: each split needs at least one question")
    rng = np.random.default_rng(seed)
    world = build_world(n_entities, rng)
    write_articles(world, rng)
    pools = split_clusters(world, sizes, rng)
    ids = {"train": [str(i) for i in range(n_train)],
           "test": [str(n_train + i) for i in range(n_test)],
           "extra": [f"gen-{i:05d}" for i in range(n_extra)]}  # fmt: skip
    questions = {
        split: _frame(write_questions(world, pools[split], kind_counts(sizes[split], mix), rng), ids[split])
        for split in SPLITS
    }
    return Sample(pd.DataFrame(world.articles, columns=["title", "text"]), questions)


def make_sample(out_dir: str | Path, *, n_entities: int = 1000, n_train: int = 300, n_test: int = 200,
                n_extra: int = 600, mix: tuple[float, float, float, float] = DEFAULT_MIX,
                seed: int = 0) -> Path:  # fmt: skip
    """Write the sample (see the module docstring) into ``out_dir``; the same seed gives the same bytes."""
    out = Path(out_dir)
    (out / "corpus").mkdir(parents=True, exist_ok=True)
    (out / "extra").mkdir(exist_ok=True)
    sample = generate(
        n_entities=n_entities, n_train=n_train, n_test=n_test, n_extra=n_extra, mix=mix, seed=seed
    )
    sample.articles.to_parquet(out / "corpus" / "articles.parquet", index=False)
    csv = {"index": False, "lineterminator": "\n"}
    train, test, extra = (sample.questions[s] for s in SPLITS)
    mcq = ["id", "prompt", *LETTERS]
    extra[[*mcq, "answer"]].to_csv(out / "extra" / "generated.csv", **csv)
    test[mcq].to_csv(out / "test.csv", **csv)
    test[["id", "answer"]].to_csv(out / "test_labels.csv", **csv)
    test[["id"]].assign(prediction="A B C").to_csv(out / "sample_submission.csv", **csv)
    labelled = pd.concat([train, test], ignore_index=True)
    labelled[["id", "kind"]].to_csv(out / "question_kinds.csv", **csv)
    labelled[["id", "evidence"]].explode("evidence").dropna().to_csv(out / "gold.csv", **csv)
    train[[*mcq, "answer"]].to_csv(out / "train.csv", **csv)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic LLM Science Exam sample (questions, answers, gold evidence and a corpus)."
    )
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-entities", type=int, default=1000, help="invented entities (five families)")
    parser.add_argument("--n-train", type=int, default=300)
    parser.add_argument("--n-test", type=int, default=200)
    parser.add_argument("--n-extra", type=int, default=600, help="questions in extra/generated.csv")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = make_sample(args.out, n_entities=args.n_entities, n_train=args.n_train, n_test=args.n_test,
                      n_extra=args.n_extra, seed=args.seed)  # fmt: skip
    print(f"wrote the LLM Science Exam sample to {out} in {time.perf_counter() - start:.1f} s: "
          f"{args.n_train} train, {args.n_test} test and {args.n_extra} extra questions on a corpus of "
          f"{args.n_entities} invented entities (corpus/articles.parquet)")  # fmt: skip
