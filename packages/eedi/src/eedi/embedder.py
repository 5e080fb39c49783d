"""Bi-encoder retriever: a sentence-transformers model fine-tuned with MultipleNegativesRankingLoss.

A query (question + wrong answer, :mod:`eedi.text`) and a document (a misconception name) are embedded
separately; their cosine ranks the misconceptions. Training pairs each query with its misconception; MNRL
treats every other document in the batch (the other rows' positives and every row's hard negatives) as a
negative for it, so a batch must never hold a row whose misconception is another row's positive or hard
negative: that "negative" would be the answer. :class:`MisconceptionBatchSampler` builds such batches from
the misconception labels themselves (two ids with the same name count as one, since their texts embed
alike). sentence-transformers' ``NO_DUPLICATES`` would be safe too (a misconception always has the same
text), but it compares every text of a row, so it also keeps apart rows that merely share a hard negative
or a query text, and packs fewer rows per batch.

The CPU preset is the PyPI all-MiniLM-L6-v2 (``minilm``), optionally cut to its first layers; the winners'
embedders were bge/e5-large and Qwen2.5-14B/32B under LoRA. A causal LM pools its last token (the only
position that has read the whole text), found from the attention mask; it is right-padded so that every
text sits at positions 0..len-1 as in pretraining (a rotary model does not mind a shift, a model with
absolute positions does) and gets its EOS as pad token where it has none. Texts go in as plain
text: sentence-transformers 6 wraps them in the chat template of any tokenizer that has one (Qwen's), which
would make the template's closing tokens every text's last token; an instruction belongs in the prefix.
Hard negatives come from a first-stage retriever's scores (TF-IDF or the untrained embedder), never from
the model being trained.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from shared.console import progress, quiet_trainer
from shared.tiny import resolve_backbone

META_FILE = "eedi_embedder.json"


def _is_causal_lm(config) -> bool:
    """A decoder-only LM: causal-LM architectures that are not also masked-LM encoders (BERT has both)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = getattr(config, "model_type", "")
    return bool(getattr(config, "is_decoder", False)) or (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


def load(
    name_or_path: str | Path,
    *,
    max_length: int = 256,
    pooling: str | None = None,
    num_layers: int = 0,
    lora_r: int = 0,
    lora_alpha: int | None = None,
    lora_dropout: float = 0.05,
    lora_target_modules: Sequence[str] | str | None = None,
    texts: Sequence[str] = (),
    dtype: str | None = None,
    attn_implementation: str | None = None,
    device: str | None = None,
    seed: int = 0,
):
    """A SentenceTransformer for ``name_or_path``: a hub id, a local checkpoint (plain transformers or
    sentence-transformers, e.g. one :func:`save` wrote) or a shorthand of :func:`shared.tiny.resolve_backbone`
    (``minilm``; ``tiny:bert`` and ``tiny:qwen2`` need ``texts`` to train their tokenizer on).

    ``pooling`` (mean | cls | lasttoken) replaces an encoder's pooling (None keeps the checkpoint's, mean
    for a plain transformers checkpoint); a causal LM always pools its last token, right-padded, with its
    EOS as pad token if it has none. ``num_layers > 0`` keeps the first N transformer layers (CPU speed).
    ``lora_r > 0`` adds LoRA adapters (rank r, alpha 2r unless given; ``lora_target_modules`` default every
    linear layer, initialised from ``seed``): only they train. A directory saved by :func:`save` is loaded
    with the number of layers it was saved with unless ``num_layers`` says otherwise, and with the adapters
    it was saved with (``lora_r`` adds none to those), so one call loads a fresh base and a trained fold alike."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    if pooling not in (None, "mean", "cls", "lasttoken"):
        raise ValueError(f"embedder pooling {pooling!r}: expected 'mean', 'cls' or 'lasttoken'")
    if num_layers < 0 or lora_r < 0:
        raise ValueError(f"embedder: num_layers ({num_layers}) and lora_r ({lora_r}) must be >= 0")
    path = resolve_backbone(str(name_or_path), texts)
    meta = Path(path) / META_FILE
    if num_layers == 0 and meta.is_file():
        num_layers = int(json.loads(meta.read_text())["num_layers"])
    config_kwargs = {"num_hidden_layers": num_layers} if num_layers else {}
    model_kwargs = {
        key: value for key, value in (("dtype", dtype), ("attn_implementation", attn_implementation)) if value
    }
    model = SentenceTransformer(path, device=device, config_kwargs=config_kwargs, model_kwargs=model_kwargs)
    model.max_seq_length = max_length
    transformer = model[0]
    if "message" in transformer.modality_config:  # see the module docstring: plain text, no chat template
        transformer.modality_config = {k: v for k, v in transformer.modality_config.items() if k != "message"}
        transformer.input_formatter.supported_modalities = list(transformer.modality_config)
    pool = next((m for m in model if isinstance(m, Pooling)), None)
    if pool is None:
        raise ValueError(f"embedder {name_or_path}: the checkpoint has no Pooling module")
    if _is_causal_lm(transformer.auto_model.config):
        pool.pooling_mode = "lasttoken"
        pad_right(transformer.tokenizer)
    elif pooling is not None:
        pool.pooling_mode = pooling
    if lora_r and not (Path(path) / "adapter_config.json").is_file():  # a folder save() wrote has its adapters
        from peft import LoraConfig

        targets = lora_target_modules or "all-linear"
        config = LoraConfig(
            r=lora_r,
            lora_alpha=lora_alpha or 2 * lora_r,
            lora_dropout=lora_dropout,
            target_modules=targets if isinstance(targets, str) else list(targets),
            bias="none",
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model.add_adapter(config)
    return model


def pad_right(tokenizer) -> None:
    """Right padding for last-token pooling; the EOS pads where there is no pad token (Llama, Mistral)."""
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(
                f"embedder {tokenizer.name_or_path}: the tokenizer has neither a pad nor an EOS token"
            )
        tokenizer.pad_token = tokenizer.eos_token


def save(model, directory: str | Path) -> Path:
    """The model as a sentence-transformers directory (LoRA: the adapters only, on top of the base path
    they name) and the number of layers it runs, which a LoRA directory's base config does not record."""
    directory = Path(directory)
    model.save(str(directory))
    layers = int(model[0].auto_model.config.num_hidden_layers)
    (directory / META_FILE).write_text(json.dumps({"num_layers": layers}) + "\n")
    return directory


def encode(
    model, texts: Sequence[str], prefix: str = "", batch_size: int = 64, desc: str = "embed"
) -> np.ndarray:
    """(n, dim) float32 unit vectors of ``prefix + text``; one bar named ``desc`` for more than one chunk."""
    texts = [prefix + t for t in texts]
    if not texts:
        return np.empty((0, model.get_sentence_embedding_dimension()), dtype=np.float32)
    chunk = batch_size * 16
    starts = range(0, len(texts), chunk)
    if len(starts) > 1:
        starts = progress(starts, desc=desc, unit="chunk")
    parts = [
        model.encode(
            texts[start : start + chunk], batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        for start in starts
    ]  # fmt: skip
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def scores(
    model,
    queries: Sequence[str],
    docs: Sequence[str],
    query_prefix: str = "",
    doc_prefix: str = "",
    batch_size: int = 64,
) -> np.ndarray:
    """(n_queries, n_docs) float32 cosine similarities."""
    q = encode(model, queries, query_prefix, batch_size, desc="embed queries")
    d = encode(model, docs, doc_prefix, batch_size, desc="embed misconceptions")
    return q @ d.T


def mine_hard_negatives(
    scores: np.ndarray,
    positive_col: np.ndarray,
    n: int,
    top: int,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """(n_rows, n) columns drawn without replacement (seeded) from each row's ``top`` best-scored columns of
    a first-stage retriever, never the row's positive nor (with ``groups``, one label per column, e.g.
    :func:`doc_groups`) a column of the positive's group. A hard negative is a near miss of the retriever
    that training should push away; drawing from the top ``top`` instead of taking the very best keeps
    the unlabeled true matches a retriever ranks first from dominating."""
    from eedi.ranking import top_k

    scores = np.asarray(scores)
    positive = np.asarray(positive_col, dtype=np.int64)
    if positive.shape != (len(scores),):
        raise ValueError(f"positive_col: expected {len(scores)} column indices, got shape {positive.shape}")
    if not 1 <= n < top <= scores.shape[1]:
        raise ValueError(f"hard negatives: need 1 <= n ({n}) < top ({top}) <= columns ({scores.shape[1]})")
    candidates = top_k(scores, top)
    same = candidates == positive[:, None]
    if groups is not None:
        groups = np.asarray(groups)
        same |= groups[candidates] == groups[positive][:, None]
    short = (~same).sum(axis=1) < n
    if short.any():
        row = int(np.flatnonzero(short)[0])
        raise ValueError(
            f"hard negatives: row {row} has fewer than {n} candidates outside its positive in its top {top}"
        )
    keys = np.random.default_rng(seed).random(candidates.shape)
    keys[same] = np.inf
    return np.take_along_axis(candidates, np.argsort(keys, axis=1, kind="stable")[:, :n], axis=1)


def doc_groups(docs: Sequence[str]) -> np.ndarray:
    """(n_docs,) label per document; documents with the same text share it (two misconception ids whose
    names are equal embed alike, so one must not be a negative for the other)."""
    return np.unique(np.asarray(list(docs), dtype=object), return_inverse=True)[1].astype(np.int64)


@functools.cache
def _sampler_class():
    from sentence_transformers.base.sampler import DefaultBatchSampler

    class MisconceptionBatchSampler(DefaultBatchSampler):
        """Batches in which no row's positive is another row's positive or any row's hard negative.

        Rows are shuffled (seed + epoch) and taken greedily: a row that would clash with the batch being
        filled waits for a later batch, keeping its place in the shuffled order. ``positive`` and
        ``negatives`` are the rows' misconception labels (:func:`doc_groups` of their columns), in the
        dataset's row order; the rest are the arguments sentence-transformers passes to a batch sampler."""

        def __init__(self, dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0,
                     *, positive, negatives):  # fmt: skip
            super().__init__(dataset, batch_size=batch_size, drop_last=drop_last, seed=seed,
                             valid_label_columns=valid_label_columns, generator=generator)  # fmt: skip
            self.positive = np.asarray(positive, dtype=np.int64)
            self.negatives = np.asarray(negatives, dtype=np.int64).reshape(len(self.positive), -1)
            if len(self.positive) != len(dataset):
                raise ValueError(f"batch sampler: {len(self.positive)} labels for {len(dataset)} rows")
            self._cache: tuple[int, list[list[int]]] | None = None

        def batches(self) -> list[list[int]]:
            if self._cache is not None and self._cache[0] == self.epoch:
                return self._cache[1]
            pending = np.random.default_rng([int(self.seed or 0), self.epoch]).permutation(len(self.positive))
            pending, batches = pending.tolist(), []
            negatives = [set(row) for row in self.negatives.tolist()]
            positive = self.positive.tolist()
            while pending:
                batch, positives_in, labels_in, waiting = [], set(), set(), []
                for at, row in enumerate(pending):
                    if len(batch) == self.batch_size:
                        waiting.extend(pending[at:])
                        break
                    if positive[row] in labels_in or not positives_in.isdisjoint(negatives[row]):
                        waiting.append(row)
                        continue
                    batch.append(row)
                    positives_in.add(positive[row])
                    labels_in.add(positive[row])
                    labels_in.update(negatives[row])
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
                pending = waiting
            self._cache = (self.epoch, batches)
            return batches

        def __iter__(self):
            yield from self.batches()

        def __len__(self) -> int:
            return len(self.batches())

    return MisconceptionBatchSampler


def batch_sampler(positive: np.ndarray, negatives: np.ndarray):
    """What ``SentenceTransformerTrainingArguments(batch_sampler=...)`` takes: a factory of
    :class:`MisconceptionBatchSampler` for these rows' labels."""
    return functools.partial(_sampler_class(), positive=positive, negatives=negatives)


def training_rows(
    queries: Sequence[str],
    positives: np.ndarray,
    negatives: np.ndarray | None,
    docs: Sequence[str],
    query_prefix: str = "",
    doc_prefix: str = "",
):
    """The MNRL dataset (columns anchor, positive, negative_1..h) and each row's labels (positive (n,),
    negatives (n, h)) for the batch sampler."""
    from datasets import Dataset

    docs = list(docs)
    positives = np.asarray(positives, dtype=np.int64)
    negatives = (
        np.empty((len(positives), 0), np.int64) if negatives is None else np.asarray(negatives, np.int64)
    )
    if positives.shape != (len(queries),) or negatives.ndim != 2 or len(negatives) != len(queries):
        raise ValueError(
            f"fine-tune: {len(queries)} queries, positives of shape {positives.shape} and negatives of shape "
            f"{negatives.shape}: expected (n,) and (n, h)"
        )
    for name, cols in (("positives", positives), ("negatives", negatives)):
        bad = (cols < 0) | (cols >= len(docs))
        if bad.any():
            row = int(np.flatnonzero(bad.reshape(len(cols), -1).any(axis=1))[0])
            raise ValueError(f"fine-tune: {name} row {row} has a column outside 0..{len(docs) - 1}")
    groups = doc_groups(docs)
    positive_labels, negative_labels = groups[positives], groups[negatives]
    clash = (negative_labels == positive_labels[:, None]).any(axis=1)
    if clash.any():
        row = int(np.flatnonzero(clash)[0])
        raise ValueError(f"fine-tune: row {row} has a hard negative with the same name as its positive")
    columns = {
        "anchor": [query_prefix + q for q in queries],
        "positive": [doc_prefix + docs[c] for c in positives.tolist()],
    }
    for j in range(negatives.shape[1]):
        columns[f"negative_{j + 1}"] = [doc_prefix + docs[c] for c in negatives[:, j].tolist()]
    return Dataset.from_dict(columns), positive_labels, negative_labels


@functools.cache
def _trainer_class():
    from sentence_transformers import SentenceTransformerTrainer

    class Trainer(SentenceTransformerTrainer):
        """No model-card callback: it scans the dataset for examples with a bar of its own, and draws them
        from Python's global random generator."""

        def add_model_card_callback(self, default_args_dict) -> None:
            pass

    return Trainer


def trainer(
    model,
    queries: Sequence[str],
    positives: np.ndarray,
    negatives: np.ndarray | None,
    docs: Sequence[str],
    *,
    output_dir: str | Path,
    query_prefix: str = "",
    doc_prefix: str = "",
    epochs: float = 1.0,
    batch_size: int = 32,
    learning_rate: float = 2e-5,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.0,
    scheduler: str = "linear",
    scale: float = 20.0,
    seed: int = 0,
    bf16: bool = True,
    gradient_checkpointing: bool = False,
    logging_steps: int = 10,
    desc: str = "fine-tune embedder",
):
    """The SentenceTransformerTrainer :func:`fine_tune` runs: MNRL (``scale`` = 1 / temperature) over
    (query, its misconception, its hard negatives) with :class:`MisconceptionBatchSampler` batches; bf16
    only on CUDA; no checkpoints, no reports, one named progress bar."""
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    dataset, positive_labels, negative_labels = training_rows(
        queries, positives, negatives, docs, query_prefix, doc_prefix
    )
    cuda = torch.cuda.is_available()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        learning_rate=learning_rate,
        warmup_steps=warmup_ratio,
        weight_decay=weight_decay,
        lr_scheduler_type=scheduler,
        seed=seed,
        data_seed=seed,
        bf16=bf16 and cuda,
        use_cpu=not cuda,
        gradient_checkpointing=gradient_checkpointing,
        report_to="none",
        save_strategy="no",
        logging_steps=logging_steps,
        batch_sampler=batch_sampler(positive_labels, negative_labels),
    )
    loss = MultipleNegativesRankingLoss(model, scale=scale)
    built = _trainer_class()(model=model, args=args, train_dataset=dataset, loss=loss)
    return quiet_trainer(built, desc)


def fine_tune(model, queries, positives, negatives, docs, **kwargs):
    """Train ``model`` in place with :func:`trainer` (same arguments, less ``output_dir``) and return it."""
    with tempfile.TemporaryDirectory(prefix="eedi-embedder-") as output_dir:
        trainer(model, queries, positives, negatives, docs, output_dir=output_dir, **kwargs).train()
    return model
