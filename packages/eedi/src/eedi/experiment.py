"""One experiment: cross-validated retrieval over every misconception, then the optional LLM reranking of
the candidates, scored by MAP@25 on the out-of-fold rows and written out for the report and for predict.

The unit is a labelled (question, incorrect answer) row of train.csv; a question's rows always share a
fold, and a share of the misconceptions keep all their rows in one fold (``eedi.folds``), so the
out-of-fold rows hold unseen misconceptions as the test does. Test scores are the mean of the fold models'.

Stage 1 (:class:`Retrieval`) is computed once per retriever setting and shared by every experiment of a
run: TF-IDF and the pretrained embedder need no training, so their out-of-fold scores are just their
scores; the fine-tuned embedder is trained per fold (MNRL with hard negatives mined from a first-stage
retriever, plus the synthetic question sets when the config names them). Stage 2 rescoring uses the fold's
pointwise reranker on the first ``pointwise_candidates`` and the fold's listwise reranker on the first
``listwise_candidates`` of that; a reranker is trained on its fold's training rows with their own
out-of-fold candidates, which are as hard as the held-out rows' candidates are.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from eedi import embedder, fusion, listwise, pointwise
from eedi.configs import TOP, ExperimentConfig
from eedi.data import DataError, EediData, to_long
from eedi.explain import read_explanations
from eedi.folds import assign_folds, unseen_columns
from eedi.ranked import Ranked, from_scores, rescored
from eedi.submission import submission_frame
from eedi.text import doc_texts, query_texts
from eedi.tfidf import TfidfRetriever
from shared.console import progress
from shared.tiny import resolve_backbone

RETRIEVAL = "retrieval"  # models/retrieval/<setting>: the retrievers' saved state


def is_main_process() -> bool:
    """False on the other ranks of an ``accelerate launch``: every rank trains and predicts, rank 0 writes."""
    return int(os.environ.get("RANK", "0")) == 0


def columns_of(ids: pd.Series, misconceptions: pd.DataFrame) -> np.ndarray:
    """Column index (position in the mapping) of each misconception id."""
    position = pd.Series(np.arange(len(misconceptions)), index=misconceptions["MisconceptionId"].to_numpy())
    return position.reindex(ids.to_numpy()).to_numpy(dtype=np.int64)


@dataclass
class Prepared:
    """What every experiment of a run shares: the rows, their texts and folds, and the retrieval scores."""

    data: EediData
    train: pd.DataFrame  # long, labelled rows of train.csv
    test: pd.DataFrame  # long, every incorrect answer of test.csv
    synthetic: pd.DataFrame  # long, labelled rows of the extra (synthetic) sets
    docs: list[str]
    queries: dict[str, list[str]]
    truth: np.ndarray
    synthetic_truth: np.ndarray
    fold: np.ndarray
    unseen: np.ndarray  # (n_folds, n_columns): no training row outside the fold
    test_truth: np.ndarray | None  # column of each test row, -1 where the test labels have none
    _retrieval: dict = field(default_factory=dict, repr=False)

    @property
    def n_folds(self) -> int:
        return int(self.fold.max()) + 1

    @property
    def n_columns(self) -> int:
        return len(self.docs)

    @property
    def test_unseen(self) -> np.ndarray:
        """(n_columns,) misconceptions no row of train.csv has: the test's unseen ones."""
        unseen = np.ones(self.n_columns, dtype=bool)
        unseen[self.truth] = False
        return unseen

    @property
    def row_unseen(self) -> np.ndarray:
        """(n_train,) whether each out-of-fold row's misconception is unseen by its fold's models."""
        return self.unseen[self.fold, self.truth]

    def texts(self) -> list[str]:
        """Label-free text a tiny local checkpoint's tokenizer (and a tiny pretrained LM) learns from: the
        misconception names, every query, and the rerankers' prompt scaffolding."""
        return [*self.docs, *self.queries["train"], *self.queries["test"], *self.queries["synthetic"],
                *pointwise.PROMPT_TEXTS, *listwise.PROMPT_TEXTS]  # fmt: skip


def prepare(data: EediData, n_folds: int, holdout: float, seed: int) -> Prepared:
    train = to_long(data.train, labelled=True)
    train = train[train["MisconceptionId"].notna()].reset_index(drop=True)
    if len(train) == 0:
        raise DataError(f"{data.source}/train.csv: no incorrect answer has a misconception: nothing to train on")
    test = to_long(data.test, labelled=False)
    synthetic = to_long(data.extra, labelled=True)
    synthetic = synthetic[synthetic["MisconceptionId"].notna()].reset_index(drop=True)
    misconceptions = data.misconceptions
    truth = columns_of(train["MisconceptionId"], misconceptions)
    fold = assign_folds(train, n_folds, holdout, seed)
    test_truth = None
    if data.test_labels is not None:
        labels = test[["QuestionId_Answer"]].merge(data.test_labels, on="QuestionId_Answer", how="left")
        known = labels["MisconceptionId"].notna().to_numpy()
        test_truth = np.full(len(test), -1, dtype=np.int64)
        test_truth[known] = columns_of(labels["MisconceptionId"][known].astype("int64"), misconceptions)
    return Prepared(
        data=data, train=train, test=test, synthetic=synthetic, docs=doc_texts(misconceptions),
        queries={"train": query_texts(train), "test": query_texts(test), "synthetic": query_texts(synthetic)},
        truth=truth, synthetic_truth=columns_of(synthetic["MisconceptionId"], misconceptions), fold=fold,
        unseen=unseen_columns(truth, fold, len(misconceptions)), test_truth=test_truth,
    )  # fmt: skip


# --- stage 1: retrieval --------------------------------------------------------------------------------------


@dataclass
class Scores:
    """One retriever's (n, n_columns) scores: out of fold for train.csv's rows, the fold mean for the test,
    and (untrained retrievers only) the synthetic rows' (where hard negatives are mined)."""

    oof: np.ndarray
    test: np.ndarray
    synthetic: np.ndarray | None
    saved: str | None  # models/<saved>: what predict loads for this retriever


EMBEDDER_FIELDS = ("embedder", "embedder_pooling", "embedder_num_layers", "embedder_max_length", "query_prefix",
                   "doc_prefix")  # fmt: skip
TRAINING_FIELDS = ("embedder_lora_r", "embedder_lora_alpha", "embedder_learning_rate", "embedder_epochs",
                   "embedder_batch_size", "embedder_warmup_ratio", "mnrl_scale", "hard_negatives",
                   "hard_negative_source", "hard_negative_top", "synthetic", "synthetic_only_unseen", "bf16", "seed")  # fmt: skip


def retrieval_key(kind: str, config: ExperimentConfig) -> str:
    """A readable folder name for one retriever setting; the fine-tuned one's settings hashed into it."""
    if kind == "tfidf":
        return f"tfidf-{config.tfidf_analyzer}-{config.tfidf_ngram_max}"
    settings = {f: getattr(config, f) for f in EMBEDDER_FIELDS}
    if kind == "finetuned":
        settings |= {f: getattr(config, f) for f in TRAINING_FIELDS}
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    return f"{kind}-{'synthetic-' if kind == 'finetuned' and config.synthetic else ''}{digest}"


def load_embedder(config: ExperimentConfig, path: str):
    return embedder.load(path, max_length=config.embedder_max_length, pooling=config.embedder_pooling,
                         num_layers=config.embedder_num_layers, lora_r=config.embedder_lora_r,
                         lora_alpha=config.embedder_lora_alpha, seed=config.seed)  # fmt: skip


def embedder_scores(config: ExperimentConfig, model, queries: list[str], docs: list[str]) -> np.ndarray:
    return embedder.scores(model, queries, docs, query_prefix=config.query_prefix, doc_prefix=config.doc_prefix,
                           batch_size=64)  # fmt: skip


def tfidf_retriever(config: ExperimentConfig) -> TfidfRetriever:
    low = 3 if config.tfidf_analyzer == "char_wb" else 1
    return TfidfRetriever(analyzer=config.tfidf_analyzer, ngram_range=(min(low, config.tfidf_ngram_max),
                                                                      config.tfidf_ngram_max))  # fmt: skip


def untrained_scores(kind: str, config: ExperimentConfig, prep: Prepared, models_dir: Path | None,
                     key: str) -> Scores:  # fmt: skip
    q = prep.queries
    if kind == "tfidf":
        model = tfidf_retriever(config).fit(prep.docs)
        score = model.scores
    else:
        model = load_embedder(config, resolve_backbone(config.embedder, prep.texts()))
        score = lambda texts: embedder_scores(config, model, texts, prep.docs)  # noqa: E731
    out = Scores(score(q["train"]), score(q["test"]), score(q["synthetic"]) if q["synthetic"] else None, None)
    if models_dir is not None and is_main_process():
        out.saved = f"{RETRIEVAL}/{key}"
        if kind == "tfidf":
            model.save(Path(models_dir) / out.saved)
        else:
            embedder.save(model, Path(models_dir) / out.saved)
    return out


def finetuned_scores(config: ExperimentConfig, prep: Prepared, models_dir: Path | None, key: str,
                     desc: str) -> Scores:  # fmt: skip
    """Per fold: MNRL fine-tuning on the other folds' rows (and the synthetic rows when named), hard negatives
    from the first-stage retriever's scores of those rows; the held-out rows and the test scored."""
    source = retrieval(replace(config, retrievers=[config.hard_negative_source]), prep, models_dir,
                       desc)[config.hard_negative_source]  # fmt: skip
    q = prep.queries
    use_synthetic = bool(config.synthetic) and len(prep.synthetic) > 0
    oof = np.zeros((len(prep.train), prep.n_columns), dtype=np.float32)
    test = np.zeros((len(prep.test), prep.n_columns), dtype=np.float32)
    path = resolve_backbone(config.embedder, prep.texts())
    groups = embedder.doc_groups(prep.docs)  # two ids with one name are one misconception to a text model
    for k in range(prep.n_folds):
        rows = np.flatnonzero(prep.fold != k)
        queries = [q["train"][i] for i in rows]
        positives = prep.truth[rows]
        first = source.oof[rows]
        if use_synthetic:
            extra = np.flatnonzero(prep.unseen[k][prep.synthetic_truth] if config.synthetic_only_unseen
                                   else np.ones(len(prep.synthetic), dtype=bool))  # fmt: skip
            queries += [q["synthetic"][i] for i in extra]
            positives = np.concatenate([positives, prep.synthetic_truth[extra]])
            first = np.concatenate([first, source.synthetic[extra]])
        negatives = None
        if config.hard_negatives:
            negatives = embedder.mine_hard_negatives(first, positives, config.hard_negatives, config.hard_negative_top,
                                                     seed=config.seed + k, groups=groups)  # fmt: skip
        model = load_embedder(config, path)
        model = embedder.fine_tune(
            model, queries, positives, negatives, prep.docs, epochs=config.embedder_epochs,
            batch_size=config.embedder_batch_size, learning_rate=config.embedder_learning_rate,
            warmup_ratio=config.embedder_warmup_ratio, scale=config.mnrl_scale, seed=config.seed, bf16=config.bf16,
            query_prefix=config.query_prefix, doc_prefix=config.doc_prefix,
            desc=f"{desc} embedder fold {k + 1}/{prep.n_folds}",
        )  # fmt: skip
        held = prep.fold == k
        oof[held] = embedder_scores(config, model, [q["train"][i] for i in np.flatnonzero(held)], prep.docs)
        test += embedder_scores(config, model, q["test"], prep.docs)
        if models_dir is not None and is_main_process():
            embedder.save(model, Path(models_dir) / RETRIEVAL / key / f"fold-{k}")
        del model
    saved = f"{RETRIEVAL}/{key}" if models_dir is not None else None
    return Scores(oof, test / prep.n_folds, None, saved)


def retrieval(config: ExperimentConfig, prep: Prepared, models_dir: Path | None, desc: str) -> dict[str, Scores]:
    """The scores of each of ``config.retrievers``, computed once per setting per run."""
    out = {}
    for kind in config.retrievers:
        key = retrieval_key(kind, config)
        if key not in prep._retrieval:
            if kind == "finetuned":
                prep._retrieval[key] = finetuned_scores(config, prep, models_dir, key, desc)
            else:
                prep._retrieval[key] = untrained_scores(kind, config, prep, models_dir, key)
        out[kind] = prep._retrieval[key]
    return out


@dataclass
class Fused:
    oof: np.ndarray
    test: np.ndarray
    weights: list[float] | None  # the test's (tuned on every out-of-fold row); None for one retriever or RRF


def fuse_scores(config: ExperimentConfig, matrices: list[np.ndarray], weights) -> np.ndarray:
    """Rows' scores of ``config.retrievers`` fused with tuned ``weights`` (unused by one retriever and by RRF):
    how the test is fused here and in ``eedi-predict``."""
    if len(matrices) == 1:
        return matrices[0]
    if config.fusion == "rrf":
        return fusion.rrf(matrices, k=config.rrf_k)
    return fusion.fuse(matrices, weights, norm=config.fusion_norm)


def fuse(config: ExperimentConfig, prep: Prepared, scores: dict[str, Scores]) -> Fused:
    """One retriever as it is; several fused: RRF, or normalised scores weighted with weights cross-fitted
    over the folds (each fold's rows fused with weights tuned on the other folds)."""
    members = [scores[k] for k in config.retrievers]
    oofs, tests = [m.oof for m in members], [m.test for m in members]
    if len(members) == 1 or config.fusion == "rrf":
        return Fused(fuse_scores(config, oofs, None), fuse_scores(config, tests, None), None)
    oof, weights = fusion.cross_fitted(oofs, prep.truth, prep.fold, grid_step=config.fusion_step,
                                       norm=config.fusion_norm)  # fmt: skip
    return Fused(oof, fuse_scores(config, tests, weights), [float(w) for w in weights])


# --- stage 2: reranking --------------------------------------------------------------------------------------


def resolved(config: ExperimentConfig, prep: Prepared) -> ExperimentConfig:
    """``config`` with the rerankers' local stand-ins (``tiny:...``) replaced by their checkpoint paths."""
    changes = {}
    for name in ("pointwise_backbone", "listwise_backbone"):
        value = getattr(config, name)
        if value.startswith("tiny:") or value == "minilm":
            changes[name] = resolve_backbone(value, prep.texts())
    return replace(config, **changes)


def release() -> None:
    """Give a freed model's memory back (on a GPU the next fold's model needs it)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@dataclass
class FoldRerankers:
    """Each fold's rerankers: the model itself, or the folder it was saved in, loaded when it is used and
    freed after, so that one fold's 14B-72B reranker is in memory at a time."""

    pointwise: list
    listwise: list | None

    def get(self, kind: str, k: int):
        item = getattr(self, kind)[k]
        if isinstance(item, Path):
            return (pointwise if kind == "pointwise" else listwise).load(item)
        return item


def reranker_queries(config: ExperimentConfig, prep: Prepared, rows: str) -> list[str]:
    """The rerankers' query texts of ``rows`` (train | test): the retrievers', plus each row's CoT explanation
    when the config names an explanations file."""
    if not config.explanations:
        return prep.queries[rows]
    path = Path(config.explanations)
    explanations = read_explanations(path if path.is_absolute() else Path(prep.data.source) / path)
    return query_texts(prep.train if rows == "train" else prep.test, explanations)


def fit_rerankers(config: ExperimentConfig, prep: Prepared, candidates: np.ndarray, desc: str,
                  models_dir: Path | None) -> FoldRerankers:  # fmt: skip
    """Each fold's rerankers, trained on the other folds' rows with their out-of-fold ``candidates``; with
    ``models_dir`` each is saved there and dropped from memory."""
    point, lists = [], [] if config.listwise else None
    q = reranker_queries(config, prep, "train")
    for k in range(prep.n_folds):
        rows = np.flatnonzero(prep.fold != k)
        queries = [q[i] for i in rows]
        label = f"{desc} fold {k + 1}/{prep.n_folds}"
        stages = [("pointwise", pointwise, config.pointwise_candidates, point)]
        if config.listwise:
            stages.append(("listwise", listwise, config.listwise_candidates, lists))
        for kind, module, width, kept in stages:
            model = module.fit(config, queries, candidates[rows, :width], prep.truth[rows], prep.docs,
                               desc=f"{label} {kind}")  # fmt: skip
            if models_dir is None or not is_main_process():
                kept.append(model)
                continue
            folder = Path(models_dir) / kind / f"fold-{k}"
            model.save(folder)
            kept.append(folder)
            del model
            release()
    return FoldRerankers(point, lists)


def pointwise_log_yes(scores: np.ndarray) -> np.ndarray:
    """log p(Yes) from the reranker's log p(Yes) − log p(No): the boost's units (a factor on a probability)."""
    return -np.logaddexp(0.0, -np.asarray(scores, dtype=np.float64))


def mean_scores(rerankers: FoldRerankers, kind: str, folds: list[int], score) -> np.ndarray:
    """The mean over ``folds`` of ``score(reranker)``, one fold's reranker in memory at a time."""
    total = None
    for k in folds:
        model = rerankers.get(kind, k)
        part = np.asarray(score(model), dtype=np.float64)
        total = part if total is None else total + part
        del model
        release()
    return total / len(folds)


def rerank_rows(config: ExperimentConfig, rerankers: FoldRerankers, folds: list[int], stage1: Ranked,
                queries: list[str], docs: list[str]) -> tuple[Ranked, Ranked | None]:  # fmt: skip
    """The pointwise (and listwise) rescoring of ``stage1``'s rows by the mean of the rerankers of ``folds``."""
    k_point = config.pointwise_candidates
    point = mean_scores(rerankers, "pointwise", folds, lambda r: r.scores(queries, stage1.cols[:, :k_point], docs))
    first = rescored(stage1, pointwise_log_yes(point))
    if not config.listwise:
        return first, None
    k_list = config.listwise_candidates
    lists = mean_scores(rerankers, "listwise", folds, lambda r: r.scores(
        queries, first.cols[:, :k_list], docs, permutations=config.listwise_permutations))  # fmt: skip
    return first, rescored(first, lists)


# --- the experiment ----------------------------------------------------------------------------------------


@dataclass
class ExperimentResult:
    name: str
    config: ExperimentConfig
    oof: Ranked
    test: Ranked
    seconds: float
    truth: np.ndarray
    fold: np.ndarray
    fused: Fused | None = None
    retrieval: dict = field(default_factory=dict)  # kind -> Scores
    rerankers: FoldRerankers | None = None
    pointwise_oof: Ranked | None = None  # the pointwise stage of a pointwise+listwise experiment
    pointwise_test: Ranked | None = None

    @property
    def ap(self) -> np.ndarray:
        return self.oof.average_precision(self.truth)

    @property
    def cv(self) -> float:
        return float(self.ap.mean())

    @property
    def folds(self) -> list[float]:
        ap = self.ap
        return [float(ap[self.fold == k].mean()) for k in range(int(self.fold.max()) + 1)]


def depth(config: ExperimentConfig) -> int:
    """Columns a stage-1 ranking keeps: the submission's 25, or the reranker's candidates when more."""
    return max(TOP, config.pointwise_candidates) if config.reranks else TOP


def run_experiment(config: ExperimentConfig, prep: Prepared, out_dir: Path | None = None,
                   models_dir: Path | None = None, desc: str | None = None,
                   rerankers: FoldRerankers | None = None) -> ExperimentResult:  # fmt: skip
    """Cross-validate ``config``. ``rerankers``: fold rerankers to reuse instead of training new ones (the same
    rerankers rescoring another retrieval's candidates, e.g. after synthetic data changed the retriever)."""
    start = time.perf_counter()
    label = desc or config.name
    if not is_main_process():
        out_dir = models_dir = None
    scores = retrieval(config, prep, models_dir, label)
    fused = fuse(config, prep, scores)
    stage1_oof, stage1_test = from_scores(fused.oof, depth(config)), from_scores(fused.test, depth(config))
    result = ExperimentResult(config.name, config, stage1_oof, stage1_test, 0.0, prep.truth, prep.fold, fused,
                              scores)  # fmt: skip
    if config.reranks:
        config = resolved(config, prep)
        if rerankers is None:
            here = None if models_dir is None else Path(models_dir) / config.name
            rerankers = fit_rerankers(config, prep, stage1_oof.cols, label, here)
        result.rerankers = rerankers
        q = {rows: reranker_queries(config, prep, rows) for rows in ("train", "test")}
        parts = {}
        for k in progress(range(prep.n_folds), desc=f"{label} rerank", unit="fold"):
            held = np.flatnonzero(prep.fold == k)
            parts[k] = rerank_rows(config, rerankers, [k], stage1_oof.subset(held), [q["train"][i] for i in held],
                                   prep.docs)  # fmt: skip
        result.oof = merge(parts, prep.fold, final=True)
        test_point, test_list = rerank_rows(config, rerankers, list(range(prep.n_folds)), stage1_test, q["test"],
                                            prep.docs)  # fmt: skip
        result.test = test_list if test_list is not None else test_point
        if config.listwise:
            result.pointwise_oof, result.pointwise_test = merge(parts, prep.fold, final=False), test_point
    result.seconds = time.perf_counter() - start
    if out_dir is not None:
        write_artifacts(result, prep, Path(out_dir))
    return result


def merge(parts: dict[int, tuple[Ranked, Ranked | None]], fold: np.ndarray, final: bool) -> Ranked:
    """The folds' rankings put back in row order: the last stage's (``final``) or the pointwise stage's."""
    pick = {k: (p[1] if final and p[1] is not None else p[0]) for k, p in parts.items()}
    some = next(iter(pick.values()))
    cols = np.zeros((len(fold), some.cols.shape[1]), dtype=np.int64)
    scores = np.zeros((len(fold), some.head))
    for k, ranked in pick.items():
        cols[fold == k], scores[fold == k] = ranked.cols, ranked.scores
    return Ranked(cols, scores, some.head)


def submission_of(prep: Prepared, ranked: Ranked) -> pd.DataFrame:
    """The submission of a test ranking (``eedi.submission``)."""
    ids = prep.data.misconceptions["MisconceptionId"].to_numpy()
    return submission_frame(prep.test["QuestionId_Answer"].tolist(), ids, ranked)


def write_artifacts(result: ExperimentResult, prep: Prepared, out: Path) -> None:
    """config.json, oof.csv (each row's truth, fold, whether unseen there, rank and top 25), test.csv (the
    test's top 25) and scores.json of one experiment."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(result.config), indent=2) + "\n")
    ids = prep.data.misconceptions["MisconceptionId"].to_numpy()
    ap = result.ap
    pd.DataFrame({"QuestionId_Answer": prep.train["QuestionId_Answer"], "MisconceptionId": ids[prep.truth],
                  "fold": prep.fold, "unseen": prep.row_unseen, "ap": ap,
                  "prediction": [" ".join(map(str, r)) for r in ids[result.oof.cols[:, :TOP]]]}
                 ).to_csv(out / "oof.csv", index=False)  # fmt: skip
    submission_of(prep, result.test).to_csv(out / "test.csv", index=False)
    unseen = prep.row_unseen
    scores = {"metric": "MAP@25", "cv": result.cv, "folds": result.folds, "seconds": result.seconds,
              "cv_seen": float(ap[~unseen].mean()) if (~unseen).any() else None,
              "cv_unseen": float(ap[unseen].mean()) if unseen.any() else None}  # fmt: skip
    (out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
