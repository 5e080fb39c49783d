"""DeBERTa token classification over strided windows: the §10.5 baseline and the top solutions' options.

``fit`` fine-tunes ``AutoModelForTokenClassification`` with ``transformers.Trainer`` on the windows of
``pii.windows`` (sub-word labels from the spaCy tokens' labels); ``predict`` returns per spaCy token
probabilities, each sub-word averaged over the windows that contain it. Options from the write-ups:

- ``o_weight``: the 'O' class weighted down in the cross-entropy (1st place used 0.05). 99.9 % of tokens
  are 'O' and the metric weighs recall 25 times as much as precision, so a missed entity should cost
  more than a false alarm already during training.
- ``prefix_free``: train on the 7 entity types + 'O' (2nd place) and rebuild B-/I- by rule when decoding.
- ``label_mode``: every sub-word of a token carries its label (``all``, the baseline notebook) or only
  the first one (``first``; prediction then reads the first sub-word too).
- ``negative_ratio``: keep only this share of the training windows that hold no PII (the popular public
  training notebooks kept about 30 % of the essays without PII): most windows are all 'O', and dropping
  them both speeds training and shifts the model toward recall.
- ``num_layers``: keep only the backbone's first N layers (the CPU preset's MiniLM, to fit 2 cores).

Under ``accelerate launch`` the Trainer runs DDP across the processes: every rank trains on its share of
the batches, ends with the same weights and can predict on its own.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainingArguments,
    set_seed,
)

from pii.data import Document
from pii.labels import IGNORE_ID, LABELS, O_ID, PLAIN_LABELS, to_plain
from pii.windows import Windows, aggregate, build_windows
from shared.console import quiet_trainer
from shared.tiny import resolve_backbone


def label_names(prefix_free: bool) -> tuple[str, ...]:
    """The model's classes: the 13 BIO labels, or 'O' and the 7 entity types."""
    return PLAIN_LABELS if prefix_free else LABELS


def o_weighted_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, o_weight: float) -> torch.Tensor:
    """Cross-entropy over the positions whose label is not ``IGNORE_ID``, each weighted by its class weight
    (``o_weight`` for 'O', 1 for the rest) and normalised by the sum of the weights: with ``o_weight=1``
    this is the plain mean cross-entropy. A batch without any target gives 0."""
    logits = logits.reshape(-1, logits.shape[-1]).float()
    labels = labels.reshape(-1)
    keep = labels != IGNORE_ID
    target = torch.where(keep, labels, O_ID)
    nll = -F.log_softmax(logits, dim=-1).gather(1, target[:, None]).squeeze(1)
    weight = torch.where(target == O_ID, float(o_weight), 1.0) * keep
    return (weight * nll).sum() / weight.sum().clamp(min=torch.finfo(weight.dtype).tiny)


class OWeightedTrainer(Trainer):
    """``Trainer`` whose loss is :func:`o_weighted_cross_entropy` of the model's logits.

    Why a subclass: the token-classification models compute an unweighted cross-entropy when given
    labels, so the loss is computed here from the logits instead. ``compute_loss_func`` could do the
    same, but Trainer then takes the loss as already normalised over the accumulated batch; this loss is a
    per-batch mean, so ``loss_is_scaled_for_ga = False`` lets Trainer divide it by the gradient
    accumulation steps as it does for any per-batch loss.
    """

    loss_is_scaled_for_ga = False

    def __init__(self, *args, o_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.o_weight = o_weight

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = o_weighted_cross_entropy(outputs.logits, labels, self.o_weight)
        return (loss, outputs) if return_outputs else loss


def training_windows(tokenizer: PreTrainedTokenizerBase, docs: list[Document], config) -> Windows:
    """Labelled windows of ``docs``; prefix-free mode turns the BIO label ids into entity-type ids."""
    windows = build_windows(
        tokenizer, docs, max_length=config.max_length, stride=config.stride, label_mode=config.label_mode
    )
    return replace(windows, labels=to_plain(windows.labels)) if config.prefix_free else windows


def drop_negative_windows(windows: Windows, ratio: float, seed: int) -> Windows:
    """``windows`` with every window that holds a non-'O' target kept and a seeded random ``ratio`` of the
    others (at least one window stays)."""
    if ratio >= 1:
        return windows
    positive = ((windows.labels != O_ID) & (windows.labels != IGNORE_ID)).any(axis=1)
    negative = np.flatnonzero(~positive)
    picked = np.random.default_rng(seed).random(len(negative)) < ratio
    keep = np.sort(np.concatenate([np.flatnonzero(positive), negative[picked]]))
    if len(keep) == 0:
        keep = negative[:1]
    rows = {name: getattr(windows, name)[keep]
            for name in ("input_ids", "attention_mask", "subword", "labels", "doc", "lengths")}  # fmt: skip
    return replace(windows, **rows)


def load_model(backbone: str, prefix_free: bool, seed: int, num_layers: int = 0) -> PreTrainedModel:
    """``AutoModelForTokenClassification.from_pretrained`` with the chapter's label set (and only the first
    ``num_layers`` layers when > 0). Seeded right here, so the new head's initial weights depend only on
    ``seed``, not on what ran before (e.g. whether a tiny checkpoint had to be built first)."""
    names = label_names(prefix_free)
    set_seed(seed)
    depth = {"num_hidden_layers": num_layers} if num_layers > 0 else {}
    return AutoModelForTokenClassification.from_pretrained(
        backbone,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
        **depth,
    )


def fit(
    config, train_docs: list[Document], desc: str = "training"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Fine-tune ``config.backbone`` on the windows of ``train_docs`` (labelled documents), with one
    progress bar named ``desc``.

    ``config`` is an ``ExperimentConfig``. Runs on CPU when no CUDA device is visible (bf16 only with
    CUDA); launched with ``accelerate launch`` every process trains (DDP) and returns the same weights.
    """
    backbone = resolve_backbone(config.backbone, [doc.full_text for doc in train_docs])
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    windows = drop_negative_windows(
        training_windows(tokenizer, train_docs, config), config.negative_ratio, config.seed
    )
    model = load_model(backbone, config.prefix_free, config.seed, config.num_layers)
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(
            output_dir=scratch, per_device_train_batch_size=config.batch_size,
            gradient_accumulation_steps=config.gradient_accumulation_steps, num_train_epochs=config.epochs,
            learning_rate=config.learning_rate, weight_decay=config.weight_decay,
            warmup_steps=config.warmup_ratio, lr_scheduler_type=config.scheduler, seed=config.seed,
            gradient_checkpointing=config.gradient_checkpointing, save_strategy="no", report_to="none",
            logging_strategy="steps", logging_steps=50, use_cpu=not cuda, bf16=config.bf16 and cuda,
            dataloader_num_workers=0,
        )  # fmt: skip
        trainer = OWeightedTrainer(
            model=model, args=args, train_dataset=windows, o_weight=config.o_weight,
            data_collator=DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_ID),
        )  # fmt: skip
        quiet_trainer(trainer, desc).train()
    return model, tokenizer


@torch.inference_mode()
def window_probs(model: PreTrainedModel, windows: Windows, batch_size: int, bf16: bool) -> list[np.ndarray]:
    """Softmax over the classes at every used position of every window, in window order."""
    model.eval()
    device = next(model.parameters()).device
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16 and device.type == "cuda")
    out = []
    for at in range(0, len(windows), batch_size):
        rows = slice(at, at + batch_size)
        width = int(windows.lengths[rows].max())
        ids = torch.as_tensor(windows.input_ids[rows, :width], device=device)
        mask = torch.as_tensor(windows.attention_mask[rows, :width], device=device)
        with autocast:
            logits = model(input_ids=ids, attention_mask=mask).logits
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        out.extend(p[:n] for p, n in zip(probs, windows.lengths[rows], strict=True))
    return out


def predict(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, docs: list[Document], config
) -> list[np.ndarray]:
    """Per document (n_tokens, n_classes) probabilities of ``docs``' spaCy tokens (13 BIO columns, or 8
    prefix-free ones); whitespace tokens are 'O' with probability 1."""
    if not docs:
        return []
    windows = build_windows(tokenizer, docs, max_length=config.max_length, stride=config.stride)
    probs = window_probs(model, windows, 2 * config.batch_size, config.bf16)
    return aggregate(probs, windows, pool="first" if config.label_mode == "first" else "mean")
