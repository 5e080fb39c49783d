r"""``aimo2-prepare-data --source fast-math-r1|openmathreasoning --input FILE [...] --out DIR``: the public training
sets of the write-ups in the chapter's layout, so ``aimo2-sft`` and ``train-grpo`` can read them.

- **Fast-Math-R1's SFT set** (RabotniKuma/Fast-Math-R1-SFT): ``problem`` and ``generation``, an R1 trace whose last
  ``\boxed{}`` holds a free-form answer. The answer is that box read as an integer mod 1000
  (:func:`aimo2.answers.extract_answer`); a trace whose box is not an integer (``\frac{1}{2}``, ``x+1``) or that
  has no box is dropped. Traces go to ``train/cot.jsonl``.
- **OpenMathReasoning** (nvidia/OpenMathReasoning): ``problem``, ``generated_solution``, ``expected_answer`` and
  ``inference_mode`` (cot, tir, genselect); ``--split cot|tir`` keeps that mode's rows, written to
  ``train/cot.jsonl`` or ``train/tir.jsonl`` (TIR prompts in the ``tool_call`` format its solutions use). A row is
  dropped when ``expected_answer`` is not an integer, or when the solution's own boxed answer differs from it.

Every file is read whole (``.parquet``, ``.jsonl``/``.json`` lines, or ``.csv``; ``--max-rows`` keeps the first N).
Problems get ids from their text (several traces of one problem share one); a trace whose answer differs from an
earlier trace of the same problem is dropped. ``train/grpo.jsonl`` gets one CoT prompt per kept problem (added to
the prompts already there, so converting the cot and the tir split into one folder keeps both's problems). Nothing is
dropped silently: ``dropped.csv`` lists every dropped row (file, row, reason) and the command prints the counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from aimo2.answers import extract_answer, parse_integer_answer
from aimo2.data import DataError, load_traces
from aimo2.prompts import build_messages

SOURCES = {
    "fast-math-r1": ("problem", "generation"),
    "openmathreasoning": ("problem", "generated_solution", "expected_answer"),
}
SPLITS = ("cot", "tir")


def read_table(path: Path, max_rows: int | None = None) -> pd.DataFrame:
    """A parquet, JSON-lines or CSV file as a frame (its first ``max_rows`` rows)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=True, dtype=False)
        elif suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raise DataError(f"{path}: not a .parquet, .jsonl or .csv file")
    except (ValueError, OSError) as err:
        raise DataError(f"{path}: cannot be read ({str(err).splitlines()[0]})") from None
    return frame.head(max_rows) if max_rows else frame


def problem_id(problem: str) -> str:
    return hashlib.sha1(problem.strip().encode()).hexdigest()[:12]


def convert(frame: pd.DataFrame, source: str, split: str, name: str) -> tuple[list[dict], list[tuple]]:
    """(house records, dropped rows as (file, row, reason, detail)) of one file; rows count from 1."""
    missing = [c for c in SOURCES[source] if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name}: column '{missing[0]}': missing (a {source} file has {', '.join(SOURCES[source])})"
        )
    records, dropped = [], []
    style = "cot" if source == "fast-math-r1" else split
    tool_format = "tool_call" if style == "tir" else "markdown"
    for row, item in enumerate(frame.to_dict("records"), start=1):
        if source == "openmathreasoning" and "inference_mode" in item and item["inference_mode"] != split:
            continue  # another split's row: not this run's, not a drop
        problem = item["problem"]
        if not isinstance(problem, str) or not problem.strip():
            dropped.append((name, row, "empty problem", ""))
            continue
        solution = item["generation" if source == "fast-math-r1" else "generated_solution"]
        if not isinstance(solution, str) or not solution.strip():
            dropped.append((name, row, "empty solution", ""))
            continue
        boxed = extract_answer(solution)
        if source == "fast-math-r1":
            if boxed is None:
                dropped.append(
                    (name, row, "no integer answer", "the last \\boxed{} holds no integer, or there is none")
                )
                continue
            answer = boxed
        else:
            answer = parse_integer_answer(str(item["expected_answer"]))
            if answer is None:
                dropped.append(
                    (name, row, "answer not an integer", f"expected_answer {item['expected_answer']!r}")
                )
                continue
            if boxed != answer:
                dropped.append(
                    (name, row, "answer mismatch", f"the solution boxes {boxed}, expected_answer is {answer}")
                )
                continue
        messages = [*build_messages(problem, style, tool_format), {"role": "assistant", "content": solution}]
        records.append({"id": problem_id(problem), "problem": problem.strip(), "answer": answer,
                        "messages": messages, "_row": (name, row)})  # fmt: skip
    return records, dropped


def consistent(records: list[dict]) -> tuple[list[dict], list[tuple]]:
    """The records whose answer agrees with the first trace of their problem, and the others as drops."""
    first: dict[str, int] = {}
    kept, dropped = [], []
    for record in records:
        answer = first.setdefault(record["id"], record["answer"])
        if record["answer"] != answer:
            name, row = record["_row"]
            detail = f"answer {record['answer']}, an earlier trace of the problem {answer}"
            dropped.append((name, row, "inconsistent answer", detail))
        else:
            kept.append(record)
    return kept, dropped


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(
                json.dumps({k: v for k, v in record.items() if not k.startswith("_")}, ensure_ascii=False)
            )
            out.write("\n")


def prepare(
    source: str, inputs: list[Path], out: Path, split: str = "cot", max_rows: int | None = None
) -> dict:
    """Convert ``inputs`` into ``out/train/{split}.jsonl``, ``out/train/grpo.jsonl`` and ``out/dropped.csv``."""
    if source not in SOURCES:
        raise DataError(f"--source: {source!r} is not one of {' | '.join(SOURCES)}")
    if split not in SPLITS or (source == "fast-math-r1" and split != "cot"):
        raise DataError(f"--split: {split!r}: fast-math-r1 has cot traces; openmathreasoning cot or tir")
    records, dropped = [], []
    for path in inputs:
        converted, lost = convert(read_table(path, max_rows), source, split, str(path))
        records += converted
        dropped += lost
    records, lost = consistent(records)
    dropped += lost
    write_jsonl(out / "train" / f"{split}.jsonl", records)
    problems = {r["id"]: r for r in records}
    grpo = out / "train" / "grpo.jsonl"  # kept across runs: --split cot then --split tir add up
    earlier = {r["id"]: r for r in load_traces(grpo)} if grpo.is_file() else {}
    prompts = earlier | {r["id"]: {"id": r["id"], "problem": r["problem"], "answer": r["answer"],
                                   "prompt": build_messages(r["problem"], "cot")} for r in problems.values()}  # fmt: skip
    write_jsonl(grpo, list(prompts.values()))
    pd.DataFrame(dropped, columns=["file", "row", "reason", "detail"]).to_csv(
        out / "dropped.csv", index=False
    )
    reasons = Counter(reason for _, _, reason, _ in dropped)
    return {
        "traces": len(records),
        "problems": len(problems),
        "dropped": len(dropped),
        "reasons": dict(reasons),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", required=True, choices=sorted(SOURCES))
    parser.add_argument("--input", nargs="+", required=True, help="the set's files (.parquet, .jsonl, .csv)")
    parser.add_argument("--out", required=True, help="the data folder to write train/ into")
    parser.add_argument("--split", default="cot", choices=SPLITS, help="openmathreasoning: cot or tir")
    parser.add_argument(
        "--max-rows", "--max_rows", type=int, default=None, help="the first N rows of each file"
    )
    args = parser.parse_args(argv)
    try:
        counts = prepare(
            args.source, [Path(p) for p in args.input], Path(args.out), args.split, args.max_rows
        )
    except DataError as err:
        sys.exit(f"aimo2-prepare-data: {err}")
    print(f"aimo2-prepare-data: {counts['traces']} traces of {counts['problems']} problems into "
          f"{args.out}/train/{args.split}.jsonl (+ grpo.jsonl); {counts['dropped']} rows dropped, each with its "
          f"reason in {args.out}/dropped.csv")  # fmt: skip
    for reason, n in sorted(counts["reasons"].items()):
        print(f"  dropped: {n} x {reason}")


if __name__ == "__main__":
    main()
