"""Tool-integrated reasoning: the generate → execute → continue loop, scripted and on a tiny model."""

import re

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from aimo2.answers import extract_answer
from aimo2.backends import Sample, TransformersBackend, partial_turn, render_prompt, token_limits
from aimo2.prompts import build_messages
from aimo2.sandbox import PythonSandbox
from aimo2.tir import CODE_STOP, pending_code, run_tir, run_tir_many
from shared.tiny import tiny_causal_lm

PROBLEM = "What is 6 times 7?"


class ScriptedBackend:
    """Replays canned chunks: sample ``k`` of the first call follows ``scripts[k]``, one chunk per call.

    A continued sample is recognised by its first chunk; a chunk is cut after the stop string like a
    real backend would, and one character counts as one token.
    """

    def __init__(self, scripts: list[list[str]]) -> None:
        self.scripts = scripts
        self.steps = [0] * len(scripts)
        self.calls: list[dict] = []

    def generate(self, prompts, *, n, max_new_tokens, temperature=0.6, top_p=0.95, stop=None, seed=None):
        limits = token_limits(max_new_tokens, len(prompts))
        self.calls.append({"prompts": prompts, "n": n, "limits": limits, "stop": stop})
        rows = []
        for prompt, limit in zip(prompts, limits, strict=True):
            done = partial_turn(prompt)
            keys = (
                range(n)
                if done is None
                else [next(k for k, s in enumerate(self.scripts) if done.startswith(s[0]))]
            )
            rows.append([self._next(k, limit, stop) for k in keys])
        return rows

    def _next(self, k: int, limit: int, stop) -> Sample:
        chunk = self.scripts[k][self.steps[k]]
        self.steps[k] += 1
        for s in stop or ():
            if s in chunk:
                chunk = chunk[: chunk.index(s) + len(s)]
        if len(chunk) > limit:
            return Sample(chunk[:limit], limit, 0.0, "length")
        return Sample(chunk, len(chunk), 0.0, "stop")


def code(snippet: str) -> str:
    return f"Let me compute.\n```python\n{snippet}\n```\n"


@pytest.fixture(scope="module")
def sandbox():
    return PythonSandbox(timeout_s=1.0, cpu_s=2)


def test_pending_code_only_for_a_closed_python_block_at_the_end():
    assert pending_code(code("print(1)")) == "print(1)\n"
    assert pending_code(code("print(1)") + "```output\n1\n```\n") is None
    assert pending_code("```text\nhello\n```\n") is None
    assert pending_code("```python\nprint(1)\n") is None


def test_pending_code_in_openmath_nemotrons_tool_call_format():
    assert (
        pending_code("Let me compute.\n<tool_call>\nprint(6*7)\n</tool_call>", "tool_call") == "print(6*7)\n"
    )
    fenced = "<tool_call>\n```python\nprint(1)\n```\n</tool_call>\n"
    assert pending_code(fenced, "tool_call") == "print(1)\n"  # a fenced body runs the same
    assert pending_code("<tool_call>\n</tool_call>", "tool_call") is None  # nothing to run
    assert pending_code(code("print(1)"), "tool_call") is None  # the other format's block is not a call
    assert pending_code("print(1)\n</tool_call>", "tool_call") is None  # no opening tag


def test_the_tool_call_format_stops_at_the_closing_tag_and_runs_the_call(sandbox):
    call = "I will compute it.\n<tool_call>\nprint(6*7)\n</tool_call>"
    backend = ScriptedBackend([[call, "So the answer is \\boxed{42}."]])
    [sample] = run_tir(backend, PROBLEM, sandbox=sandbox, max_tool_calls=3, max_new_tokens=1000, n=1,
                       tool_format="tool_call")  # fmt: skip
    assert sample.tool_calls == 1 and "```output\n42\n```" in sample.text
    first, _ = backend.calls
    assert first["stop"] == ["</tool_call>"]
    assert "<tool_call>" in first["prompts"][0][0]["content"]  # the prompt asks for the tags
    assert first["prompts"] == [build_messages(PROBLEM, "tir", "tool_call")]
    assert extract_answer(sample.text) == 42
    with pytest.raises(ValueError, match="tool_format: 'xml'"):
        run_tir(
            backend, PROBLEM, sandbox=sandbox, max_tool_calls=1, max_new_tokens=10, n=1, tool_format="xml"
        )


def test_output_is_appended_and_generation_continues(sandbox):
    backend = ScriptedBackend([[code("print(6*7)"), "So the answer is \\boxed{42}."]])
    [sample] = run_tir(backend, PROBLEM, sandbox=sandbox, max_tool_calls=3, max_new_tokens=1000, n=1)
    expected_turn = code("print(6*7)") + "```output\n42\n```\n"
    assert sample.text == expected_turn + "So the answer is \\boxed{42}."
    assert sample.tool_calls == 1 and sample.finish_reason == "stop"
    assert sample.n_tokens == len(code("print(6*7)")) + len("So the answer is \\boxed{42}.")
    first, second = backend.calls
    assert first["prompts"] == [build_messages(PROBLEM, "tir")] and first["stop"] == [CODE_STOP]
    assert second["prompts"] == [
        [*build_messages(PROBLEM, "tir"), {"role": "assistant", "content": expected_turn}]
    ]
    assert second["limits"] == [1000 - len(code("print(6*7)"))]  # the budget is shared by all rounds
    assert extract_answer(sample.text) == 42


def test_max_tool_calls_is_respected(sandbox):
    script = [code("print(1)"), code("print(2)"), code("print(3)"), "\\boxed{6}"]
    backend = ScriptedBackend([script])
    [sample] = run_tir(backend, PROBLEM, sandbox=sandbox, max_tool_calls=2, max_new_tokens=1000, n=1)
    assert sample.tool_calls == 2
    assert [c["stop"] for c in backend.calls] == [[CODE_STOP], [CODE_STOP], None]  # the last round runs free
    assert sample.text.count("```output") == 2
    assert sample.text.endswith(code("print(3)"))  # written after the limit: not run
    [none] = run_tir(
        ScriptedBackend([script]), PROBLEM, sandbox=sandbox, max_tool_calls=0, max_new_tokens=1000, n=1
    )
    assert none.tool_calls == 0 and none.text == code("print(1)")


def test_crashing_and_looping_code_report_their_error_and_the_loop_goes_on(sandbox):
    scripts = [
        [code("print(1 / 0)"), code("print(2)"), "\\boxed{2}"],
        [code("while True:\n    pass"), "\\boxed{7}"],
    ]
    backend = ScriptedBackend(scripts)
    crash, loop = run_tir(backend, PROBLEM, sandbox=sandbox, max_tool_calls=4, max_new_tokens=1000, n=2)
    assert (
        "ZeroDivisionError: division by zero\n```\n" + code("print(2)") + "```output\n2\n```\n" in crash.text
    )
    assert crash.tool_calls == 2 and extract_answer(crash.text) == 2
    assert "```output\nExecution timed out after 1 s\n```\n\\boxed{7}" in loop.text
    assert loop.tool_calls == 1 and extract_answer(loop.text) == 7
    assert [len(c["prompts"]) for c in backend.calls] == [
        1,
        2,
        1,
    ]  # samples advance together, one call a round


def test_a_fence_of_another_block_runs_nothing_and_generation_goes_on(sandbox):
    backend = ScriptedBackend([["Notes:\n```text\nhello\n```\n", "\\boxed{5}"]])
    [sample] = run_tir(backend, PROBLEM, sandbox=sandbox, max_tool_calls=2, max_new_tokens=1000, n=1)
    assert sample.text == "Notes:\n```text\nhello\n```\n\\boxed{5}" and sample.tool_calls == 0


def test_the_token_budget_ends_the_loop(sandbox):
    first = code("print(1)")
    backend = ScriptedBackend([[first, "x" * 500]])
    [sample] = run_tir(
        backend, PROBLEM, sandbox=sandbox, max_tool_calls=4, max_new_tokens=len(first) + 10, n=1
    )
    assert sample.n_tokens == len(first) + 10 and sample.finish_reason == "length"
    [exact] = run_tir(
        ScriptedBackend([[first, "x"]]),
        PROBLEM,
        sandbox=sandbox,
        max_tool_calls=4,
        max_new_tokens=len(first),
        n=1,
    )
    assert exact.finish_reason == "length" and exact.tool_calls == 1  # its code ran, but no budget is left


@pytest.fixture(scope="module")
def memorised_tir_model(tmp_path_factory):
    """A tiny Qwen2 trained until it recites one TIR trace: the loop must stop it at the fence."""
    trace = code("print(6*7)") + "```output\n42\n```\nSo the answer is \\boxed{42}."
    messages = build_messages(PROBLEM, "tir")
    path = tiny_causal_lm([trace, messages[0]["content"]], extra_special_tokens=["<think>", "</think>"])
    tokenizer = AutoTokenizer.from_pretrained(path)
    prompt = render_prompt(tokenizer, messages)
    ids = torch.tensor([tokenizer.encode(prompt + trace + tokenizer.eos_token, add_special_tokens=False)])
    labels = ids.clone()
    labels[:, : len(tokenizer.encode(prompt, add_special_tokens=False))] = -100
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # far faster than two threads on two busy cores
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(path)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    for _ in range(80):
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    out = tmp_path_factory.mktemp("tir-model")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    yield str(out), trace
    torch.set_num_threads(threads)


def test_tiny_model_tool_loop_end_to_end(memorised_tir_model, sandbox):
    path, trace = memorised_tir_model
    backend = TransformersBackend(path, device="cpu")
    samples = run_tir(
        backend, PROBLEM, sandbox=sandbox, max_tool_calls=2, max_new_tokens=80, n=2, temperature=0.0
    )
    for sample in samples:
        assert sample.text == trace  # the "42" in its output block came from the sandbox, not the model
        assert sample.tool_calls == 1
        assert extract_answer(sample.text) == 42


class Doubler:
    """Writes code that doubles the problem's number; continued after the output block, boxes what it printed.
    Counts its calls."""

    def __init__(self):
        self.calls = 0

    def generate(self, prompts, *, n, max_new_tokens, stop=None, **kwargs):
        self.calls += 1
        rows = []
        for prompt in prompts:
            done = partial_turn(prompt)
            if done is None:
                x = int(re.search(r"\d+", prompt[0]["content"]).group())
                text = f"```python\nprint({x} * 2)\n```\n"
            else:
                printed = re.findall(r"```output\n(\d+)", done)[-1]
                text = f"So \\boxed{{{printed}}}."
            rows.append([Sample(text, len(text), 0.0, "stop")] * n)
        return rows


def test_many_problems_advance_together_and_each_gets_its_own_code_run(sandbox):
    backend = Doubler()
    problems = ["Double 4.", "Double 21.", "Double 300."]
    out = run_tir_many(backend, problems, sandbox=sandbox, max_tool_calls=2, max_new_tokens=200, n=2)
    assert [[extract_answer(s.text) for s in samples] for samples in out] == [[8, 8], [42, 42], [600, 600]]
    assert all(s.tool_calls == 1 for samples in out for s in samples)
    assert backend.calls == 2  # one round for all six samples, then one continuation for all of them
    alone = run_tir(Doubler(), problems[1], sandbox=sandbox, max_tool_calls=2, max_new_tokens=200, n=2)
    assert [s.text for s in alone] == [s.text for s in out[1]]
