"""CoT data building: only solutions whose boxed answer is right are kept, in the layout aimo2-sft reads."""

import json

import pandas as pd

from aimo2.answers import extract_answer
from aimo2.backends import SimulatedBackend
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


def test_cpu_preset_runs_a_tiny_teacher_end_to_end(small_sample, tmp_path):
    main(["--data_dir", str(small_sample), "--output_dir", str(tmp_path), "--preset", "cpu"])
    stats = json.loads((tmp_path / "stats.json").read_text())
    n_problems = len(load_records(small_sample / "train" / "grpo.jsonl"))
    assert stats["problems"] == min(n_problems, 8) and stats["samples"] == 2 * stats["problems"]
    kept = (tmp_path / "traces.jsonl").read_text().splitlines()
    assert len(kept) == stats["correct"]  # a random tiny model is rarely right: usually none kept
