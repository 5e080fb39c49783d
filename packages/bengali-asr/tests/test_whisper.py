"""Whisper: the stand-in's tokenizer and window agree with what transformers expects, the decoder prompt is
Bengali transcription, fine-tuning learns the training clips and round-trips through save/load, long audio is
chunked and stitched, the LM rescoring can overturn the beam's choice, and int8 touches the decoder only."""

import math

import numpy as np
import pytest
import torch
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    WhisperForConditionalGeneration,
    WhisperProcessor,
)

from bengali_asr import whisper as W
from bengali_asr.arpa import ArpaLM, write_arpa
from bengali_asr.audio import SAMPLE_RATE
from bengali_asr.normalize import normalize, strip_punctuation

SENTENCES = ["আমি আজ বাজারে যাই।", "তুমি কাল বই পড়বে?", "সে, রাতে মাছ খায়।"]
TEXT = SENTENCES * 4 + ["আমরা সকালে স্কুলে যাই।", "মা ভাত রান্না করে।"]
WINDOW = 2  # seconds the tiny encoder reads
TINY = dict(d_model=32, layers=1, heads=2, ffn_dim=64, chunk_seconds=WINDOW, max_target_positions=48)


def tone(i: int, seconds: float = 1.0) -> np.ndarray:
    """Clip ``i``: two sinusoids of its own (a stand-in for speech the model can tell apart)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (
        0.3 * np.sin(2 * np.pi * (300 + 500 * i) * t) + 0.2 * np.sin(2 * np.pi * (2500 - 400 * i) * t)
    ).astype(np.float32)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("whisper")
    tokenizer = W.build_tokenizer([normalize(t) for t in TEXT], root / "tokenizer", vocab_size=300)
    return W.tiny_whisper(root / "base", tokenizer, seed=0, **TINY)


@pytest.fixture(scope="module")
def trained(base, tmp_path_factory):
    """The tiny model fine-tuned (overfitted) on three clips: the ``from_pretrained`` path of the full recipe."""
    waves = [tone(i) for i in range(len(SENTENCES))]
    out = tmp_path_factory.mktemp("trained") / "model"
    return W.train_whisper(base, waves, SENTENCES, out, max_steps=60, batch_size=3, learning_rate=1e-2, warmup_ratio=0.05,
                           seed=0, bf16=False)  # fmt: skip


def test_tokenizer_lays_out_whisper_special_tokens_after_the_bpe(base):
    tok = WhisperProcessor.from_pretrained(base).tokenizer
    sot, bn, transcribe, notimestamps, eot = tok.convert_tokens_to_ids(
        ["<|startoftranscript|>", "<|bn|>", "<|transcribe|>", "<|notimestamps|>", "<|endoftext|>"]
    )
    # the 300 BPE tokens (bytes + merges) first, as in Whisper's vocabulary
    assert eot == 300 and sot == eot + 1
    assert bn == sot + 1 + 43  # Whisper finds a language token by its offset: "bn" is its 44th language
    assert notimestamps == len(tok) - 1 and transcribe == notimestamps - 4
    assert tok.prefix_tokens == [sot, bn, transcribe, notimestamps]
    sentence = normalize("আমি আজ বাজারে যাই।")
    ids = tok(sentence).input_ids
    assert ids[:4] == [sot, bn, transcribe, notimestamps] and ids[-1] == eot
    assert tok.decode(ids, skip_special_tokens=True) == sentence
    labels = W.labels_of(tok, "আমি আজ বাজারে যাই।")
    assert labels == ids[1:]  # the model shifts the labels right behind <|startoftranscript|> itself
    assert len(ids) < len(
        sentence.encode()
    )  # the merges learned from the text shorten it below one token a byte


def test_the_stand_in_is_deterministic(base, tmp_path):
    tokenizer = W.build_tokenizer([normalize(t) for t in TEXT], tmp_path / "tokenizer", vocab_size=300)
    assert (tmp_path / "tokenizer" / "tokenizer.json").read_bytes() == (base / "tokenizer.json").read_bytes()
    again = W.tiny_whisper(tmp_path / "base", tokenizer, seed=0, **TINY)
    assert (again / "model.safetensors").read_bytes() == (base / "model.safetensors").read_bytes()
    other = W.tiny_whisper(tmp_path / "other", tokenizer, seed=1, **TINY)
    assert (other / "model.safetensors").read_bytes() != (base / "model.safetensors").read_bytes()


def test_feature_window_matches_the_encoder(base):
    whisper = W.load(base)
    assert whisper.window == WINDOW
    assert (
        whisper.model.config.max_source_positions * 2 == WINDOW * 100
    )  # two convolutions, the second stride 2
    features = whisper.features([tone(0, 0.5), tone(1, 3.0)])  # padded up, cut down to the window
    assert tuple(features.shape) == (2, 80, WINDOW * 100)
    with torch.no_grad():
        assert whisper.model.model.encoder(features).last_hidden_state.shape[1] == WINDOW * 50


class FirstInput(LogitsProcessor):
    """Records the decoder input at the first generation step: the prompt."""

    def __init__(self):
        self.seen = None

    def __call__(self, input_ids, scores):
        if self.seen is None:
            self.seen = input_ids[0].tolist()
        return scores


def test_both_generation_paths_prompt_bengali_transcription_without_timestamps(base):
    """One hypothesis: Whisper's ``generate(language=, task=)``; the n-best: the generic ``generate`` given the
    prompt. Both must start the decoder from the same four tokens."""
    whisper = W.load(base)
    assert whisper.model.generation_config.forced_decoder_ids is None
    features = whisper.features([tone(0)])
    seen = []
    for n in (1, 2):
        record = FirstInput()
        whisper.generate(
            features, num_beams=2, n=n, max_new_tokens=3, logits_processor=LogitsProcessorList([record])
        )
        seen.append(whisper.tokenizer.convert_ids_to_tokens(record.seen))
    assert seen[0] == seen[1] == ["<|startoftranscript|>", "<|bn|>", "<|transcribe|>", "<|notimestamps|>"]


def test_fine_tuning_learns_the_clips_and_the_saved_model_loads_offline(trained):
    assert (trained / W.SETTINGS).is_file()
    whisper = W.load(trained)
    assert isinstance(whisper.model, WhisperForConditionalGeneration)
    texts = whisper.transcribe([tone(i) for i in range(len(SENTENCES))], batch_size=2)
    assert texts == [normalize(s) for s in SENTENCES]  # with its punctuation: Whisper writes it


def test_too_long_training_clip_is_named(base, tmp_path):
    with pytest.raises(ValueError, match=r"^train: clip 1 is 2\.5 s, longer than the model's 2 s window"):
        W.train_whisper(base, [tone(0), tone(1, 2.5)], ["আমি", "তুমি"], tmp_path / "m", max_steps=1)


def test_long_audio_is_cut_into_overlapping_windows_and_stitched(base, monkeypatch):
    """A ramp (each sample's value is its time in seconds) read by a fake decoder that writes one word per half
    second its window holds: every word must come out once, in order, for each wave of the batch."""
    whisper = W.load(base)

    def fake_decode(pieces, num_beams=1, max_new_tokens=None):
        assert all(len(p) <= WINDOW * SAMPLE_RATE for p in pieces)
        return [
            " ".join(f"w{k}" for k in range(math.ceil(p[0] * 2), math.floor(p[-1] * 2) + 1)) for p in pieces
        ]

    monkeypatch.setattr(whisper, "decode", fake_decode)
    ramp = lambda seconds: (np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE).astype(np.float32)  # noqa: E731
    texts = whisper.transcribe([ramp(7.3), ramp(0.8), ramp(3.1)], overlap=0.5, batch_size=2)
    assert texts == [" ".join(f"w{k}" for k in range(n)) for n in (15, 2, 7)]
    with pytest.raises(ValueError, match=r"longer than the model's 2\.0 s window"):
        whisper.transcribe([ramp(1.0)], chunk_seconds=3)


def test_nbest_scores_are_the_models_log_probabilities(trained):
    whisper = W.load(trained)
    (cands,) = whisper.nbest([tone(1)], num_beams=3)
    assert len(cands) == 3 and cands[0][0] == normalize(SENTENCES[1])
    assert cands[0][1] >= max(s for _, s in cands[1:])  # the beam's best is the most probable
    text, score = cands[1]
    ids = [*whisper.tokenizer(text, add_special_tokens=False).input_ids, whisper.eot]
    labels = torch.tensor(
        [[-100] * (len(whisper.prompt) - 1) + ids]
    )  # the loss over the text and <|endoftext|>
    decoder_input = torch.tensor([whisper.prompt + ids[:-1]])
    with torch.no_grad():
        loss = whisper.model(input_features=whisper.features([tone(1)]), decoder_input_ids=decoder_input,
                             labels=labels).loss  # fmt: skip
    assert score == pytest.approx(-float(loss) * len(ids), rel=1e-4)


class TableLM:
    """An LM stub: log10 probabilities from a table, -10 for any other sentence."""

    def __init__(self, table):
        self.table, self.asked = table, []

    def score(self, sentence):
        self.asked.append(sentence)
        return self.table.get(sentence, -10.0)


def test_rescore_by_hand():
    candidates = [("আমি যাই।", -1.0), ("আমি খাই।", -2.0)]
    lm = TableLM({"আমি যাই": -3.0, "আমি খাই": -2.0})
    assert W.rescore(candidates, None, 1.0) == 0
    # -1 + 0.5 ln10 (-3) = -4.45 against -2 + 0.5 ln10 (-2) = -4.30: the LM overturns the model
    assert W.rescore(candidates, lm, 0.5) == 1
    assert lm.asked == ["আমি যাই", "আমি খাই"]  # punctuation stripped, as the ARPA model was built
    assert W.rescore(candidates, lm, 0.3) == 0  # -2.61 against -3.38
    assert W.rescore([("ক খ", -2.0), ("ক", -1.0)], None, 0.0, word_score=1.5) == 0  # -2 + 3 against -1 + 1.5


def test_lm_rescoring_overturns_the_beam(trained, tmp_path):
    whisper = W.load(trained)
    clip = tone(2)
    (cands,) = whisper.nbest([clip], num_beams=4)
    assert len({t for t, _ in cands}) == 4
    target = cands[2][0]
    lm = TableLM({strip_punctuation(target): 0.0})
    assert whisper.transcribe([clip], num_beams=4) == [cands[0][0]]
    assert whisper.transcribe([clip], num_beams=4, lm=lm, lm_weight=1.0) == [target]
    assert whisper.transcribe([clip], num_beams=4, lm=lm, lm_weight=0.0) == [cands[0][0]]
    # the real n-gram LM, built from text where only the third hypothesis is a sentence
    write_arpa([strip_punctuation(target)] * 3 + ["অন্য কোনো বাক্য"], tmp_path / "lm.arpa", order=3)
    assert whisper.transcribe([clip], num_beams=4, lm=ArpaLM(tmp_path / "lm.arpa"), lm_weight=1.0) == [target]


@pytest.mark.parametrize(
    "texts, bound, expected",
    [
        (["আমি আজ", "বাজারে যাই।"], None, "আমি আজ বাজারে যাই।"),  # nothing shared: joined
        (["আমি আজ বাজারে", "আজ বাজারে যাই।"], None, "আমি আজ বাজারে যাই।"),  # two words heard twice
        (["আমি আজ বাজারে।", "বাজারে যাই।"], None, "আমি আজ বাজারে যাই।"),  # the cut made the first write a dari
        (["আমি আজ বাজা", "বাজারে যাই।"], None, "আমি আজ বাজা বাজারে যাই।"),  # a truncated word alone is no match
        (["আমি আজ বাজারে বা", "জারে বাজারে যাই।"], None, "আমি আজ বাজারে যাই।"),  # a word cut in two by the edge
        (["আমি আজ বাজারে যা", "আজ বাজারে যাই।"], None, "আমি আজ বাজারে যাই।"),  # run + truncated tail word
        (["আমি আজ বাজারে", "রে আজ বাজারে যাই।"], None, "আমি আজ বাজারে যাই।"),  # run after a truncated head word
        (["ক খ গ ঘ", "ক খ গ ঘ ঙ"], 2, "ক খ গ ঘ ক খ গ ঘ ঙ"),  # a repeat longer than the overlap is speech
        (["ক খ গ ঘ", "গ ঘ ঙ"], 2, "ক খ গ ঘ ঙ"),
        (["আমি", "", "যাই"], None, "আমি যাই"),  # a silent window
        (["এক দুই", "দুই তিন", "তিন চার"], None, "এক দুই তিন চার"),
        ([], None, ""),
    ],
)
def test_stitch(texts, bound, expected):
    assert W.stitch(texts, overlap_words=bound) == expected


def test_int8_quantises_the_decoder_linears_only_and_keeps_the_outputs(trained):
    import bitsandbytes as bnb

    quantised = W.load_int8(trained)
    decoder = [m for m in quantised.model.decoder.modules() if isinstance(m, torch.nn.Linear)]
    assert len(decoder) == 10  # one layer: self- and cross-attention q, k, v, out; fc1, fc2
    assert all(type(m) is bnb.nn.Linear8bitLt for m in decoder)
    encoder = [m for m in quantised.model.encoder.modules() if isinstance(m, torch.nn.Linear)]
    assert len(encoder) == 6 and all(type(m) is torch.nn.Linear for m in encoder)
    assert type(quantised.proj_out) is torch.nn.Linear
    assert quantised.proj_out.weight.dtype == torch.float32

    reference = W.load(trained)
    clips = [tone(i) for i in range(len(SENTENCES))]
    features = reference.features(clips)
    ids = torch.tensor([reference.prompt] * len(clips))
    with torch.no_grad():
        want = reference.model(input_features=features, decoder_input_ids=ids).logits
        got = quantised(input_features=features, decoder_input_ids=ids).logits
    assert float((got - want).norm() / want.norm()) < 0.05
    int8 = W.Whisper(quantised, reference.processor)
    assert int8.transcribe(clips) == reference.transcribe(clips) == [normalize(s) for s in SENTENCES]
