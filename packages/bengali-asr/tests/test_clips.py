"""Clips at any scale: a split that does not fit in memory is read from disk at each use and never held whole,
inference holds one block of clips at a time, and every window comes back once, to its clip, in order."""

import numpy as np
import pytest

import bengali_asr.clips as C
from bengali_asr.audio import SAMPLE_RATE, AudioError, chunks, load_audio, save_mp3


def _tone(seconds: float, hz: float = 300.0) -> np.ndarray:
    return (0.4 * np.sin(2 * np.pi * hz * np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE)).astype(
        np.float32
    )


@pytest.fixture
def mp3s(tmp_path):
    paths = []
    for i, seconds in enumerate((1.0, 2.0, 0.5)):
        paths.append(str(tmp_path / f"c{i}.mp3"))
        save_mp3(paths[-1], _tone(seconds, 200.0 + 100 * i))
    return paths


@pytest.fixture
def decodes(monkeypatch):
    """How many times clips decoded a file."""
    count = {"n": 0}

    def counted(path, row=None):
        count["n"] += 1
        return load_audio(path, row)

    monkeypatch.setattr(C, "load_audio", counted)
    return count


def test_a_split_over_the_memory_budget_is_decoded_at_each_read_and_never_kept(mp3s, decodes):
    clips = C.read_clips(mp3s, desc="t", rows=[5, 6, 7], memory_bytes=0)
    assert not clips.in_memory and decodes["n"] == 0  # only the headers were read
    decoded = [len(load_audio(p)) for p in mp3s]
    assert all(0 <= h - d <= 0.15 * SAMPLE_RATE for h, d in zip(clips.lengths, decoded, strict=True))
    np.testing.assert_array_equal(clips[1], load_audio(mp3s[1]))
    clips[1]
    assert decodes["n"] == 2 and clips.waves is None  # read twice, decoded twice, nothing kept
    sub = clips.take([2, 0])
    assert sub.paths == [mp3s[2], mp3s[0]] and sub.rows == [7, 5] and not sub.in_memory
    with open(mp3s[2], "wb") as out:  # broken after the headers were read: the read names the table's row
        out.write(b"\x00not an mp3\xff" * 40)
    with pytest.raises(AudioError, match=r"c2\.mp3: cannot be decoded as audio \(.*\(row 7\)$"):
        sub[0]


def test_a_split_within_the_budget_is_decoded_once_with_exact_lengths(mp3s, decodes):
    clips = C.read_clips(mp3s, desc="t")
    assert clips.in_memory and decodes["n"] == 3
    assert clips.lengths.tolist() == [len(load_audio(p)) for p in mp3s]
    assert [len(w) for w in clips] == clips.lengths.tolist() and decodes["n"] == 3
    assert C.lengths_of([np.zeros(7), np.zeros(3)]).tolist() == [7, 3]


def test_map_applies_its_transforms_at_each_read_in_order():
    clips = C.Clips.of([np.arange(4.0), np.arange(2.0)]).map(lambda w: w + 1).map(lambda w: w * 10)
    np.testing.assert_array_equal(clips[0], [10, 20, 30, 40])
    assert clips.lengths.tolist() == [4, 2]
    np.testing.assert_array_equal(clips.take([1])[0], [10, 20])
    with pytest.raises(ValueError, match="exactly one of the waves or their paths"):
        C.Clips([1], waves=[np.zeros(1)], paths=["a.mp3"])
    with pytest.raises(ValueError, match="exactly one of the waves or their paths"):
        C.Clips([1])


def test_blocks_by_hand():
    # longest first: 0 (5), 3 (4), 2 (3), 1 (1); at most 7 samples a block
    assert [b.tolist() for b in C.blocks([5, 1, 3, 4], max_samples=7)] == [[0], [2, 3], [1]]
    assert [b.tolist() for b in C.blocks([5, 1, 3, 4], max_samples=100)] == [
        [0, 1, 2, 3]
    ]  # one block, in order
    assert [b.tolist() for b in C.blocks([9, 2], max_samples=4)] == [
        [0],
        [1],
    ]  # too long for any block: alone
    assert C.blocks([], max_samples=4) == []


def test_windowed_holds_one_block_and_returns_every_window_once_to_its_clip():
    """Clip ``c``'s samples are ``c * 1000 + time``; ``run`` reports (clip, first sample, length) of each window, so
    the output can be checked against :func:`chunks`. Decoding is counted by a transform; the clips decoded and not
    yet returned never exceed one block."""
    rate = SAMPLE_RATE
    seconds = [0.5, 3.5, 1.0, 2.2, 0.25, 1.75]
    waves = [(c * 1000 + np.arange(int(s * rate)) / rate).astype(np.float64) for c, s in enumerate(seconds)]
    expected = {
        c: [(c, float(p[0]), len(p)) for p in chunks(w, seconds=1.0, overlap=0.25)]
        for c, w in enumerate(waves)
    }
    reads, batches = [], []

    def read(w):
        reads.append(int(w[0] // 1000))
        return w

    def run(pieces):
        batches.append([len(p) for p in pieces])
        return [(int(p[0] // 1000), float(p[0]), len(p)) for p in pieces]

    budget = int(2.5 * rate)
    blocks = C.blocks(C.lengths_of(waves), budget)
    assert len(blocks) > 2
    returned, held = [], 0
    for clip, parts in C.windowed(C.Clips.of(waves).map(read), run, 1.0, 0.25, batch_size=3, desc="t",
                                  max_samples=budget):  # fmt: skip
        held = max(held, len(reads) - len(returned))
        returned.append(clip)
        assert parts == expected[clip]
    assert sorted(returned) == list(range(len(waves))) and sorted(reads) == list(range(len(waves)))
    assert held <= max(len(b) for b in blocks)
    assert all(len(b) <= 3 and b == sorted(b, reverse=True) for b in batches)
    whole = dict(C.windowed(waves, run, 1.0, 0.25, batch_size=3, desc="t"))
    assert whole == {c: expected[c] for c in range(len(waves))}
