"""Model merging: the linear CoT/TIR average, TIES/DARE through mergekit, LoRA folding — on tiny Qwen2s."""

import json
import re

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from aimo2.configs import ConfigError
from aimo2.data import DataError
from aimo2.merge import linear_merge, main, make_parser, merge_lora, mergekit_config, mergekit_merge
from shared.tiny import tiny_causal_lm

TEXTS = ["Find the remainder when 2^10 is divided by 7.", "The answer is \\boxed{2}.", "x + y = 10"] * 4


@pytest.fixture(scope="module")
def ckpt():
    """base and two 'fine-tunes' of it: the same architecture and tokenizer, different weights."""
    return {name: tiny_causal_lm(TEXTS, seed=seed) for name, seed in (("base", 0), ("cot", 1), ("tir", 2))}


def state(path):
    out = {}
    for file in sorted(path.glob("*.safetensors")):
        out.update(load_file(file))
    return out


def logits(model_or_path, path_for_tokens):
    model = model_or_path
    if not isinstance(model, torch.nn.Module):
        model = AutoModelForCausalLM.from_pretrained(model_or_path)
    ids = AutoTokenizer.from_pretrained(path_for_tokens)(TEXTS[:2], return_tensors="pt", padding=True)
    with torch.no_grad():
        return model.eval()(**ids).logits


# ------------------------------------------------------------------------------------------ linear
def test_merging_a_model_with_itself_returns_it(ckpt, tmp_path):
    out = linear_merge([ckpt["cot"], ckpt["cot"]], [1.0, 1.0], tmp_path / "m")
    merged, original = state(out), state(ckpt["cot"])
    assert merged.keys() == original.keys()
    assert all(torch.equal(merged[k], original[k]) for k in original)
    for name in ("config.json", "generation_config.json", "tokenizer.json", "chat_template.jinja"):
        assert (out / name).read_bytes() == (ckpt["cot"] / name).read_bytes(), name


def test_linear_merge_is_the_normalised_weighted_average(ckpt, tmp_path):
    out = linear_merge([ckpt["cot"], ckpt["tir"]], [0.3, 0.7], tmp_path / "m")
    cot, tir, merged = state(ckpt["cot"]), state(ckpt["tir"]), state(out)
    for key in cot:
        torch.testing.assert_close(merged[key], 0.3 * cot[key] + 0.7 * tir[key], rtol=1e-6, atol=1e-7)
    same = linear_merge([ckpt["cot"], ckpt["tir"]], [3, 7], tmp_path / "m37")
    assert all(torch.equal(state(same)[k], merged[k]) for k in merged)


def test_sharded_checkpoints_in_and_out_and_dtype(ckpt, tmp_path):
    sharded = linear_merge([ckpt["cot"], ckpt["tir"]], [0.3, 0.7], tmp_path / "s", max_shard_bytes=30_000)
    index = json.loads((sharded / "model.safetensors.index.json").read_text())
    files = set(index["weight_map"].values())
    assert len(files) > 1 and all((sharded / f).is_file() for f in files)
    assert not (sharded / "model.safetensors").exists()
    plain = state(linear_merge([ckpt["cot"], ckpt["tir"]], [0.3, 0.7], tmp_path / "p"))
    assert index["weight_map"].keys() == plain.keys()
    assert all(torch.equal(state(sharded)[k], plain[k]) for k in plain)
    half = linear_merge([sharded, sharded], [1, 1], tmp_path / "h", dtype="bfloat16")
    halved = state(half)
    assert all(
        halved[k].dtype == torch.bfloat16 and torch.equal(halved[k], plain[k].bfloat16()) for k in plain
    )
    assert json.loads((half / "config.json").read_text())["dtype"] == "bfloat16"


def test_merged_model_loads_and_runs_like_a_hand_averaged_model(ckpt, tmp_path):
    out = linear_merge([ckpt["cot"], ckpt["tir"]], [0.3, 0.7], tmp_path / "m")
    by_hand = AutoModelForCausalLM.from_pretrained(ckpt["cot"])
    tir = dict(AutoModelForCausalLM.from_pretrained(ckpt["tir"]).named_parameters())
    with torch.no_grad():
        for name, param in by_hand.named_parameters():
            param.copy_(0.3 * param + 0.7 * tir[name])
    expected = logits(by_hand, ckpt["cot"])
    assert not torch.allclose(expected, logits(ckpt["cot"], ckpt["cot"]), atol=1e-3)
    torch.testing.assert_close(logits(out, out), expected, rtol=1e-5, atol=1e-5)
    assert (
        AutoTokenizer.from_pretrained(out).chat_template
        == AutoTokenizer.from_pretrained(ckpt["cot"]).chat_template
    )


@pytest.mark.parametrize(
    ("other", "tensor", "problem"),
    [
        (dict(hidden_size=32), "model.embed_tokens.weight", "has shape"),
        (dict(num_layers=3), "model.layers.2.input_layernorm.weight", "is not in"),
    ],
)
def test_mismatched_architectures_are_refused_naming_checkpoint_and_tensor(
    ckpt, tmp_path, other, tensor, problem
):
    odd = tiny_causal_lm(TEXTS, seed=1, **other)
    with pytest.raises(DataError, match="^" + re.escape(f"{odd}: tensor {tensor} {problem}")):
        linear_merge([ckpt["cot"], odd], [0.5, 0.5], tmp_path / "m")
    with pytest.raises(DataError, match="^" + re.escape(f"{odd}: tensor {tensor} {problem}")):
        mergekit_merge(mergekit_config("ties", [str(odd)], [1.0], str(ckpt["base"])), tmp_path / "k")


def test_bad_inputs_give_one_line_errors(ckpt, tmp_path):
    with pytest.raises(DataError, match=r"no model\.safetensors"):
        linear_merge([ckpt["cot"], tmp_path], [0.5, 0.5], tmp_path / "m")
    with pytest.raises(ConfigError, match="2 given for 1"):
        linear_merge([ckpt["cot"]], [0.5, 0.5], tmp_path / "m")
    with pytest.raises(ConfigError, match="output directory is one of the inputs"):
        linear_merge([ckpt["cot"], ckpt["tir"]], [0.5, 0.5], ckpt["tir"])
    with pytest.raises(ConfigError, match="needs a base model"):
        mergekit_config("dare_ties", [str(ckpt["cot"])], [1.0], None)
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "--method",
                "lora",
                "--models",
                str(ckpt["cot"]),
                "--base",
                str(ckpt["base"]),
                "--out",
                str(tmp_path),
            ]
        )
    assert (
        exit_info.value.code == f"error: {ckpt['cot']}: no adapter_config.json (not a PEFT adapter directory)"
    )


def test_cli_reads_a_recipe_and_flags_override_it(ckpt, tmp_path):
    recipe = tmp_path / "merge.yaml"
    recipe.write_text(
        f"# entry point: aimo2-merge\nmethod: linear\nmodels: [{ckpt['cot']}, {ckpt['tir']}]\n"
        f"weights: [0.5, 0.5]\noutput_dir: {tmp_path / 'ignored'}\n"
    )
    assert make_parser().parse_yaml_file(str(recipe), allow_extra_keys=False)[0].weights == [0.5, 0.5]
    main(["--config", str(recipe), "--weights", "0.3", "0.7", "--output-dir", str(tmp_path / "m")])
    expected = state(linear_merge([ckpt["cot"], ckpt["tir"]], [0.3, 0.7], tmp_path / "e"))
    assert all(torch.equal(state(tmp_path / "m")[k], expected[k]) for k in expected)
    assert "weights:\n- 0.3\n- 0.7" in (tmp_path / "m" / "merge_args.yaml").read_text()
    assert not (tmp_path / "ignored").exists()


# ------------------------------------------------------------------------------------------ TIES / DARE
def test_ties_with_full_density_and_one_model_returns_that_model(ckpt, tmp_path):
    out = tmp_path / "t"
    main(["--method", "ties", "--models", str(ckpt["cot"]), "--base", str(ckpt["base"]), "--density", "1.0",
          "--out", str(out)])  # fmt: skip
    merged, cot = state(out), state(ckpt["cot"])
    assert all(torch.allclose(merged[k], cot[k], rtol=0, atol=1e-6) for k in cot)
    torch.testing.assert_close(logits(out, out), logits(ckpt["cot"], ckpt["cot"]), rtol=1e-4, atol=1e-4)


def test_ties_elects_a_sign_per_entry_and_averages_the_agreeing_deltas(ckpt, tmp_path):
    config = mergekit_config(
        "ties", [str(ckpt["cot"]), str(ckpt["tir"])], [1.0, 1.0], str(ckpt["base"]), density=1
    )
    merged = state(mergekit_merge(config, tmp_path / "t"))
    base, cot, tir = state(ckpt["base"]), state(ckpt["cot"]), state(ckpt["tir"])
    disagree = 0
    for key in base:
        d1, d2 = cot[key] - base[key], tir[key] - base[key]
        elected = torch.where(d1 + d2 >= 0, 1.0, -1.0)
        keep1, keep2 = (d1.sign() == elected).float(), (d2.sign() == elected).float()
        expected = base[key] + (keep1 * d1 + keep2 * d2) / (keep1 + keep2).clamp(min=1)
        torch.testing.assert_close(merged[key], expected, rtol=1e-5, atol=1e-6)
        disagree += int((d1.sign() * d2.sign() < 0).sum())
    assert disagree > 1000  # the sign election really had work to do


def test_ties_trims_each_task_vector_to_its_largest_entries(ckpt, tmp_path):
    config = mergekit_config("ties", [str(ckpt["cot"])], [1.0], str(ckpt["base"]), density=0.25)
    merged = state(mergekit_merge(config, tmp_path / "t"))
    base, cot = state(ckpt["base"]), state(ckpt["cot"])
    for key in base:
        delta = (cot[key] - base[key]).flatten()
        keep = torch.zeros_like(delta)
        keep[delta.abs().argsort(descending=True)[: max(1, int(0.25 * delta.numel()))]] = 1
        expected = base[key] + (keep * delta).reshape(base[key].shape)
        torch.testing.assert_close(merged[key], expected, rtol=1e-5, atol=1e-6)


def test_dare_drops_about_one_minus_density_of_the_delta_and_rescales_the_rest(ckpt, tmp_path):
    density = 0.3
    config = mergekit_config("dare_linear", [str(ckpt["cot"])], [1.0], str(ckpt["base"]), density=density)
    merged = state(mergekit_merge(config, tmp_path / "d", seed=0))
    again = state(mergekit_merge(config, tmp_path / "d2", seed=0))
    assert all(torch.equal(merged[k], again[k]) for k in merged)  # seeded: the same drop
    base, cot = state(ckpt["base"]), state(ckpt["cot"])
    kept = total = 0
    for key in base:
        delta = cot[key] - base[key]
        if not delta.any():  # norms: identical in both models
            assert torch.equal(merged[key], base[key])
            continue
        mask = (merged[key] != base[key]).float()
        kept, total = kept + int(mask.sum()), total + int((delta != 0).sum())
        # mergekit rescales the kept entries to the full task vector's L1 norm: ~1/density
        scale = delta.abs().sum() / (mask * delta).abs().sum()
        torch.testing.assert_close(merged[key], base[key] + mask * delta * scale, rtol=1e-4, atol=1e-6)
        if delta.numel() >= 4096:
            assert abs(scale * density - 1) < 0.1, key
    assert abs(kept / total - density) < 0.02


# ------------------------------------------------------------------------------------------ LoRA
def test_lora_merge_reproduces_the_peft_model(ckpt, tmp_path):
    torch.manual_seed(0)
    lora = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False
    )
    get_peft_model(AutoModelForCausalLM.from_pretrained(ckpt["base"]), lora).save_pretrained(
        tmp_path / "adapter"
    )
    peft_model = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(ckpt["base"]), tmp_path / "adapter"
    )
    expected = logits(peft_model, ckpt["base"])
    assert not torch.allclose(expected, logits(ckpt["base"], ckpt["base"]), atol=1e-3)
    out = merge_lora(ckpt["base"], tmp_path / "adapter", tmp_path / "merged")
    assert not any("lora" in k for k in state(out))
    torch.testing.assert_close(logits(out, out), expected, rtol=1e-5, atol=1e-5)


def test_mergekit_linear_agrees_with_the_streaming_linear_merge(ckpt, tmp_path):
    config = mergekit_config(
        "linear", [str(ckpt["cot"]), str(ckpt["tir"])], [0.3, 0.7], None, dtype="float32"
    )
    theirs = state(mergekit_merge(config, tmp_path / "k"))
    ours = state(linear_merge([ckpt["cot"], ckpt["tir"]], [0.3, 0.7], tmp_path / "m"))
    assert theirs.keys() == ours.keys()
    assert all(torch.allclose(theirs[k], ours[k], rtol=1e-6, atol=1e-7) for k in ours)
