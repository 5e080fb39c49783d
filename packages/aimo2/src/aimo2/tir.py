r"""Tool-integrated reasoning (NemoSkills, §13.6.2): generate, run the model's Python, feed its output back.

Each sample is generated until it closes a ```python block (the stop string is the closing fence on
its own line), or, in OpenMath-Nemotron's format (``tool_format="tool_call"``), a ``<tool_call>`` ...
``</tool_call>`` span (its code, fenced or not, runs the same way). The block runs in the :class:`~aimo2.sandbox.PythonSandbox`, its ```output block is
appended to the sample's text, and generation continues from there as a partial assistant turn.
A crash, a timeout or a memory kill is output like any other: the traceback or the kill reason goes
back to the model, which can fix its code. After ``max_tool_calls`` executions a sample is continued
without the stop string, so it has to finish in words (code it writes then is not run).
``max_new_tokens`` bounds the tokens a sample generates over all its rounds. The samples of a
problem advance together: each round is one batched ``generate`` call (two when some samples are out
of tool calls), and their code runs in parallel threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aimo2.backends import Backend, Sample
from aimo2.prompts import build_messages
from aimo2.sandbox import PythonSandbox, format_output_block, last_python_block

__all__ = ["CODE_STOP", "TOOL_CALL", "TOOL_CALL_END", "pending_code", "run_tir", "run_tir_many"]

CODE_STOP = "\n```\n"  # a closing fence on its own line
TOOL_CALL, TOOL_CALL_END = "<tool_call>", "</tool_call>"
STOPS = {"markdown": CODE_STOP, "tool_call": TOOL_CALL_END}


def pending_code(text: str, tool_format: str = "markdown") -> str | None:
    """The code to run when ``text`` ends with a closed ```python block, or (``tool_call``) with a closed
    ``<tool_call>`` span, whose code may itself be fenced; anything else (a fence of another block): None."""
    if tool_format == "tool_call":
        end = text.rstrip()
        if not end.endswith(TOOL_CALL_END) or TOOL_CALL not in end:
            return None
        body = end[end.rindex(TOOL_CALL) + len(TOOL_CALL) : -len(TOOL_CALL_END)]
        fenced = last_python_block(body)
        code = fenced if fenced is not None else body.strip("\n") + "\n"
        return code if code.strip() else None
    code = last_python_block(text)
    if code is None or not text.rstrip().endswith(code + "```"):
        return None
    return code


@dataclass
class _Trace:
    text: str = ""
    n_tokens: int = 0
    seconds: float = 0.0
    tool_calls: int = 0
    finish_reason: str = "stop"


def run_tir(backend: Backend, problem: str, **kwargs) -> list[Sample]:
    """``n`` tool-integrated solutions of ``problem``; each Sample's ``tool_calls`` counts its executions. The
    keyword arguments are :func:`run_tir_many`'s (``sandbox``, ``max_tool_calls``, ``max_new_tokens``, ``n``, ...)."""
    return run_tir_many(backend, [problem], **kwargs)[0]


def run_tir_many(
    backend: Backend,
    problems: list[str],
    *,
    sandbox: PythonSandbox,
    max_tool_calls: int,
    max_new_tokens: int,
    n: int,
    temperature: float = 0.6,
    top_p: float = 0.95,
    seed: int | None = None,
    max_workers: int = 4,
    tool_format: str = "markdown",
) -> list[list[Sample]]:
    """:func:`run_tir` for several problems at once, their samples advancing together (one ``generate`` call
    per round for all of them): what an evaluation over many problems needs, where one problem at a time
    would leave a batched backend idle."""
    if max_tool_calls < 0:
        raise ValueError(f"max_tool_calls must be >= 0, got {max_tool_calls}")
    if tool_format not in STOPS:
        raise ValueError(f"tool_format: {tool_format!r} is not one of {sorted(STOPS)}")
    stop = STOPS[tool_format]
    prompts = [build_messages(problem, "tir", tool_format) for problem in problems]
    traces = [_Trace() for _ in range(n * len(problems))]
    first = backend.generate(
        prompts, n=n, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
        stop=[stop] if max_tool_calls else None, seed=seed,
    )  # fmt: skip
    first = [sample for samples in first for sample in samples]
    at_fence = _absorb(traces, list(range(len(traces))), first, stop if max_tool_calls > 0 else None)
    round_ = 0
    while at_fence:
        round_ += 1
        runnable = [
            (i, code) for i in at_fence if (code := pending_code(traces[i].text, tool_format)) is not None
        ]
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            results = list(pool.map(sandbox.run, [code for _, code in runnable]))
        for (i, _), result in zip(runnable, results, strict=True):
            traces[i].text += format_output_block(result) + "\n"
            traces[i].seconds += result.seconds
            traces[i].tool_calls += 1
        for i in at_fence:
            if traces[i].n_tokens >= max_new_tokens:
                traces[i].finish_reason = "length"
        going_on = [i for i in at_fence if traces[i].n_tokens < max_new_tokens]
        at_fence = []
        for with_stop in (True, False):  # samples out of tool calls continue without the stop string
            group = [i for i in going_on if (traces[i].tool_calls < max_tool_calls) == with_stop]
            if not group:
                continue
            outputs = backend.generate(
                [[*prompts[i // n], {"role": "assistant", "content": traces[i].text}] for i in group],
                n=1,
                max_new_tokens=[max_new_tokens - traces[i].n_tokens for i in group],
                temperature=temperature,
                top_p=top_p,
                stop=[stop] if with_stop else None,
                seed=None if seed is None else seed + round_,
            )
            at_fence += _absorb(traces, group, [row[0] for row in outputs], stop if with_stop else None)
    samples = [Sample(t.text, t.n_tokens, t.seconds, t.finish_reason, t.tool_calls) for t in traces]
    return [samples[i : i + n] for i in range(0, len(samples), n)]


def _absorb(traces: list[_Trace], rows: list[int], samples: list[Sample], stop: str | None) -> list[int]:
    """Append each row's new generation; return the rows that stopped at the tool call's ``stop`` string."""
    at_fence = []
    for i, sample in zip(rows, samples, strict=True):
        trace = traces[i]
        trace.text += sample.text
        trace.n_tokens += sample.n_tokens
        trace.seconds += sample.seconds
        trace.finish_reason = sample.finish_reason
        if stop is not None and sample.finish_reason == "stop" and sample.text.endswith(stop):
            at_fence.append(i)
    return at_fence
