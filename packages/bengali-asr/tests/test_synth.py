"""The generated sample: the same bytes for the same seed (on one thread or two), the Kaggle layout loading
through bengali_asr.data, label noise only in the train split and recorded in the card, an out-of-domain
test split (speed, room, noise: checked on a rendered clip), long test clips, extra text that holds out the
evaluation sentences; and the grammar: verbs that agree with their subject and tense, punctuation, 3-9 words,
and text that the normaliser leaves as it is."""

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from bengali_asr.audio import SAMPLE_RATE, load_audio
from bengali_asr.data import load_competition, read_extra_text
from bengali_asr.normalize import normalize
from bengali_asr.sample import lexicon, synth
from bengali_asr.sample.synth import Clip, SynthesisError, corrupt, main, make_sample, render

SIZES = {"n_train": 6, "n_valid": 2, "n_test": 2, "n_examples": 1, "n_extra": 30}


def _files(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("bengali") / "sample"
    make_sample(out, seed=0, **SIZES)
    return out


@pytest.fixture(scope="module")
def card(sample):
    return json.loads((sample / "card.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def many():
    """Enough sentences for the rates and the grammar checks."""
    return lexicon.sentences(4000, np.random.default_rng(7))


def test_same_seed_same_bytes_on_two_threads_other_seed_other_sample(sample, tmp_path):
    make_sample(tmp_path / "again", seed=0, workers=2, **SIZES)
    first, again = _files(sample), _files(tmp_path / "again")
    assert sorted(first) == sorted(again)
    assert [name for name in first if first[name] != again[name]] == []
    make_sample(tmp_path / "other", seed=1, **{**SIZES, "n_train": 3})
    assert (tmp_path / "other" / "train.csv").read_bytes() != first["train.csv"]


@pytest.mark.slow
def test_same_bytes_in_another_process_with_another_hash_seed(sample, tmp_path):
    sizes = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in SIZES.items()).split()
    code = f"from bengali_asr.sample.synth import main; main({['--out', str(tmp_path / 'cli'), *sizes]!r})"
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, env=env)
    assert _files(tmp_path / "cli") == _files(sample)


def test_layout_loads_and_clips_are_16k_speech(sample, card):
    names = set(_files(sample))
    assert {"train.csv", "sample_submission.csv", "test_labels.csv", "card.json", "extra/text.txt"} <= names
    assert {n.split("/")[0] for n in names if n.endswith(".mp3")} == {"train_mp3s", "test_mp3s", "examples"}
    data = load_competition(sample)
    assert data.train["split"].value_counts().to_dict() == {"train": 6, "valid": 2}
    assert data.train["id"].str.fullmatch(r"[0-9a-f]{12}").all()
    assert data.train["id"].tolist() == sorted(data.train["id"])
    assert (data.sample_submission["sentence"] == synth.PLACEHOLDER).all()
    assert len(data.test) == 2 and len(data.examples) == 1
    for path in [*data.train["path"], *data.test["path"], *data.examples]:
        wave = load_audio(path)
        assert 1.0 < len(wave) / SAMPLE_RATE < 20.0
        assert 0.05 < np.max(np.abs(wave)) <= 1.0
    assert card["counts"]["train"] == 6 and card["audio_seconds"]["train"] > 6


def test_corrupted_rows_are_train_rows_written_wrong(sample, card):
    data = load_competition(sample)
    by_id = data.train.set_index("id")
    assert card["corrupted"] == list(card["corruptions"]) and len(card["corrupted"]) == round(0.2 * 6)
    for clip_id, info in card["corruptions"].items():
        assert by_id.loc[clip_id, "split"] == "train"
        assert by_id.loc[clip_id, "sentence"] == info["written"] != info["spoken"]
        assert info["kind"] in synth.CORRUPTIONS
    clean = data.train[~data.train["id"].isin(card["corrupted"])]
    assert clean["sentence"].map(lambda s: s[-1] in "।?!").all()


def test_corruption_kinds_by_hand():
    rng = np.random.default_rng(0)
    text = "রহিম, তুমি আজ কোথায় যাচ্ছ?"
    dropped = corrupt(text, "drop", rng, "")
    assert len(dropped.split()) == 4 and dropped.endswith("?") and dropped != text
    assert set(dropped.rstrip("?").replace(",", "").split()) < set(text.rstrip("?").replace(",", "").split())
    long = "আমি আজ সকালে বাজার থেকে দুটি পাকা আম কিনলাম।"  # 9 words: two dropped
    assert len(corrupt(long, "drop", rng, "").split()) == 7 and corrupt(long, "drop", rng, "").endswith("।")
    for _ in range(20):
        swapped = corrupt(text, "swap", rng, "")
        words, marks = lexicon.split_marks(swapped)
        assert swapped != text and marks == [",", "", "", "", "?"]  # the marks stay in place
        assert sorted(words) == sorted(lexicon.split_marks(text)[0])
    assert corrupt(text, "replace", rng, "সে ভাত খায়।") == "সে ভাত খায়।"
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(text, "shout", rng, "")


def test_test_domain_recorded_per_clip_and_long_clips(sample, card):
    test_ids = load_competition(sample).test["id"].tolist()
    assert sorted(card["test_domain"]) == sorted(test_ids)
    for params in card["test_domain"].values():
        assert 0.85 <= params["speed"] <= 1.15 and 0.2 <= params["rt60"] <= 0.7
        assert 0.0 <= params["snr_db"] <= 15.0 and params["noise"] in synth.TEST_NOISES
        assert params["voice"] in synth.VOICES
    (long_id,) = card["long_test"]  # 2 test clips: one long
    labels = load_competition(sample).test_labels.set_index("id")["sentence"]
    label = labels[long_id]
    assert len(re.findall(r"[।?!]", label)) >= 3
    assert card["test_domain"][long_id]["seconds"] >= 8.0


def test_render_applies_speed_room_and_noise(tmp_path):
    voice = {"voice": "bn", "wpm": 160, "pitch": 50, "gap": 0}
    clean = render(Clip(tmp_path / "clean.mp3", "আমি আজ বাজারে যাব।", voice, level=0.8, lead=0.3))
    shifted = render(
        Clip(
            tmp_path / "shifted.mp3",
            "আমি আজ বাজারে যাব।",
            voice,
            level=0.8,
            lead=0.3,
            shift={"speed": 1.15, "rt60": 0.4, "snr_db": 5.0, "noise": "white"},
            rng=np.random.default_rng(0),
        )
    )
    assert shifted.seconds == pytest.approx(clean.seconds / 1.15, abs=0.01)  # faster: shorter
    a, b = load_audio(tmp_path / "clean.mp3"), load_audio(tmp_path / "shifted.mp3")
    lead = slice(0, int(0.2 * SAMPLE_RATE))  # before the speech starts: silence, or the noise alone
    assert np.sqrt(np.mean(a[lead] ** 2)) < 1e-3
    assert np.sqrt(np.mean(b[lead] ** 2)) > 0.02


def test_extra_text_holds_out_the_evaluation_sentences(sample, card):
    data = load_competition(sample)
    extra = read_extra_text(data.extra_text)
    assert len(extra) == len(set(extra)) == 30
    spoken = set(data.train.loc[data.train["split"] == "valid", "sentence"]) | set(
        data.test_labels["sentence"]
    )
    for sentence in data.test_labels["sentence"]:  # the long clips' sentences one by one, too
        spoken.update(re.findall(r"[^।?!]+[।?!]", sentence))
    assert not {s.strip() for s in spoken} & set(extra)


def test_sentences_have_3_to_9_words_and_marks(many):
    assert len(set(many)) == len(many)
    lengths = Counter(len(s.split()) for s in many)
    assert min(lengths) == 3 and max(lengths) == 9
    ends = Counter(s[-1] for s in many)
    assert set(ends) == {"।", "?", "!"} and 0.15 < ends["?"] / len(many) < 0.35
    assert 0.05 < sum("," in s for s in many) / len(many) < 0.3
    for s in many:
        words, marks = lexicon.split_marks(s)
        assert marks[-1] in "।?!" and set(marks[:-1]) <= {"", ","} and all(words)
        asks = {lexicon.canonical(w) for w in ("কোথায়", "কখন", "কেন", "কেমন", "কত", "কি", "কে")} & set(words)
        if asks:
            assert marks[-1] == "?", s


def test_verbs_agree_with_pronoun_and_time(many):
    persons, tenses = {}, {}
    for verb in lexicon.VERBS.values():
        for tense, forms in verb.forms.items():
            for person, form in zip(lexicon.PERSONS, forms, strict=True):
                persons.setdefault(form, set()).add(person)
                tenses.setdefault(form, set()).add(tense)
    pronouns = dict(lexicon.PRONOUNS)
    checked = 0
    for s in many:
        words, marks = lexicon.split_marks(s)
        if words[0] not in pronouns or "," in marks or "কেমন" in words:
            continue
        verb = words[-2] if words[-1] == "না" else words[-1]
        assert pronouns[words[0]] in persons[verb], s
        if "গতকাল" in words:
            assert "past" in tenses[verb], s
        if "আগামীকাল" in words:
            assert "future" in tenses[verb], s
        checked += 1
    assert checked > 1000
    bn = lexicon.canonical  # the lexicon's spelling of য় (one code point), whatever the editor typed
    assert lexicon.VERBS[bn("খাওয়া")].forms["present"] == tuple(map(bn, ("খাই", "খাও", "খায়", "খান")))
    assert lexicon.VERBS[bn("যাওয়া")].forms["past"] == ("গেলাম", "গেলে", "গেল", "গেলেন")
    assert lexicon.VERBS[bn("দেওয়া")].forms["future"] == ("দেব", "দেবে", "দেবে", "দেবেন")


def test_text_is_already_normalised_and_precomposed(many):
    assert len(lexicon.vocabulary()) >= 300
    for s in many[:1500]:
        assert normalize(s) == s, s
        assert "\u09bc" not in s  # য়, ড়, ঢ় as one code point each
    used = {w for s in many for w in lexicon.split_marks(s)[0]}
    assert used <= lexicon.vocabulary()


def test_cli_writes_the_sample(tmp_path, capsys):
    main(["--out", str(tmp_path / "cli"), "--n-train", "3", "--n-valid", "1", "--n-test", "1", "--n-examples", "0",
          "--n-extra", "5", "--seed", "2"])  # fmt: skip
    data = load_competition(tmp_path / "cli")
    assert len(data.train) == 4 and len(data.test) == 1 and data.examples == []
    assert "wrote the Bengali ASR sample" in capsys.readouterr().out


def test_an_interrupted_rewrite_leaves_no_marker(sample, tmp_path, monkeypatch):
    out = shutil.copytree(sample, tmp_path / "s")

    def broken(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(synth, "corrupt", broken)  # after the audio, before train.csv
    with pytest.raises(RuntimeError):
        make_sample(out, seed=0, **SIZES)
    assert not (out / "train.csv").exists() and any((out / "train_mp3s").glob("*.mp3"))


def test_missing_espeak_is_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(synth.shutil, "which", lambda name: None)
    with pytest.raises(
        SynthesisError, match=r"^espeak-ng not found: install it \(.*apt-get install espeak-ng\)$"
    ):
        make_sample(tmp_path / "none", **SIZES)
