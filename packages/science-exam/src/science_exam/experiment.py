"""One experiment: K-fold CV over ``train.csv``'s questions, out-of-fold and test probabilities, MAP@3.

The write-ups trained on tens of thousands of generated questions and validated on the 200 given ones, so
the extra MCQ sets are in every fold's training data and never in a validation fold: the CV scores only
``train.csv``'s questions, as the leaderboard scores only the competition's. Test probabilities are the mean
of the fold pipelines'. Retrieval is computed once per configuration and question set (:class:`Prepared`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from science_exam import rerank, retrieve
from science_exam.configs import ExperimentConfig
from science_exam.context import candidates, retrieval_key
from science_exam.corpus import chunk
from science_exam.data import LETTERS, DataError, ScienceData
from science_exam.pipeline import FoldModels, fit_reader, with_context
from science_exam.qgen import pretraining_texts
from science_exam.scoring import average_precision, map_at_3, predictions
from shared.cv import make_folds
from shared.tiny import resolve_backbone

INDEX = "index"  # models/index: the corpus index every retrieval member shares


def is_main_process() -> bool:
    """False on the other ranks of an ``accelerate launch``: every rank trains and predicts, rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


def extra_subset(extra: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A seeded ``n`` of the extra questions in file order (0 or more than there are: all)."""
    if n <= 0 or n >= len(extra):
        return extra.reset_index(drop=True)
    keep = np.sort(np.random.default_rng(seed).choice(len(extra), n, replace=False))
    return extra.iloc[keep].reset_index(drop=True)


@dataclass
class Prepared:
    """What every experiment of a run shares: the questions, the corpus index and the retrieved candidates."""

    data: ScienceData
    index: retrieve.CorpusIndex | None
    extra: pd.DataFrame
    _candidates: dict = field(default_factory=dict, repr=False)
    _rerankers: dict = field(default_factory=dict, repr=False)

    @property
    def passages(self) -> pd.DataFrame | None:
        return None if self.index is None else self.index.passages

    def candidates(self, config: ExperimentConfig) -> dict[str, np.ndarray | None]:
        """Candidate passage ids of the train, extra and test questions for ``config``'s retrieval."""
        if config.retrieval == "none":
            return {"train": None, "extra": None, "test": None}
        if self.index is None:
            raise DataError(
                f"{config.name}: retrieval {config.retrieval!r} needs a corpus, and there is none"
            )
        key = retrieval_key(config)
        if key not in self._candidates:
            sets = {"train": self.data.train, "extra": self.extra, "test": self.data.test}
            self._candidates[key] = {
                name: candidates(self.index, frame, config) for name, frame in sets.items()
            }
        return self._candidates[key]

    def texts(self) -> list[str]:
        """What a tiny local checkpoint's tokenizer (and a tiny pretrained LM) learns from: the corpus, and the
        extra questions written out with their answers in the question writer's format — never train.csv's,
        whose answers are what the CV scores."""
        articles = self.data.articles if self.data.articles is not None else pd.DataFrame({"text": []})
        passages = self.passages if self.passages is not None else pd.DataFrame({"text": []})
        return pretraining_texts(articles, self.extra, passages, None) or self.data.train["prompt"].tolist()


def prepare(
    data: ScienceData, base: ExperimentConfig, models_dir: Path | None, max_extra: int, seed: int
) -> Prepared:
    """Chunk the corpus and build its index once, with ``base``'s chunking and dense settings (BM25 only when
    ``base`` retrieves with BM25 alone); saved in ``models_dir/index`` for ``science-exam-predict``, which
    loads it instead of building it again."""
    extra = extra_subset(data.extra, max_extra, seed)
    if data.articles is None:
        return Prepared(data, None, extra)
    passages = chunk(
        data.articles, mode=base.chunk_mode, window=base.chunk_window, overlap=base.chunk_overlap
    )
    dense = bool({base.retrieval, *base.train_retrieval} & {"dense", "hybrid"})
    embedder = resolve_backbone(base.embedder, passages["text"].tolist()) if dense else None
    index = retrieve.CorpusIndex.build(passages, embedder, dense_kind=base.dense_index, nlist=base.ivf_nlist,
                                       nprobe=base.ivf_nprobe, max_length=base.embedder_max_length,
                                       query_prefix=base.query_prefix, passage_prefix=base.passage_prefix)  # fmt: skip
    if models_dir is not None and is_main_process():
        index.save(Path(models_dir) / INDEX)
    return Prepared(data, index, extra)


def assign_folds(train: pd.DataFrame, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each question: ``shared.cv``'s shuffled K-fold (questions are independent of each other)."""
    if len(train) < n_folds:
        raise DataError(
            f"n_folds: {n_folds} folds need at least {n_folds} training questions, got {len(train)}"
        )
    return make_folds(train, n_folds, "kfold", seed=seed)["fold"].to_numpy()


class OutOfFold:
    """Scores of out-of-fold probabilities (``answers``, ``oof``, ``fold``), shared by experiments and rungs."""

    answers: np.ndarray
    oof: np.ndarray
    fold: np.ndarray

    @property
    def ap(self) -> np.ndarray:
        """Each training question's MAP@3 term (what the claims resample)."""
        return average_precision(self.oof, self.answers)

    @property
    def cv(self) -> float:
        return map_at_3(self.oof, self.answers)

    @property
    def folds(self) -> list[float]:
        return [
            map_at_3(self.oof[self.fold == k], self.answers[self.fold == k])
            for k in range(int(self.fold.max()) + 1)
        ]


@dataclass
class ExperimentResult(OutOfFold):
    name: str
    answers: np.ndarray  # (n_train,) letters
    oof: np.ndarray  # (n_train, 5) out-of-fold option probabilities, train.csv order
    test: np.ndarray  # (n_test, 5) mean of the fold pipelines
    fold: np.ndarray
    seconds: float
    config: ExperimentConfig | None = None
    ranked: np.ndarray | None = None  # (n_train, candidates) out-of-fold passage ids in the reader's order
    variants: dict = field(
        default_factory=dict
    )  # name -> ExperimentResult of the same readers, other contexts


def resolved(config: ExperimentConfig, prep: Prepared) -> ExperimentConfig:
    """``config`` with local stand-ins ("minilm", "tiny:...") replaced by their checkpoint paths."""
    texts = None

    def path(name: str) -> str:
        nonlocal texts
        if name.startswith("tiny:") and texts is None:
            texts = prep.texts()
        return resolve_backbone(name, texts or [])

    changes = {"backbone": path(config.backbone)}
    if config.rerank:
        changes["rerank_backbone"] = path(config.rerank_backbone)
    return replace(config, **changes)


RERANK_FIELDS = ("rerank_backbone", "rerank_fine_tune", "rerank_num_layers", "rerank_pooling", "rerank_max_length",
                 "rerank_learning_rate", "rerank_epochs", "rerank_batch_size", "rerank_negatives", "attn_implementation",
                 "seed")  # fmt: skip


def fit_reranker(config: ExperimentConfig, prep: Prepared, questions: pd.DataFrame, ids: np.ndarray, fold: int,
                 desc: str):  # fmt: skip
    """The cross-encoder of one fold, trained on pairs mined from ``questions`` (the fold's training set).
    Experiments with the same retrieval and reranker settings share it: it sees no reader."""
    trained_on = hashlib.sha1("\n".join(map(str, questions["id"])).encode()).hexdigest()
    key = (retrieval_key(config), *(getattr(config, f) for f in RERANK_FIELDS), fold, trained_on)
    if key not in prep._rerankers:
        if not config.rerank_fine_tune:
            prep._rerankers[key] = rerank.pretrained(config)
        else:
            gold = prep.data.gold
            if (
                gold is not None
            ):  # gold evidence beats the weak label: mine only the fold's questions that have it
                gold = gold[gold["id"].isin(set(questions["id"]))]
                keep = questions["id"].isin(set(gold["id"])).to_numpy()
                questions, ids = questions[keep].reset_index(drop=True), ids[keep]
            pairs = rerank.mine_pairs(questions, prep.passages, ids, gold, negatives=config.rerank_negatives)
            if pairs.empty or not pairs["label"].any():
                raise DataError(
                    f"{config.name} fold {fold + 1}: no retrieved candidate of its {len(questions)} training "
                    "questions holds their gold evidence or answer text: nothing to train the reranker on"
                )
            prep._rerankers[key] = rerank.fit_reranker(pairs, config, f"{desc} reranker")
    return prep._rerankers[key]


def fit_fold(config: ExperimentConfig, prep: Prepared, questions: pd.DataFrame, ids: np.ndarray | None,
             reader_ids: np.ndarray | None, fold: int, desc: str) -> FoldModels:  # fmt: skip
    """Reranker (when the experiment reranks, trained on ``ids``, its own candidates) and reader trained on
    ``questions`` with contexts from ``reader_ids`` in the retrievers' order: reranked by a cross-encoder
    that trained on these very questions, the training contexts would be better than any held-out one, and
    the reader would learn to over-trust its context."""
    ranker = fit_reranker(config, prep, questions, ids, fold, desc) if config.rerank else None
    models = FoldModels(config, None, ranker)
    frame = with_context(config, prep.passages, questions, reader_ids)
    models.reader = fit_reader(config, frame, f"{desc} reader")
    return models


def reader_candidates(config: ExperimentConfig, prep: Prepared) -> np.ndarray | None:
    """The candidates of every train.csv and extra question (stacked) that the reader's training contexts
    come from: one of ``train_retrieval`` per question, drawn once (seeded) so every fold sees the same draw."""
    if not config.train_retrieval:
        return None
    sources = [prep.candidates(replace(config, retrieval=r)) for r in config.train_retrieval]
    stacked = np.stack([stack(c["train"], c["extra"]) for c in sources])
    pick = np.random.default_rng(config.seed).integers(len(sources), size=stacked.shape[1])
    return stacked[pick, np.arange(stacked.shape[1])]


def stack(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return None if a is None else np.concatenate([a, b])


def run_experiment(config: ExperimentConfig, prep: Prepared, fold: np.ndarray, out_dir: Path | None = None,
                   models_dir: Path | None = None, desc: str | None = None,
                   variants: dict[str, dict] | None = None) -> ExperimentResult:  # fmt: skip
    """Cross-validate ``config``; its artefacts go into ``out_dir`` and its fold pipelines into
    ``models_dir/fold-<k>`` when given. ``variants`` (name -> retrieval changes, e.g. ``{"retrieval": "bm25",
    "rerank": False}``) score the same fold readers with other contexts, no retraining; their results are in
    ``result.variants`` (artefacts in ``out_dir/../<name>``)."""
    start = time.perf_counter()
    config = resolved(config, prep)
    train, test = prep.data.train, prep.data.test
    cands = prep.candidates(config)
    mixed = reader_candidates(config, prep)
    n_folds = int(fold.max()) + 1
    scored = {config.name: config} | {
        name: replace(config, name=name, **changes) for name, changes in (variants or {}).items()
    }
    oof = {name: np.zeros((len(train), len(LETTERS))) for name in scored}
    test_sum = {name: np.zeros((len(test), len(LETTERS))) for name in scored}
    seconds = dict.fromkeys(scored, 0.0)
    ranked = None if cands["train"] is None else np.zeros_like(cands["train"])
    label = desc or config.name
    if not is_main_process():
        out_dir = models_dir = None
    for k in range(n_folds):
        held = fold == k
        questions = pd.concat([train[~held], prep.extra], ignore_index=True)
        ids = None if cands["train"] is None else stack(cands["train"][~held], cands["extra"])
        reader_ids = ids if mixed is None else mixed[np.concatenate([~held, np.ones(len(prep.extra), bool)])]
        models = fit_fold(config, prep, questions, ids, reader_ids, k, f"{label} fold {k + 1}/{n_folds}")
        held_questions = train[held].reset_index(drop=True)
        for name, variant in scored.items():
            tic = time.perf_counter()
            pipeline = FoldModels(variant, models.reader, models.reranker if variant.rerank else None)
            var_cands = prep.candidates(variant)
            held_ids = None if var_cands["train"] is None else var_cands["train"][held]
            held_ranked = pipeline.ranked(prep.passages, held_questions, held_ids)
            if name == config.name and ranked is not None:
                ranked[held] = held_ranked
            oof[name][held] = pipeline.proba(prep.passages, held_questions, held_ids, ranked=held_ranked)
            test_sum[name] += pipeline.proba(prep.passages, test, var_cands["test"])
            seconds[name] += time.perf_counter() - tic
        if models_dir is not None:
            models.save(Path(models_dir) / f"fold-{k}")
        del models
    total = time.perf_counter() - start
    results = {name: ExperimentResult(name, train["answer"].to_numpy(), oof[name], test_sum[name] / n_folds, fold,
                                      total - sum(seconds.values()) + seconds[name], variant,
                                      ranked if name == config.name else None)
               for name, variant in scored.items()}  # fmt: skip
    result = results.pop(config.name)
    result.variants = results
    if out_dir is not None:
        for name, res in [(config.name, result), *results.items()]:
            write_artifacts(res, prep, Path(out_dir) if name == config.name else Path(out_dir).parent / name)
    return result


def write_artifacts(result: ExperimentResult, prep: Prepared, out: Path) -> None:
    """config.json, oof.csv (probabilities, fold, ranking), test.csv (the fold pipelines' mean) and
    scores.json of one experiment."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(result.config), indent=2) + "\n")
    probs = lambda p: {f"p_{letter}": p[:, j] for j, letter in enumerate(LETTERS)}  # noqa: E731
    pd.DataFrame({"id": prep.data.train["id"], "answer": result.answers, "fold": result.fold,
                  "prediction": predictions(result.oof), **probs(result.oof)}).to_csv(out / "oof.csv", index=False)  # fmt: skip
    pd.DataFrame({"id": prep.data.test["id"], "prediction": predictions(result.test),
                  **probs(result.test)}).to_csv(out / "test.csv", index=False)  # fmt: skip
    scores = {"metric": "MAP@3", "cv": result.cv, "folds": result.folds, "seconds": result.seconds}
    (out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
