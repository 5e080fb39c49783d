"""aimo2-sft: trace selection and mixing by hand, then a short CPU run with an assistant-only loss."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from aimo2 import sft
from aimo2.answers import extract_answer
from aimo2.configs import parse_run

RECIPES = Path(__file__).parents[3] / "competitions" / "aimo2" / "recipes"


def trace(id_: str, answer: int, padding: int, boxed: int, tag: str = "") -> dict:
    """A trace whose assistant turn is ``padding`` x's, an optional tag, then ``\\boxed{boxed}``."""
    content = "x" * padding + tag + f"\\boxed{{{boxed}}}"
    return {
        "id": id_,
        "problem": f"problem {id_}",
        "answer": answer,
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}],
    }


RECORDS = [
    trace("a", 5, 1, 6),  # 0: shortest of a, but wrong
    trace("c", 7, 5, 7, "first"),  # 1: c, correct
    trace("a", 5, 30, 5),  # 2: a, correct, long
    trace("b", 3, 2, 4),  # 3: b's only trace is wrong
    trace("a", 5, 10, 5),  # 4: a, correct, medium
    trace("c", 7, 5, 7, "later"),  # 5: c, correct, same length as 1 but with a longer tag
    trace("d", 42, 3, 1042),  # 6: 1042 mod 1000 = 42: correct
]


def test_select_shortest_correct_by_hand():
    chosen = sft.select_shortest_correct(RECORDS)
    # a: the medium correct trace (the shortest one is wrong); b: none correct, dropped; c: "first" and
    # "later" both have 5 + 5 + 9 characters: a tie, so the earlier one; d: correct mod 1000
    assert chosen == [RECORDS[4], RECORDS[1], RECORDS[6]]
    by_x = sft.select_shortest_correct(RECORDS, length=lambda text: -text.count("x"))  # the longest wins
    assert by_x == [RECORDS[2], RECORDS[1], RECORDS[6]]


def test_select_traces_rules():
    assert sft.select_traces(RECORDS, "all") == RECORDS
    assert sft.select_traces(RECORDS, "all_correct") == [RECORDS[i] for i in (1, 2, 4, 5, 6)]
    assert sft.select_traces(RECORDS, "shortest_correct") == [RECORDS[4], RECORDS[1], RECORDS[6]]


def test_mix_traces_repeats_and_subsamples_by_weight():
    g1 = [{"n": i} for i in range(3)]
    g2 = [{"m": i} for i in range(4)]
    mixed = sft.mix_traces([g1, g2], [2.0, 0.5], np.random.default_rng(0))
    assert mixed[:6] == g1 + g1  # 2 x 3 = 6: two whole copies
    rest = mixed[6:]
    assert len(rest) == 2 and rest == sorted(rest, key=lambda r: r["m"])  # 0.5 x 4 = 2, in file order
    assert len({r["m"] for r in rest}) == 2  # without replacement
    assert len(sft.mix_traces([g1], [1.5], np.random.default_rng(0))) == 5  # floor(4.5 + 0.5)
    assert sft.mix_traces([g1, g2], [0.0, 1.0], np.random.default_rng(0)) == g2
    assert sft.mix_traces([g1, g2], [1.0, 0.25], np.random.default_rng(3)) == sft.mix_traces(
        [g1, g2], [1.0, 0.25], np.random.default_rng(3)
    )


@pytest.fixture(autouse=True)
def one_thread():
    """A tiny model runs fastest on one thread; several spin-wait badly on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def sample_dir(small_sample):
    return small_sample


def correct(record: dict) -> bool:
    return extract_answer(record["messages"][-1]["content"]) == record["answer"]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_cpu_run_masks_the_prompt_and_lowers_the_loss_on_its_batch(sample_dir, tmp_path):
    flags = ["--data_dir", str(sample_dir), "--preset", "cpu", "--max_steps", "2", "--learning_rate", "1e-3"]
    run = parse_run(sft.make_parser, ["--config", str(RECIPES / "sft-cot.yaml"), *flags], sft.cpu_overrides)
    trainer, summary = sft.build_trainer(run, tmp_path)
    cot = read_jsonl(sample_dir / "train" / "cot.jsonl")
    assert summary[0]["traces"] == len(cot) and summary[0]["problems"] == 4
    assert summary[0]["selected"] == len({r["id"] for r in cot if correct(r)})  # one per solvable problem
    assert len(trainer.train_dataset) == summary[0]["selected"]

    # the first example is the first problem's shortest correct trace; only its assistant turn is learned
    tokenizer = trainer.processing_class
    first = next(r for r in cot if correct(r))["id"]
    shortest = min(
        (r for r in cot if r["id"] == first and correct(r)),
        key=lambda r: len(tokenizer(r["messages"][1]["content"], add_special_tokens=False)["input_ids"]),
    )
    example = trainer.train_dataset[0]
    ids, labels = example["input_ids"], example["labels"]
    learned = [i for i, label in zip(ids, labels, strict=True) if label != -100]
    assert tokenizer.decode(learned) == shortest["messages"][1]["content"] + "<|im_end|>"
    start = next(k for k, label in enumerate(labels) if label != -100)
    assert (
        tokenizer.decode(ids[:start])
        == f"<|im_start|>user\n{shortest['messages'][0]['content']}<|im_end|>\n<|im_start|>assistant\n"
    )
    assert [label for label in labels[start:] if label != -100] == ids[start : start + len(learned)]

    batch = trainer.data_collator(
        [{k: trainer.train_dataset[i][k] for k in ("input_ids", "labels")} for i in range(2)]
    )
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with torch.no_grad():
        before = trainer.model(**batch).loss.item()
    trainer.train()
    with torch.no_grad():
        after = trainer.model(**batch).loss.item()
    assert math.isfinite(before) and after < before
    assert any(not torch.equal(initial[k], v) for k, v in trainer.model.state_dict().items())


def test_main_writes_the_run_folder(sample_dir, tmp_path, capsys):
    out = tmp_path / "run"
    sft.main(
        ["--config", str(RECIPES / "sft-tir.yaml"), "--data_dir", str(sample_dir), "--preset", "cpu",
         "--output_dir", str(out), "--max_steps", "1"]
    )  # fmt: skip
    assert f"wrote {out}" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert (config["recipe"], config["preset"], config["script"]["selection"]) == (
        "sft-tir",
        "cpu",
        "all_correct",
    )
    tir = read_jsonl(sample_dir / "train" / "tir.jsonl")
    (selection,) = json.loads((out / "selection.json").read_text())
    assert (selection["traces"], selection["selected"]) == (len(tir), sum(map(correct, tir)))
    log = json.loads((out / "log.json").read_text())
    assert log[0]["step"] == 1 and math.isfinite(log[0]["loss"])
    assert load_file(out / "model" / "model.safetensors")


def test_bad_recipe_values_exit_with_a_one_line_error(sample_dir):
    cot = str(RECIPES / "sft-cot.yaml")
    with pytest.raises(SystemExit) as exit_:
        sft.main(["--config", cot, "--data_dir", str(sample_dir), "--trace_weights", "1", "2"])
    assert str(exit_.value.code) == "error: trace_weights: 2 weights for 1 trace files"
    with pytest.raises(SystemExit) as exit_:
        sft.main(["--config", cot, "--data_dir", str(sample_dir), "--traces", "train/grpo.jsonl"])
    assert "has no field 'messages': not a trace file" in str(exit_.value.code)


def test_an_attention_kernel_outside_the_lock_and_packing_without_flash_attention_are_refused(sample_dir):
    cot = str(RECIPES / "sft-cot.yaml")
    base = ["--config", cot, "--data_dir", str(sample_dir), "--preset", "full"]
    with pytest.raises(SystemExit) as exit_:  # flash-attn is not in the lock, so not installed here
        sft.main([*base, "--attn_implementation", "flash_attention_2"])
    assert "attn_implementation: 'flash_attention_2' needs flash-attn, which uv.lock does not install" in str(
        exit_.value.code
    )
    with pytest.raises(SystemExit) as exit_:
        sft.main([*base, "--packing", "true"])
    assert str(exit_.value.code).endswith(
        "packing: true needs attn_implementation: flash_attention_2 (padding-free packing would let packed "
        "sequences attend to each other under 'sdpa'); set packing: false"
    )
