"""BiLSTM on static word vectors, the 3rd-place family [97471] and the strongest public kernels.

- Word vectors: word2vec trained with gensim on the fold's comments and the texts to predict (no labels
  are used, so this is not leakage). Pretrained GloVe/fastText vectors cannot be downloaded on our
  machines; give their path in ``embedding_path`` (word2vec text format; GloVe files without a header
  work too) and they are concatenated with the corpus vectors, as the 3rd place concatenated GloVe and
  fastText. The embedding layer stays frozen.
- Two bidirectional LSTM layers, max- and mean-pooled, one linear layer for the toxicity logit and the
  auxiliary outputs; the same weighted BCE (metric-aligned identity weights, soft and auxiliary targets)
  as the transformer.
- Checkpoint ensembling: the prediction is the average over epochs of each epoch's predictions, later
  epochs weighted ``2**epoch`` as in the popular kernel; the learning rate decays by 0.6 per epoch.

This is a plain training loop, not ``transformers.Trainer``: predicting after every epoch and averaging
those predictions is the technique itself, and the model is not a transformer.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from gensim.models import KeyedVectors, Word2Vec
from safetensors.torch import load_file, save_file
from torch import nn

from jigsaw.data import aux_columns
from jigsaw.losses import weighted_bce_with_aux
from jigsaw.transformer import Collator, predict
from shared.console import progress

_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")


def device() -> torch.device:
    """The accelerator when there is one: the LSTM trains and predicts there (its batches follow it)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def tokenize(text: str) -> list[str]:
    """Lower-cased words and single punctuation marks (what keras' Tokenizer-based kernels saw, plus punctuation)."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Word -> index over the texts; 0 pads, 1 is unknown."""

    def __init__(self, tokenized: list[list[str]], min_count: int = 1):
        counts: dict[str, int] = {}
        for words in tokenized:
            for w in words:
                counts[w] = counts.get(w, 0) + 1
        self.words = ["<pad>", "<unk>", *sorted(w for w, c in counts.items() if c >= min_count)]
        self.index = {w: i for i, w in enumerate(self.words)}

    def encode(self, words: list[str], max_length: int) -> list[int]:
        ids = [self.index.get(w, 1) for w in words[:max_length]]
        return ids or [1]  # an empty comment still gets one (unknown) token


_VECTORS: dict[tuple, tuple[Vocabulary, np.ndarray]] = {}


def word_vectors(
    texts: list[str], dim: int, seed: int, embedding_path: str | None
) -> tuple[Vocabulary, np.ndarray]:
    """The vocabulary and embedding matrix of ``texts``, trained once for a given set of texts (in whatever order
    a fold lists them) and settings: word2vec on the sorted texts shuffled by ``seed``, so each fold of a run,
    whose training and validation texts together are always the same, reuses the first fold's vectors."""
    ordered = sorted(texts)
    digest = hashlib.sha256("\x00".join(ordered).encode()).hexdigest()
    key = (digest, dim, seed, embedding_path)
    if key not in _VECTORS:
        corpus = [tokenize(ordered[i]) for i in np.random.default_rng(seed).permutation(len(ordered))]
        vocab = Vocabulary(corpus)
        _VECTORS.clear()  # one run's vectors at a time: a full-scale matrix is hundreds of megabytes
        _VECTORS[key] = vocab, embedding_matrix(vocab, corpus, dim, seed, embedding_path)
    return _VECTORS[key]


def embedding_matrix(
    vocab: Vocabulary, tokenized: list[list[str]], dim: int, seed: int, embedding_path: str | None
) -> np.ndarray:
    """Corpus word2vec vectors, concatenated with pretrained vectors when a file is given (zeros when a word is missing)."""
    w2v = Word2Vec(tokenized, vector_size=dim, window=5, min_count=1, sg=1, epochs=5, seed=seed, workers=1)
    parts = [
        np.stack(
            [
                w2v.wv.get_vector(w) if w2v.wv.has_index_for(w) else np.zeros(dim, dtype=np.float32)
                for w in vocab.words
            ]
        )
    ]
    if embedding_path:
        pretrained = KeyedVectors.load_word2vec_format(
            embedding_path, binary=False, no_header=_has_no_header(embedding_path)
        )
        zeros = np.zeros(pretrained.vector_size, dtype=np.float32)
        parts.append(
            np.stack(
                [pretrained.get_vector(w) if pretrained.has_index_for(w) else zeros for w in vocab.words]
            )
        )
    matrix = np.concatenate(parts, axis=1)
    matrix[0] = 0.0
    return matrix


def _has_no_header(path: str) -> bool:
    """GloVe text files start with a vector, word2vec text files with 'count dim'."""
    with open(path, encoding="utf-8") as handle:
        return len(handle.readline().split()) != 2


class LstmClassifier(nn.Module):
    def __init__(
        self, embeddings: np.ndarray, hidden: int, n_aux: int, aux_weight: float = 1.0, dropout: float = 0.2
    ):
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(
            torch.tensor(embeddings, dtype=torch.float32), freeze=True, padding_idx=0
        )
        self.dropout = nn.Dropout1d(dropout)  # spatial dropout: whole embedding channels
        self.lstm1 = nn.LSTM(embeddings.shape[1], hidden, batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(2 * hidden, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(4 * hidden, 1 + n_aux)
        self.aux_weight = aux_weight

    def forward(self, input_ids, attention_mask, target=None, aux=None, weight=None):
        x = self.dropout(self.embedding(input_ids).transpose(1, 2)).transpose(1, 2)
        x, _ = self.lstm1(x)
        x, _ = self.lstm2(x)
        mask = attention_mask.unsqueeze(-1).to(x.dtype)
        max_pool = x.masked_fill(mask == 0, -1e4).max(dim=1).values
        mean_pool = (x * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        logits = self.head(torch.cat([max_pool, mean_pool], dim=1))
        if target is None:
            return {"logits": logits}
        return {"loss": weighted_bce_with_aux(logits, target, weight, aux, self.aux_weight), "logits": logits}


class LstmModel:
    """A trained BiLSTM with what its predictions need: the vocabulary, the frozen embedding matrix, and the
    trainable weights after each epoch with the epoch's weight in the checkpoint average."""

    def __init__(self, vocab: Vocabulary, matrix: np.ndarray, states: list[dict], epoch_weights: list[float],
                 n_aux: int, config) -> None:  # fmt: skip
        self.vocab, self.matrix, self.states, self.epoch_weights = vocab, matrix, states, epoch_weights
        self.n_aux, self.hidden = n_aux, config.lstm_hidden
        self.max_length, self.batch_size = config.max_length, config.batch_size * 4

    def predict(self, texts: list[str]) -> np.ndarray:
        """The epoch-weighted average of each epoch's P(toxic); words outside the vocabulary are unknown."""
        ids = [self.vocab.encode(tokenize(t), self.max_length) for t in texts]
        model = LstmClassifier(self.matrix, self.hidden, self.n_aux).to(device())
        total = np.zeros(len(ids))
        for state, weight in zip(self.states, self.epoch_weights, strict=True):
            model.load_state_dict(state, strict=False)  # the embedding is the frozen matrix
            total += weight * predict(model, ids, pad_id=0, batch_size=self.batch_size)
        return total / sum(self.epoch_weights)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "vocab.json").write_text(json.dumps(self.vocab.words, ensure_ascii=False) + "\n")
        np.save(directory / "embeddings.npy", self.matrix)
        for epoch, state in enumerate(self.states):
            save_file(state, str(directory / f"epoch{epoch}.safetensors"))
        meta = {"epoch_weights": self.epoch_weights, "n_aux": self.n_aux, "lstm_hidden": self.hidden,
                "max_length": self.max_length, "batch_size": self.batch_size // 4}  # fmt: skip
        (directory / "lstm.json").write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> LstmModel:
        meta = json.loads((directory / "lstm.json").read_text())
        vocab = Vocabulary([])
        vocab.words = json.loads((directory / "vocab.json").read_text())
        vocab.index = {w: i for i, w in enumerate(vocab.words)}
        states = [
            load_file(str(directory / f"epoch{k}.safetensors")) for k in range(len(meta["epoch_weights"]))
        ]
        config = SimpleNamespace(lstm_hidden=meta["lstm_hidden"], max_length=meta["max_length"],
                                 batch_size=meta["batch_size"])  # fmt: skip
        return cls(
            vocab, np.load(directory / "embeddings.npy"), states, meta["epoch_weights"], meta["n_aux"], config
        )


def fit(
    config, train: pd.DataFrame, weights: np.ndarray, unlabelled: list[str], desc: str = "training"
) -> LstmModel:
    """Train the BiLSTM on one fold (one progress bar named ``desc`` over its steps). The word vectors are trained
    on the fold's comments and ``unlabelled`` (the texts to be predicted: no labels, so no leakage), and their
    words are the vocabulary: every fold of a run reads the same texts, so they are trained once per run
    (:func:`word_vectors`)."""
    rng = np.random.default_rng(config.seed)
    tokenized = [tokenize(t) for t in train["comment_text"]]
    vocab, matrix = word_vectors([*train["comment_text"], *unlabelled], config.embedding_dim, config.seed,
                                 config.embedding_path)  # fmt: skip
    ids = [vocab.encode(w, config.max_length) for w in tokenized]
    target = train["target"].to_numpy(dtype=np.float64)
    extra = {
        "target": target if config.soft_targets else (target >= 0.5).astype(np.float64),
        "weight": np.asarray(weights, dtype=np.float64),
        "aux": train[aux_columns(config.aux_targets, train)].fillna(0.0).to_numpy(dtype=np.float64),
    }
    torch.manual_seed(config.seed)  # right before the weights are drawn, whatever ran before
    model = LstmClassifier(matrix, config.lstm_hidden, extra["aux"].shape[1], aux_weight=config.aux_weight)
    model.to(device())
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.6**epoch)
    collate = Collator(pad_id=0)
    states, epoch_weights = [], []
    n_batches = -(-len(ids) // config.batch_size)
    bar = progress(desc=desc, total=int(config.epochs) * n_batches, unit="step")
    for epoch in range(int(config.epochs)):
        # bucketing: shuffle, cut into chunks of 50 batches, sort each chunk by length
        order = rng.permutation(len(ids))
        chunk = 50 * config.batch_size
        order = np.concatenate(
            [sorted(order[k : k + chunk], key=lambda i: len(ids[i])) for k in range(0, len(order), chunk)]
        )
        batches = [order[k : k + config.batch_size] for k in range(0, len(order), config.batch_size)]
        for b in rng.permutation(len(batches)):
            rows = [{"input_ids": ids[i]} | {k: v[i] for k, v in extra.items()} for i in batches[b]]
            loss = model(**{k: v.to(model.head.weight.device) for k, v in collate(rows).items()})["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            bar.update()
        scheduler.step()
        # checkpoint ensembling: each epoch's weights kept, later epochs weighted 2**epoch
        states.append(
            {
                k: v.detach().cpu().clone()
                for k, v in model.state_dict().items()
                if not k.startswith("embedding")
            }
        )
        epoch_weights.append(2.0**epoch)
    bar.close()
    return LstmModel(vocab, matrix, states, epoch_weights, extra["aux"].shape[1], config)
