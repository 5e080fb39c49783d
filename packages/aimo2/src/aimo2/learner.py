r"""The CPU model ladder: a tiny Qwen2 that really learns the curriculum, trained and measured by the chapter's code.

``aimo2-reproduce --preset cpu`` writes the curriculum (:func:`aimo2.synth.make_curriculum`) into the run
folder and runs on it what the full preset runs on olympiad data, with the same commands and recipes:

1. **base**: a 2-layer Qwen2 (hidden 192, 1.2M parameters) from :func:`shared.tiny.pretrained_causal_lm`
   with no pretraining step: random weights, and a byte-level BPE trained on the curriculum's text with Qwen2's
   pre-tokenisation, which isolates every digit (arithmetic needs single-digit tokens). Everything the model
   knows comes from the ladder (a brief pretraining on the olympiad sample's text made the fine-tune slower).
2. **sft-cot** and **sft-tir**: ``aimo2-sft`` with the ``sft-cot.yaml`` and ``sft-tir.yaml`` recipes from that
   base, every trace kept (the CoT file holds three lengths of each solution, so that GRPO has length to
   remove), with the sizes of :class:`CurriculumPreset` as flags.
3. **grpo**: ``train-grpo`` with ``grpo.yaml`` from sft-cot: the recipe's rewards, transformers generation.
4. **merge**: ``aimo2-merge``'s 0.3 CoT / 0.7 TIR linear merge.

Each model answers the held-out reference problems greedily and with ``eval_samples`` samples each
(:func:`evaluate`): accuracy per level, tokens per completion, tokens per correct answer. The chosen
model then runs the inference ladder (:func:`aimo2.model_ladder.inference_ladder`) with a budget in decoding steps.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aimo2.answers import extract_answer
from aimo2.backends import Backend, Sample, SimulatedClock, TransformersBackend
from aimo2.data import load_traces
from aimo2.prompts import THINK_END, build_messages
from aimo2.sandbox import PythonSandbox
from aimo2.tir import run_tir_many
from shared.console import progress
from shared.tiny import pretrained_causal_lm

__all__ = ["CurriculumPreset", "Evaluation", "MeteredBackend", "base_model", "evaluate", "levels", "load", "stage_flags"]


@dataclass(frozen=True)
class CurriculumPreset:
    """Sizes of the CPU model ladder, measured to fit in 15 minutes on 2 cores (README, Results)."""

    n_train: int = 1000  # training exercises per level
    n_reference: int = 50  # held-out exercises per level: every model's evaluation and the inference ladder
    n_test: int = 5  # exercises per level without answers: test.csv, which the submission answers
    arch: dict = field(default_factory=lambda: dict(
        vocab_size=2000, hidden_size=192, intermediate_size=768, num_layers=2, num_heads=4, num_kv_heads=2,
        max_position_embeddings=512))  # fmt: skip
    pretrain_steps: int = 0  # 100 steps on the olympiad sample's text slowed the fine-tune down (README)
    sft_cot_steps: int = 850
    sft_tir_steps: int = 300
    sft_learning_rate: float = 3e-3
    batch_size: int = 16
    grpo_steps: int = 60
    grpo_learning_rate: float = 1e-4
    num_generations: int = 8
    max_new_tokens: int = 128  # the longest curriculum trace is 125 tokens (a padded CoT)
    cosine_max_len: int = 600  # characters: about twice the longest CoT trace
    temperature: float = 0.6  # the Solver's default, as on Kaggle
    eval_samples: int = 4
    # the inference ladder: N, batches, early stop, and the budget in decoding steps per problem as a
    # number of batches of the pilot vote-N run
    n_samples: int = 8
    ladder_per_level: int = 15  # the inference ladder's problems: the first of each level of reference.csv
    ladder_batch_size: int = 4
    min_agree: int = 3
    margin: int = 2
    budget_batches: float = 1.5
    repeats: int = 1  # seeds per inference rung
    seed: int = 42


def base_model(curriculum_dir: Path, preset: CurriculumPreset) -> Path:
    """The base of both fine-tunes (cached by ``shared.tiny``): a randomly initialised Qwen2 (``pretrain_steps``
    0) whose digit-level vocabulary is trained on every text the ladder will see."""
    texts = [m["content"] for name in ("cot", "tir") for r in load_traces(curriculum_dir / "train" / f"{name}.jsonl")
             for m in r["messages"]]  # fmt: skip
    return pretrained_causal_lm(texts, steps=preset.pretrain_steps, seed=preset.seed, **preset.arch,
                                extra_special_tokens=("<think>", THINK_END))  # fmt: skip


def stage_flags(preset: CurriculumPreset, stage: str) -> list[str]:
    """The command-line flags that size one training stage of the CPU ladder on top of its recipe."""
    common = [
        "--seed",
        str(preset.seed),
        "--logging_steps",
        "10",
        "--warmup_steps",
        "0.1",
        "--max_grad_norm",
        "1.0",
        "--gradient_accumulation_steps",
        "1",
    ]  # the recipes accumulate 8 micro-batches per step
    if stage in ("sft-cot", "sft-tir"):
        steps = preset.sft_cot_steps if stage == "sft-cot" else preset.sft_tir_steps
        return [*common, "--selection", "all_correct", "--max_steps", str(steps), "--learning_rate",
                str(preset.sft_learning_rate), "--per_device_train_batch_size", str(preset.batch_size),
                "--max_length", "512", "--weight_decay", "0.01", "--adam_beta2", "0.95", "--lr_scheduler_type",
                "cosine_with_min_lr", "--lr_scheduler_kwargs", '{"min_lr_rate": 0.1}']  # fmt: skip
    if stage == "grpo":
        return [*common, "--max_steps", str(preset.grpo_steps), "--learning_rate", str(preset.grpo_learning_rate),
                "--lr_scheduler_type", "constant_with_warmup",
                "--num_generations", str(preset.num_generations), "--per_device_train_batch_size",
                str(preset.num_generations), "--max_completion_length", str(preset.max_new_tokens),
                "--cosine_max_len", str(preset.cosine_max_len), "--temperature", "1.0", "--top_p", "1.0",
                "--min_p", "0.0"]  # fmt: skip
    raise ValueError(f"stage {stage!r} is not one of sft-cot, sft-tir, grpo")


@dataclass
class Evaluation:
    """One model's answers to the held-out problems in one style and mode; ``records`` has one row per
    (sample, problem), ``repeat`` being the sample's index, so two evaluations pair up like two rungs."""

    name: str
    model: str
    style: str
    mode: str  # greedy | sampled
    records: list[dict]
    n_problems: int
    seconds: float

    def summary(self) -> dict:
        frame = pd.DataFrame(self.records)
        correct = frame["correct"].sum()
        row = {
            "model": self.model,
            "style": self.style,
            "mode": self.mode,
            "accuracy": frame["correct"].mean(),
        }
        row |= {f"level {lv}": g["correct"].mean() for lv, g in frame.groupby("level")}
        row |= {"tokens/completion": frame["tokens"].mean(),
                "tokens/correct answer": frame["tokens"].sum() / correct if correct else float("nan"),
                "no answer": frame["answer"].isna().mean(), "wall s": self.seconds}  # fmt: skip
        return row


def evaluate(backend: Backend, problems: pd.DataFrame, *, model: str, style: str, mode: str, samples: int,
             preset: CurriculumPreset, sandbox: PythonSandbox | None = None) -> Evaluation:  # fmt: skip
    """Answers of ``backend`` to every problem (columns id, problem, answer, level): greedy (one answer)
    or ``samples`` samples at the preset's temperature, problems in batches (TIR code runs in the sandbox,
    :func:`aimo2.tir.run_tir_many`)."""
    greedy = mode == "greedy"
    n, temperature = (1, 0.0) if greedy else (samples, preset.temperature)
    rows = list(problems.itertuples(index=False))
    start, records = time.perf_counter(), []
    bar = progress(desc=f"{model} {style} {mode}", total=len(rows), unit="problem")
    chunk = max(1, 64 // n)  # prompts per generate call: the problems advance together
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        seed = preset.seed + i
        sampling = dict(n=n, seed=seed, max_new_tokens=preset.max_new_tokens, temperature=temperature)
        if style == "tir":
            outputs = run_tir_many(
                backend, [r.problem for r in part], sandbox=sandbox, max_tool_calls=2, **sampling
            )
        else:
            outputs = backend.generate([build_messages(r.problem, "cot") for r in part], **sampling)
        for row, drawn in zip(part, outputs, strict=True):
            for k, sample in enumerate(drawn):
                answer = extract_answer(sample.text)
                records.append({"id": row.id, "level": row.level, "repeat": k, "answer": answer,
                                "correct": answer == row.answer, "tokens": sample.n_tokens})  # fmt: skip
        bar.update(len(part))
    bar.close()
    name = f"{model} ({style}, {mode})"
    return Evaluation(name, model, style, mode, records, len(rows), time.perf_counter() - start)


class MeteredBackend:
    """A backend whose clock counts decoding steps: each call advances ``clock`` by the longest sample it
    returned (a batch decodes in parallel), so a gateway and a time budget on ``clock`` count steps, and a
    run's cost does not depend on how fast the machine is."""

    def __init__(self, backend: Backend, clock: SimulatedClock) -> None:
        self.backend, self.clock = backend, clock

    def generate(self, prompts: Sequence, **kwargs) -> list[list[Sample]]:
        out = self.backend.generate(prompts, **kwargs)
        self.clock.advance(max((s.n_tokens for samples in out for s in samples), default=0))
        return out


def sandbox() -> PythonSandbox:
    """The sandbox of the TIR evaluations: the curriculum's code is one ``print``, so short limits."""
    return PythonSandbox(timeout_s=5, cpu_s=5)


def load(model: Path) -> TransformersBackend:
    """A saved model on the CPU in float32, as it was trained."""
    return TransformersBackend(str(model), device="cpu", dtype="float32")


def levels(problems: pd.DataFrame, metadata: pd.DataFrame | None) -> pd.DataFrame:
    """``problems`` with each one's level from ``metadata`` (0 when there is none)."""
    if metadata is None or "level" not in metadata:
        return problems.assign(level=0)
    level = metadata.set_index("id")["level"]
    return problems.assign(level=problems["id"].map(level).fillna(0).astype(int))
