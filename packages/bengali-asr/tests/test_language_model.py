"""The LM folder for predict, and the cross-fitted tuning: each half of valid is decoded with the setting that did
best on the other half."""

import json

import numpy as np
import pytest

from bengali_asr import language_model as lmod
from bengali_asr.arpa import write_arpa
from bengali_asr.configs import DecoderConfig
from bengali_asr.vocab import build_vocab, tokens
from shared.recipes import FieldError

SENTENCES = ["ক খ", "খ ক", "ক ক খ"] * 3


def emission(text: str, vocab: dict, frames_per_char: int = 2) -> np.ndarray:
    """Log-probs that spell ``text`` (space as "|"), each char followed by a blank frame, with margin 4 nats."""
    rows = []
    for ch in text.replace(" ", "|"):
        for token in (ch, "<pad>") * (frames_per_char // 2):
            row = np.full(len(vocab), -6.0, dtype=np.float32)
            row[vocab[token]] = -0.01
            rows.append(row)
    return np.stack(rows)


def test_a_saved_language_model_reloads_with_its_tokens_and_stats(tmp_path):
    vocab = build_vocab(SENTENCES)
    lm = lmod.build_language_model([*SENTENCES, "গ ক"], vocab, tmp_path / "lm", order=2)
    again = lmod.load_language_model(tmp_path / "lm")
    assert again.tokens == tokens(vocab) and again.order == 2
    assert lm.stats["lexicon"] == 2 and lm.stats["unspellable"] == 1  # "গ" is not in the acoustic alphabet
    assert again.stats == json.loads(json.dumps(lm.stats))
    assert lmod.decode_lm(again, [emission("ক খ", vocab)], lmod.DecoderSettings(beam_size=10)) == ["ক খ"]


def test_cross_fitting_reports_each_half_with_the_other_halfs_setting(tmp_path, monkeypatch):
    vocab = build_vocab(SENTENCES)
    lm = lmod.build_language_model(SENTENCES, vocab, tmp_path / "lm", order=2)
    references = ["a", "b", "c", "d"]
    halves = np.array([0, 0, 1, 1])
    # a fake decoder: setting 1 is right on half 0 only, setting 2 on half 1 only, setting 0 never
    right = {0.0: set(), 1.0: {0, 1}, 2.0: {2, 3}}

    def fake(_, emissions, settings, desc=""):
        return [
            references[e] if e in right[settings.lm_weight] else "x" for e in emissions
        ]  # an emission: its clip

    monkeypatch.setattr(lmod, "decode_lm", fake)
    config = DecoderConfig(lm_weights=[0.0, 1.0, 2.0], word_scores=[0.0], beam_size=5)
    best, crossfit, table, per_half = lmod.tune_cross_fitted(lm, [0, 1, 2, 3], references, halves, config)
    # half 0 is decoded with the setting best on half 1 (weight 2: wrong there), and vice versa
    assert crossfit == ["x", "x", "x", "x"]
    assert best.lm_weight == 1.0  # ties on the whole split go to the first in grid order
    np.testing.assert_allclose(table["valid_wer"], [1.0, 0.5, 0.5])
    assert [s.lm_weight for s in per_half] == [2.0, 1.0]  # what each half was decoded with
    # a later rung decoding valid again uses the same per-half settings
    again = lmod.decode_cross_fitted(lm, [0, 1, 2, 3], halves, per_half)
    assert again == crossfit


def test_tuning_on_a_subset_decodes_the_grid_there_and_every_clip_once_more(tmp_path, monkeypatch):
    """With ``tune_clips`` the grid sees only that many clips (drawn by the seed); every valid clip is then decoded
    with its half's setting, chosen on the other half's tuning clips."""
    vocab = build_vocab(SENTENCES)
    lm = lmod.build_language_model(SENTENCES, vocab, tmp_path / "lm", order=2)
    references = [f"w{i}" for i in range(10)]
    halves = np.array([0, 1] * 5)
    right = {
        1.0: set(range(0, 10, 2)),
        2.0: set(range(1, 10, 2)),
    }  # weight 1 right on half 0, weight 2 on half 1
    calls = []

    def fake(_, emissions, settings, desc=""):
        calls.append(list(emissions))
        return [references[e] if e in right[settings.lm_weight] else "x" for e in emissions]

    monkeypatch.setattr(lmod, "decode_lm", fake)
    config = DecoderConfig(lm_weights=[1.0, 2.0], word_scores=[0.0], beam_size=5, tune_clips=4)
    _, crossfit, table, per_half = lmod.tune_cross_fitted(
        lm, list(range(10)), references, halves, config, seed=3
    )
    tuned = calls[0]
    assert (
        len(tuned) == 4 and calls[1] == tuned and tuned == sorted(tuned)
    )  # the same 4 clips for each setting
    assert {h for h in halves[tuned]} == {0, 1}, (
        "this seed's draw must hold both halves for the test to mean much"
    )
    assert table["clips"].tolist() == [4, 4]
    assert [s.lm_weight for s in per_half] == [
        2.0,
        1.0,
    ]  # each half: the setting best on the other half's clips
    assert sorted(e for c in calls[2:] for e in c) == list(range(10))  # then all 10 once, half by half
    assert crossfit == ["x"] * 10
    before = len(calls)
    lmod.tune_cross_fitted(lm, list(range(10)), references, halves, config, seed=3)
    assert calls[before] == tuned  # the draw is the seed's
    with pytest.raises(FieldError, match="tune_clips"):
        DecoderConfig(tune_clips=-1)
    with pytest.raises(ValueError, match="tune_clips: 1 leaves a half of valid without tuning clips"):
        lmod.tune_cross_fitted(lm, list(range(10)), references, halves, DecoderConfig(lm_weights=[1.0],
                               word_scores=[0.0], beam_size=5, tune_clips=1))  # fmt: skip


def test_a_prebuilt_arpa_replaces_the_built_one_and_gives_the_lexicon(tmp_path):
    vocab = build_vocab(SENTENCES)
    prebuilt = tmp_path / "big.arpa"
    write_arpa(["ক খ", "খ খ ক", "গ ক"], prebuilt, order=3)
    lm = lmod.build_language_model(
        ["these sentences are not used"], vocab, tmp_path / "lm", order=2, arpa=prebuilt
    )
    assert lm.order == 3 and lm.arpa.read_bytes() == prebuilt.read_bytes()
    assert lm.stats["words"] == 3 and lm.stats["lexicon"] == 2 and lm.stats["source"] == str(prebuilt)
    assert lm.lexicon.read_text(encoding="utf-8").split("\n")[0].startswith("ক")
    assert lmod.decode_lm(lm, [emission("খ ক", vocab)], lmod.DecoderSettings(beam_size=10)) == ["খ ক"]
    with pytest.raises(FieldError, match=r"^arpa: .*missing\.arpa: file not found"):
        DecoderConfig(arpa=str(tmp_path / "missing.arpa"))
    again = lmod.build_language_model([], vocab, tmp_path / "lm", order=2, arpa=lm.arpa)  # its own file: kept
    assert again.arpa.read_bytes() == prebuilt.read_bytes()
    write_arpa(["ক খ"], tmp_path / "unigram.arpa", order=1)
    with pytest.raises(ValueError, match=r"unigram\.arpa: a 1-gram model; the decoder needs bigrams"):
        lmod.build_language_model([], vocab, tmp_path / "lm1", order=2, arpa=tmp_path / "unigram.arpa")
