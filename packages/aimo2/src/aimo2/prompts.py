r"""Prompt templates of the AIMO2 write-ups, in one place so data building, training and inference agree.

DeepSeek-R1-Distill models were trained to answer "reason step by step ... within \boxed{}" after the
problem, with no system prompt; Fast-Math-R1 (§13.7.1) adds the modulo-1000 reminder because the
competition wants the remainder. NemoSkills' tool-integrated prompt (§13.6.2) invites the model to
interleave ```python blocks, whose printed output comes back in an ```output block.
"""

from __future__ import annotations

__all__ = ["COT_INSTRUCTION", "STYLES", "THINK_END", "TIR_INSTRUCTION", "TOOL_FORMATS", "build_messages"]

THINK_END = "</think>"

COT_INSTRUCTION = (
    "Please reason step by step, and put your final answer within \\boxed{}. "
    "The answer is an integer between 0 and 999; if it is larger, give it modulo 1000."
)

TIR_INSTRUCTION = (
    "Solve the following math problem, integrating natural language reasoning with Python code. "
    "Write code in ```python blocks that print their results; each block's output will be shown to you "
    "in an ```output block. Put your final answer within \\boxed{}. "
    "The answer is an integer between 0 and 999; if it is larger, give it modulo 1000."
)

# OpenMath-Nemotron's tool calls (NemoSkills' AIMO2 models): code between <tool_call> and </tool_call>
TIR_TOOL_CALL_INSTRUCTION = (
    "Solve the following math problem, integrating natural language reasoning with Python code. "
    "Write code between <tool_call> and </tool_call> that prints its results; the output will be shown to you "
    "in an ```output block. Put your final answer within \\boxed{}. "
    "The answer is an integer between 0 and 999; if it is larger, give it modulo 1000."
)

STYLES = {"cot": COT_INSTRUCTION, "tir": TIR_INSTRUCTION}
TOOL_FORMATS = {"markdown": TIR_INSTRUCTION, "tool_call": TIR_TOOL_CALL_INSTRUCTION}


def build_messages(problem: str, style: str = "cot", tool_format: str = "markdown") -> list[dict[str, str]]:
    """Chat messages for one problem: a single user turn, the problem followed by the style's instruction (for
    ``tir``, the one of ``tool_format``: ```python blocks, or OpenMath-Nemotron's <tool_call> tags)."""
    if style not in STYLES:
        raise ValueError(f"unknown prompt style {style!r}; expected one of {sorted(STYLES)}")
    if tool_format not in TOOL_FORMATS:
        raise ValueError(f"unknown tool format {tool_format!r}; expected one of {sorted(TOOL_FORMATS)}")
    instruction = TOOL_FORMATS[tool_format] if style == "tir" else STYLES[style]
    return [{"role": "user", "content": f"{problem.strip()}\n\n{instruction}"}]
