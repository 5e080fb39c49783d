"""AutoRound: a saved fold model's weights quantised on calibration rows load back through ``wsdm.model.load``
as auto_round's 4-bit ``QuantLinear`` layers (the output layer left in float), take far less memory, and give
nearly the float32 model's p(A).

Tolerances, measured on this test's model (a random tiny Qwen2, hidden 256, 2 blocks; calibrated on 4 blocks
of 128 tokens, 10 tuning steps; scored on 96 random rows) with five seeds of model and rows: the relative
error of p(A)'s log-odds against float32 is 0.05-0.57 (generation) and 0.22-0.45 (classifier); the predicted
winner agrees with float32 on every row of the decisive half (|float32 log-odds| above its median) in all
ten, and on 0.83-1.0 of all rows. A random network's margins are tiny, so near-tied rows flip: agreement on
all rows is not asserted. The bounds leave about 1.5x room over the worst case seen.
"""

import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoTokenizer

from shared.llm import ensure_padding
from shared.tiny import tiny_causal_lm
from wsdm import model as models
from wsdm.configs import ExperimentConfig
from wsdm.quantize import AUTOROUND, autoround_fold, calibration_blocks, footprint, load_quantised

WORDS = ["the", "capital", "of", "France", "is", "Paris", "Berlin", "Rome", "answer", "list", "JSON", "one",
         "word", "reason", "so", "yes", "no"]  # fmt: skip
# Wide blocks so that every Linear's input width (256, 512) is a multiple of the group size, 128.
ARCH = dict(vocab_size=300, hidden_size=256, intermediate_size=512, num_layers=2)
CONFIG = ExperimentConfig(max_length=96, lora_r=0, load_in_4bit=False, bf16=False, eval_batch_size=16)
QUICK = dict(iters=10, nsamples=4, seqlen=128, batch_size=4)
MAX_RELATIVE_ERROR = {"generation": 0.85, "classification": 0.7}


def rows(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)

    def text(low: int, high: int) -> str:
        return " ".join(rng.choice(WORDS, int(rng.integers(low, high))))

    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "prompt": [text(4, 12) for _ in range(n)],
                         "response_a": [text(5, 40) for _ in range(n)],
                         "response_b": [text(5, 40) for _ in range(n)]})  # fmt: skip


def saved_fold(directory: Path, head: str, seed: int = 0) -> Path:
    """An untrained ``head`` model on a random tiny Qwen2, saved as a fold (whole weights)."""
    base = str(tiny_causal_lm([*models.PROMPT_TEXTS, *WORDS] * 3, seed=seed, **ARCH))
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(base))
    config = replace(CONFIG, head=head, seed=seed)
    model = models.trainable(config, base, tokenizer).eval()
    models.PreferenceModel(model, tokenizer, models.settings_from(config, base)).save(directory)
    return directory


def log_odds(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1 - p))


def relative_error(fold: Path, quantised: Path, frame: pd.DataFrame) -> tuple[float, np.ndarray]:
    """||log-odds error|| / ||float32 log-odds|| and, per row of the decisive half, whether the winner agrees."""
    reference, got = (log_odds(models.load(d).predict(frame)) for d in (fold, quantised))
    decisive = np.abs(reference) > np.median(np.abs(reference))
    error = np.linalg.norm(got - reference) / np.linalg.norm(reference)
    return float(error), (got > 0)[decisive] == (reference > 0)[decisive]


@pytest.fixture
def offline(monkeypatch):
    """Any attempt to open a network connection fails."""

    def refuse(*args, **kwargs):
        raise OSError("network access in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="module")
def generation(tmp_path_factory):
    """A generation-head fold and its AutoRound copy."""
    root = tmp_path_factory.mktemp("generation")
    fold = saved_fold(root / "fp32", "generation")
    return fold, autoround_fold(fold, root / "autoround", rows(32, seed=1), **QUICK)


def test_the_copy_loads_offline_with_the_blocks_quantised_and_the_output_layer_not(generation, offline):
    from auto_round_extension.torch.qlinear_torch import GenericBitPackingMixin

    fold, quantised = generation
    loaded = models.load(quantised)
    assert loaded.settings["quantisation"] == AUTOROUND and loaded.settings[AUTOROUND]["rows"] == 32
    assert not loaded.model.training
    block = loaded.model.model.layers[0]
    for layer in (block.self_attn.q_proj, block.self_attn.k_proj, block.mlp.down_proj):
        assert isinstance(layer, GenericBitPackingMixin), type(layer)
        assert (layer.bits, layer.group_size, layer.qweight.dtype) == (4, 128, torch.int32)
    assert type(loaded.model.lm_head) is torch.nn.Linear
    reference = models.load(fold).model
    # the Linear layers are 94 % of the float32 weights; 4 bits a weight plus a float16 scale per 128
    assert footprint(loaded.model) < 0.2 * footprint(reference)


def test_predictions_agree_with_float32(generation):
    error, decisive_agree = relative_error(*generation, rows(96, seed=2))
    assert 0 < error < MAX_RELATIVE_ERROR["generation"]
    assert decisive_agree.all()


def test_the_weights_load_only_as_what_they_are(generation):
    fold, quantised = generation
    with pytest.raises(ValueError, match="do not load as 'int8'"):
        models.load(quantised, "int8")
    with pytest.raises(
        ValueError, match=r"do not load as 'autoround' \(write them with wsdm\.quantize\.autoround"
    ):
        load_quantised(fold / models.FULL, AUTOROUND, "generation")
    with pytest.raises(ValueError, match="float whole weights"):
        autoround_fold(quantised, fold.parent / "again", rows(4, seed=0), **QUICK)


def test_calibration_packs_the_rows_into_full_blocks():
    def tokenizer(text, add_special_tokens):
        assert not add_special_tokens
        return {"input_ids": [int(t) for t in text.split()]}

    texts = ["1 2 3", "4 5", "6 7 8 9"]
    blocks = calibration_blocks(tokenizer, texts, seqlen=4, nsamples=5, seed=0)
    assert [b.shape for b in blocks] == [(1, 4), (1, 4)]  # 9 tokens: two full blocks, one token dropped
    packed = torch.cat(blocks, 1).flatten().tolist()
    orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
    assert any(" ".join(texts[i] for i in order).split()[:8] == [str(t) for t in packed] for order in orders)
    assert [b.tolist() for b in calibration_blocks(tokenizer, texts, 4, 1, seed=0)] == [blocks[0].tolist()]
    with pytest.raises(ValueError, match="9 tokens in all, fewer than one block of seqlen 16"):
        calibration_blocks(tokenizer, texts, seqlen=16, nsamples=1)


@pytest.mark.slow  # a second quantisation
def test_the_classifier_quantises_with_its_score_head_kept(tmp_path):
    fold = saved_fold(tmp_path / "fp32", "classification")
    quantised = autoround_fold(fold, tmp_path / "autoround", rows(32, seed=1), **QUICK)
    loaded = models.load(quantised)
    score = loaded.model.score  # kept (auto_round would drop it as a tied LM head), in the compute dtype
    assert type(score) is torch.nn.Linear
    torch.testing.assert_close(
        score.weight.float(), models.load(fold).model.score.weight, rtol=1e-2, atol=1e-3
    )
    error, decisive_agree = relative_error(fold, quantised, rows(96, seed=2))
    assert 0 < error < MAX_RELATIVE_ERROR["classification"]
    assert decisive_agree.all()
