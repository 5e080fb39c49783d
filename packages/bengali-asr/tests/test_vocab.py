"""The character vocabulary: fixed special ids, the round trip text -> ids -> emissions -> text, and
agreement with transformers' Wav2Vec2CTCTokenizer built from the same vocab.json."""

import json

import pytest
import torch

from bengali_asr.ctc import greedy_decode
from bengali_asr.normalize import strip_punctuation
from bengali_asr.vocab import (
    PAD,
    UNK,
    WORD_DELIMITER,
    build_vocab,
    encode,
    load_vocab,
    save_vocab,
    tokenizer,
    tokens,
)

SENTENCES = [
    "আমি বাড়ি যাই।",
    "তুমি কোথায় যাও?",
    "হ্যাঁ, সে কাল ঢাকায় যাবে!",
    "ক\u09c7\u09beন এত দেরি হলো ?",  # a decomposed ো: the vocabulary sees the normalised form only
    "OK, ১০টা বাজে।",
]


@pytest.fixture
def vocab():
    return build_vocab(SENTENCES)


def one_hot_emission(ids: list[int], size: int) -> torch.Tensor:
    """[T, V] log-probabilities whose best path spells ``ids``: each id held for two frames, then a blank
    (so a doubled letter survives the collapse)."""
    frames = [f for i in ids for f in (i, i, 0)]
    return torch.log_softmax(10 * torch.nn.functional.one_hot(torch.tensor(frames), size).float(), dim=-1)


def test_special_tokens_come_first_then_the_sorted_characters(vocab):
    assert [vocab[PAD], vocab[UNK], vocab[WORD_DELIMITER]] == [0, 1, 2]
    chars = tokens(vocab)[3:]
    assert chars == sorted(chars)
    assert set(chars) == set("".join(strip_punctuation(s) for s in SENTENCES).replace(" ", ""))
    assert not {" ", "।", ",", "?", "!", "\u09c7\u09be"} & set(vocab)
    assert "\u09cb" in vocab and "\u09be" in vocab  # ো from the normalised text; া from other words
    assert {"o", "k", "১", "০"} <= set(vocab)
    assert tokens(vocab) == sorted(vocab, key=vocab.get)
    assert build_vocab(reversed(SENTENCES)) == vocab  # order of the sentences does not matter


def test_encode_maps_spaces_to_the_delimiter_and_unknown_characters_to_unk(vocab):
    ids = encode("আমি  যাই ", vocab)
    assert ids == [vocab[c] for c in "আমি"] + [2] + [vocab[c] for c in "যাই"]
    assert encode("আমিx", vocab) == [vocab[c] for c in "আমি"] + [1]
    assert encode("", vocab) == []


def test_save_and_load_give_the_same_vocabulary(vocab, tmp_path):
    path = save_vocab(vocab, tmp_path / "model")
    assert path == tmp_path / "model" / "vocab.json"
    assert load_vocab(tmp_path / "model") == vocab
    assert list(json.loads(path.read_text(encoding="utf-8")).values()) == list(range(len(vocab)))


def test_a_bad_vocab_file_is_a_one_line_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"vocab\.json: vocabulary file not found"):
        load_vocab(tmp_path)
    (tmp_path / "vocab.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"vocab\.json: not valid JSON") as err:
        load_vocab(tmp_path)
    assert "\n" not in str(err.value)
    (tmp_path / "vocab.json").write_text(json.dumps({"<unk>": 0, "<pad>": 1, "|": 2, "ক": 3}))
    with pytest.raises(ValueError, match=r"vocab\.json: '<pad>' must have id 0, has 1"):
        load_vocab(tmp_path)
    (tmp_path / "vocab.json").write_text(json.dumps({"<pad>": 0, "<unk>": 1, "|": 2, "ক": 4}))
    with pytest.raises(ValueError, match=r"vocab\.json: ids must be 0\.\.3 without gaps or repeats"):
        load_vocab(tmp_path)


@pytest.mark.parametrize("sentence", SENTENCES)
def test_encode_then_greedy_decode_of_a_one_hot_emission_gives_the_stripped_text(vocab, sentence):
    text = strip_punctuation(sentence)
    emission = one_hot_emission(encode(text, vocab), len(vocab))
    assert greedy_decode(emission, vocab) == text


def test_doubled_letters_survive_the_round_trip():
    text = "কক কাকা"  # a doubled letter, and a repeated syllable
    vocab = build_vocab([text])
    assert greedy_decode(one_hot_emission(encode(text, vocab), len(vocab)), vocab) == text


@pytest.mark.parametrize("sentence", SENTENCES)
def test_the_wav2vec2_tokenizer_from_vocab_json_encodes_and_decodes_the_same(vocab, tmp_path, sentence):
    save_vocab(vocab, tmp_path)
    tok = tokenizer(tmp_path)
    assert tok.pad_token_id == 0 and tok.unk_token_id == 1 and tok.word_delimiter_token_id == 2
    assert len(tok) == len(vocab)  # no BOS/EOS added behind our back
    text = strip_punctuation(sentence)
    ids = encode(text, vocab)
    assert tok(text).input_ids == ids
    emission = one_hot_emission(ids, len(vocab))
    frames = emission.argmax(-1).tolist()
    assert tok.decode(frames) == greedy_decode(emission, vocab) == text
