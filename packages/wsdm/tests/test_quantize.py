"""Quantised loading: every mode loads through ``from_pretrained``, agrees with the float32 model, and
shrinks the weights by the expected amount.

Tolerances, measured on this test's model (a random tiny Qwen2 classifier, 128 random rows of 32 tokens)
with five seeds of model and inputs (worst case in brackets): relative logit error ||l_q - l|| / ||l||
bf16 0.007 (0.008), int8 0.02 (0.025), nf4 0.20 (0.24); the predicted class agrees with float32 on
>= 0.99 (bf16), >= 0.98 (int8) and 0.91-0.96 (nf4) of all rows, and on every row of the decisive half
(|float32 margin| above its median) in all modes. nf4 moves a random network a lot: one NF4 matrix of
Gaussian weights is already 9 % off (the per-weight error of 16 levels), and the 14 quantised matrices
of two blocks compound it; near-tied rows of a random classifier then flip. The bounds below leave about
1.5x room over the worst case seen, and the ordering bf16 < int8 < nf4 must hold.
"""

import math

import pytest
import torch
from transformers import Qwen2ForSequenceClassification

from shared.tiny import tiny_causal_lm
from wsdm.quantize import MODES, footprint, load_quantised

TEXTS = [f"row {i}: response A says {i * 7 % 13}, response B says {i * 5 % 11}." for i in range(60)]
# Small vocabulary, wide blocks: the Linear layers hold 94 % of the weights, as in a real LLM.
ARCH = dict(vocab_size=300, hidden_size=256, intermediate_size=512, num_layers=2)
MAX_RELATIVE_ERROR = {"fp32": 0.0, "bf16": 0.02, "int8": 0.04, "nf4": 0.35}
MIN_AGREEMENT = {"fp32": 1.0, "bf16": 0.97, "int8": 0.95, "nf4": 0.85}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A saved tiny Qwen2 sequence classifier (two labels, pad token set) and its float32 model."""
    base = tiny_causal_lm(TEXTS, **ARCH)
    torch.manual_seed(0)
    model = Qwen2ForSequenceClassification.from_pretrained(base, num_labels=2).eval()
    assert model.config.pad_token_id is not None
    path = tmp_path_factory.mktemp("classifier")
    model.save_pretrained(path)
    return path, model


@pytest.fixture(scope="module")
def loaded(classifier):
    path, _ = classifier
    return {mode: load_quantised(path, mode, "classification") for mode in MODES}


@pytest.fixture(scope="module")
def logits(classifier, loaded):
    _, model = classifier
    ids = torch.randint(3, model.config.vocab_size, (128, 32), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return {mode: m(input_ids=ids).logits.float() for mode, m in loaded.items()}


def test_each_mode_loads_with_the_blocks_quantised_and_the_head_not(loaded):
    import bitsandbytes as bnb

    kinds = {
        "fp32": torch.nn.Linear,
        "bf16": torch.nn.Linear,
        "int8": bnb.nn.Linear8bitLt,
        "nf4": bnb.nn.Linear4bit,
    }
    for mode, model in loaded.items():
        assert not model.training
        assert type(model.model.layers[0].mlp.down_proj) is kinds[mode], mode
        assert type(model.score) is torch.nn.Linear, mode
        want = torch.bfloat16 if mode == "bf16" else torch.float32
        assert model.score.weight.dtype == want and model.model.embed_tokens.weight.dtype == want, mode


def test_predictions_agree_with_float32(logits):
    reference = logits["fp32"]
    margin = reference[:, 1] - reference[:, 0]
    decisive = margin.abs() > margin.abs().median()
    errors = {}
    for mode, got in logits.items():
        errors[mode] = float((got - reference).norm() / reference.norm())
        agree = (got.argmax(1) == reference.argmax(1)).float()
        assert errors[mode] <= MAX_RELATIVE_ERROR[mode], (mode, errors[mode])
        assert agree.mean() >= MIN_AGREEMENT[mode], (mode, float(agree.mean()))
        assert agree[decisive].mean() >= 0.97, (mode, float(agree[decisive].mean()))
    assert 0 < errors["bf16"] < errors["int8"] < errors["nf4"]


def test_footprint_shrinks_with_the_bits_by_the_expected_amounts(classifier):
    path, model = classifier
    fresh = {mode: load_quantised(path, mode, "classification") for mode in MODES}  # before any forward
    size = {mode: footprint(m) for mode, m in fresh.items()}
    blocks = [m for m in model.model.layers.modules() if isinstance(m, torch.nn.Linear)]
    quantised = sum(m.weight.numel() for m in blocks)  # every Linear in the blocks (none has a bias)
    rows = sum(m.out_features for m in blocks)
    rest = size["fp32"] - 4 * quantised  # embeddings, norms, score head, rotary buffers: stay float32
    rotary = sum(b.nelement() * b.element_size() for b in model.buffers())  # float32 in every mode
    assert quantised / (size["fp32"] / 4) > 0.9
    assert size["bf16"] == (size["fp32"] - rotary) // 2 + rotary
    assert size["int8"] == rest + quantised + 4 * rows  # int8 weights + a float32 scale per row
    # nf4, per matrix of n weights: n / 2 bytes packed; an 8-bit absmax per block of 64; a float32 scale per
    # 256 of those (double quantisation); float32 tables: the 16 NF4 levels, the absmax offset, the
    # 256-entry code of the 8-bit absmax
    statistics = sum(
        m.weight.numel() // 64 + 4 * math.ceil(m.weight.numel() / 64 / 256) + 4 * (16 + 1 + 256)
        for m in blocks
    )
    assert size["nf4"] == rest + quantised // 2 + statistics
    assert size["fp32"] > size["bf16"] > size["int8"] > size["nf4"]
    # On a CPU with AVX512-BF16, bitsandbytes repacks 4-bit weights for its CPU kernel at the first forward:
    # the absmax becomes a bfloat16 per block (no longer double-quantised), the nested tables go. Elsewhere
    # (CUDA, or a CPU without it) the first forward leaves the layout as loaded.
    from bitsandbytes.functional import has_avx512bf16

    with torch.no_grad():
        fresh["nf4"](input_ids=torch.tensor([[5, 6, 7]]))
    if not torch.cuda.is_available() and has_avx512bf16():
        assert footprint(fresh["nf4"]) == rest + quantised // 2 + 2 * quantised // 64 + 4 * (16 + 1) * len(
            blocks
        )
    else:
        assert footprint(fresh["nf4"]) == size["nf4"]


def test_footprint_counts_a_plain_layer_at_its_width():
    assert footprint(torch.nn.Linear(256, 512, bias=False)) == 256 * 512 * 4
    assert footprint(torch.nn.Linear(256, 512).to(torch.bfloat16)) == (256 * 512 + 512) * 2


@pytest.mark.parametrize("mode", ["int8", "nf4"])
def test_generation_head_keeps_lm_head_unquantised(classifier, mode):
    path, _ = classifier
    model = load_quantised(path, mode, "generation")
    reference = load_quantised(path, "fp32", "generation")
    assert type(model.lm_head) is torch.nn.Linear and model.lm_head.weight.dtype == torch.float32
    ids = torch.randint(3, model.config.vocab_size, (16, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got, want = model(input_ids=ids).logits, reference(input_ids=ids).logits
    assert float((got - want).norm() / want.norm()) <= MAX_RELATIVE_ERROR[mode]


@pytest.mark.parametrize(("field", "value"), [("mode", "int4"), ("head", "judge")])
def test_unknown_mode_or_head_is_refused_by_name(classifier, field, value):
    path, _ = classifier
    args = {"mode": "fp32", "head": "classification", field: value}
    with pytest.raises(ValueError, match=rf"^{field}: '{value}' is not one of"):
        load_quantised(path, **args)
