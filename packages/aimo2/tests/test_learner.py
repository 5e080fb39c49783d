"""The CPU model ladder's parts: a digit-level tokenizer, a fine-tune that learns, evaluations that pair, and a
clock that counts decoding steps."""

import re
from dataclasses import replace

import pandas as pd
import pytest
from transformers import AutoTokenizer

from aimo2 import learner, model_ladder
from aimo2.backends import Sample, SimulatedClock
from aimo2.data import load_competition, load_traces
from aimo2.synth import make_curriculum

TINY = learner.CurriculumPreset(
    n_train=2, n_reference=1, n_test=1, pretrain_steps=2, eval_samples=2, max_new_tokens=96,
    arch=dict(vocab_size=800, hidden_size=64, intermediate_size=256, num_layers=2, num_heads=4, num_kv_heads=2,
              max_position_embeddings=512),
)  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A curriculum of 8 training problems (2 per level) and a base built on it."""
    root = tmp_path_factory.mktemp("learner")
    curriculum = make_curriculum(root / "curriculum", seed=0, n_train=2, n_reference=1, n_test=1)
    return root, curriculum, learner.base_model(curriculum, TINY)


def test_the_tokenizer_keeps_every_digit_apart(tiny):
    _, curriculum, base = tiny
    tokenizer = AutoTokenizer.from_pretrained(base)
    texts = [m["content"] for r in load_traces(curriculum / "train" / "cot.jsonl") for m in r["messages"]]
    texts += ["12345 + 678 = 13023", "x=907, 1000000"]
    for text in texts:
        tokens = tokenizer.convert_ids_to_tokens(tokenizer(text, add_special_tokens=False)["input_ids"])
        assert all(len(t) == 1 for t in tokens if any(c.isdigit() for c in t)), [t for t in tokens if len(t) > 1
                                                                               and re.search(r"\d", t)]  # fmt: skip
        assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text
    # the chat template renders the curriculum's messages, and <think> is one token
    assert len(tokenizer("<think>", add_special_tokens=False)["input_ids"]) == 1


@pytest.mark.slow
def test_sft_on_the_curriculum_lifts_accuracy_on_a_tiny_fixed_subset(tiny):
    """Eight problems, trained on and asked again: the base answers none; 150 steps of the sft-cot recipe on
    their traces make the model answer most of them (memorised: the mechanics of learning, not generalisation)."""
    root, curriculum, base = tiny
    problems = pd.DataFrame([{"id": r["id"], "problem": r["problem"], "answer": r["answer"]}
                             for r in load_traces(curriculum / "train" / "grpo.jsonl")]).assign(level=1)  # fmt: skip
    preset = replace(TINY, sft_cot_steps=150, batch_size=8, sft_learning_rate=5e-3)
    before = learner.evaluate(learner.load(base), problems, model="base", style="cot", mode="greedy", samples=1,
                              preset=preset)  # fmt: skip
    model, log = model_ladder.fine_tune(preset, "sft-cot", curriculum, base, root / "training")
    after = learner.evaluate(learner.load(model), problems, model="sft", style="cot", mode="greedy", samples=1,
                             preset=preset)  # fmt: skip
    assert before.summary()["accuracy"] == 0
    assert after.summary()["accuracy"] >= 0.75
    losses = [e["loss"] for e in log if "loss" in e]
    assert losses[-1] < losses[0] / 5


class Scripted:
    """Answers problem i with ``answers[i]`` in a sample of ``i + 1`` tokens (any batch of prompts)."""

    def __init__(self, answers):
        self.answers = answers

    def generate(self, prompts, *, n, **kwargs):
        index = [next(i for i, p in enumerate(PROBLEMS["problem"]) if p in prompt[0]["content"]) for prompt in prompts]
        return [[Sample(f"\\boxed{{{self.answers[i]}}}", i + 1, 0.0, "stop")] * n for i in index]


PROBLEMS = pd.DataFrame({"id": list("abcd"), "problem": ["p0", "p1", "p2", "p3"], "answer": [1, 2, 3, 4],
                         "level": [1, 1, 2, 2]})  # fmt: skip


def test_an_evaluation_counts_accuracy_per_level_and_tokens_per_correct_answer():
    found = learner.evaluate(Scripted([1, 9, 3, 9]), PROBLEMS, model="m", style="cot", mode="sampled", samples=3,
                             preset=TINY)  # fmt: skip
    summary = found.summary()
    assert summary["accuracy"] == 0.5 and summary["level 1"] == 0.5 and summary["level 2"] == 0.5
    assert summary["tokens/completion"] == pytest.approx((1 + 2 + 3 + 4) / 4)
    assert summary["tokens/correct answer"] == pytest.approx(3 * (1 + 2 + 3 + 4) / 6)
    records = pd.DataFrame(found.records)
    assert sorted(records["repeat"].unique()) == [0, 1, 2] and len(records) == 12  # pairs up by (repeat, id)


def test_the_metered_clock_counts_the_longest_sample_of_each_call():
    clock = SimulatedClock()
    metered = learner.MeteredBackend(Scripted([0, 0, 0, 0]), clock)
    metered.generate([[{"role": "user", "content": "p1"}], [{"role": "user", "content": "p3"}]], n=2)
    assert clock() == 4
    metered.generate([[{"role": "user", "content": "p0"}]], n=1)
    assert clock() == 5


def test_every_stage_has_its_flags_and_an_unknown_one_is_refused():
    assert "--selection" in learner.stage_flags(TINY, "sft-tir")
    assert learner.stage_flags(TINY, "grpo")[learner.stage_flags(TINY, "grpo").index("--num_generations") + 1] == "8"
    with pytest.raises(ValueError, match="stage 'dpo'"):
        learner.stage_flags(TINY, "dpo")


def test_levels_come_from_the_metadata(tmp_path):
    curriculum = make_curriculum(tmp_path / "c", n_train=1, n_reference=2, n_test=1)
    competition = load_competition(curriculum)
    problems = learner.levels(competition.reference, competition.metadata)
    assert problems["level"].value_counts().to_dict() == {1: 2, 2: 2, 3: 2, 4: 2}
    assert (learner.levels(competition.reference, None)["level"] == 0).all()
