"""The acoustic model: windows joined at their overlaps, repeatable augmentation, training that learns planted
clips, and an offline reload that gives the same emissions."""

from types import SimpleNamespace

import numpy as np
import pytest
from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

from bengali_asr import model as acoustic
from bengali_asr.audio import chunks, load_audio, save_mp3
from bengali_asr.augment import Augmenter
from bengali_asr.clips import read_clips
from bengali_asr.configs import AcousticConfig
from bengali_asr.ctc import greedy_decode
from bengali_asr.dataset import CACHE_BYTES, ClipDataset
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

    def make():
        augmenter = Augmenter(p_noise=1.0, p_speed=0.0)
        return ClipDataset(
            [wave, wave], [[3], [4]], lambda w: {"wave": w}, augmenter, seed=1, bytes_per_clip=0
        )

    a, b = make(), make()
    first = a[0]["wave"]
    np.testing.assert_array_equal(first, b[0]["wave"])
    assert not np.array_equal(first, a[0]["wave"])  # the second read of a clip draws new noise
    assert not np.array_equal(first, a[1]["wave"])  # another clip, other noise
    assert a[1]["labels"] == [4]


def test_clip_dataset_keeps_features_only_without_augmentation_and_when_they_fit():
    calls = []
    featurize = lambda w: calls.append(1) or {"x": w * 2}  # noqa: E731
    waves = [np.ones(4, np.float32), np.zeros(4, np.float32)]
    kept = ClipDataset(waves, [[1], [2]], featurize, None, seed=0, bytes_per_clip=16)
    for _ in range(3):
        np.testing.assert_array_equal(kept[0]["x"], 2 * waves[0])
    assert len(calls) == 1
    too_big = ClipDataset(waves, [[1], [2]], featurize, None, seed=0, bytes_per_clip=CACHE_BYTES)
    too_big[0], too_big[0]
    assert len(calls) == 3


def test_clip_dataset_over_files_holds_no_audio_and_batches_by_header_length(tmp_path, planted):
    waves, _ = planted(3)
    paths = [str(tmp_path / f"{i}.mp3") for i in range(3)]
    for path, wave in zip(paths, [waves[0], np.concatenate(waves), waves[1][:4000]], strict=True):
        save_mp3(path, wave)
    clips = read_clips(paths, desc="t", memory_bytes=0)
    dataset = ClipDataset(
        clips, [[1], [2], [3]], lambda w: {"x": w}, None, seed=0, bytes_per_clip=CACHE_BYTES
    )
    assert dataset.waves.waves is None and dataset.cache is None
    np.testing.assert_array_equal(dataset[1]["x"], load_audio(paths[1]))
    trainer = acoustic.CTCTrainer.__new__(acoustic.CTCTrainer)  # only the sampler is under test
    trainer.args = SimpleNamespace(train_batch_size=1, gradient_accumulation_steps=1)
    sampler = trainer._get_train_sampler(dataset)
    assert sampler.lengths == clips.lengths.tolist() and next(iter(sampler)) == 1  # the longest clip first


def test_collator_pads_one_clip_inputs_as_the_extractor_pads_a_batch(planted):
    waves, _ = planted(2)
    waves = [waves[0], waves[1][:9000]]
    extractor = acoustic.feature_extractor(acoustic.tiny_config(AcousticConfig(backbone="tiny"), 5))
    collator = acoustic.Collator(extractor)
    batch = collator([collator.featurize(w) | {"labels": [1, 2]} for w in waves])
    direct = extractor(waves, sampling_rate=16000, padding=True, return_tensors="pt")
    mask = direct["attention_mask"].bool()
    np.testing.assert_array_equal(batch["attention_mask"].bool(), mask)
    np.testing.assert_allclose(batch["input_features"][mask], direct["input_features"][mask], atol=1e-6)
    assert batch["labels"].tolist() == [[1, 2], [1, 2]]


def test_config_rejects_bad_fields():
    with pytest.raises(FieldError, match="chunk_seconds"):
        AcousticConfig(chunk_seconds=2.0, chunk_overlap=1.0)
    with pytest.raises(FieldError, match="hidden_size"):
        AcousticConfig(hidden_size=30, num_attention_heads=4)
    with pytest.raises(FieldError, match="conv_kernel"):
        AcousticConfig(conv_kernel=4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, planted):
    waves, sentences = planted(48)
    vocab = build_vocab(sentences)
    config = AcousticConfig(backbone="tiny", hidden_size=64, num_hidden_layers=1, num_attention_heads=2,
                            conv_kernel=5, max_steps=150, batch_size=8, gradient_accumulation_steps=1,
                            learning_rate=3e-3, bf16=False, mask_time_prob=0.0, chunk_seconds=1.5,
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
    assert abs(len(joined) - len(long) / model.frame_samples) <= 2
    # the same windows read as clips of their own (the same batch, so the same numbers): window k gives the
    # frames from the middle of its overlap with k-1 to the middle of its overlap with k+1
    alone = model.log_probs(chunks(long, seconds=1.5, overlap=0.5))
    step, keep = (
        round(16000 / model.frame_samples),
        round(8000 / model.frame_samples / 2),
    )  # 1.0 s, half of 0.5 s
    expected = [alone[0][: step + keep]] + [a[keep : step + keep] for a in alone[1:-1]] + [alone[-1][keep:]]
    np.testing.assert_array_equal(joined, np.concatenate(expected))


def test_clips_read_from_disk_give_the_emissions_of_clips_in_memory(trained, tmp_path):
    model, _, waves, _ = trained
    paths = [str(tmp_path / f"{i}.mp3") for i in range(6)]
    for i, path in enumerate(paths):
        save_mp3(path, np.concatenate(waves[i : i + 1 + i % 3]))  # 1.2 to 3.6 s: some clips are windowed
    eager, lazy = read_clips(paths, desc="t"), read_clips(paths, desc="t", memory_bytes=0)
    assert eager.in_memory and not lazy.in_memory
    expected = model.log_probs(eager)
    for a, b in zip(expected, model.log_probs(lazy), strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.greedy(lazy) == [greedy_decode(lp, model.vocab) for lp in expected]


def test_reload_gives_the_same_emissions(trained):
    model, path, waves, _ = trained
    again = acoustic.load(path, device="cpu")
    assert again.vocab == model.vocab and again.settings == model.settings
    for a, b in zip(model.log_probs(waves[:4]), again.log_probs(waves[:4]), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_wav2vec2_checkpoint_gets_a_new_head_a_frozen_encoder_and_reads_waveforms(tmp_path, planted):
    # the full recipe's path (indicwav2vec): from_pretrained on a local random wav2vec2 with another vocabulary
    waves, sentences = planted(8)
    small = Wav2Vec2Config(vocab_size=7, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                           intermediate_size=64, conv_dim=(16,) * 7, num_conv_pos_embeddings=16,
                           num_conv_pos_embedding_groups=2, feat_extract_norm="layer", do_stable_layer_norm=True)  # fmt: skip
    Wav2Vec2ForCTC(small).save_pretrained(tmp_path / "w2v")
    vocab = build_vocab(sentences)
    config = AcousticConfig(backbone=str(tmp_path / "w2v"), max_steps=2, batch_size=4, gradient_accumulation_steps=1,
                            bf16=False, chunk_seconds=1.5, chunk_overlap=0.5)  # fmt: skip
    model = acoustic.fit(config, waves, sentences, vocab)
    assert isinstance(model.model, Wav2Vec2ForCTC) and model.model.config.vocab_size == len(vocab)
    assert not any(p.requires_grad for p in model.model.wav2vec2.feature_extractor.parameters())
    assert model.frame_samples == 320
    long = np.concatenate(waves[:3])
    (emissions,) = model.log_probs([long])
    assert emissions.shape[1] == len(vocab)
    assert abs(len(emissions) - int(model.model._get_feat_extract_output_lengths(len(long)))) <= 2
    again = acoustic.load(model.save(tmp_path / "saved"), device="cpu")
    np.testing.assert_allclose(again.log_probs([long])[0], emissions, atol=1e-5)
