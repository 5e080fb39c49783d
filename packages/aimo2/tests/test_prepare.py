"""``aimo2-prepare-data`` on small files in the public sets' schemas, written here: every kept trace loads as the
chapter's layout, every dropped row is listed with its reason."""

import json

import pandas as pd
import pytest

from aimo2 import prepare
from aimo2.data import DataError, load_traces
from aimo2.prompts import TIR_TOOL_CALL_INSTRUCTION

FMR = [  # Fast-Math-R1-SFT: problem, generation (free-form boxed answers)
    {"problem": "What is 2+3?", "generation": "<think>2+3=5</think> So \\boxed{5}."},
    {
        "problem": "What is 2+3?",
        "generation": "<think>quick</think> \\boxed{5}",
    },  # a second trace, same problem
    {"problem": "Half of one?", "generation": "<think>1/2</think> \\boxed{\\frac{1}{2}}"},  # not an integer
    {"problem": "Find 1000+7.", "generation": "<think>...</think> \\boxed{1007}"},  # mod 1000: 7
    {"problem": "No box?", "generation": "<think>hmm</think> The answer is 4."},
    {"problem": "What is 2+3?", "generation": "<think>oops</think> \\boxed{6}"},  # disagrees with the first
]
OMR = [  # OpenMathReasoning: problem, generated_solution, expected_answer, inference_mode
    {"problem": "Compute 6*7.", "generated_solution": "<think>6*7</think> \\boxed{42}", "expected_answer": "42",
     "inference_mode": "cot"},
    {"problem": "Compute 6*7.", "generated_solution": "<tool_call>\nprint(6*7)\n</tool_call>\n```output\n42\n```\n"
     "\\boxed{42}", "expected_answer": "42", "inference_mode": "tir"},
    {"problem": "Solve x^2=2.", "generated_solution": "\\boxed{\\sqrt{2}}", "expected_answer": "\\sqrt{2}",
     "inference_mode": "cot"},
    {"problem": "Compute 5*5.", "generated_solution": "\\boxed{24}", "expected_answer": "25", "inference_mode": "cot"},
    {"problem": "Pick one.", "generated_solution": "\\boxed{1}", "expected_answer": "1", "inference_mode": "genselect"},
]  # fmt: skip


def test_fast_math_r1_set_becomes_cot_traces_and_grpo_prompts(tmp_path, capsys):
    path = tmp_path / "fmr.parquet"
    pd.DataFrame(FMR).to_parquet(path)
    prepare.main(["--source", "fast-math-r1", "--input", str(path), "--out", str(tmp_path / "data")])
    traces = load_traces(tmp_path / "data" / "train" / "cot.jsonl")
    assert [(t["problem"], t["answer"]) for t in traces] == [("What is 2+3?", 5), ("What is 2+3?", 5),
                                                             ("Find 1000+7.", 7)]  # fmt: skip
    assert traces[0]["id"] == traces[1]["id"] != traces[2]["id"]
    assert traces[0]["messages"][1] == {"role": "assistant", "content": FMR[0]["generation"]}
    prompts = load_traces(tmp_path / "data" / "train" / "grpo.jsonl")
    assert sorted(p["answer"] for p in prompts) == [5, 7] and all("prompt" in p for p in prompts)
    dropped = pd.read_csv(tmp_path / "data" / "dropped.csv")
    assert dropped[["row", "reason"]].values.tolist() == [[3, "no integer answer"], [5, "no integer answer"],
                                                         [6, "inconsistent answer"]]  # fmt: skip
    out = capsys.readouterr().out
    assert "3 traces of 2 problems" in out and "3 rows dropped" in out and "2 x no integer answer" in out


@pytest.mark.parametrize("split", ["cot", "tir"])
def test_openmathreasoning_keeps_its_split_and_checks_the_answers(tmp_path, split):
    path = tmp_path / "omr.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in OMR))
    counts = prepare.prepare("openmathreasoning", [path], tmp_path / "data", split=split)
    traces = load_traces(tmp_path / "data" / "train" / f"{split}.jsonl")
    assert [t["answer"] for t in traces] == [42]
    if split == "tir":  # converted after cot into the same folder: grpo.jsonl keeps the problems of both
        prepare.prepare("openmathreasoning", [path], tmp_path / "both", split="cot")
        prepare.prepare("openmathreasoning", [path], tmp_path / "both", split="tir")
        assert (
            len(load_traces(tmp_path / "both" / "train" / "grpo.jsonl")) == 1
        )  # one problem, not duplicated
    if split == "tir":  # its solutions call tools in <tool_call> tags: the prompt asks for them
        assert TIR_TOOL_CALL_INSTRUCTION in traces[0]["messages"][0]["content"]
        assert counts["dropped"] == 0  # the cot rows are another split's, not drops
    else:
        reasons = pd.read_csv(tmp_path / "data" / "dropped.csv")["reason"].tolist()
        assert reasons == ["answer not an integer", "answer mismatch"]


def test_bad_input_stops_with_one_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("question,answer\nq,1\n")
    with pytest.raises(SystemExit, match=r"^aimo2-prepare-data: .*x\.csv: column 'problem': missing"):
        prepare.main(["--source", "fast-math-r1", "--input", str(path), "--out", str(tmp_path / "o")])
    with pytest.raises(DataError, match="--split: 'tir'"):
        prepare.prepare("fast-math-r1", [path], tmp_path / "o", split="tir")
    with pytest.raises(DataError, match=r"nope\.parquet: file not found"):
        prepare.prepare("fast-math-r1", [tmp_path / "nope.parquet"], tmp_path / "o")
