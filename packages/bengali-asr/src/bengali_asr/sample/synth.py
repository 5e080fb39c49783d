"""A deterministic Bengali.AI Speech Recognition sample: grammar sentences spoken by espeak-ng, in the Kaggle layout.

Written files (``train.csv`` last: its presence marks a complete sample):

- ``train_mp3s/<id>.mp3`` and ``train.csv`` (``id, sentence, split``; ``split`` is ``train`` or ``valid``,
  rows sorted by id);
- ``test_mp3s/<id>.mp3``, ``sample_submission.csv`` (``id, sentence`` with a placeholder sentence) and
  ``test_labels.csv`` (``id, sentence``, the sample's only: so the out-of-domain WER can be reported);
- ``examples/example_<k>.mp3``: a few unlabelled clips in voices the splits do not use, over mains hum or
  babble;
- ``extra/text.txt``: sentences of the same grammar for the n-gram LM, none of them a valid, test or
  example sentence (train sentences may recur, as a web corpus would have them);
- ``card.json``: the settings, the counts, the corrupted train rows and what was done to each, the
  test-domain parameters per test id and the long test ids.

Sentences come from :mod:`bengali_asr.sample.lexicon` (3-9 words; every spoken sentence distinct). Each
clip is one espeak-ng call (``-v bn+<variant> -s <wpm> -p <pitch> -g <word gap>``) resampled from 22.05 kHz
to 16 kHz, given a random level and a little leading silence, and saved as a 16 kHz mono mp3
(:func:`bengali_asr.audio.save_mp3`).

Label noise, as in the crowd-sourced original: ``CORRUPT_SHARE`` of the ``train`` split (not ``valid``)
get a transcript that is not what was spoken: one or two words dropped, two words swapped, or another
sentence altogether; the audio is always of the true sentence. The WER filter should find these.

Domain shift: every test clip is sped up or slowed down (``augment.change_speed``), put in a room
(``augment.reverberate``) and mixed with noise of a random kind (``augment.add_noise``), in that order;
``LONG_SHARE`` of them are 3-4 sentences in one clip (about 10-15 s) so chunked inference is exercised.

Determinism: one seed drives every draw (numpy generators spawned per part), espeak-ng and the mp3 encoder
are deterministic, and torch runs on one thread while the sample is made, so the same seed writes the same
bytes (on the same espeak-ng and FFmpeg versions, which the card records).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torchaudio

from bengali_asr.audio import SAMPLE_RATE, save_mp3
from bengali_asr.augment import NOISE_KINDS, add_noise, change_speed, fit_peak, reverberate
from bengali_asr.sample import lexicon

VOICES = ("bn", "bn+m1", "bn+m3", "bn+m7", "bn+f1", "bn+f2", "bn+f3", "bn+f4")  # espeak-ng --voices=variant
EXAMPLE_VOICES = ("bn+m2", "bn+m5", "bn+f5", "bn+klatt3")  # unseen in the splits
SPEED_WPM = (130, 190)
PITCH = (30, 70)
WORD_GAP = (0, 3)  # espeak-ng -g: extra pause between words, in units of 10 ms
LEVEL = (0.3, 0.9)  # peak amplitude of a clean clip
LEAD_SILENCE = (0.05, 0.3)  # seconds before the speech starts

CORRUPT_SHARE = 0.2
CORRUPTIONS = {"drop": 0.4, "swap": 0.3, "replace": 0.3}

TEST_SPEED = (0.85, 1.15)
TEST_RT60 = (0.2, 0.7)
TEST_SNR_DB = (0.0, 15.0)
TEST_NOISES = NOISE_KINDS
LONG_SHARE = 0.05
LONG_SENTENCES = (3, 4)
LONG_MIN_WORDS = 6  # long clips are made of the longer sentences, so they last about 10-15 s
EXAMPLE_SNR_DB = (5.0, 20.0)

PLACEHOLDER = "কিছু লেখা"  # sample_submission's sentence column
DEFAULT_OUT = "competitions/bengali-asr/data/sample"


class SynthesisError(RuntimeError):
    """espeak-ng is missing or failed; the message says what to install or which text failed."""


def espeak_version() -> str:
    """``espeak-ng --version``'s text (recorded in the card), or a SynthesisError when it is not installed."""
    if shutil.which("espeak-ng") is None:
        raise SynthesisError("espeak-ng not found: install it (Debian/Ubuntu: apt-get install espeak-ng)")
    done = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().splitlines()[0] if done.stdout.strip() else "unknown"


def speak(text: str, voice: str = "bn", wpm: int = 160, pitch: int = 50, gap: int = 0) -> np.ndarray:
    """espeak-ng's rendering of ``text`` as float32 samples at 16 kHz."""
    command = ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-g", str(gap), "--stdout", text]
    done = subprocess.run(command, capture_output=True, check=False)
    if done.returncode != 0 or len(done.stdout) < 44:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise SynthesisError(f"espeak-ng failed on {text!r} with voice {voice}: {lines[0] if lines else ''}")
    data = done.stdout
    rate = int.from_bytes(data[24:28], "little")
    start = data.find(b"data", 12) + 8  # the data chunk; its size field is a placeholder on stdout
    pcm = np.frombuffer(data[start : start + (len(data) - start) // 2 * 2], dtype="<i2")
    with torch.no_grad():
        wave = _resampler(rate)(torch.from_numpy(pcm.astype(np.float32) / 32768))
    return wave.numpy().astype(np.float32)


@cache
def _resampler(rate: int) -> torchaudio.transforms.Resample:
    """One resampler per input rate: its sinc kernel is built once, not per clip."""
    return torchaudio.transforms.Resample(rate, SAMPLE_RATE)


@contextmanager
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass
class Clip:
    """One mp3 to write, every random choice already drawn: rendering it is a pure function, so clips can
    be rendered in any order, on any number of threads, with the same bytes."""

    path: Path
    text: str
    voice: dict  # voice, wpm, pitch, gap
    level: float  # peak amplitude before any test-domain change
    lead: float  # seconds of silence before the speech
    shift: dict | None = None  # test domain: speed, rt60, snr_db, noise
    rng: np.random.Generator | None = None  # for the room and the noise
    seconds: float = 0.0  # set by render


def _plan(path: Path, text: str, rng: np.random.Generator, voices: tuple[str, ...] = VOICES) -> Clip:
    voice = {
        "voice": voices[int(rng.integers(len(voices)))],
        "wpm": int(rng.integers(SPEED_WPM[0], SPEED_WPM[1] + 1)),
        "pitch": int(rng.integers(PITCH[0], PITCH[1] + 1)),
        "gap": int(rng.integers(WORD_GAP[0], WORD_GAP[1] + 1)),
    }
    level = round(float(rng.uniform(*LEVEL)), 4)
    return Clip(path, text, voice, level, round(float(rng.uniform(*LEAD_SILENCE)), 3))


def render(clip: Clip) -> Clip:
    """Speak, set the level, add the leading silence, apply the test-domain shift (speed, room, noise)
    when there is one, and write the mp3; returns the clip with its duration."""
    wave = speak(clip.text, **clip.voice)
    wave = wave * np.float32(clip.level / max(float(np.max(np.abs(wave))), 1e-6))
    wave = np.concatenate([np.zeros(int(clip.lead * SAMPLE_RATE), dtype=np.float32), wave.astype(np.float32)])
    if clip.shift is not None:
        if "speed" in clip.shift:
            wave = change_speed(wave, clip.shift["speed"])
        if "rt60" in clip.shift:
            wave = reverberate(wave, clip.rng, rt60=clip.shift["rt60"])
        wave = fit_peak(add_noise(wave, clip.shift["snr_db"], clip.rng, kind=clip.shift["noise"]))
    save_mp3(clip.path, wave)
    clip.seconds = round(len(wave) / SAMPLE_RATE, 2)
    return clip


def _render_all(clips: list[Clip], workers: int) -> None:
    """Render every clip; ``workers`` threads (espeak-ng runs as a subprocess, the resampler and the mp3
    encoder release the GIL), one thread when ``workers <= 1``."""
    with _one_thread():
        if workers <= 1:
            for clip in clips:
                render(clip)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(render, clips):
                pass


def _ids(n: int, rng: np.random.Generator, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        value = rng.bytes(6).hex()
        if value not in taken:
            taken.add(value)
            out.append(value)
    return out


def corrupt(text: str, kind: str, rng: np.random.Generator, replacement: str) -> str:
    """``text`` made wrong: ``drop`` removes one word (two from a sentence of 7 or more), ``swap`` exchanges
    two different words (the marks stay where they were), ``replace`` gives ``replacement``. The result
    always differs from ``text`` and still ends in the sentence's mark."""
    if kind == "replace":
        return replacement
    words, marks = lexicon.split_marks(text)
    if kind == "drop":
        for j in sorted(rng.choice(len(words), size=1 if len(words) < 7 else 2, replace=False), reverse=True):
            del words[j]
            mark = marks.pop(j)
            if j == len(words):  # the last word went: its end mark moves to the new last word
                marks[-1] = mark
        return lexicon.join_marks(words, marks)
    if kind == "swap":
        pairs = [(i, j) for i in range(len(words)) for j in range(i + 1, len(words)) if words[i] != words[j]]
        i, j = pairs[int(rng.integers(len(pairs)))]
        words[i], words[j] = words[j], words[i]
        return lexicon.join_marks(words, marks)
    raise ValueError(f"unknown corruption {kind!r}; expected one of {', '.join(CORRUPTIONS)}")


def _long_count(n_test: int, share: float) -> int:
    """Long test clips: ``share`` of the test split, at least one in any test split of two or more."""
    return min(max(round(share * n_test), 1 if n_test >= 2 and share > 0 else 0), n_test)


def make_sample(
    out: str | Path,
    seed: int = 0,
    n_train: int = 480,
    n_valid: int = 120,
    n_test: int = 120,
    n_examples: int = 6,
    n_extra: int = 4000,
    corrupt_share: float = CORRUPT_SHARE,
    long_share: float = LONG_SHARE,
    workers: int = 1,
) -> dict:
    """Write the sample (module docstring) into ``out`` and return its card; the same seed and sizes give
    the same bytes, whatever the number of ``workers`` (threads rendering clips)."""
    out = Path(out)
    espeak = espeak_version()
    (out / "train.csv").unlink(missing_ok=True)  # a half-rewritten sample must not look finished
    for folder in ("train_mp3s", "test_mp3s", "examples"):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for stale in (out / folder).glob("*.mp3"):
            stale.unlink()
    (out / "extra").mkdir(parents=True, exist_ok=True)
    rng_text, rng_voice, rng_noise, rng_corrupt, rng_ids = np.random.default_rng(seed).spawn(5)

    n_long = _long_count(n_test, long_share)
    n_corrupt = round(corrupt_share * n_train)
    spoken = lexicon.sentences(n_train + n_valid + n_test - n_long + n_examples * 2, rng_text)
    train_text, valid_text = spoken[:n_train], spoken[n_train : n_train + n_valid]
    short_test = spoken[n_train + n_valid : n_train + n_valid + n_test - n_long]
    example_text = spoken[n_train + n_valid + n_test - n_long :]
    sizes = [int(k) for k in rng_text.integers(LONG_SENTENCES[0], LONG_SENTENCES[1] + 1, size=n_long)]
    long_parts: list[str] = []  # the longer sentences (LONG_MIN_WORDS or more), none of them spoken elsewhere
    while len(long_parts) < sum(sizes):
        drawn = lexicon.sentences(1, rng_text, exclude={*spoken, *long_parts})[0]
        if len(drawn.split()) >= LONG_MIN_WORDS:
            long_parts.append(drawn)
    ends = np.cumsum([0, *sizes]).tolist()
    long_text = [" ".join(long_parts[a:b]) for a, b in itertools.pairwise(ends)]
    held_out = set(valid_text) | set(short_test) | set(example_text) | set(long_parts)
    replacements = lexicon.sentences(n_corrupt, rng_corrupt, exclude=set(spoken) | held_out)

    taken: set[str] = set()
    train_ids, valid_ids, test_ids = (_ids(n, rng_ids, taken) for n in (n_train, n_valid, n_test))
    test_text = short_test + long_text
    order = rng_ids.permutation(n_test)  # the long clips anywhere in the test split
    test_text = [test_text[i] for i in order]
    long_ids = [test_ids[j] for j, i in enumerate(order) if i >= n_test - n_long]

    clips = {
        "train": [
            _plan(out / "train_mp3s" / f"{i}.mp3", t, rng_voice)
            for i, t in zip(train_ids, train_text, strict=True)
        ],
        "valid": [
            _plan(out / "train_mp3s" / f"{i}.mp3", t, rng_voice)
            for i, t in zip(valid_ids, valid_text, strict=True)
        ],
        "test": [
            _plan(out / "test_mp3s" / f"{i}.mp3", t, rng_voice)
            for i, t in zip(test_ids, test_text, strict=True)
        ],
        "examples": [
            _plan(
                out / "examples" / f"example_{k + 1:02d}.mp3",
                " ".join(example_text[2 * k : 2 * k + 2]),
                rng_voice,
                EXAMPLE_VOICES,
            )
            for k in range(n_examples)
        ],
    }
    for clip, rng in zip(clips["test"], rng_noise.spawn(n_test), strict=True):
        clip.rng = rng
        clip.shift = {
            "speed": round(float(rng.uniform(*TEST_SPEED)), 2),
            "rt60": round(float(rng.uniform(*TEST_RT60)), 3),
            "snr_db": round(float(rng.uniform(*TEST_SNR_DB)), 2),
            "noise": TEST_NOISES[int(rng.integers(len(TEST_NOISES)))],
        }
    for k, (clip, rng) in enumerate(zip(clips["examples"], rng_noise.spawn(n_examples), strict=True)):
        clip.rng = rng
        clip.shift = {
            "snr_db": round(float(rng.uniform(*EXAMPLE_SNR_DB)), 2),
            "noise": ("hum", "babble")[k % 2],
        }
    _render_all([clip for group in clips.values() for clip in group], workers)
    seconds = {split: round(sum(c.seconds for c in group), 1) for split, group in clips.items()}
    domain = {c.path.stem: {**c.shift, **c.voice, "seconds": c.seconds} for c in clips["test"]}
    examples = {c.path.name: {**c.shift, **c.voice, "seconds": c.seconds} for c in clips["examples"]}

    labels = list(train_text)
    chosen = sorted(int(i) for i in rng_corrupt.choice(n_train, size=n_corrupt, replace=False))
    kinds = rng_corrupt.choice(len(CORRUPTIONS), size=n_corrupt, p=list(CORRUPTIONS.values()))
    corruptions = {}
    for i, k, replacement in zip(chosen, kinds, replacements, strict=True):
        kind = list(CORRUPTIONS)[int(k)]
        labels[i] = corrupt(train_text[i], kind, rng_corrupt, replacement)
        corruptions[train_ids[i]] = {"kind": kind, "spoken": train_text[i], "written": labels[i]}

    extra = lexicon.sentences(n_extra, rng_text, exclude=held_out)
    (out / "extra" / "text.txt").write_text("".join(s + "\n" for s in extra), encoding="utf-8")

    csv = {"index": False, "lineterminator": "\n"}
    test = pd.DataFrame({"id": test_ids, "sentence": test_text}).sort_values("id", kind="stable")
    test.assign(sentence=PLACEHOLDER).to_csv(out / "sample_submission.csv", **csv)
    test.to_csv(out / "test_labels.csv", **csv)

    card = {
        "generator": "bengali_asr.sample.synth",
        "seed": seed,
        "espeak_ng": espeak,
        "torchaudio": torchaudio.__version__,
        "settings": {
            "sample_rate": SAMPLE_RATE,
            "voices": list(VOICES),
            "example_voices": list(EXAMPLE_VOICES),
            "speed_wpm": list(SPEED_WPM),
            "pitch": list(PITCH),
            "word_gap": list(WORD_GAP),
            "level": list(LEVEL),
            "corrupt_share": corrupt_share,
            "corruptions": CORRUPTIONS,
            "test_domain": {
                "speed": list(TEST_SPEED),
                "rt60": list(TEST_RT60),
                "snr_db": list(TEST_SNR_DB),
                "noise": list(TEST_NOISES),
                "order": "speed, reverb, noise",
            },
            "long_share": long_share,
            "long_sentences": list(LONG_SENTENCES),
            "words_per_sentence": [lexicon.MIN_WORDS, lexicon.MAX_WORDS],
            "sentence_kinds": lexicon.KINDS,
        },
        "counts": {
            "train": n_train,
            "valid": n_valid,
            "test": n_test,
            "long_test": n_long,
            "examples": n_examples,
            "extra_lines": n_extra,
            "corrupted": n_corrupt,
            "corruption_kinds": {k: sum(c["kind"] == k for c in corruptions.values()) for k in CORRUPTIONS},
        },
        "audio_seconds": seconds,
        "corrupted": list(corruptions),
        "corruptions": corruptions,
        "long_test": sorted(long_ids),
        "test_domain": dict(sorted(domain.items())),
        "examples": examples,
    }
    text = json.dumps(card, indent=2, ensure_ascii=False)
    (out / "card.json").write_text(text + "\n", encoding="utf-8")
    rows = [("train", train_ids, labels), ("valid", valid_ids, valid_text)]
    train = pd.DataFrame(
        [
            {"id": i, "sentence": s, "split": split}
            for split, ids, texts in rows
            for i, s in zip(ids, texts, strict=True)
        ]
    ).sort_values("id", kind="stable")
    train.to_csv(out / "train.csv", **csv)
    return card


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic Bengali.AI Speech Recognition sample in the Kaggle layout: grammar "
        "sentences spoken by espeak-ng, a noisy train split, a clean valid split, an out-of-domain test split."
    )
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=480)
    parser.add_argument("--n-valid", type=int, default=120)
    parser.add_argument("--n-test", type=int, default=120)
    parser.add_argument("--n-examples", type=int, default=6)
    parser.add_argument("--n-extra", type=int, default=4000, help="lines of extra/text.txt")
    parser.add_argument("--workers", type=int, default=1, help="threads rendering clips (same bytes for any)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    card = make_sample(
        args.out,
        seed=args.seed,
        n_train=args.n_train,
        n_valid=args.n_valid,
        n_test=args.n_test,
        n_examples=args.n_examples,
        n_extra=args.n_extra,
        workers=args.workers,
    )
    counts, audio = card["counts"], card["audio_seconds"]
    print(
        f"wrote the Bengali ASR sample to {args.out} in {time.perf_counter() - start:.1f} s: "
        f"{counts['train']} train ({counts['corrupted']} with corrupted transcripts), {counts['valid']} valid, "
        f"{counts['test']} out-of-domain test ({counts['long_test']} long), {counts['examples']} examples, "
        f"{counts['extra_lines']} lines of extra text; {sum(audio.values()) / 60:.1f} min of audio"
    )
