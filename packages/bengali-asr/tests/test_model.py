"""The acoustic model: windows joined at their overlaps, repeatable augmentation, training that learns planted
clips, and an offline reload that gives the same emissions."""

import numpy as np
import pytest

from bengali_asr import model as acoustic
from bengali_asr.audio import chunks
from bengali_asr.augment import Augmenter
from bengali_asr.configs import AcousticConfig
from bengali_asr.ctc import greedy_decode
from bengali_asr.vocab import build_vocab
from shared.recipes import FieldError


def test_join_windows_takes_each_frame_from_the_window_centred_on_it():
    # three windows of 10 frames starting every 8 frames (2 frames of overlap): frame ids as values
    parts = [np.arange(0, 10), np.arange(8, 18), np.arange(16, 22)]
    joined = acoustic.join_windows([p[:, None] for p in parts], step=8, keep=1)[:, 0]
    np.testing.assert_array_equal(joined, np.arange(22))  # every frame once, in order
    assert acoustic.join_windows([parts[0][:, None]], step=8, keep=1).shape == (10, 1)


def test_clip_dataset_draws_the_same_augmentation_for_the_same_read():
    wave = np.sin(np.arange(16000) / 5).astype(np.float32)
    make = lambda: acoustic.ClipDataset([wave, wave], [[3], [4]], Augmenter(p_noise=1.0, p_speed=0.0), seed=1)  # noqa: E731
    a, b = make(), make()
    first = a[0]["wave"]
    np.testing.assert_array_equal(first, b[0]["wave"])
    assert not np.array_equal(first, a[0]["wave"])  # the second read of a clip draws new noise
    assert not np.array_equal(first, a[1]["wave"])  # another clip, other noise


def test_config_rejects_bad_fields():
    with pytest.raises(FieldError, match="chunk_seconds"):
        AcousticConfig(chunk_seconds=2.0, chunk_overlap=1.0)
    with pytest.raises(FieldError, match="hidden_size"):
        AcousticConfig(hidden_size=30, num_attention_heads=4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, planted):
    waves, sentences = planted(48)
    vocab = build_vocab(sentences)
    config = AcousticConfig(backbone="tiny", hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                            conv_channels=16, max_steps=300, batch_size=8, gradient_accumulation_steps=1,
                            learning_rate=1e-3, bf16=False, mask_time_prob=0.0, chunk_seconds=1.5,
                            chunk_overlap=0.5)  # fmt: skip
    model = acoustic.fit(config, waves, sentences, vocab)
    return model, model.save(tmp_path_factory.mktemp("acoustic")), waves, sentences


def test_training_learns_the_planted_tones(trained):
    model, _, waves, sentences = trained
    # 3 words of 0.4 s: 1.2 s clips, under one 1.5 s window
    decoded = [greedy_decode(lp, model.vocab) for lp in model.log_probs(waves[:16])]
    assert np.mean([d == s for d, s in zip(decoded, sentences[:16], strict=True)]) >= 0.75


def test_long_clips_are_read_by_windows_joined_at_the_overlaps_middles(trained):
    model, _, waves, _ = trained
    long = np.concatenate(waves[:3])  # 3.6 s: windows of 1.5 s every 1.0 s (0.5 s overlap)
    (joined,) = model.log_probs([long])
    assert abs(len(joined) - int(model.model._get_feat_extract_output_lengths(len(long)))) <= 2
    # the same windows read as clips of their own (the same batch, so the same numbers): window k gives the
    # frames from the middle of its overlap with k-1 to the middle of its overlap with k+1
    alone = model.log_probs(chunks(long, seconds=1.5, overlap=0.5))
    step, keep = 50, 12  # 1.0 s and half of 0.5 s, in 20 ms frames
    expected = [alone[0][: step + keep]] + [a[keep : step + keep] for a in alone[1:-1]] + [alone[-1][keep:]]
    np.testing.assert_array_equal(joined, np.concatenate(expected))


def test_reload_gives_the_same_emissions(trained):
    model, path, waves, _ = trained
    again = acoustic.load(path, device="cpu")
    assert again.vocab == model.vocab and again.settings == model.settings
    for a, b in zip(model.log_probs(waves[:4]), again.log_probs(waves[:4]), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
