"""``science-exam-reproduce``: the chapter's ladder in one command (§8.5 baseline → §8.6–8.7 top solutions).

1. ``no-context``: the multiple-choice reader on the question and options alone;
2. ``bm25`` / ``dense`` / ``hybrid``: the same reader with the passages that BM25, a dense embedder (faiss),
   or both fused by reciprocal rank find in the corpus (§8.5.3, §8.6.2);
3. ``hybrid-rerank``: the hybrid candidates reordered by a cross-encoder fine-tuned on the training folds'
   questions (§8.6.3);
4. ``hybrid-rerank-tta``: the same fold models, each question read in several option orders (the reader's
   position bias averages out);
5. ``llm-scorer``: a decoder LLM under LoRA scoring the option letters after the same context (§8.7);
6. ``cascade``: the best multiple-choice rung, handing its least confident questions to the LLM;
7. ``ensemble``: the best multiple-choice rung and the LLM blended, weights cross-fitted over the folds.

Every score is MAP@3 of the pooled out-of-fold rankings of train.csv's questions, and on the sample's test
labels. The claims compare rungs by a paired bootstrap over questions (``science_exam.report``). Without a
corpus (a plain Kaggle download) the retrieval rungs are skipped and the report says so. ``models/`` keeps
the corpus index and the fold pipelines the submitted rung needs; ``manifest.json`` says how
``science-exam-predict`` combines them.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from science_exam import cascade, ensemble, report
from science_exam.configs import ExperimentConfig
from science_exam.context import candidates
from science_exam.data import DataError, ScienceData, load_competition
from science_exam.experiment import INDEX, OutOfFold, Prepared, assign_folds, prepare, run_experiment
from science_exam.paths import open_run, resolve_data_dir
from science_exam.pipeline import load_config, load_fold
from science_exam.qgen import QgenConfig, generate_questions
from science_exam.retrieve import recall_at_k
from science_exam.scoring import map_at_3
from science_exam.submission import MANIFEST, write_submission
from shared.console import progress
from shared.recipes import ConfigError, FieldError, parse_config
from shared.report import print_claims, write_results
from shared.tiny import resolve_backbone

# CPU preset: the real all-MiniLM-L6-v2 (PyPI) as embedder, and cut to its first 2 layers as reader and
# cross-encoder; 3 folds; 10 candidates, 2 passages of context.
CPU = dict(embedder="minilm", embedder_max_length=128, candidates=10, context_passages=2, backbone="minilm",
           num_layers=2, mc_pooling="option", max_length=128, learning_rate=3e-4, epochs=1.0, batch_size=8,
           gradient_accumulation_steps=1, warmup_ratio=0.1, bf16=False, n_folds=3, rerank_backbone="minilm",
           rerank_num_layers=2, rerank_pooling="mean", rerank_max_length=128, rerank_learning_rate=5e-5, rerank_epochs=1.0,
           rerank_batch_size=16, rerank_negatives=3, dense_index="flat")  # fmt: skip
# The CPU LLM: a tiny Qwen2 pretrained on the corpus and the questions (shared.tiny), LoRA on top.
LLM_CPU = dict(reader="llm", backbone="tiny:qwen2-pretrained", max_length=384, learning_rate=1e-3, epochs=1.0,
               batch_size=8, lora_r=16, lora_alpha=32)  # fmt: skip
# Full preset: the write-ups' models (competitions/science-exam/recipes/*.yaml).
FULL = dict(embedder="BAAI/bge-large-en-v1.5", query_prefix="Represent this sentence for searching relevant passages: ",
            embedder_max_length=512, candidates=30, context_passages=3, backbone="microsoft/deberta-v3-large",
            max_length=512, learning_rate=1e-5, epochs=2.0, batch_size=2, gradient_accumulation_steps=8,
            warmup_ratio=0.1, gradient_checkpointing=True, n_folds=5, rerank_backbone="cross-encoder/ms-marco-MiniLM-L-12-v2",
            rerank_max_length=384, rerank_learning_rate=2e-5, rerank_epochs=1.0, rerank_batch_size=32,
            dense_index="ivf")  # fmt: skip
LLM_FULL = dict(reader="llm", backbone="Qwen/Qwen2.5-7B-Instruct", load_in_4bit=True, max_length=2048,
                learning_rate=1e-4, epochs=1.0, batch_size=1, gradient_accumulation_steps=16,
                gradient_checkpointing=True, lora_r=16, lora_alpha=32)  # fmt: skip
# LLM question generation (§8.5.2): on CPU the LLM path runs on a few passages and its rows are only counted
# (the sample's template questions stand in for the public 60k set); the full preset adds them to training.
QGEN = {
    "cpu": dict(generator="tiny:qwen2-pretrained", backend="transformers", chat_template=False, n_passages=24,
                max_new_tokens=160, batch_size=8),
    "full": dict(generator="Qwen/Qwen2.5-7B-Instruct", backend="vllm", n_passages=5000, max_new_tokens=384),
}  # fmt: skip
# (extra questions used, 0 = all; option orders of the TTA rung; share of questions the cascade may route)
SIZES = {"cpu": (300, 3, 0.3), "full": (0, 4, 0.3)}
PRESETS = ("auto", "cpu", "full")
KS = (1, 3, 10)


@dataclass
class ReproduceArguments:
    """``science-exam-reproduce``'s flags; each spelled with dashes (``--data-dir``) or underscores."""

    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/science-exam/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/science-exam/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    corpus: str | None = field(
        default=None, metadata={"help": "corpus folder or file (.parquet/.jsonl); default <data-dir>/corpus"}
    )
    max_extra: int | None = field(
        default=None, metadata={"help": "a seeded subset of the extra questions (0 = all; cpu 300)"}
    )
    backbone: str | None = field(
        default=None, metadata={"help": "replace the preset's reader backbone (e.g. tiny:bert for mechanics)"}
    )
    llm: str | None = field(default=None, metadata={"help": "replace the preset's LLM scorer"})
    seed: int = 42
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise FieldError("preset", f"--preset: {self.preset!r} is not one of {' | '.join(PRESETS)}")
        if self.max_extra is not None and self.max_extra < 0:
            raise FieldError("max_extra", f"--max-extra: {self.max_extra} must be >= 0")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments, description="The chapter's ladder in one command.")


def resolve_preset(args: ReproduceArguments) -> str:
    return args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")


@dataclass
class Rung(OutOfFold):
    """One row of the ladder: out-of-fold and test probabilities, and the recipe ``science-exam-predict``
    follows to rebuild the test probabilities (``manifest.json``)."""

    name: str
    oof: np.ndarray
    test: np.ndarray
    fold: np.ndarray
    answers: np.ndarray
    seconds: float
    recipe: dict
    test_score: float | None = None
    note: str = ""


def member(name: str, folder: str, n_folds: int, tta: int = 0) -> dict:
    return {"name": name, "folds": [f"{folder}/fold-{k}" for k in range(n_folds)], "tta": tta}


class Ladder:
    """Runs the rungs on one data set and fold assignment, keeping what the report and predict need."""

    def __init__(self, prep: Prepared, fold: np.ndarray, out: Path, base: ExperimentConfig):
        self.prep, self.fold, self.out, self.base = prep, fold, out, base
        self.answers = prep.data.train["answer"].to_numpy()
        labels = prep.data.test_labels
        self.truth = (
            None if labels is None else prep.data.test[["id"]].merge(labels, on="id", how="left")["answer"]
        )
        self.rungs: dict[str, Rung] = {}
        self.results = {}
        self.combine_line = "Not run: it needs the LLM rung and a multiple-choice rung."
        self.cascade_small: str | None = None  # the rung whose unsure questions the cascade hands on
        self.blended: list[str] = []  # the ensemble's members

    @property
    def n_folds(self) -> int:
        return int(self.fold.max()) + 1

    def test_score(self, test: np.ndarray) -> float | None:
        return None if self.truth is None else map_at_3(test, self.truth.to_numpy())

    def rung(self, name, oof, test, seconds, recipe, note) -> Rung:
        rung = Rung(name, oof, test, self.fold, self.answers, seconds, recipe, self.test_score(test), note)
        self.rungs[name] = rung
        return rung

    def experiment(self, name: str, note: str, base: ExperimentConfig | None = None,
                   variants: dict[str, tuple[str, dict]] | None = None, **changes) -> Rung:  # fmt: skip
        """Cross-validate one experiment into ``out/<name>``, its fold pipelines in ``out/models/<name>``;
        ``variants`` (name -> (note, retrieval changes)) are rungs of the same fold readers read with other
        contexts, added before it."""
        config = replace(base or self.base, name=name, **changes)
        result = run_experiment(config, self.prep, self.fold, self.out / name, self.out / "models" / name, desc=name,
                                variants={v: c for v, (_, c) in (variants or {}).items()})  # fmt: skip
        self.results[name] = result
        for variant, (variant_note, overrides) in (variants or {}).items():
            res = result.variants[variant]
            recipe = {"kind": "blend", "members": [{**member(variant, name, self.n_folds), "overrides": overrides,
                                                     "weight": 1.0}]}  # fmt: skip
            self.rung(variant, res.oof, res.test, res.seconds, recipe, variant_note)
        recipe = {"kind": "blend", "members": [{**member(name, name, self.n_folds, config.tta_permutations),
                                                "weight": 1.0}]}  # fmt: skip
        return self.rung(name, result.oof, result.test, result.seconds, recipe, note)

    def rescored(self, source: str, tta: int) -> Rung:
        """``source``'s saved fold pipelines reading each question in ``tta`` option orders (no retraining)."""
        start = time.perf_counter()
        prep, result = self.prep, self.results[source]
        cands = prep.candidates(result.config)
        train = prep.data.train
        oof = np.zeros_like(result.oof)
        test = np.zeros_like(result.test)
        for k in progress(range(self.n_folds), desc=f"{source} + TTA", unit="fold"):
            models = load_fold(self.out / "models" / source / f"fold-{k}")
            held = self.fold == k
            ids = None if cands["train"] is None else cands["train"][held]
            oof[held] = models.proba(prep.passages, train[held].reset_index(drop=True), ids, tta=tta)
            test += models.proba(prep.passages, prep.data.test, cands["test"], tta=tta) / self.n_folds
        recipe = {
            "kind": "blend",
            "members": [{**member(f"{source} + TTA", source, self.n_folds, tta), "weight": 1.0}],
        }
        return self.rung(f"{source}-tta", oof, test, result.seconds + time.perf_counter() - start, recipe,
                         f"{source}'s fold models, {tta} option orders averaged")  # fmt: skip

    def single(self, name: str) -> dict:
        """The predict member of a rung that is one experiment (possibly re-read with TTA)."""
        (only,) = self.rungs[name].recipe["members"]
        return {k: v for k, v in only.items() if k != "weight"}

    def blend(self, names: list[str]) -> Rung:
        start = time.perf_counter()
        members = [self.rungs[n] for n in names]
        self.blended = list(names)
        oof, weights = ensemble.cross_fitted([m.oof for m in members], self.answers, self.fold)
        test = ensemble.blend([m.test for m in members], weights)
        recipe = {
            "kind": "blend",
            "members": [{**self.single(n), "weight": float(w)} for n, w in zip(names, weights, strict=True)],
        }
        note = "blend of " + ", ".join(f"{n} ({w:.1f})" for n, w in zip(names, weights, strict=True))
        return self.rung("ensemble", oof, test, sum(m.seconds for m in members) + time.perf_counter() - start,
                         recipe, note)  # fmt: skip

    def cascade(self, small: str, large: str, budget: float) -> Rung:
        start = time.perf_counter()
        s, big = self.rungs[small], self.rungs[large]
        self.cascade_small = small
        oof, sent_oof, share = cascade.cross_fitted(s.oof, big.oof, self.answers, self.fold, budget)
        test = cascade.combine(s.test, big.test, cascade.threshold_for(s.test, share))
        recipe = {"kind": "cascade", "small": self.single(small), "large": self.single(large), "share": share}
        note = (f"{small}, its least confident {share:.0%} of questions to {large} (budget {budget:.0%}; "
                f"{sent_oof:.0%} routed out of fold)")  # fmt: skip
        return self.rung(
            "cascade", oof, test, s.seconds + big.seconds + time.perf_counter() - start, recipe, note
        )


def recall_table(ladder: Ladder) -> pd.DataFrame | None:
    """Recall@1/3/10 of each retrieval configuration on the training questions with gold passages, and of the
    reranked candidates (out of fold: each question reranked by the fold's cross-encoder that never saw it)."""
    prep = ladder.prep
    gold = prep.data.gold
    if prep.index is None or gold is None:
        return None
    train, base = prep.data.train, ladder.base
    configs = [("bm25", dict(retrieval="bm25")), ("dense", dict(retrieval="dense")),
               ("hybrid (rrf)", dict(retrieval="hybrid", fusion="rrf")),
               ("hybrid (weighted)", dict(retrieval="hybrid", fusion="weighted")),
               ("bm25, prompt+options", dict(retrieval="bm25", query="prompt+options")),
               ("dense, prompt+options", dict(retrieval="dense", query="prompt+options")),
               ("hybrid, prompt+options", dict(retrieval="hybrid", query="prompt+options"))]  # fmt: skip
    rows = []
    for label, changes in progress(configs, desc="recall", unit="config"):
        config = replace(base, candidates=max(KS), **changes)
        ids = candidates(prep.index, train, config)
        rows.append({"retrieval": label, **recall_row(ids, prep, train)})
    reranked = ladder.results.get("hybrid-rerank")
    if reranked is not None and reranked.ranked is not None:
        rows.append({"retrieval": f"hybrid (rrf) + rerank, top {reranked.ranked.shape[1]}",
                     **recall_row(reranked.ranked, prep, train)})  # fmt: skip
    return pd.DataFrame(rows)


def recall_row(ids: np.ndarray, prep: Prepared, questions: pd.DataFrame) -> dict:
    found = recall_at_k(ids, prep.passages, prep.data.gold, questions["id"].to_numpy(), ks=KS)
    return {f"recall@{k}": float(found[k]) for k in KS if k <= ids.shape[1]} | {"pairs": int(found["pairs"])}


def run_ladder(args: ReproduceArguments, preset: str, data_dir: Path, out: Path):
    """Run every rung; returns (the ladder, artefacts for the report)."""
    max_extra, tta, budget = SIZES[preset]
    max_extra = max_extra if args.max_extra is None else args.max_extra
    data = load_competition(
        data_dir, extra=sorted(p.resolve() for p in (data_dir / "extra").glob("*.csv")), corpus=args.corpus
    )
    settings = dict(CPU if preset == "cpu" else FULL)
    if args.backbone:
        settings.update(backbone=args.backbone, num_layers=0)
    base = ExperimentConfig(name="base", seed=args.seed, **settings)
    llm = replace(base, **(LLM_CPU if preset == "cpu" else LLM_FULL))
    if args.llm:
        llm = replace(llm, backbone=args.llm)
    prep = prepare(data, base, out / "models", max_extra, args.seed)
    fold = assign_folds(data.train, base.n_folds, args.seed)
    ladder = Ladder(prep, fold, out, base)

    ladder.experiment("no-context", "the reader on the question and options alone", retrieval="none")
    mc = "no-context"
    context = "none"
    if prep.index is not None:
        off = {"rerank": False}
        ladder.experiment(
            "hybrid-rerank", "hybrid candidates reranked by a cross-encoder fine-tuned on the fold's questions",
            retrieval="hybrid", rerank=True, train_retrieval=["bm25", "dense", "hybrid"],
            variants={"bm25": ("BM25 (bm25s) passages as context", {"retrieval": "bm25", **off}),
                      "dense": ("dense (MiniLM, faiss) passages as context", {"retrieval": "dense", **off}),
                      "hybrid": ("BM25 and dense fused by reciprocal rank", {"retrieval": "hybrid", **off})},
        )  # fmt: skip
        mc = max(("bm25", "dense", "hybrid", "hybrid-rerank"), key=lambda n: ladder.rungs[n].cv)
        context = "hybrid"
    # the LLM reads the contexts the best multiple-choice rung read
    mixed = ["bm25", "dense", "hybrid"] if context != "none" else []
    reads = ("hybrid", True) if mc == "hybrid-rerank" else (mc if context != "none" else "none", False)
    llm_config = replace(llm, retrieval=reads[0], rerank=reads[1], train_retrieval=mixed)
    ladder.experiment("llm-scorer", f"LoRA LLM scoring the option letters ({mc} context)", llm_config)
    # a per-option reader never sees the option order; the LLM reads the letters, so TTA is for it
    ladder.rescored("llm-scorer", tta)
    large = max(("llm-scorer", "llm-scorer-tta"), key=lambda n: ladder.rungs[n].cv)
    ladder.cascade(mc, large, budget)
    ladder.blend([mc, large])
    ladder.combine_line = " ".join(f"`{n}`: {ladder.rungs[n].note}." for n in ("cascade", "ensemble"))

    qgen_counts, qgen_line = question_generation(args, preset, prep, out)
    recall = recall_table(ladder)
    artefacts = {
        "recall": recall,
        "recall_note": ("No corpus: retrieval was not run." if prep.index is None else
                        "No gold passages in this data: recall was not measured."),
        "qgen": qgen_counts, "qgen_line": qgen_line, "base": base, "llm": llm_config,
        "combine_line": ladder.combine_line,
        "n_train": len(data.train), "n_extra": len(prep.extra), "folds_line": f"{ladder.n_folds} folds",
        "corpus_line": corpus_line(data, prep, base.embedder),
        "kinds": None if data.kinds is None else data.train[["id"]].merge(data.kinds, on="id", how="left")["kind"]
        .fillna("unknown"),
    }  # fmt: skip
    return ladder, artefacts


def question_generation(args: ReproduceArguments, preset: str, prep: Prepared, out: Path):
    """Run the LLM question writer on the first passages; (counts, report line). Its rows are written to
    ``generated_mcq.csv``; the full preset's would be an extra training set (``--extra``)."""
    if prep.index is None:
        return None, "Not run: no corpus to write questions from."
    config = QgenConfig(**QGEN[preset], seed=args.seed)
    passages = prep.passages
    if config.generator.startswith("tiny:"):
        config = replace(config, generator=resolve_backbone(config.generator, prep.texts()))
    rows, counts = generate_questions(config, passages, known=prep.data.train["prompt"].tolist())
    rows.to_csv(out / "generated_mcq.csv", index=False)
    dropped = ", ".join(f"{n} {why.removeprefix('dropped_').replace('_', ' ')}" for why, n in counts.items()
                        if why.startswith("dropped_") and n) or "none"  # fmt: skip
    line = (f"`{QGEN[preset]['generator']}` ({config.backend}) wrote questions from {counts['passages']} passages: "
            f"{counts['asked']} asked, {counts['parsed']} parsed, {counts['kept']} kept; dropped: {dropped} "
            "(`generated_mcq.csv`). On CPU the sample's template questions (`extra/generated.csv`) stand in for "
            "an LLM-written training set, and these rows are only counted.")  # fmt: skip
    return counts, line


def corpus_line(data: ScienceData, prep: Prepared, embedder: str) -> str:
    if prep.index is None:
        return (
            "none — a Kaggle download has no corpus; put Wikipedia STEM articles (title, text) in "
            "<data-dir>/corpus/ or pass --corpus. The retrieval rungs were skipped."
        )
    return (
        f"{len(data.articles):,} articles from {data.corpus_source}, {len(prep.passages):,} passages "
        f"(BM25 with bm25s; dense: `{embedder}` in a faiss {prep.index.dense.kind} index)."
    )


def claims(ladder: Ladder, evidence: str, llm_evidence: str, seed: int):
    """The write-ups' findings, each checked on this run (a claim whose rungs did not run is left out)."""
    rungs = ladder.rungs
    single = max((n for n in ("bm25", "dense") if n in rungs), key=lambda n: rungs[n].cv, default=None)
    best_member = max(ladder.blended, key=lambda n: rungs[n].cv, default=None)
    small = ladder.cascade_small
    specs = [
        ("retrieved context beats no context", "no-context", "bm25", evidence),
        ("hybrid retrieval beats either retriever alone", single, "hybrid", evidence),
        ("reranking the candidates raises MAP@3", "hybrid", "hybrid-rerank", evidence),
        (
            "option-permutation TTA raises the LLM letter scorer's MAP@3",
            "llm-scorer",
            "llm-scorer-tta",
            llm_evidence,
        ),
        ("a confidence cascade to the LLM beats the reader alone", small, "cascade", llm_evidence),
        ("the ensemble beats its best member", best_member, "ensemble", llm_evidence),
    ]
    return [report.claim(text, base, tech, rungs, evidence=kind, seed=seed) for text, base, tech, kind in specs
            if base in rungs and tech in rungs and base != tech]  # fmt: skip


def write_models(out: Path, best: Rung) -> None:
    """Keep in ``models/`` only the index and the fold pipelines that ``best`` needs (no cross-encoder when its
    members read without reranking), and the manifest."""
    models = out / "models"
    recipe = dict(best.recipe)
    members = recipe["members"] if recipe["kind"] == "blend" else [recipe["small"], recipe["large"]]
    if recipe["kind"] == "blend":
        recipe["members"] = members = [m for m in members if m["weight"] > 1e-12]
    needed = {rel.split("/")[0] for m in members for rel in m["folds"]} | {INDEX}
    for path in models.iterdir():
        if path.is_dir() and path.name not in needed:
            shutil.rmtree(path)
    configs = [replace(load_config(models / m["folds"][0]), **m.get("overrides", {})) for m in members]
    reranking = {
        rel.split("/")[0] for m, c in zip(members, configs, strict=True) if c.rerank for rel in m["folds"]
    }
    for reranker in models.glob(
        "*/fold-*/reranker"
    ):  # read without reranking: the cross-encoders are not needed
        if reranker.parent.parent.name not in reranking:
            shutil.rmtree(reranker)
    uses_index = (models / INDEX).is_dir() and any(c.retrieval != "none" for c in configs)
    if not uses_index and (models / INDEX).is_dir():
        shutil.rmtree(models / INDEX)
    manifest = {"rung": best.name, **recipe, "index": INDEX if uses_index else None}
    (models / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def model_line(base: ExperimentConfig, llm: ExperimentConfig) -> str:
    layers = f", first {base.num_layers} layers" if base.num_layers else ""
    return (f"Reader: `{base.backbone}`{layers}, {base.max_length} sub-words, {base.epochs:g} epochs; embedder "
            f"`{base.embedder}`; cross-encoder `{base.rerank_backbone}`; LLM scorer `{llm.backbone}` (LoRA r="
            f"{llm.lora_r})")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = parse_config(make_parser(), argv)
        preset = resolve_preset(args)
        data_dir, data_name = resolve_data_dir(args.data_dir)
        out = open_run(args.output_dir, "reproduce", args.verbose)
        print(f"science-exam-reproduce: {data_name} data, {preset} preset; library logs in {out / 'run.log'}")
        ladder, artefacts = run_ladder(args, preset, data_dir, out)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    rungs = list(ladder.rungs.values())
    best = max(rungs, key=lambda r: r.cv)
    write_submission(out / "submission.csv", ladder.prep.data.test["id"], best.test)
    write_models(out, best)
    base, llm = artefacts["base"], artefacts["llm"]
    evidence = "mechanics" if base.backbone.startswith("tiny:") else "model"
    llm_evidence = "mechanics" if llm.backbone.startswith("tiny:") else evidence
    found = claims(ladder, evidence, llm_evidence, args.seed)
    artefacts["model_line"] = model_line(base, llm)
    results = report.write(out, rungs, found, artefacts, data=data_name, preset=preset, settings=asdict(args))
    write_results(out / "results.json", results)
    print(report.markdown(report.ladder_table(rungs)))
    print_claims(found)
    print(
        f"wrote {out}: report.md, results.json, recall.png, submission.csv (from {best.name}), models/, run.log"
    )
