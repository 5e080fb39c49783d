"""Punctuation restoration as token classification over words (the 1st and 2nd places).

The competition's WER counted punctuation: the reference ``তুমি কোথায় যাও?`` and the prediction ``তুমি
কোথায় যাও`` differ by one word. A CTC model trained on stripped text writes no marks, and Whisper
writes them unreliably, so the winners trained a separate model that reads the words and says which mark
follows each: a token classifier (xlm-roberta-large, IndicBERT style backbones) with one label per word,

    ``O`` (no mark), ``COMMA`` (,), ``DARI`` (।), ``QUESTION`` (?), ``EXCLAMATION`` (!).

It learns from text alone, so every normalised training sentence is a training example: the input is its
words without marks (:func:`bengali_asr.normalize.strip_punctuation`), the labels the marks that followed
them (:func:`to_labels`). A word split into several sub-words is labelled on its first sub-word (the rest
are ignored by the loss) and read there at prediction. Texts longer than ``max_length`` sub-words are cut
into consecutive pieces at word boundaries (never truncated), both for training and prediction.

Training is ``transformers.Trainer`` on ``AutoModelForTokenClassification.from_pretrained(backbone)``,
seeded (the new head from ``seed``, the data order from ``seed``), so one seed gives one model. On CPU the
backbone is a tiny local encoder (``tiny:deberta-v2``: a random DeBERTa-v3-layout encoder with a
Unigram tokenizer trained on the same sentences; :func:`shared.tiny.resolve_backbone`), which can learn
the sample's sentence-level rules (questions start with a question word) but knows no Bengali; the full
recipe names a pretrained multilingual encoder. :meth:`PunctuationModel.save` writes the model, its
tokenizer and ``punctuation.json``; :meth:`PunctuationModel.load` reads them offline.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import torch
from transformers import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    set_seed,
)

from bengali_asr.normalize import normalize, strip_punctuation
from shared.tiny import resolve_backbone

LABELS = ("O", "COMMA", "DARI", "QUESTION", "EXCLAMATION")
MARKS = {"O": "", "COMMA": ",", "DARI": "।", "QUESTION": "?", "EXCLAMATION": "!"}
LABEL2ID = {label: i for i, label in enumerate(LABELS)}
_MARK2LABEL = {mark: label for label, mark in MARKS.items() if mark}
IGNORE_ID = -100
CONFIG_FILE = "punctuation.json"


def to_labels(text: str) -> tuple[list[str], list[str]]:
    """The words of ``normalize(text)`` without their marks, and the label of each (the mark after it)."""
    words, labels = [], []
    for token in normalize(text).split():
        label = _MARK2LABEL.get(token[-1])
        words.append(token[:-1] if label else token)
        labels.append(label or "O")
    return words, labels


def from_labels(words: Sequence[str], labels: Sequence[str | int]) -> str:
    """The words joined by spaces, each followed by its label's mark (labels as names or ids)."""
    if len(words) != len(labels):
        raise ValueError(f"from_labels: {len(words)} words but {len(labels)} labels")
    out = []
    for word, label in zip(words, labels, strict=True):
        name = LABELS[int(label)] if not isinstance(label, str) else label
        if name not in MARKS:
            raise ValueError(f"from_labels: unknown label {label!r}; known: {LABELS}")
        out.append(word + MARKS[name])
    return " ".join(out)


def _word_pieces(tokenizer: PreTrainedTokenizerBase, words: list[str], budget: int) -> list[tuple[int, int]]:
    """``(start, end)`` word ranges, consecutive, each with at most ``budget`` sub-words (a single word
    longer than that is a range of its own and gets truncated)."""
    if not words:
        return []
    counts = [len(ids) for ids in tokenizer(words, add_special_tokens=False)["input_ids"]]
    pieces, start, used = [], 0, 0
    for i, n in enumerate(counts):
        if i > start and used + n > budget:
            pieces.append((start, i))
            start, used = i, 0
        used += n
    pieces.append((start, len(words)))
    return pieces


def encode_words(
    tokenizer: PreTrainedTokenizerBase, words: list[str], max_length: int, labels: list[str] | None = None
) -> list[dict]:
    """Model inputs for one text's ``words``: one dict per piece (``input_ids``, ``attention_mask``,
    ``first``: the position of each word's first sub-word, and ``labels`` when given, ``IGNORE_ID`` on
    special tokens and on every sub-word but a word's first)."""
    n_special = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    out = []
    for start, end in _word_pieces(tokenizer, words, max_length - n_special):
        enc = tokenizer(words[start:end], is_split_into_words=True, truncation=True, max_length=max_length)
        word_ids = enc.word_ids()
        first = [-1] * (end - start)
        for position, w in enumerate(word_ids):
            if w is not None and first[w] < 0:
                first[w] = position
        item = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "first": first}
        if labels is not None:
            targets = [IGNORE_ID] * len(word_ids)
            for w, position in enumerate(first):
                if position >= 0:
                    targets[position] = LABEL2ID[labels[start + w]]
            item["labels"] = targets
        out.append(item)
    return out


class _Examples(torch.utils.data.Dataset):
    """Training pieces for ``Trainer`` (the collator pads ``input_ids``/``attention_mask``/``labels``)."""

    def __init__(self, items: list[dict]):
        self.items = [{k: v for k, v in item.items() if k != "first"} for item in items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


@dataclass
class PunctuationModel:
    """A word-level punctuation restorer; the fields are its recipe settings.

    ``backbone``: a hub id or path for ``AutoModelForTokenClassification.from_pretrained``, or a
    ``tiny:<arch>`` stand-in built on the training texts (:func:`shared.tiny.resolve_backbone`).
    ``max_length``: sub-words per piece, special tokens included. ``epochs``, ``learning_rate``,
    ``batch_size``, ``seed``: the ``Trainer``'s.
    """

    backbone: str = "tiny:deberta-v2"
    max_length: int = 128
    epochs: float = 5.0
    learning_rate: float = 1e-3
    batch_size: int = 16
    seed: int = 0
    model: PreTrainedModel | None = field(default=None, repr=False, compare=False)
    tokenizer: PreTrainedTokenizerBase | None = field(default=None, repr=False, compare=False)

    def settings(self) -> dict:
        """The recipe fields (what ``punctuation.json`` stores)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("model", "tokenizer")}

    def fit(self, texts: Sequence[str], desc: str = "punctuation model") -> PunctuationModel:
        """Train on normalised sentences with their marks (one named progress bar); returns ``self``."""
        # imported here: transformers.trainer pulls in peft, bitsandbytes and sklearn, which offline
        # prediction does not need
        from transformers import DataCollatorForTokenClassification, Trainer, TrainingArguments

        from shared.console import quiet_trainer

        examples = [to_labels(t) for t in texts]
        examples = [(w, lab) for w, lab in examples if w]
        if not examples:
            raise ValueError("texts: no words to train the punctuation model on")
        backbone = resolve_backbone(self.backbone, [" ".join(w) for w, _ in examples])
        self.tokenizer = AutoTokenizer.from_pretrained(backbone)
        set_seed(self.seed)  # the new head's weights depend on the seed only
        self.model = AutoModelForTokenClassification.from_pretrained(
            backbone,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id=dict(LABEL2ID),
        )
        items = [it for w, lab in examples for it in encode_words(self.tokenizer, w, self.max_length, lab)]
        cuda = torch.cuda.is_available()
        with tempfile.TemporaryDirectory() as scratch:
            args = TrainingArguments(
                output_dir=scratch,
                per_device_train_batch_size=self.batch_size,
                num_train_epochs=self.epochs,
                learning_rate=self.learning_rate,
                lr_scheduler_type="linear",
                warmup_steps=0.1,
                weight_decay=0.01,
                seed=self.seed,
                data_seed=self.seed,
                save_strategy="no",
                report_to="none",
                logging_strategy="epoch",
                use_cpu=not cuda,
                dataloader_num_workers=0,
            )
            collator = DataCollatorForTokenClassification(self.tokenizer, label_pad_token_id=IGNORE_ID)
            trainer = Trainer(
                model=self.model, args=args, train_dataset=_Examples(items), data_collator=collator
            )
            quiet_trainer(trainer, desc).train()
        self.model.eval()
        return self

    @torch.inference_mode()
    def label_ids(self, texts: Sequence[str]) -> list[tuple[list[str], list[int]]]:
        """Per text: its words (``strip_punctuation``) and the predicted label id of each."""
        if self.model is None or self.tokenizer is None:
            raise RuntimeError("PunctuationModel: fit() or load() first")
        self.model.eval()
        device = next(self.model.parameters()).device
        words = [strip_punctuation(t).split() for t in texts]
        pieces = [
            (i, it) for i, w in enumerate(words) for it in encode_words(self.tokenizer, w, self.max_length)
        ]
        predicted: list[list[int]] = [[] for _ in texts]
        for at in range(0, len(pieces), 2 * self.batch_size):
            batch = pieces[at : at + 2 * self.batch_size]
            padded = self.tokenizer.pad(
                [{"input_ids": it["input_ids"], "attention_mask": it["attention_mask"]} for _, it in batch],
                return_tensors="pt",
            )
            logits = self.model(**{k: v.to(device) for k, v in padded.items()}).logits
            best = logits.argmax(dim=-1).cpu()
            for row, (i, it) in enumerate(batch):  # pieces of one text come in order
                predicted[i].extend(int(best[row, p]) if p >= 0 else 0 for p in it["first"])
        return list(zip(words, predicted, strict=True))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """``texts`` (marks, if any, are ignored) with the predicted marks, in :func:`normalize` form."""
        return [from_labels(w, ids) for w, ids in self.label_ids(texts)]

    def save(self, directory) -> Path:
        """Write the model, its tokenizer and ``punctuation.json`` (the settings) to ``directory``."""
        if self.model is None or self.tokenizer is None:
            raise RuntimeError("PunctuationModel: nothing to save, fit() first")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory)
        self.tokenizer.save_pretrained(directory)
        (directory / CONFIG_FILE).write_text(json.dumps(self.settings(), indent=2, sort_keys=True) + "\n")
        return directory

    @classmethod
    def load(cls, directory) -> PunctuationModel:
        """The model :meth:`save` wrote to ``directory`` (offline), on CUDA when there is one (as the acoustic
        model: ``bengali-asr-predict`` has no device option), else on CPU."""
        directory = Path(directory)
        path = directory / CONFIG_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found; is {directory} a saved punctuation model?")
        settings = json.loads(path.read_text())
        known = {f.name for f in fields(cls)} - {"model", "tokenizer"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {unknown}")
        model = AutoModelForTokenClassification.from_pretrained(directory)
        model.to("cuda" if torch.cuda.is_available() else "cpu")
        names = tuple(model.config.id2label[i] for i in range(model.config.num_labels))
        if names != LABELS:
            raise ValueError(f"{directory}/config.json: labels {names} are not {LABELS}")
        model.eval()
        return cls(**settings, model=model, tokenizer=AutoTokenizer.from_pretrained(directory))
