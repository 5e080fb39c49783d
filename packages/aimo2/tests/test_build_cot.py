"""CoT data building: only solutions whose boxed answer is right are kept, in the layout aimo2-sft reads."""

import json
from dataclasses import replace

import pandas as pd
import pytest

from aimo2 import build_cot
from aimo2.answers import extract_answer
from aimo2.backends import SimulatedBackend, TransformersBackend
from aimo2.build_cot import build_traces, load_records, main
from aimo2.data import load_traces
from aimo2.prompts import build_messages
from aimo2.sft import select_shortest_correct


def test_keeps_exactly_the_correct_samples(small_sample, tmp_path):
    records = load_records(small_sample / "train" / "grpo.jsonl")
    problems = pd.DataFrame(records)
    kept, stats = build_traces(SimulatedBackend.from_problems(problems, seed=3), records, n_samples=12,
                               max_new_tokens=100_000, seed=5)  # fmt: skip
    # the same draws again, judged here: the kept count must equal the correct count, problem by problem
    replay = SimulatedBackend.from_problems(problems, seed=3)
    expected = {}
    for i, r in enumerate(records):
        samples = replay.generate([build_messages(r["problem"])], n=12, max_new_tokens=100_000, seed=5 + i)[0]
        expected[r["id"]] = sum(extract_answer(s.text) == r["answer"] for s in samples)
    assert stats["correct_per_problem"] == expected
    assert stats["correct"] == len(kept) == sum(expected.values()) and stats["samples"] == 12 * len(records)
    assert 0 < len(kept) < 12 * len(records)  # the simulated teacher is sometimes wrong: the filter did work
    assert all(extract_answer(t["messages"][-1]["content"]) == t["answer"] for t in kept)
    path = tmp_path / "traces.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in kept))
    assert len(select_shortest_correct(load_traces(path))) == stats["problems_with_a_correct_trace"]


def test_cpu_preset_keeps_what_the_tiny_teacher_got_right(small_sample, tmp_path, monkeypatch):
    """The real tiny teacher samples; a spy then makes its first sample of each problem right (a random
    model almost never is), so the end-to-end filter has something to keep and something to drop."""
    answers = {r["problem"]: r["answer"] for r in load_records(small_sample / "train" / "grpo.jsonl")}
    drawn = []

    class RightOnce(TransformersBackend):
        def generate(self, prompts, **kwargs):
            rows = super().generate(prompts, **kwargs)
            for prompt, row in zip(prompts, rows, strict=True):
                answer = next(a for p, a in answers.items() if p in prompt[-1]["content"])
                row[0] = replace(row[0], text=row[0].text + f" \\boxed{{{answer}}}")
                drawn.extend(row)
            return rows

    monkeypatch.setattr(build_cot, "TransformersBackend", RightOnce)
    main(["--data-dir", str(small_sample), "--output-dir", str(tmp_path), "--preset", "cpu"])
    stats = json.loads((tmp_path / "stats.json").read_text())
    n_problems = min(len(answers), 8)
    assert stats["problems"] == n_problems and stats["samples"] == 2 * n_problems == len(drawn)
    assert all(sample.n_tokens > 0 for sample in drawn)  # the teacher really generated
    kept = [json.loads(line) for line in (tmp_path / "traces.jsonl").read_text().splitlines()]
    assert stats["problems_with_a_correct_trace"] == n_problems and stats["correct"] == len(kept)
    assert n_problems <= len(kept) < 2 * n_problems
    assert all(extract_answer(t["messages"][-1]["content"]) == t["answer"] for t in kept)
    assert {t["messages"][-1]["content"] for t in kept} >= {s.text for s in drawn[::2]}


def test_a_bad_preset_backend_or_style_is_a_one_line_config_error():
    for flag, value in (("--preset", "gpu"), ("--backend", "openai"), ("--style", "poem")):
        with pytest.raises(SystemExit, match=f"^error: {flag[2:]}: '{value}' is not one of"):
            main([flag, value])
