"""Beam search with the lexicon and the n-gram LM on constructed emissions: it spells an unclear word as a
lexicon word where greedy decoding misspells it, the LM weight moves an ambiguous word the LM's way (and the
decoder's score is acoustic + lm_weight * log10 LM + word_score * words, exactly), tuning picks the grid point
with the lowest WER, n-best lists are distinct and sorted, and the settings survive a JSON round trip."""

import json

import numpy as np
import pytest
import torch

from bengali_asr.arpa import ArpaLM, write_arpa
from bengali_asr.configs import DecoderConfig
from bengali_asr.ctc import greedy_decode
from bengali_asr.language_model import LanguageModel, tune_cross_fitted
from bengali_asr.lm import DecoderSettings, LMDecoder, write_lexicon
from bengali_asr.vocab import PAD, UNK, WORD_DELIMITER

TOKENS = [PAD, UNK, WORD_DELIMITER, *"acehrst"]
VOCAB = {t: i for i, t in enumerate(TOKENS)}
# "cat" follows "the" and precedes "sat" far more often than "hat" does
CORPUS = [
    "the cat sat",
    "the cat sat",
    "the cat sat",
    "the cat ate",
    "a cat sat",
    "the rat sat",
    "a red hat",
    "the hat",
]


@pytest.fixture(scope="module")
def lm_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    write_arpa(CORPUS, folder / "lm.arpa", order=3)
    write_lexicon(CORPUS, folder / "lexicon.txt", tokens=TOKENS)
    return folder / "lexicon.txt", folder / "lm.arpa"


def emissions(text: str, unclear: dict | None = None, floor: float = 0.02) -> torch.Tensor:
    """[T, V] log-probs: each character of ``text`` gets a frame then a blank frame, words are split by a "|"
    frame; a frame's token gets probability ~1 except ``unclear[(word, char)] = {token: prob, ...}``."""
    unclear = unclear or {}
    rows = []
    for i, word in enumerate(text.split()):
        spec = [WORD_DELIMITER] if i else []
        for j, ch in enumerate(word):
            spec += [unclear.get((i, j), ch), PAD]
        for item in spec:
            p = np.full(len(TOKENS), floor)
            for token, prob in (item if isinstance(item, dict) else {item: 1.0}).items():
                p[VOCAB[token]] = prob
            rows.append(np.log(p / p.sum()))
    return torch.tensor(np.array(rows), dtype=torch.float32)


SECOND_WORD = 7  # the frame of the second word's first letter: t _ h _ e _ | c


def best_path(e: torch.Tensor) -> float:
    return float(e.max(dim=1).values.sum())


def test_write_lexicon(tmp_path):
    path = write_lexicon(["the cat", "cat", "<unk> </s>", "hat ox"], tmp_path / "lex.txt", tokens=TOKENS)
    assert path.read_text().splitlines() == ["cat\tc a t |", "hat\th a t |", "the\tt h e |"]  # "ox": no o, x
    assert "ox\to x |" in write_lexicon(["ox"], tmp_path / "all.txt").read_text()


def test_lexicon_and_lm_fix_a_misspelled_word(lm_files):
    lexicon, arpa = lm_files
    e = emissions("the cat sat", {(1, 1): {"s": 0.6, "a": 0.35}})  # the "a" of cat sounds like "s"
    assert greedy_decode(e, VOCAB) == "the cst sat"
    assert LMDecoder(TOKENS, None, None).decode(e[None]) == ["the cst sat"]  # beam search alone: same
    assert LMDecoder(TOKENS, lexicon, None).decode(e[None]) == ["the cat sat"]  # spelling constraint
    assert LMDecoder(TOKENS, lexicon, arpa, DecoderSettings(lm_weight=1.0)).decode(e[None]) == ["the cat sat"]


def test_lm_weight_moves_an_ambiguous_word_the_lms_way(lm_files):
    lexicon, arpa = lm_files
    lm = ArpaLM(arpa)
    e = emissions("the cat sat", {(1, 0): {"h": 0.5, "c": 0.45}})  # "hat" sounds a little likelier
    acoustic_margin = float(e[SECOND_WORD, VOCAB["h"]] - e[SECOND_WORD, VOCAB["c"]])
    lm_margin = lm.score("the cat sat") - lm.score("the hat sat")
    assert 0 < acoustic_margin < lm_margin  # so any weight >= 1 should flip it
    assert LMDecoder(TOKENS, lexicon, arpa, DecoderSettings(lm_weight=0.0)).decode(e[None]) == ["the hat sat"]
    settings = DecoderSettings(lm_weight=1.0, word_score=0.5)
    decoder = LMDecoder(TOKENS, lexicon, arpa, settings)
    [[(text, score), *_]] = decoder.nbest(e[None], n=2)
    assert text == "the cat sat"
    # the score flashlight reports: acoustic (ln) + lm_weight * KenLM's log10, unconverted + word_score * words
    assert score == pytest.approx(best_path(e) - acoustic_margin + 1.0 * lm.score(text) + 0.5 * 3, abs=1e-3)


def test_tuning_picks_the_lowest_wer_and_cross_fits_the_valid_transcripts(lm_files):
    _lexicon, arpa = lm_files
    lm = ArpaLM(arpa)
    lm_margin = lm.score("the cat sat") - lm.score("the hat sat")
    unsure = emissions("the cat sat", {(1, 0): {"h": 0.5, "c": 0.45}})  # truly "cat": needs some LM
    clear = emissions("the hat sat", {(1, 0): {"h": 0.9, "c": 0.05}})  # truly "hat": too much LM breaks it
    margins = [float(x[SECOND_WORD, VOCAB["h"]] - x[SECOND_WORD, VOCAB["c"]]) for x in (unsure, clear)]
    assert margins[0] < 1.0 * lm_margin < margins[1] < 8.0 * lm_margin
    model = LanguageModel(arpa.parent, TOKENS, 3, {})
    config = DecoderConfig(lm_weights=[0.0, 1.0, 8.0], word_scores=[0.0], beam_size=20)
    # clips of different lengths, unpadded; references with punctuation are compared stripped
    settings, crossfit, table, _ = tune_cross_fitted(model, [unsure.numpy(), clear.numpy()],
                                                  ["the cat sat।", "the hat sat?"], np.array([0, 1]), config)  # fmt: skip
    assert table["valid_wer"].tolist() == pytest.approx(
        [1 / 6, 0.0, 1 / 6]
    )  # one word of six wrong, none, one
    assert (settings.lm_weight, settings.word_score, settings.beam_size) == (1.0, 0.0, 20)
    # each clip is decoded with the setting best on the other: "hat" is right at weights 0 and 1 (the first, 0,
    # wins the tie), so the unsure clip gets no LM and stays wrong; the clear one gets weight 1 and stays right
    assert crossfit == ["the hat sat", "the hat sat"]


def test_nbest_is_distinct_and_sorted(lm_files):
    lexicon, arpa = lm_files
    e = emissions("the cat sat", {(1, 0): {"h": 0.4, "c": 0.3, "r": 0.25}})
    decoder = LMDecoder(TOKENS, lexicon, arpa, DecoderSettings(beam_size=10, lm_weight=0.5, nbest=4))
    [found] = decoder.nbest(e[None])
    texts, scores = [t for t, _ in found], [s for _, s in found]
    assert len(found) == 4 and len(set(texts)) == 4
    assert scores == sorted(scores, reverse=True)
    assert texts[0] == decoder.decode(e[None])[0]
    assert {"the cat sat", "the hat sat", "the rat sat"} <= set(texts)
    # a padded batch with lengths gives each row what it gives alone
    short = emissions("the rat")
    batch = torch.zeros(2, len(e), len(TOKENS))
    batch[0], batch[1, : len(short)] = e, short
    assert decoder.decode(batch, torch.tensor([len(e), len(short)])) == [texts[0], "the rat"]
    assert decoder.nbest(batch, [len(e), len(short)], n=1) == [[found[0]], decoder.nbest(short[None], n=1)[0]]
    assert decoder.decode(batch, [len(e), 0])[1] == ""


def test_settings_round_trip(tmp_path):
    settings = DecoderSettings(beam_size=12, lm_weight=1.25, word_score=-0.5, beam_threshold=30.0, nbest=3)
    path = settings.save(tmp_path / "models" / "decoder.json")
    assert json.loads(path.read_text()) == {"beam_size": 12, "lm_weight": 1.25, "word_score": -0.5,
                                            "beam_threshold": 30.0, "nbest": 3}  # fmt: skip
    assert DecoderSettings.load(path) == settings
    assert DecoderSettings.from_dict(settings.to_dict()) == settings
    assert DecoderSettings.from_dict({"lm_weight": 2}) == DecoderSettings(lm_weight=2.0)
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['beam'\]"):
        DecoderSettings.from_dict({"beam": 3})
    with pytest.raises(ValueError, match="beam_size: 0 must be an integer >= 1"):
        DecoderSettings(beam_size=0)
    with pytest.raises(ValueError, match="lm_weight: nan must be a finite number"):
        DecoderSettings(lm_weight=float("nan"))
    (tmp_path / "bad.json").write_text("{beam_size: 3")
    with pytest.raises(ValueError, match=r"bad.json: cannot read decoder settings"):
        DecoderSettings.load(tmp_path / "bad.json")


def test_errors(lm_files, tmp_path):
    lexicon, arpa = lm_files
    with pytest.raises(ValueError, match="needs a lexicon"):
        LMDecoder(TOKENS, None, arpa)
    (tmp_path / "lex.txt").write_text("cat\tc a t |\nox\to x |\n")
    with pytest.raises(ValueError, match=r"lex.txt: line 2: word 'ox' is spelled with 'o'"):
        LMDecoder(TOKENS, tmp_path / "lex.txt", arpa)
    with pytest.raises(ValueError, match=r"missing\.arpa: no such file"):
        LMDecoder(TOKENS, lexicon, tmp_path / "missing.arpa")
    (tmp_path / "bad.arpa").write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-1\tcat\n\\end\\\n")
    with pytest.raises(ValueError, match=r"bad.arpa: KenLM cannot load it"):
        LMDecoder(TOKENS, lexicon, tmp_path / "bad.arpa")
    decoder = LMDecoder(TOKENS, lexicon, arpa)
    e = emissions("the cat")
    with pytest.raises(ValueError, match=r"expected \[batch, frames, tokens\]"):
        decoder.decode(e)
    with pytest.raises(ValueError, match="3 classes but the decoder has 10 tokens"):
        decoder.decode(e[None, :, :3])
    with pytest.raises(ValueError, match="row 0 has 99 frames"):
        decoder.decode(e[None], [99])
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        decoder.nbest(e[None], n=0)
