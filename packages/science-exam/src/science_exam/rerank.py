"""Cross-encoder reranking of the retrieved passages (§8.6.3).

A cross-encoder reads the question and one passage together and gives one relevance score; sorting a
question's candidates by it puts the passages that answer it first, so the reader's few context passages are
better ones. No pretrained cross-encoder ships on PyPI, so the CPU preset fine-tunes one from MiniLM on
(question, passage) pairs mined from the training folds (:func:`mine_pairs`); the full recipe can start from
a real cross-encoder id, fine-tuned the same way or used as it is (:func:`pretrained`).

- The query is the question's ``prompt`` alone: the reranker picks passages for the question as a whole,
  and one query per question keeps the cost at ``candidates`` pairs per question rather than five times
  that.
- A passage reads "title: text", as the reader's context shows it (:mod:`science_exam.context`); the input
  is ``(query, passage)`` with the passage cut from its end to ``rerank_max_length``.
- The model has one logit. With ``rerank_pooling="model"`` it is ``AutoModelForSequenceClassification``
  (``num_labels=1``, the architecture's first-token head, the layout of real cross-encoders), trained with
  BCE through ``problem_type="multi_label_classification"`` (transformers' BCE-with-logits over float labels
  of shape ``(batch, 1)``); ``"mean"`` is the mean-pooled head of :mod:`science_exam.reader` with the same
  BCE, for encoders pretrained for mean pooling such as MiniLM (see there for why).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerBase

from science_exam.data import LETTERS
from science_exam.reader import (
    Collator,
    build_scorer,
    encode_pairs,
    length_batches,
    load_scorer,
    pad_id,
    save_scorer,
    train_model,
)

SETTINGS = "reranker.json"
# what the config leaves to the cross-encoder: a short warm-up and AdamW's usual decay, one batch per step
WARMUP_RATIO, WEIGHT_DECAY, SCHEDULER = 0.1, 0.01, "linear"


def passage_texts(passages: pd.DataFrame) -> np.ndarray:
    """Each passage as the cross-encoder reads it, "title: text", indexed by ``passage_id`` (= row)."""
    return (passages["title"].astype(str) + ": " + passages["text"].astype(str)).to_numpy()


def mine_pairs(
    questions: pd.DataFrame,
    passages: pd.DataFrame,
    ids: np.ndarray,
    gold: pd.DataFrame | None = None,
    negatives: int = 3,
) -> pd.DataFrame:
    """Labelled (question, passage) pairs from each question's retrieved candidates ``ids`` (row i of
    ``ids`` belongs to row i of ``questions``; -1 = no passage).

    A candidate is a positive when it holds one of the question's gold evidence sentences (``gold``: ``id,
    evidence``; questions without gold rows are skipped), or, without ``gold``, when it contains the correct
    option's text — a weak label for real data, where a passage may name the answer
    without supporting it. The negatives are the best-ranked non-positive candidates, ``negatives`` per
    positive (hard negatives: what retrieval confuses with the answer). A question none of whose candidates
    is a positive adds nothing: its "negatives" could be unlabelled positives worded differently.

    Matching ignores case. Returns ``id, query, passage_id, passage, label`` (label 1.0 / 0.0), in retrieval
    order per question.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 2 or len(ids) != len(questions):
        raise ValueError(f"mine_pairs: ids of shape {ids.shape} for {len(questions)} questions")
    texts = passage_texts(passages)
    qids = questions["id"].astype(str).tolist()
    needles: dict[str, list[str]] = {}  # what a positive contains, lower-cased, per question id
    if gold is None:
        options = questions[list(LETTERS)].astype(str).to_numpy()
        for qid, row, answer in zip(qids, options, questions["answer"], strict=True):
            needles[qid] = [row[LETTERS.index(answer)].lower()]
    else:
        for qid, sentence in zip(gold["id"].astype(str), gold["evidence"].astype(str), strict=True):
            needles.setdefault(qid, []).append(sentence.lower())
    rows = []
    for qid, prompt, candidates in zip(qids, questions["prompt"].astype(str), ids, strict=True):
        if qid not in needles:
            continue
        kept = [int(p) for p in candidates if p >= 0]
        labels = [any(n in texts[p].lower() for n in needles[qid]) for p in kept]
        budget = negatives * sum(labels)
        for p, positive in zip(kept, labels, strict=True):
            if not positive:
                if budget == 0:
                    continue
                budget -= 1
            rows.append((qid, prompt, p, texts[p], float(positive)))
    return pd.DataFrame(rows, columns=["id", "query", "passage_id", "passage", "label"])


class Reranker:
    """A cross-encoder with its tokenizer and the settings scoring needs."""

    def __init__(
        self, model, tokenizer: PreTrainedTokenizerBase, settings: dict, losses: list[float] | None = None
    ):
        self.model, self.tokenizer, self.settings = model, tokenizer, settings
        self.losses = list(losses or [])  # the training losses fit_reranker logged (empty otherwise)

    @torch.inference_mode()
    def score(self, queries: Sequence[str], passage_texts: Sequence[str]) -> np.ndarray:
        """(n,) float32 relevance logits of each (query, passage) pair, higher = more relevant."""
        out = np.zeros(len(queries), dtype=np.float32)
        if not len(queries):
            return out
        encoded = encode_pairs(
            self.tokenizer, queries, passage_texts, self.settings["max_length"], context_first=False
        )
        features = [dict(zip(encoded, values, strict=True)) for values in zip(*encoded.values(), strict=True)]
        self.model.eval()
        device = next(self.model.parameters()).device
        collate = Collator(pad_id(self.tokenizer))
        for batch in length_batches([len(f["input_ids"]) for f in features], self.settings["batch_size"]):
            inputs = {k: v.to(device) for k, v in collate([features[i] for i in batch]).items()}
            out[batch] = self.model(**inputs).logits.float().view(-1).cpu().numpy()
        return out

    def rerank(
        self, questions: pd.DataFrame, passages: pd.DataFrame, ids: np.ndarray, top: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each question's candidates ``ids`` (n, k; -1 = none) sorted by :meth:`score` against its prompt,
        the first ``top``: ``(ids int64, scores float32)``, both (n, min(top, k)). Equal scores keep the
        retrieval order; missing candidates stay last as id -1 with score -inf."""
        ids = np.asarray(ids, dtype=np.int64)
        scores = np.full(ids.shape, -np.inf, dtype=np.float32)
        rows, cols = np.nonzero(ids >= 0)
        texts = passage_texts(passages)
        prompts = questions["prompt"].astype(str).to_numpy()
        scores[rows, cols] = self.score(prompts[rows], texts[ids[rows, cols]])
        order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
        return np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)

    def save(self, directory: Path) -> None:
        """Write the checkpoint, the tokenizer and ``reranker.json`` into ``directory``."""
        directory = Path(directory)
        save_scorer(self.model, self.tokenizer, directory)
        (directory / SETTINGS).write_text(json.dumps(self.settings, indent=2) + "\n")


def _settings(config, pooling: str) -> dict:
    return {"pooling": pooling, "max_length": config.rerank_max_length, "batch_size": 2 * config.rerank_batch_size,
            "attn_implementation": config.attn_implementation}  # fmt: skip


def fit_reranker(pairs: pd.DataFrame, config, desc: str) -> Reranker:
    """Fine-tune ``config.rerank_backbone`` (already resolved to a path or HF id) with the
    ``config.rerank_pooling`` head on ``pairs`` from :func:`mine_pairs`, one progress bar named ``desc``."""
    if not len(pairs):
        raise ValueError("fit_reranker: no pairs (no question had a positive among its candidates)")
    tokenizer = AutoTokenizer.from_pretrained(config.rerank_backbone)
    encoded = encode_pairs(
        tokenizer, pairs["query"], pairs["passage"], config.rerank_max_length, context_first=False
    )
    labels = pairs["label"].astype(float).tolist()
    rows = [dict(zip(encoded, values, strict=True)) | {"labels": [label]}
            for *values, label in zip(*encoded.values(), labels, strict=True)]  # fmt: skip
    model = build_scorer(
        AutoModelForSequenceClassification, config.rerank_backbone, config.rerank_pooling, "binary",
        config.rerank_num_layers, config.attn_implementation, config.seed,
        **({"num_labels": 1, "problem_type": "multi_label_classification", "ignore_mismatched_sizes": True}
           if config.rerank_pooling == "model" else {}),  # a 2-label cross-encoder gets a fresh 1-logit head
    )  # fmt: skip
    losses = train_model(
        model, rows, pad_id(tokenizer), desc, batch_size=config.rerank_batch_size, epochs=config.rerank_epochs,
        learning_rate=config.rerank_learning_rate, seed=config.seed, warmup_ratio=WARMUP_RATIO,
        weight_decay=WEIGHT_DECAY, scheduler=SCHEDULER,
    )  # fmt: skip
    return Reranker(model, tokenizer, _settings(config, config.rerank_pooling), losses)


def pretrained(config) -> Reranker:
    """``config.rerank_backbone`` as it is, a real cross-encoder checkpoint (one logit), not fine-tuned
    (``rerank_fine_tune: false``)."""
    model = build_scorer(AutoModelForSequenceClassification, config.rerank_backbone, "model", "binary",
                         config.rerank_num_layers, config.attn_implementation, config.seed)  # fmt: skip
    if model.config.num_labels != 1:
        raise ValueError(f"rerank_backbone: {config.rerank_backbone} has {model.config.num_labels} labels, "
                         "a cross-encoder has 1 (fine-tune an encoder instead: rerank_fine_tune true)")  # fmt: skip
    if torch.cuda.is_available():
        model.cuda()
    return Reranker(model, AutoTokenizer.from_pretrained(config.rerank_backbone), _settings(config, "model"))


def load(directory: Path) -> Reranker:
    """The reranker :meth:`Reranker.save` wrote (offline), on CUDA when there is one."""
    directory = Path(directory)
    settings = json.loads((directory / SETTINGS).read_text())
    model = load_scorer(AutoModelForSequenceClassification, directory, settings["pooling"], "binary",
                        settings["attn_implementation"])  # fmt: skip
    return Reranker(model, AutoTokenizer.from_pretrained(directory), settings)
