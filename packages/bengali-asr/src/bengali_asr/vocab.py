"""The character vocabulary of the CTC model, built from the normalised training sentences.

A character model needs no pronunciation lexicon: Bengali spelling is close to the sound, and every
solution of the competition fine-tuned wav2vec2 on characters. The vocabulary is the set of characters of
the punctuation-stripped normalised sentences (:func:`bengali_asr.normalize.strip_punctuation`, the text
the acoustic model is scored on), sorted by code point so that the same sentences always give the same
ids, after three fixed entries:

- ``<pad>`` (id 0): padding and the CTC blank (``Wav2Vec2ForCTC`` uses ``pad_token_id`` as the blank);
- ``<unk>`` (id 1): a character not seen in training;
- ``|`` (id 2): the word delimiter, which stands for the space (wav2vec2's convention, and the silence
  token of torchaudio's ``ctc_decoder``).

``vocab.json`` is the file ``Wav2Vec2CTCTokenizer`` reads, so :func:`tokenizer` gives the transformers
tokenizer of exactly these ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from transformers import Wav2Vec2CTCTokenizer

from bengali_asr.normalize import strip_punctuation

PAD = "<pad>"
UNK = "<unk>"
WORD_DELIMITER = "|"
SPECIAL = (PAD, UNK, WORD_DELIMITER)
VOCAB_FILE = "vocab.json"


def build_vocab(sentences: Iterable[str]) -> dict[str, int]:
    """``{token: id}``: the three special tokens, then the characters of the stripped sentences, sorted."""
    chars: set[str] = set()
    for sentence in sentences:
        chars.update(strip_punctuation(sentence).replace(" ", ""))
    return {token: i for i, token in enumerate((*SPECIAL, *sorted(chars)))}


def check_vocab(vocab: dict[str, int], source: str = "vocab") -> dict[str, int]:
    """``vocab`` if its ids are 0..n-1 with the special tokens first; a one-line ``ValueError`` naming
    ``source`` otherwise."""
    ids = sorted(vocab.values())
    if ids != list(range(len(vocab))):
        raise ValueError(f"{source}: ids must be 0..{len(vocab) - 1} without gaps or repeats")
    for i, token in enumerate(SPECIAL):
        if vocab.get(token) != i:
            raise ValueError(f"{source}: {token!r} must have id {i}, has {vocab.get(token)}")
    long = [t for t in vocab if len(t) != 1 and t not in SPECIAL]
    if long:
        raise ValueError(f"{source}: tokens must be single characters, got {long[0]!r}")
    return vocab


def save_vocab(vocab: dict[str, int], directory) -> Path:
    """Write ``directory/vocab.json`` (UTF-8, ids in order) and return its path."""
    check_vocab(vocab)
    path = Path(directory) / VOCAB_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = dict(sorted(vocab.items(), key=lambda item: item[1]))
    path.write_text(json.dumps(ordered, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_vocab(directory) -> dict[str, int]:
    """The vocabulary in ``directory/vocab.json``; a one-line error naming the file when it is missing or
    malformed."""
    path = Path(directory) / VOCAB_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: vocabulary file not found")
    try:
        vocab = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(vocab, dict) or not all(isinstance(v, int) for v in vocab.values()):
        raise ValueError(f"{path}: expected a JSON object of token -> integer id")
    return check_vocab(vocab, str(path))


def tokenizer(directory) -> Wav2Vec2CTCTokenizer:
    """``Wav2Vec2CTCTokenizer`` over ``directory/vocab.json`` (pad = blank, unk, ``|`` for the space; no
    BOS/EOS, no lower-casing: the text is already normalised)."""
    path = Path(directory) / VOCAB_FILE
    load_vocab(directory)  # the checks, with their one-line errors
    return Wav2Vec2CTCTokenizer(
        str(path),
        pad_token=PAD,
        unk_token=UNK,
        word_delimiter_token=WORD_DELIMITER,
        bos_token=None,
        eos_token=None,
        do_lower_case=False,
    )


def encode(text: str, vocab: dict[str, int]) -> list[int]:
    """Ids of ``text``'s characters, words joined by ``|``; a character not in ``vocab`` gives ``<unk>``.

    ``text`` is taken as it is (pass ``strip_punctuation`` text); runs of whitespace count as one space and
    leading/trailing whitespace is ignored, as in :func:`bengali_asr.ctc.greedy_decode`'s output."""
    unk = vocab[UNK]
    return [vocab.get(ch, unk) for ch in WORD_DELIMITER.join(text.split())]


def tokens(vocab: dict[str, int]) -> list[str]:
    """The tokens by id (``|`` kept as it is: the silence token of torchaudio's ``ctc_decoder``)."""
    return [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
