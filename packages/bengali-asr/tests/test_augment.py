"""Augmentation: each kind of noise lands at the SNR asked for, a speed change rescales length and pitch
together, reverberation keeps the length and leaves a tail that decays at the asked RT60, and the
Augmenter is a pure function of its generator."""

import numpy as np
import pytest

from bengali_asr.augment import (
    NOISE_KINDS,
    Augmenter,
    add_noise,
    change_speed,
    fit_peak,
    impulse_response,
    reverberate,
    snr_db,
)

SR = 16000


def tone(freq: float = 440.0, seconds: float = 1.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def syllables(seconds: float = 1.0) -> np.ndarray:
    """Speech-like: two partials under a 3 Hz envelope, with silent gaps."""
    t = np.arange(int(seconds * SR)) / SR
    envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None)
    return (0.4 * envelope * (np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 1200 * t))).astype(
        np.float32
    )


def peak_hz(wave: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(wave.size)))
    return float(np.fft.rfftfreq(wave.size, 1 / SR)[np.argmax(spectrum)])


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("target", [0.0, 7.5, 20.0])
def test_add_noise_reaches_the_requested_snr(kind, target):
    clean = syllables()
    before = clean.copy()
    noisy = add_noise(clean, target, np.random.default_rng(1), kind)
    assert noisy.dtype == np.float32 and noisy.shape == clean.shape
    np.testing.assert_array_equal(clean, before)  # the input is not modified
    assert abs(snr_db(clean, noisy) - target) < 0.5
    np.testing.assert_array_equal(noisy, add_noise(clean, target, np.random.default_rng(1), kind))
    assert not np.array_equal(noisy, add_noise(clean, target, np.random.default_rng(2), kind))


def test_noise_kinds_have_their_spectra_and_bad_input_is_named():
    clean = syllables(2.0)
    residue = {
        k: add_noise(clean, 0.0, np.random.default_rng(0), k) - clean for k in ("white", "pink", "hum")
    }
    freqs = np.fft.rfftfreq(clean.size, 1 / SR)

    def low_share(x):  # the share of power below 500 Hz
        p = np.abs(np.fft.rfft(x)) ** 2
        return p[freqs < 500].sum() / p.sum()

    assert low_share(residue["white"]) < 0.1  # flat: 500 / 8000 of the band
    assert low_share(residue["pink"]) > 0.5  # 1/f: most power in the low octaves
    assert abs(peak_hz(residue["hum"]) - 50) < 2  # mains hum
    silent = np.zeros(SR, np.float32)
    np.testing.assert_array_equal(add_noise(silent, 5.0, np.random.default_rng(0)), silent)
    with pytest.raises(ValueError, match="unknown noise kind 'rain'"):
        add_noise(clean, 5.0, np.random.default_rng(0), "rain")
    with pytest.raises(ValueError, match=r"mono 1-D wave, got shape \(2, 10\)"):
        add_noise(np.zeros((2, 10)), 5.0, np.random.default_rng(0))


def test_fit_peak_only_scales_down():
    loud = np.array([0.5, -2.0, 1.0], np.float32)
    np.testing.assert_allclose(fit_peak(loud, 0.99), loud * 0.99 / 2.0, rtol=1e-6)
    quiet = np.array([0.1, -0.2], np.float32)
    np.testing.assert_array_equal(fit_peak(quiet), quiet)


@pytest.mark.parametrize("factor", [0.85, 0.9, 1.1, 1.15])
def test_change_speed_rescales_length_and_pitch(factor):
    wave = tone(440.0)
    fast = change_speed(wave, factor)
    assert fast.dtype == np.float32
    assert abs(fast.size - wave.size / factor) <= 1
    assert abs(peak_hz(fast) - 440.0 * factor) < 3.0  # bins are ~1 Hz wide
    rms = lambda x: np.sqrt(np.mean(x[2000:-2000] ** 2))  # noqa: E731
    assert abs(rms(fast) / rms(wave) - 1) < 0.02  # amplitude untouched (edges aside)


def test_change_speed_identity_and_errors():
    wave = tone()
    np.testing.assert_array_equal(change_speed(wave, 1.0), wave)
    assert change_speed(wave, 1.004).size == wave.size  # rounded to 0.01
    with pytest.raises(ValueError, match="speed factor must be positive, got 0"):
        change_speed(wave, 0)


def test_reverberate_keeps_length_and_decays_at_the_rt60():
    impulse = np.zeros(SR, np.float32)
    impulse[1000] = 1.0
    wet = reverberate(impulse, np.random.default_rng(0), rt60=0.4)
    assert wet.dtype == np.float32 and wet.shape == impulse.shape
    assert np.abs(wet[:1000]).max() < 1e-6  # causal
    window = int(0.05 * SR)
    energy_db = np.array(
        [10 * np.log10(np.sum(wet[s : s + window] ** 2)) for s in range(1000 + window, 7000, window)]
    )
    assert np.all(np.diff(energy_db) < 0)  # decays window after window
    slope = np.polyfit(np.arange(energy_db.size) * 0.05, energy_db, 1)[0]  # dB per second
    assert -60 / 0.4 * 1.2 < slope < -60 / 0.4 * 0.8  # 60 dB in 0.4 s, within 20 %
    np.testing.assert_array_equal(wet, reverberate(impulse, np.random.default_rng(0), rt60=0.4))
    assert not np.array_equal(wet, reverberate(impulse, np.random.default_rng(1), rt60=0.4))
    h = impulse_response(np.random.default_rng(0), 0.4)
    assert h.size == int(0.4 * SR) and abs(np.sum(h**2) - 1) < 1e-9
    assert abs(h[0] ** 2 - 0.5) < 1e-9  # direct path as energetic as the tail


def test_reverberation_moves_energy_later():
    burst = syllables(1.0)
    burst[SR // 2 :] = 0  # speech, then silence
    wet = reverberate(burst, np.random.default_rng(0), rt60=0.6)
    assert np.sum(wet[SR // 2 :] ** 2) > 0.01 * np.sum(wet**2)  # the room rings on after the speaker stops
    assert np.sum(burst[SR // 2 :] ** 2) == 0
    longer = reverberate(burst, np.random.default_rng(0), rt60=1.0)
    assert np.sum(longer[int(0.7 * SR) :] ** 2) > np.sum(wet[int(0.7 * SR) :] ** 2)
    np.testing.assert_array_equal(reverberate(burst, np.random.default_rng(0), rt60=0.0), burst)


def test_augmenter_identity_at_zero_and_reproducible_under_a_seed():
    wave = syllables()
    off = Augmenter(p_speed=0.0, p_noise=0.0, p_reverb=0.0)
    for seed in range(5):
        np.testing.assert_array_equal(off(wave, np.random.default_rng(seed)), wave)
    on = Augmenter(p_speed=1.0, p_noise=1.0, p_reverb=1.0)
    a, b = on(wave, np.random.default_rng(7)), on(wave, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    lengths = {on(wave, np.random.default_rng(seed)).size for seed in range(6)}
    assert len(lengths) > 1 and all(SR / 1.1 - 1 <= n <= SR / 0.9 + 1 for n in lengths)
    rng = np.random.default_rng(0)  # one generator over a stream of clips: each call moves it on
    assert not np.array_equal(on(wave, rng), on(wave, rng))
