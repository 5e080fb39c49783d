"""The acoustic model: a CTC model over the data's characters (``Wav2Vec2ForCTC``, or ``Wav2Vec2BertForCTC``),
trained with ``Trainer`` (§9.5.2).

- :func:`build` makes the model: a pretrained checkpoint (``ai4bharat/indicwav2vec_v1_bengali`` in the full recipe;
  ``facebook/w2v-bert-2.0`` reads filterbanks instead of the waveform) with a new CTC head over the vocabulary of
  :mod:`bengali_asr.vocab`, or the CPU stand-in (``backbone: tiny``), a small w2v-BERT trained from scratch.
- :func:`fit` trains it on (waveform, sentence) pairs, the sentences stripped of punctuation (the CTC alphabet has
  no marks: the punctuation model puts them back), with on-the-fly augmentation (:mod:`bengali_asr.augment`) and
  SpecAugment (``mask_time_prob``, applied by the model itself in training).
- :meth:`AcousticModel.log_probs` gives each clip's CTC log-probabilities, frames × vocabulary, the input of greedy
  decoding (:func:`bengali_asr.ctc.greedy_decode`) and of the LM beam search (:mod:`bengali_asr.lm`); clips longer
  than ``chunk_seconds`` are cut into overlapping windows and the windows' frames joined at the overlaps' middles.
- :meth:`AcousticModel.save` / :func:`load` write and read what ``bengali-asr-predict`` needs offline.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoModelForCTC,
    AutoProcessor,
    PretrainedConfig,
    PreTrainedModel,
    ProcessorMixin,
    SeamlessM4TFeatureExtractor,
    Trainer,
    TrainingArguments,
    Wav2Vec2BertConfig,
    Wav2Vec2BertForCTC,
    Wav2Vec2BertProcessor,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2Processor,
    set_seed,
)
from transformers.trainer_pt_utils import LengthGroupedSampler

from bengali_asr.audio import SAMPLE_RATE
from bengali_asr.augment import Augmenter
from bengali_asr.clips import lengths_of, windowed
from bengali_asr.configs import TINY, AcousticConfig
from bengali_asr.ctc import greedy_decode
from bengali_asr.dataset import ClipDataset, pad_labels
from bengali_asr.normalize import strip_punctuation
from bengali_asr.vocab import PAD, encode, load_vocab, save_vocab, tokenizer
from shared.console import quiet_trainer

SETTINGS = "acoustic.json"


FBANK = "wav2vec2-bert"  # the model type that reads log-mel filterbanks; every other one reads the waveform
FBANK_HOP = 160  # samples between two filterbank frames (10 ms), fixed by SeamlessM4TFeatureExtractor


def tiny_config(config: AcousticConfig, vocab_size: int) -> Wav2Vec2BertConfig:
    """A small w2v-BERT: conformer layers (self-attention with relative positions, then a causal depthwise
    convolution over the last ``conv_kernel`` frames, as in w2v-BERT 2.0) over 80-bin log-mel filterbanks stacked in
    pairs (20 ms frames), and the stride-2 adapter that w2v-BERT CTC fine-tuning adds (40 ms CTC frames).

    Measured on the sample (README, "The CPU acoustic model"): from scratch it leaves CTC's all-blank plateau within
    about 150 steps, where a small wav2vec2 learning its own front end from the waveform was still on it after
    1,500; without the adapter the exit came later and varied with the seed (150 to 400 steps)."""
    return Wav2Vec2BertConfig(
        vocab_size=vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=2 * config.hidden_size,
        output_hidden_size=config.hidden_size, conv_depthwise_kernel_size=config.conv_kernel,
        feature_projection_input_dim=160, add_adapter=True, adapter_stride=2, adapter_kernel_size=3,
        num_adapter_layers=1, hidden_dropout=config.dropout, attention_dropout=0.0, activation_dropout=0.0,
        feat_proj_dropout=0.0, final_dropout=0.0, conformer_conv_dropout=0.0,
    )  # fmt: skip


def feature_extractor(
    model_config: PretrainedConfig,
) -> SeamlessM4TFeatureExtractor | Wav2Vec2FeatureExtractor:
    """What the model reads. w2v-BERT: per-clip normalised filterbanks with an attention mask (the settings of
    ``facebook/w2v-bert-2.0``'s own extractor). wav2vec2: the waveform at zero mean and unit variance, with an
    attention mask only for layer-norm encoders (wav2vec2-base style models with group norm are meant to read
    zero-padded batches without one)."""
    if model_config.model_type == FBANK:
        return SeamlessM4TFeatureExtractor(sampling_rate=SAMPLE_RATE, padding_value=1.0)
    return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=SAMPLE_RATE, padding_value=0.0, do_normalize=True,
                                    return_attention_mask=model_config.feat_extract_norm != "group")  # fmt: skip


def make_processor(model_config: PretrainedConfig, vocab_dir: str | Path) -> ProcessorMixin:
    """The model family's processor: its feature extractor and the character tokenizer over ``vocab_dir``."""
    family = Wav2Vec2BertProcessor if model_config.model_type == FBANK else Wav2Vec2Processor
    return family(feature_extractor=feature_extractor(model_config), tokenizer=tokenizer(vocab_dir))


def build(config: AcousticConfig, vocab: dict[str, int]) -> PreTrainedModel:
    """The untrained CTC model for ``vocab``: the tiny stand-in, or ``config.backbone`` with a new head."""
    ctc = dict(pad_token_id=vocab[PAD], ctc_loss_reduction="mean", ctc_zero_infinity=True,
               mask_time_prob=config.mask_time_prob, mask_time_length=config.mask_time_length,
               mask_feature_prob=config.mask_feature_prob, layerdrop=config.layerdrop)  # fmt: skip
    set_seed(config.seed)
    if config.backbone == TINY:
        model_config = tiny_config(config, len(vocab))
        for key, value in ctc.items():
            setattr(model_config, key, value)
        return Wav2Vec2BertForCTC(model_config)
    model = AutoModelForCTC.from_pretrained(config.backbone, vocab_size=len(vocab), ignore_mismatched_sizes=True,
                                            **ctc)  # fmt: skip
    if config.freeze_feature_encoder and hasattr(model, "freeze_feature_encoder"):
        model.freeze_feature_encoder()  # wav2vec2's CNN; w2v-BERT has none
    return model


class CTCTrainer(Trainer):
    """``Trainer`` with batches of clips of similar length (its ``group_by_length``, given the clips' lengths rather
    than reading every clip through the dataset): on short speech clips half of a random batch is padding."""

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset or self.train_dataset
        return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps,
                                    lengths=dataset.waves.lengths.tolist())  # fmt: skip


class Collator:
    """Pads a batch of one-clip model inputs (normalised waves, or filterbank frames, with their attention masks)
    as the feature extractor pads its own batches; labels are padded with -100."""

    def __init__(self, extractor: SeamlessM4TFeatureExtractor | Wav2Vec2FeatureExtractor):
        self.extractor = extractor

    def featurize(self, wave: np.ndarray) -> dict:
        """One clip's model inputs, without a batch axis."""
        out = self.extractor(wave, sampling_rate=SAMPLE_RATE, return_tensors="np")
        return {key: value[0] for key, value in out.items()}

    def __call__(self, rows: list[dict]) -> dict:
        inputs = [{k: v for k, v in r.items() if k != "labels"} for r in rows]
        batch = self.extractor.pad(inputs, padding=True, return_tensors="pt")
        return dict(batch) | {"labels": pad_labels(rows)}


def training_arguments(config: AcousticConfig, output_dir: str) -> TrainingArguments:
    """Nothing saved or reported by the Trainer (the caller saves), bf16 on CUDA only, about 20 loss logs."""
    cuda = torch.cuda.is_available()
    return TrainingArguments(
        output_dir=output_dir, use_cpu=not cuda, bf16=config.bf16 and cuda, save_strategy="no", report_to="none",
        logging_steps=max(1, config.max_steps // 20), remove_unused_columns=False, label_names=["labels"],
        dataloader_num_workers=0, per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps, max_steps=config.max_steps,
        learning_rate=config.learning_rate, weight_decay=config.weight_decay, warmup_steps=config.warmup_ratio,
        lr_scheduler_type=config.lr_scheduler_type, seed=config.seed, max_grad_norm=1.0,
        gradient_checkpointing=config.gradient_checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False},
    )  # fmt: skip


class AcousticModel:
    """A trained CTC model, its processor (feature extractor + character tokenizer) and its settings."""

    def __init__(
        self, model: PreTrainedModel, processor: ProcessorMixin, vocab: dict[str, int], settings: dict
    ):
        self.model, self.processor, self.vocab, self.settings = model.eval(), processor, vocab, settings
        self.fbank = model.config.model_type == FBANK

    @property
    def frame_samples(self) -> int:
        """Samples per output frame: 320 (20 ms at 16 kHz) for every wav2vec2 and for w2v-BERT without an
        adapter; each adapter layer multiplies it by its stride (640 for the tiny stand-in)."""
        config = self.model.config
        if not self.fbank:
            return math.prod(config.conv_stride)
        adapter = config.adapter_stride**config.num_adapter_layers if config.add_adapter else 1
        return FBANK_HOP * self.processor.feature_extractor.stride * adapter

    def output_lengths(self, batch: dict, samples: list[int]) -> torch.Tensor:
        """Each row's number of output frames: from its filterbank frames (the attention mask) for w2v-BERT, from
        its samples for wav2vec2."""
        inputs = batch["attention_mask"].sum(-1) if self.fbank else torch.tensor(samples)
        return self.model._get_feat_extract_output_lengths(inputs)

    def log_probs(self, waves: Sequence[np.ndarray], desc: str = "transcribe") -> list[np.ndarray]:
        """Each clip's CTC log-probabilities (frames × vocabulary, float32), long clips by windows."""
        out: list[np.ndarray] = [None] * len(waves)  # type: ignore[list-item]
        for i, emissions in self.iter_log_probs(waves, desc):
            out[i] = emissions
        return out

    def greedy(self, waves: Sequence[np.ndarray], desc: str = "transcribe") -> list[str]:
        """Each clip's greedy transcript, keeping no emissions: what the WER filter needs over the whole train split
        (the emissions of the competition's 934k train clips would take ~30 GB)."""
        out = [""] * len(waves)
        for i, emissions in self.iter_log_probs(waves, desc):
            out[i] = greedy_decode(emissions, self.vocab)
        return out

    @torch.no_grad()
    def iter_log_probs(self, waves: Sequence[np.ndarray], desc: str) -> Iterator[tuple[int, np.ndarray]]:
        """``(clip, its log-probabilities)`` block by block (:func:`bengali_asr.clips.windowed`), so no more than a
        block of audio is decoded at once."""
        seconds, overlap = self.settings["chunk_seconds"], self.settings["chunk_overlap"]
        device = next(self.model.parameters()).device

        def run(pieces: list[np.ndarray]) -> list[np.ndarray]:
            batch = self.processor.feature_extractor(pieces, sampling_rate=SAMPLE_RATE, padding=True,
                                                     return_tensors="pt")  # fmt: skip
            logits = self.model(**{k: v.to(device) for k, v in batch.items()}).logits.float()
            lengths = self.output_lengths(batch, [len(p) for p in pieces])
            scores = torch.log_softmax(logits, dim=-1).cpu().numpy()
            return [scores[row, : int(lengths[row])] for row in range(len(pieces))]

        step = round((seconds - overlap) * SAMPLE_RATE / self.frame_samples)
        keep = round(overlap * SAMPLE_RATE / self.frame_samples / 2)
        for i, parts in windowed(waves, run, seconds, overlap, self.settings["eval_batch_size"], desc):
            yield i, join_windows(parts, step, keep)

    def save(self, directory: Path) -> Path:
        directory = Path(directory)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.processor.save_pretrained(directory)
        (directory / SETTINGS).write_text(json.dumps(self.settings, indent=2, ensure_ascii=False) + "\n")
        return directory


def join_windows(parts: list[np.ndarray], step: int, keep: int) -> np.ndarray:
    """One clip's frames from its windows' frames: window ``k`` starts ``k * step`` frames in and overlaps the
    previous one by about ``2 * keep`` frames; each overlap is split at its middle, so every frame comes from the
    window that saw the most context around it. One window is returned as it is."""
    if len(parts) == 1:
        return parts[0]
    kept = []
    for k, part in enumerate(parts):
        start = 0 if k == 0 else keep
        end = len(part) if k == len(parts) - 1 else max(start, step + keep)
        kept.append(part[start:end])
    return np.concatenate(kept)


def fit(config: AcousticConfig, waves: Sequence[np.ndarray], sentences: Sequence[str], vocab: dict[str, int],
        desc: str = "acoustic") -> AcousticModel:  # fmt: skip
    """Train ``config``'s model on the clips and their sentences (punctuation stripped for the CTC targets);
    clips longer than ``max_train_seconds`` must have been set aside by the caller (:func:`trainable`)."""
    with tempfile.TemporaryDirectory() as scratch:
        save_vocab(vocab, scratch)
        model = build(config, vocab)
        processor = make_processor(model.config, scratch)
        labels = [encode(strip_punctuation(s), vocab) for s in sentences]
        augmenter = Augmenter(p_speed=config.p_speed, p_noise=config.p_noise, p_reverb=config.p_reverb) \
            if config.augment else None  # fmt: skip
        collator = Collator(processor.feature_extractor)
        dataset = ClipDataset(waves, labels, collator.featurize, augmenter, config.seed,
                              bytes_per_clip=int(lengths_of(waves).max(initial=0)) * 4)  # fmt: skip
        trainer = CTCTrainer(model=model, args=training_arguments(config, scratch), train_dataset=dataset,
                             data_collator=collator)  # fmt: skip
        quiet_trainer(trainer, desc).train()
    settings = asdict(config) | {"vocab_size": len(vocab)}
    return AcousticModel(trainer.model, processor, vocab, settings)


def trainable(waves: Sequence[np.ndarray], config: AcousticConfig) -> np.ndarray:
    """Which clips are short enough to train on (``max_train_seconds``; lengths from the headers when the clips are
    not in memory): a boolean mask the caller reports."""
    return lengths_of(waves) <= config.max_train_seconds * SAMPLE_RATE


def load(directory: Path, device: str | None = None) -> AcousticModel:
    """A saved :class:`AcousticModel`, offline (everything it needs is in ``directory``)."""
    directory = Path(directory)
    settings = json.loads((directory / SETTINGS).read_text())
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = AutoModelForCTC.from_pretrained(directory).to(device)
    return AcousticModel(model, AutoProcessor.from_pretrained(directory), load_vocab(directory), settings)
