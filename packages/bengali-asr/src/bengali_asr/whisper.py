"""Whisper fine-tuning (``WhisperForConditionalGeneration``, ``Seq2SeqTrainer``), chunked long-form inference, an
n-gram LM as a rescoring step over the beam's n-best, and int8 inference of the decoder.

Whisper is the sequence-to-sequence alternative to the CTC model (:mod:`bengali_asr.model`): it writes the
punctuated sentence itself, token by token, so its labels are the normalised sentences WITH punctuation.

- Full recipe: ``openai/whisper-medium`` (or ``large-v3``) through ``from_pretrained`` (:func:`train_whisper` takes
  a hub id or a path: the same code path loads the tiny saved checkpoint).
- CPU stand-in: :func:`build_tokenizer` trains a byte-level BPE on the training sentences (GPT-2 byte alphabet
  and pre-tokeniser, as Whisper's own) and lays Whisper's special tokens out after it exactly as the real
  vocabulary does (``<|endoftext|>``, ``<|startoftranscript|>``, the 100 language tokens in Whisper's order,
  ``<|translate|>``, ``<|transcribe|>``, ``<|startoflm|>``, ``<|startofprev|>``, ``<|nospeech|>``,
  ``<|notimestamps|>``): ``WhisperTokenizerFast`` finds the language token by its offset from
  ``<|startoftranscript|>``, so the order matters. :func:`tiny_whisper` saves a small randomly initialised model
  with a short window: the encoder reads ``chunk_seconds`` of audio (``WhisperFeatureExtractor(chunk_length=8)``:
  800 mel frames, halved by the second convolution to ``max_source_positions = 400``; the two must agree or the
  encoder refuses the input). The real 30 s window would cost a CPU six times more per step, and a short one also
  lets a model trained from scratch find the speech sooner: its cross-attention has less padding to search.
- Generation path: ``generate(input_features, language="bn", task="transcribe")``. The decoder prompt is then
  ``<|startoftranscript|> <|bn|> <|transcribe|> <|notimestamps|>`` (the tokenizer's ``prefix_tokens``, which also
  start every label). ``forced_decoder_ids`` is deprecated in transformers 5 and ignored once ``language`` or
  ``task`` is given, so the saved generation configs set it to None. The n-best for the LM rescoring comes from
  the generic ``GenerationMixin.generate`` with that prompt (:meth:`Whisper.generate` says why).
- Long audio (:meth:`Whisper.transcribe`): windows of ``chunk_seconds`` overlapping by ``overlap`` seconds
  (:func:`bengali_asr.audio.chunks`), each transcribed alone, their texts joined by :func:`stitch`, which drops the
  words the overlap made both windows write. Whisper's own long-form algorithm needs timestamp tokens, which a
  model fine-tuned without them no longer predicts.
- LM rescoring: beam search keeps ``num_beams`` hypotheses per window; each is scored by the model (the summed
  log-probability of its tokens, teacher-forced) plus ``lm_weight`` times the n-gram LM's natural-log probability
  of its words (``bengali_asr.lm.ArpaLM``; punctuation stripped, as the LM was built) plus ``word_score`` per
  word, and the best one is kept (:func:`rescore`). Shallow fusion inside the beam would need the word-level LM
  scored over sub-word tokens at every step; rescoring whole hypotheses needs only complete words.
- int8 (:func:`load_int8`): the decoder's linear layers in bitsandbytes LLM.int8 (``Linear8bitLt``); the encoder
  (a fixed cost per window, small next to the decoder's per-token cost) and ``proj_out`` (tied to the token
  embeddings) stay float. On a CPU (bitsandbytes >= 0.45 has CPU kernels) it runs with ``device_map="cpu"`` and
  float32 activations: a memory saving, not a speed-up.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    BitsAndBytesConfig,
    GenerationConfig,
    GenerationMixin,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizerFast,
    set_seed,
)
from transformers.models.whisper.tokenization_whisper import LANGUAGES

from bengali_asr.audio import SAMPLE_RATE
from bengali_asr.augment import Augmenter
from bengali_asr.clips import lengths_of, windowed
from bengali_asr.dataset import ClipDataset, pad_labels
from bengali_asr.normalize import PUNCTUATION, normalize, strip_punctuation
from shared.console import quiet_trainer

LANGUAGE = "bn"
TASK = "transcribe"
FULL_BACKBONE = "openai/whisper-medium"
SETTINGS = "whisper.json"
ENDOFTEXT = "<|endoftext|>"
SOT = "<|startoftranscript|>"
NOTIMESTAMPS = "<|notimestamps|>"
# Whisper's special tokens in the order of its vocabulary (ids follow the BPE tokens; no timestamp tokens: the
# stand-in never predicts timestamps).
SPECIAL_TOKENS = (
    ENDOFTEXT, SOT, *(f"<|{code}|>" for code in LANGUAGES), "<|translate|>", "<|transcribe|>", "<|startoflm|>",
    "<|startofprev|>", "<|nospeech|>", NOTIMESTAMPS,
)  # fmt: skip
WORDS_PER_SECOND = 3.0  # an upper bound on speech rate, to bound the words an overlap can hold (stitch)


# --------------------------------------------------------------------------------------------------------------
# the CPU stand-in: tokenizer and tiny model
# --------------------------------------------------------------------------------------------------------------


def build_tokenizer(
    sentences: Sequence[str], directory: str | Path, vocab_size: int = 512
) -> WhisperTokenizerFast:
    """A ``WhisperTokenizerFast`` saved in ``directory``: a byte-level BPE of ``vocab_size`` tokens (the 256
    bytes plus merges) trained on ``sentences``, then Whisper's special tokens; the language and task are
    saved with it, so that encoding a sentence gives ``prefix_tokens + text + <|endoftext|>`` (a label)."""
    texts = [s for s in sentences if s.strip()]
    if not texts:
        raise ValueError("sentences: need at least one non-empty sentence to train the tokenizer on")
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    if vocab_size < len(alphabet):
        raise ValueError(f"vocab_size: {vocab_size} is smaller than the byte alphabet ({len(alphabet)})")
    bpe = Tokenizer(models.BPE())
    # Whisper's pre-tokeniser (the GPT-2 regex: it splits Bengali words at their vowel signs, as Whisper does)
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=alphabet,
                                                       show_progress=False))  # fmt: skip
    trained = json.loads(bpe.to_str())["model"]
    vocab = dict(trained["vocab"])
    vocab |= {token: len(trained["vocab"]) + i for i, token in enumerate(SPECIAL_TOKENS)}
    tokenizer = WhisperTokenizerFast(vocab=vocab, merges=[tuple(m) for m in trained["merges"]], language=LANGUAGE,
                                     task=TASK, predict_timestamps=False)  # fmt: skip
    tokenizer.add_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS],
                         special_tokens=True)  # fmt: skip
    directory = Path(directory)
    tokenizer.save_pretrained(directory)
    return WhisperTokenizerFast.from_pretrained(directory)


def generation_config(tokenizer: WhisperTokenizerFast, max_length: int) -> GenerationConfig:
    """What ``WhisperForConditionalGeneration.generate`` needs to build the prompt from ``language`` and
    ``task`` (as in the real checkpoints' ``generation_config.json``), with no timestamps."""
    ids = dict(zip(SPECIAL_TOKENS, tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS)), strict=True))
    eot = ids[ENDOFTEXT]
    return GenerationConfig(
        decoder_start_token_id=ids[SOT], bos_token_id=eot, eos_token_id=eot, pad_token_id=eot, max_length=max_length,
        begin_suppress_tokens=[eot], suppress_tokens=[], is_multilingual=True, forced_decoder_ids=None,
        lang_to_id={f"<|{code}|>": ids[f"<|{code}|>"] for code in LANGUAGES},
        task_to_id={"translate": ids["<|translate|>"], "transcribe": ids["<|transcribe|>"]},
        no_timestamps_token_id=ids[NOTIMESTAMPS], return_timestamps=False,
    )  # fmt: skip


def tiny_whisper(
    directory: str | Path,
    tokenizer: WhisperTokenizerFast,
    seed: int = 0,
    *,
    d_model: int = 128,
    layers: int = 2,
    heads: int = 4,
    ffn_dim: int = 512,
    chunk_seconds: int = 8,
    max_target_positions: int = 128,
    num_mel_bins: int = 80,
) -> Path:
    """Save a randomly initialised small Whisper with its ``WhisperProcessor`` in ``directory`` (loads with
    ``from_pretrained``). ``layers`` encoder and decoder layers each; the encoder reads ``chunk_seconds``
    (an integer: the feature extractor's ``chunk_length``) of audio as ``chunk_seconds * 100`` mel frames, so
    ``max_source_positions = chunk_seconds * 50``."""
    if int(chunk_seconds) != chunk_seconds or chunk_seconds < 1:
        raise ValueError(f"chunk_seconds: {chunk_seconds} must be a whole number of seconds >= 1")
    extractor = WhisperFeatureExtractor(feature_size=num_mel_bins, sampling_rate=SAMPLE_RATE, hop_length=160,
                                        chunk_length=int(chunk_seconds), n_fft=400)  # fmt: skip
    frames = extractor.nb_max_frames  # 100 per second
    eot = tokenizer.convert_tokens_to_ids(ENDOFTEXT)
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=num_mel_bins, d_model=d_model, encoder_layers=layers,
        decoder_layers=layers, encoder_attention_heads=heads, decoder_attention_heads=heads,
        encoder_ffn_dim=ffn_dim, decoder_ffn_dim=ffn_dim, max_source_positions=frames // 2,
        max_target_positions=max_target_positions, decoder_start_token_id=tokenizer.convert_tokens_to_ids(SOT),
        pad_token_id=eot, bos_token_id=eot, eos_token_id=eot, begin_suppress_tokens=[eot], suppress_tokens=None,
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, tie_word_embeddings=True,
    )  # fmt: skip
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = WhisperForConditionalGeneration(config)
    model.generation_config = generation_config(tokenizer, max_target_positions)
    directory = Path(directory)
    model.save_pretrained(directory)
    WhisperProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(directory)
    return directory


# --------------------------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------------------------


def load_processor(base: str | Path) -> WhisperProcessor:
    """``base``'s processor with the tokenizer's prefix set to Bengali transcription without timestamps."""
    processor = WhisperProcessor.from_pretrained(base)
    processor.tokenizer.set_prefix_tokens(language=LANGUAGE, task=TASK, predict_timestamps=False)
    return processor


def labels_of(tokenizer: WhisperTokenizerFast, sentence: str) -> list[int]:
    """The label ids of a sentence: the normalised text with punctuation, after the decoder prompt (without
    ``<|startoftranscript|>``, which the model puts in front itself when it shifts the labels right) and
    followed by ``<|endoftext|>``."""
    ids = tokenizer(normalize(sentence)).input_ids
    start = tokenizer.convert_tokens_to_ids(SOT)
    return ids[1:] if ids and ids[0] == start else ids


def collate(rows: list[dict]) -> dict:
    """Stack the features (all one window long); pad the labels with -100 (ignored by the loss)."""
    return {"input_features": torch.stack([r["input_features"] for r in rows]), "labels": pad_labels(rows)}


def train_whisper(
    base: str | Path,
    waves: Sequence[np.ndarray],
    sentences: Sequence[str],
    output_dir: str | Path,
    *,
    max_steps: int = 4000,
    batch_size: int = 16,
    gradient_accumulation_steps: int = 1,
    learning_rate: float = 1e-5,
    warmup_ratio: float = 0.1,
    weight_decay: float = 0.0,
    lr_scheduler_type: str = "linear",
    seed: int = 42,
    augmenter: Augmenter | None = None,
    mask_time_prob: float = 0.0,
    mask_feature_prob: float = 0.0,
    bf16: bool = True,
    gradient_checkpointing: bool = False,
    desc: str = "whisper",
) -> Path:
    """Fine-tune ``base`` (a hub id such as ``openai/whisper-medium``, or a saved folder such as
    :func:`tiny_whisper`'s) on 16 kHz waves and their sentences with ``Seq2SeqTrainer`` and save the model, its
    processor and ``whisper.json`` (the settings) to ``output_dir``, which :func:`load` reads offline.

    SpecAugment is the model config's ``mask_time_prob`` / ``mask_feature_prob``; ``bf16`` applies on CUDA only.
    Every clip must fit in the model's window (longer ones would be cut, their labels not)."""
    output_dir = Path(output_dir)
    processor = load_processor(base)
    extractor, tokenizer = processor.feature_extractor, processor.tokenizer
    window = extractor.chunk_length
    set_seed(seed)
    spec = dict(apply_spec_augment=mask_time_prob > 0 or mask_feature_prob > 0, mask_time_prob=mask_time_prob,
                mask_feature_prob=mask_feature_prob)  # fmt: skip
    model = WhisperForConditionalGeneration.from_pretrained(base, **spec)
    model.generation_config.forced_decoder_ids = None
    model.config.use_cache = False  # no KV cache while training
    limit = model.config.max_target_positions
    if len(waves) != len(sentences):
        raise ValueError(f"train: {len(waves)} clips but {len(sentences)} sentences")
    lengths = lengths_of(waves)
    too_long = np.flatnonzero(lengths > window * SAMPLE_RATE)
    if len(too_long):
        i = int(too_long[0])
        raise ValueError(f"train: clip {i} is {lengths[i] / SAMPLE_RATE:.1f} s, longer than the model's "
                         f"{window} s window (leave it out or chunk it)")  # fmt: skip
    labels = []
    for i, sentence in enumerate(sentences):
        ids = labels_of(tokenizer, sentence)
        if len(ids) > limit:
            raise ValueError(f"train: sentence {i} is {len(ids)} tokens, more than the decoder's {limit}")
        labels.append(ids)

    def featurize(wave: np.ndarray) -> dict:
        return {
            "input_features": extractor(wave, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features[
                0
            ]
        }

    window_bytes = extractor.feature_size * extractor.nb_max_frames * 4  # every clip is padded to one window
    dataset = ClipDataset(waves, labels, featurize, augmenter, seed, window_bytes)
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as scratch:
        args = Seq2SeqTrainingArguments(
            output_dir=scratch, use_cpu=not cuda, bf16=bf16 and cuda, save_strategy="no", report_to="none",
            logging_steps=max(1, max_steps // 20), remove_unused_columns=False, label_names=["labels"],
            dataloader_num_workers=0, per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=gradient_accumulation_steps, max_steps=max_steps,
            learning_rate=learning_rate, weight_decay=weight_decay, warmup_steps=warmup_ratio,
            lr_scheduler_type=lr_scheduler_type, seed=seed, max_grad_norm=1.0, predict_with_generate=False,
            gradient_checkpointing=gradient_checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False},
        )  # fmt: skip
        trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=dataset, data_collator=collate)
        quiet_trainer(trainer, desc).train()
    model = trainer.model
    model.config.use_cache = True
    model.save_pretrained(output_dir)
    processor.save_pretrained(output_dir)
    settings = {"base": str(base), "language": LANGUAGE, "task": TASK, "clips": len(waves), "max_steps": max_steps,
                "batch_size": batch_size, "learning_rate": learning_rate, "seed": seed,
                "augment": augmenter is not None, "mask_time_prob": mask_time_prob}  # fmt: skip
    (output_dir / SETTINGS).write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return output_dir


# --------------------------------------------------------------------------------------------------------------
# inference: n-best, LM rescoring, chunking and stitching
# --------------------------------------------------------------------------------------------------------------


def _word_key(word: str) -> str:
    """A word without the marks around it, for comparing the words of two windows."""
    return word.strip("".join(PUNCTUATION) + "॥|.")


def stitch(texts: Sequence[str], overlap_words: int | None = None) -> str:
    """Join the texts of consecutive overlapping windows, writing once the words their overlap made both write.

    For each next window: the longest run of words (compared without punctuation) that ends the text so far
    and begins the next window, at most ``overlap_words`` long (None: no bound); a run may also stop one word
    short of either edge, since the window cut can leave a truncated word on each side. The text so far is cut
    before the run and the next window kept from the run on (its copy: it heard the words with what follows
    them, so its punctuation is the better one). No run: the texts are joined as they are.

    >>> stitch(["আমি আজ বাজারে", "বাজারে যাই।"])
    'আমি আজ বাজারে যাই।'
    """
    words: list[str] = []
    for text in texts:
        nxt = text.split()
        if not words:
            words = nxt
            continue
        bound = min(len(words), len(nxt)) if overlap_words is None else overlap_words
        # (run length, truncated words dropped at the end of ``words``, at the start of ``nxt``)
        best = (0, 0, 0)
        keys, next_keys = [_word_key(w) for w in words], [_word_key(w) for w in nxt]
        for tail in (0, 1):
            for head in (0, 1):
                for k in range(1, bound + 1):
                    if k + tail > len(words) or k + head > len(nxt) or k + max(tail, head) > bound:
                        break
                    end = len(words) - tail
                    better = (k, -(tail + head)) > (best[0], -(best[1] + best[2]))
                    if better and keys[end - k : end] == next_keys[head : head + k]:
                        best = (k, tail, head)
        k, tail, head = best
        words = words[: len(words) - tail - k] + nxt[head:] if k else words + nxt
    return " ".join(words)


def rescore(candidates: Sequence[tuple[str, float]], lm, lm_weight: float, word_score: float = 0.0) -> int:
    """Index of the best of a window's n-best: ``log p_model(text) + lm_weight * ln p_LM(words) + word_score *
    words``, where ``log p_model`` is the candidate's score (the natural-log probability of its tokens) and
    ``lm.score`` gives the LM's log10 probability of the punctuation-stripped sentence (``bengali_asr.lm.ArpaLM``;
    converted to natural log here). Ties keep the earlier (the beam's own order). Both log-probabilities are
    sums over the sentence, so each favours short hypotheses; ``word_score`` > 0 pays that back. With
    ``lm_weight = word_score = 0`` the choice is the most probable hypothesis, which need not be the beam's
    first (the beam ranks by log-probability divided by length)."""
    best, best_score = 0, -math.inf
    for i, (text, score) in enumerate(candidates):
        plain = strip_punctuation(text)
        total = score + word_score * len(plain.split())
        if lm is not None and lm_weight:
            total += lm_weight * math.log(10) * lm.score(plain)
        if total > best_score:
            best, best_score = i, total
    return best


@dataclass
class Whisper:
    """A loaded Whisper and its processor, ready to transcribe Bengali."""

    model: WhisperForConditionalGeneration
    processor: WhisperProcessor

    def __post_init__(self):
        self.model.eval()
        self.tokenizer = self.processor.tokenizer
        self.tokenizer.set_prefix_tokens(language=LANGUAGE, task=TASK, predict_timestamps=False)
        # <|startoftranscript|> <|bn|> <|transcribe|> <|notimestamps|>
        self.prompt = list(self.tokenizer.prefix_tokens)
        self.eot = self.tokenizer.convert_tokens_to_ids(ENDOFTEXT)
        self.special = set(self.tokenizer.all_special_ids) | set(
            self.tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS))
        )

    @property
    def window(self) -> float:
        """Seconds of audio the encoder reads at once."""
        return float(self.processor.feature_extractor.chunk_length)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def features(self, pieces: Sequence[np.ndarray]) -> torch.Tensor:
        out = self.processor.feature_extractor(list(pieces), sampling_rate=SAMPLE_RATE, return_tensors="pt")
        dtype = next(p.dtype for p in self.model.model.encoder.parameters() if p.is_floating_point())
        return out.input_features.to(self.device, dtype)

    def text_ids(self, ids: Sequence[int]) -> list[int]:
        """A generated sequence's text tokens: the prompt and anything after the first ``<|endoftext|>`` removed."""
        ids = list(ids)
        start = len(self.prompt) if ids[: len(self.prompt)] == self.prompt else 0
        out = []
        for t in ids[start:]:
            if t == self.eot:
                break
            if t not in self.special:
                out.append(t)
        return out

    @torch.no_grad()
    def log_probs(self, features: torch.Tensor, candidates: list[list[list[int]]]) -> list[list[float]]:
        """The model's summed natural-log probability of each candidate's text tokens and its ``<|endoftext|>``
        after the prompt, teacher-forced (``candidates[i]``: the token lists of window ``i``)."""
        encoder = self.model.get_encoder()(features).last_hidden_state
        out = []
        for i, cands in enumerate(candidates):
            seqs = [self.prompt + c + [self.eot] for c in cands]
            width = max(len(s) for s in seqs)
            ids = torch.full((len(seqs), width), self.eot, dtype=torch.long, device=self.device)
            mask = torch.zeros((len(seqs), width - 1), dtype=torch.bool, device=self.device)
            for j, s in enumerate(seqs):
                ids[j, : len(s)] = torch.tensor(s)
                mask[j, len(self.prompt) - 1 : len(s) - 1] = True
            states = encoder[i : i + 1].expand(len(seqs), -1, -1)
            logits = self.model(
                encoder_outputs=(states,), decoder_input_ids=ids[:, :-1], use_cache=False
            ).logits
            lp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:, None])[..., 0]
            out.append((lp * mask).sum(-1).tolist())
        return out

    def generate(self, features: torch.Tensor, num_beams: int, n: int, max_new_tokens: int | None,
                 logits_processor=None) -> list[list[int]]:  # fmt: skip
        """Beam search (greedy for one beam) from the Bengali transcription prompt: ``n`` token lists per window
        (its beam's best ``n``), the text tokens only. Without ``max_new_tokens`` the decoder may fill its
        ``max_target_positions``.

        One hypothesis: Whisper's own ``generate(language="bn", task="transcribe")``. Several: that ``generate``
        turns ``num_return_sequences`` into copies of each input decoded independently (meant for its
        temperature-fallback sampling), so a beam search would return its best hypothesis ``n`` times; the beam's
        n-best comes from the generic ``GenerationMixin.generate`` with the same prompt as ``decoder_input_ids``
        (a window is never long-form, so nothing of Whisper's wrapper is lost)."""
        limit = {} if max_new_tokens is None else {"max_new_tokens": max_new_tokens}
        if logits_processor is not None:
            limit["logits_processor"] = logits_processor
        if n == 1:
            out = self.model.generate(features, language=LANGUAGE, task=TASK, num_beams=num_beams, do_sample=False,
                                      **limit)  # fmt: skip
        else:
            prompt = torch.tensor([self.prompt] * len(features), device=features.device)
            out = GenerationMixin.generate(self.model, features, decoder_input_ids=prompt, num_beams=num_beams,
                                           num_return_sequences=n, do_sample=False, **limit)  # fmt: skip
        out = out.sequences if hasattr(out, "sequences") else out
        return [self.text_ids(s) for s in out.tolist()]

    @torch.no_grad()
    def nbest(self, pieces: Sequence[np.ndarray], num_beams: int = 4, n: int | None = None,
              max_new_tokens: int | None = None) -> list[list[tuple[str, float]]]:  # fmt: skip
        """Per window (at most one window long each): the beam's ``n`` (default ``num_beams``) hypotheses as
        (text, model log-probability), in the beam's order."""
        n = num_beams if n is None else n
        if not 1 <= n <= num_beams:
            raise ValueError(f"n: {n} must be between 1 and num_beams ({num_beams})")
        features = self.features(pieces)
        found = self.generate(features, num_beams, n, max_new_tokens)
        ids = [found[i * n : (i + 1) * n] for i in range(len(pieces))]
        scores = self.log_probs(features, ids)
        return [[(self.tokenizer.decode(c, skip_special_tokens=True).strip(), s) for c, s in zip(cs, ss, strict=True)]
                for cs, ss in zip(ids, scores, strict=True)]  # fmt: skip

    @torch.no_grad()
    def decode(
        self, pieces: Sequence[np.ndarray], num_beams: int = 1, max_new_tokens: int | None = None
    ) -> list[str]:
        """Per window: the beam's best text (greedy for ``num_beams=1``)."""
        found = self.generate(self.features(pieces), num_beams, 1, max_new_tokens)
        return [self.tokenizer.decode(ids, skip_special_tokens=True).strip() for ids in found]

    def transcribe(
        self,
        waves: Sequence[np.ndarray],
        chunk_seconds: float | None = None,
        overlap: float = 1.0,
        num_beams: int = 1,
        batch_size: int = 8,
        lm=None,
        lm_weight: float = 0.5,
        word_score: float = 0.0,
        max_new_tokens: int | None = None,
        desc: str = "whisper",
    ) -> list[str]:
        """One text per wave. Waves longer than ``chunk_seconds`` (default and maximum: the model's window) are
        cut into windows overlapping by ``overlap`` seconds and their texts stitched. With ``lm`` (an object with
        ``score(sentence) -> log10 probability``) each window's text is the best of the beam's ``num_beams``
        hypotheses by :func:`rescore`."""
        seconds = self.window if chunk_seconds is None else float(chunk_seconds)
        if seconds > self.window:
            raise ValueError(f"chunk_seconds: {seconds} is longer than the model's {self.window} s window")

        def run(batch: list[np.ndarray]) -> list[str]:
            if lm is None:
                return self.decode(batch, num_beams=num_beams, max_new_tokens=max_new_tokens)
            return [c[rescore(c, lm, lm_weight, word_score)][0]
                    for c in self.nbest(batch, num_beams=num_beams, max_new_tokens=max_new_tokens)]  # fmt: skip

        bound = math.ceil(overlap * WORDS_PER_SECOND) + 1
        out = [""] * len(waves)
        for i, parts in windowed(waves, run, seconds, overlap, batch_size, desc):
            out[i] = stitch(parts, overlap_words=bound)
        return out


def load(model_dir: str | Path, int8: bool = False, device: str | None = None) -> Whisper:
    """A saved Whisper (a :func:`train_whisper` output, a :func:`tiny_whisper` folder or a hub id), on ``device``
    (default: CUDA when there is one); ``int8``: the decoder in LLM.int8 (:func:`load_int8`)."""
    processor = WhisperProcessor.from_pretrained(model_dir)
    if int8:
        return Whisper(load_int8(model_dir, device), processor)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return Whisper(WhisperForConditionalGeneration.from_pretrained(model_dir).to(device), processor)


def load_int8(model_dir: str | Path, device: str | None = None) -> WhisperForConditionalGeneration:
    """The model with the decoder's linear layers in bitsandbytes LLM.int8 (``Linear8bitLt``); the encoder and
    ``proj_out`` (the output layer, tied to the token embeddings) stay float (``llm_int8_skip_modules``: given
    explicitly, transformers skips only those). On CUDA (the default when there is one): the current device,
    float16 for the unquantised weights (the int8 matmul runs in float16); on ``device="cpu"``:
    ``device_map="cpu"``, float32 (bitsandbytes' CPU kernels; slower than float there, a memory saving only)."""
    cuda = (device or ("cuda" if torch.cuda.is_available() else "cpu")) != "cpu"
    quantization = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=["model.encoder", "proj_out"])
    model = WhisperForConditionalGeneration.from_pretrained(
        model_dir, quantization_config=quantization, dtype=torch.float16 if cuda else torch.float32,
        device_map=({"": device if device and device != "cuda" else torch.cuda.current_device()} if cuda
                    else "cpu"),
    )  # fmt: skip
    return model.eval()
