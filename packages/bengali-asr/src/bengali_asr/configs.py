"""The acoustic model's settings: every field is a recipe key (``competitions/bengali-asr/recipes/*.yaml``) and a
command-line flag (``bengali-asr-train --config recipe.yaml --max-steps 2000``).

One experiment is a CTC model (``Wav2Vec2ForCTC``, or ``Wav2Vec2BertForCTC`` for w2v-BERT checkpoints) trained on the ``train`` split of train.csv over a
character vocabulary built from the data (§9.5), decoded greedily or by beam search with an n-gram LM
(:mod:`bengali_asr.lm`), optionally trained only on the clips a first model transcribes well enough (the 3rd
place's WER filter, :mod:`bengali_asr.filtering`) and with speed/noise augmentation and SpecAugment (§9.6).

``__post_init__`` checks every field against the rules below and raises one :class:`FieldError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from transformers.trainer_utils import SchedulerType

from shared.recipes import FieldError, flag

SCHEDULERS = frozenset(s.value for s in SchedulerType)
TINY = "tiny"


@dataclass
class AcousticConfig:
    """One rung's acoustic model; the defaults are the full recipe's (indicwav2vec fine-tuned on the train split)."""

    name: str = flag("indicwav2vec-ctc", "experiment name (output folder)")
    seed: int = 42
    # --- model ---------------------------------------------------------------------------------------------------
    backbone: str = flag(
        "ai4bharat/indicwav2vec_v1_bengali", "hub id or path of a wav2vec2 or w2v-BERT checkpoint (a new CTC head "
        "over the data's characters), or 'tiny' (the CPU stand-in: a small w2v-BERT trained from scratch)",
    )  # fmt: skip
    hidden_size: int = flag(144, "tiny only: transformer width")
    num_hidden_layers: int = flag(3, "tiny only: transformer layers")
    num_attention_heads: int = flag(4, "tiny only: attention heads")
    conv_kernel: int = flag(
        15,
        "tiny only: frames of each conformer layer's depthwise convolution (odd, as transformers requires)",
    )
    dropout: float = flag(0.0, "tiny only: dropout in the conformer layers (hidden_dropout)")
    freeze_feature_encoder: bool = flag(
        True, "keep the pretrained CNN feature encoder frozen (ignored for tiny)"
    )
    mask_time_prob: float = flag(0.05, "SpecAugment: share of frames masked in time spans")
    mask_time_length: int = flag(10, "SpecAugment: frames per time mask")
    mask_feature_prob: float = flag(0.0, "SpecAugment: share of feature channels masked")
    layerdrop: float = flag(0.0, "probability of skipping a transformer layer in training")
    # --- augmentation (bengali_asr.augment) ---------------------------------------------------------------------
    augment: bool = flag(False, "speed, noise and reverberation augmentation of the training clips")
    p_speed: float = flag(0.5, "augment: probability of a speed change (0.9 or 1.1)")
    p_noise: float = flag(0.5, "augment: probability of added noise (5-25 dB SNR)")
    p_reverb: float = flag(0.2, "augment: probability of reverberation")
    # --- training ------------------------------------------------------------------------------------------------
    learning_rate: float = 3e-5
    max_steps: int = flag(20000, "optimiser steps")
    batch_size: int = 16
    gradient_accumulation_steps: int = 2
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    lr_scheduler_type: str = flag("linear", "a transformers scheduler name")
    max_train_seconds: float = flag(
        20.0, "training clips longer than this are left out of training (counted and reported, never silent)"
    )
    bf16: bool = flag(True, "bf16 mixed precision (CUDA only; ignored on CPU)")
    gradient_checkpointing: bool = False
    # --- inference ------------------------------------------------------------------------------------------------
    eval_batch_size: int = 16
    chunk_seconds: float = flag(15.0, "longer clips are transcribed in windows of this length")
    chunk_overlap: float = flag(1.0, "seconds each window overlaps the previous one")

    def __post_init__(self):
        for name in ("max_steps", "batch_size", "gradient_accumulation_steps", "eval_batch_size", "hidden_size",
                     "num_hidden_layers", "num_attention_heads", "conv_kernel", "mask_time_length"):  # fmt: skip
            if getattr(self, name) < 1:
                raise FieldError(name, f"{name}: {getattr(self, name)} must be >= 1")
        if self.conv_kernel % 2 == 0:
            raise FieldError("conv_kernel", f"conv_kernel: {self.conv_kernel} must be odd")
        for name in ("mask_time_prob", "mask_feature_prob", "layerdrop", "dropout", "p_speed", "p_noise", "p_reverb",
                     "warmup_ratio"):  # fmt: skip
            if not 0 <= getattr(self, name) <= 1:
                raise FieldError(name, f"{name}: {getattr(self, name)} must be in [0, 1]")
        if self.learning_rate <= 0:
            raise FieldError("learning_rate", f"learning_rate: {self.learning_rate} must be > 0")
        if self.hidden_size % self.num_attention_heads:
            raise FieldError("hidden_size", f"hidden_size: {self.hidden_size} is not a multiple of "
                                            f"num_attention_heads {self.num_attention_heads}")  # fmt: skip
        if self.lr_scheduler_type not in SCHEDULERS:
            raise FieldError("lr_scheduler_type", f"lr_scheduler_type: {self.lr_scheduler_type!r} is not one of "
                                                  f"{sorted(SCHEDULERS)}")  # fmt: skip
        if self.chunk_seconds <= 2 * self.chunk_overlap or self.chunk_overlap < 0:
            raise FieldError("chunk_seconds", f"chunk_seconds: {self.chunk_seconds} must exceed twice chunk_overlap "
                                              f"({self.chunk_overlap}, >= 0)")  # fmt: skip
        if self.max_train_seconds <= 0:
            raise FieldError("max_train_seconds", f"max_train_seconds: {self.max_train_seconds} must be > 0")


@dataclass
class DecoderConfig:
    """The n-gram LM and the beam search over the CTC emissions (§9.5.3). The LM reads the train split's sentences
    and every ``extra/*.txt`` of the data folder (one sentence per line)."""

    lm_order: int = flag(3, "n-gram order of the ARPA model (modified Kneser-Ney, bengali_asr.arpa)")
    beam_size: int = flag(50, "beams kept by the flashlight decoder")
    lm_weights: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 1.0, 1.5, 2.0],
                                    metadata={"help": "LM weights tried on the valid split"})  # fmt: skip
    word_scores: list[float] = field(default_factory=lambda: [-1.0, 0.0, 1.0, 2.0],
                                     metadata={"help": "word insertion scores tried on the valid split"})  # fmt: skip
    tune_clips: int = flag(0, "valid clips the grid is decoded on, drawn at random (0: all of them); then every "
                              "valid clip is decoded once with the chosen settings")  # fmt: skip
    arpa: str | None = flag(None, "a prebuilt ARPA file (KenLM lmplz on a large corpus, README) instead of the one "
                                  "built from the train sentences and extra/*.txt; lm_order is then the file's")  # fmt: skip

    def __post_init__(self):
        if self.lm_order < 2:
            raise FieldError("lm_order", f"lm_order: {self.lm_order} must be >= 2 (flashlight needs bigrams)")
        if self.beam_size < 1:
            raise FieldError("beam_size", f"beam_size: {self.beam_size} must be >= 1")
        if self.tune_clips < 0:
            raise FieldError("tune_clips", f"tune_clips: {self.tune_clips} must be >= 0 (0: all valid clips)")
        if self.arpa is not None and not Path(self.arpa).is_file():
            raise FieldError("arpa", f"arpa: {self.arpa}: file not found")
        if not self.lm_weights or not self.word_scores:
            raise FieldError("lm_weights", "lm_weights and word_scores: need at least one value each")
