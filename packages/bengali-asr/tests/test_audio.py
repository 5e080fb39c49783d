"""Audio in and out: mp3 round trips keep pitch and length, other rates and stereo come back as 16 kHz mono,
every unusable file stops with one line naming it (and the row), and chunking is checked by hand."""

import itertools
import re
import wave as wavefile

import numpy as np
import pytest
import torch
import torchaudio

from bengali_asr.audio import SAMPLE_RATE, AudioError, chunks, header_samples, load_audio, save_mp3


def _tone(hz: float, seconds: float, rate: int = SAMPLE_RATE, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _peak_hz(wave: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    spectrum = np.abs(np.fft.rfft(wave))
    return float(np.fft.rfftfreq(len(wave), 1 / rate)[int(np.argmax(spectrum))])


def _fails(call, expected: str) -> str:
    with pytest.raises(AudioError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message
    assert re.search(expected, message), message
    return message


def test_mp3_round_trip_keeps_length_pitch_and_level(tmp_path):
    tone = _tone(440.0, 2.0)
    save_mp3(tmp_path / "a.mp3", tone)
    back = load_audio(tmp_path / "a.mp3")
    assert back.dtype == np.float32 and back.ndim == 1
    assert abs(len(back) - len(tone)) <= 0.02 * SAMPLE_RATE
    assert _peak_hz(back) == pytest.approx(440.0, abs=1.0)
    middle = slice(SAMPLE_RATE // 2, SAMPLE_RATE)
    assert np.sqrt(np.mean(back[middle] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_save_mp3_is_byte_identical_and_clips(tmp_path):
    tone = _tone(300.0, 1.0, amplitude=1.7)  # beyond full scale: clipped, not wrapped
    save_mp3(tmp_path / "a.mp3", tone)
    save_mp3(tmp_path / "sub" / "b.mp3", tone)  # makes the folder
    assert (tmp_path / "a.mp3").read_bytes() == (tmp_path / "sub" / "b.mp3").read_bytes()
    assert np.max(np.abs(load_audio(tmp_path / "a.mp3"))) < 1.2
    with pytest.raises(ValueError, match="mono 1-D"):
        save_mp3(tmp_path / "c.mp3", np.zeros((2, 100), dtype=np.float32))


def test_other_rate_and_stereo_come_back_as_16k_mono(tmp_path):
    left, right = _tone(1000.0, 1.0, rate=32000), np.zeros(32000, dtype=np.float32)
    torchaudio.save(str(tmp_path / "s.wav"), torch.from_numpy(np.stack([left, right])), 32000)
    back = load_audio(tmp_path / "s.wav")
    assert len(back) == SAMPLE_RATE  # 1 s at 32 kHz -> 16000 samples
    assert _peak_hz(back) == pytest.approx(1000.0, abs=1.0)
    # the mixdown averages the channels: a 0.5 sine on one side is a 0.25 sine
    assert np.max(np.abs(back[1000:-1000])) == pytest.approx(0.25, rel=0.02)


@pytest.mark.parametrize("read", [load_audio, header_samples], ids=["decode", "header"])
def test_missing_empty_unreadable_and_silent_files(tmp_path, read):
    _fails(lambda: read(tmp_path / "none.mp3", row=4), r"^\S*none.mp3: audio file not found \(row 4\)$")
    _fails(lambda: read(tmp_path / "none.mp3"), r"none.mp3: audio file not found$")
    (tmp_path / "empty.mp3").write_bytes(b"")
    _fails(
        lambda: read(tmp_path / "empty.mp3", row=2),
        r"empty.mp3: audio file is empty \(0 bytes\) \(row 2\)$",
    )
    (tmp_path / "junk.mp3").write_bytes(b"ID3 not an mp3 at all " * 20)
    message = _fails(lambda: read(tmp_path / "junk.mp3", row=7), r"junk.mp3: cannot be decoded as audio \(")
    assert message.endswith("(row 7)") and ".cpp" not in message
    with wavefile.open(str(tmp_path / "silent.wav"), "wb") as out:  # a valid header and no samples
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"")
    _fails(lambda: read(tmp_path / "silent.wav"), r"silent.wav: audio decodes to 0 samples$")


def test_header_length_is_the_decoded_length_plus_the_encoders_padding(tmp_path):
    """Read without decoding, an mp3's length is at most 0.15 s longer than what decoding gives (the encoder's
    padding), never shorter: good enough to sort clips and to cut the long ones conservatively."""
    for seconds in (0.3, 2.5, 14.9):
        save_mp3(tmp_path / "a.mp3", _tone(300.0, seconds))
        extra = header_samples(tmp_path / "a.mp3") - len(load_audio(tmp_path / "a.mp3"))
        assert 0 <= extra <= 0.15 * SAMPLE_RATE, (seconds, extra)
    stereo = torch.from_numpy(np.stack([_tone(500.0, 1.0, rate=32000)] * 2))
    torchaudio.save(str(tmp_path / "s.wav"), stereo, 32000)
    assert header_samples(tmp_path / "s.wav") == SAMPLE_RATE  # counted at 16 kHz, whatever the file's rate


def test_chunks_by_hand():
    rate = 10  # 10 samples a second keeps the arithmetic visible
    wave = np.arange(110, dtype=np.float32)  # 11 s
    parts = chunks(wave, seconds=4, overlap=1, sample_rate=rate)
    # windows of 40 samples every 30: [0, 40), [30, 70), [60, 100), [90, 110)
    assert [(int(p[0]), len(p)) for p in parts] == [(0, 40), (30, 40), (60, 40), (90, 20)]
    for before, after in itertools.pairwise(parts):
        np.testing.assert_array_equal(before[-10:], after[:10])  # one second shared
    exact = chunks(np.arange(100, dtype=np.float32), seconds=4, overlap=1, sample_rate=rate)
    assert [(int(p[0]), len(p)) for p in exact] == [(0, 40), (30, 40), (60, 40)]  # no empty tail window
    no_overlap = chunks(wave, seconds=5, overlap=0, sample_rate=rate)
    np.testing.assert_array_equal(np.concatenate(no_overlap), wave)


def test_short_clip_is_one_chunk_and_bad_settings_stop():
    wave = np.ones(15 * SAMPLE_RATE, dtype=np.float32)
    (only,) = chunks(wave)  # exactly one 15 s window
    assert only is wave
    assert len(chunks(np.ones(15 * SAMPLE_RATE + 1, dtype=np.float32))) == 2
    with pytest.raises(ValueError, match="overlap < seconds"):
        chunks(wave, seconds=2, overlap=2)
