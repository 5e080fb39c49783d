"""The sample: deterministic, answers re-derived independently, TIR outputs real, wrong traces controlled."""

import hashlib
import math
import re
from collections import Counter, defaultdict

import pytest

from aimo2.answers import extract_answer
from aimo2.data import load_competition, load_traces
from aimo2.prompts import build_messages
from aimo2.sandbox import PythonSandbox, format_output_block
from aimo2.synth import GENERATORS, WRONG_FRACTION, main, make_sample

N_TRAIN = 16
BLOCK = re.compile(r"```python\n(.*?)```\n```output\n(.*?)\n```", re.DOTALL)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return make_sample(
        tmp_path_factory.mktemp("aimo2") / "sample", n_reference=50, n_test=10, n_train=N_TRAIN
    )


@pytest.fixture(scope="module")
def data(sample_dir):
    return load_competition(sample_dir)


@pytest.fixture(scope="module")
def traces(sample_dir):
    return {name: load_traces(sample_dir / "train" / f"{name}.jsonl") for name in ("cot", "tir", "grpo")}


def digest(directory):
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in directory.rglob("*.*")
    }


def test_same_seed_same_bytes(tmp_path):
    sizes = {"n_reference": 8, "n_test": 2, "n_train": 6}
    a = digest(make_sample(tmp_path / "a", seed=3, **sizes))
    b = digest(make_sample(tmp_path / "b", seed=3, **sizes))
    c = digest(make_sample(tmp_path / "c", seed=4, **sizes))
    assert len(a) == 7 and a == b
    assert all(a[name] != c[name] for name in a)


def test_levels_and_topics_are_spread(data):
    reference = data.metadata.set_index("id").loc[data.reference["id"]]
    # 50 problems = every generator at every level once
    assert Counter(reference["level"]) == {level: 10 for level in range(1, 6)}
    assert set(reference["topic"]) == {
        "number_theory",
        "modular_arithmetic",
        "combinatorics",
        "algebra",
        "geometry",
    }
    assert len(set(data.reference["problem"])) == 50
    assert len(GENERATORS) == 10


def power_mod(problem):
    if m := re.fullmatch(
        r"Find the remainder when \$(\d+)\^\{(\d+)\^\{(\d+)\}\}\$ is divided by \$1000\$\.", problem
    ):
        a, b, c = map(int, m.groups())
        return pow(a, b**c, 1000)
    if m := re.fullmatch(r"Find the remainder when \$(\d+)\^\{(\d+)\}\$ is divided by \$(\d+)\$\.", problem):
        a, b, modulus = map(int, m.groups())
        return pow(a, b, modulus)
    return None


def power_sum(problem):
    if m := re.search(r"\$1 \+ 2 \+ 3 \+ \\cdots \+ (\d+)\$", problem):
        k, n = 1, int(m[1])
    elif m := re.search(
        r"\$1\^\{(\d+)\} \+ 2\^\{\d+\} \+ 3\^\{\d+\} \+ \\cdots \+ (\d+)\^\{\d+\}\$", problem
    ):
        k, n = int(m[1]), int(m[2])
    elif m := re.search(r"\$S = \\sum_\{n=1\}\^\{(\d+)\} n\^\{(\d+)\}\$", problem):
        n, k = int(m[1]), int(m[2])
    else:
        return None
    return sum(i**k for i in range(1, n + 1))


def least_solution(problem):
    pairs = [(int(r), int(m)) for r, m in re.findall(r"n &\\equiv (\d+) \\pmod\{(\d+)\}", problem)]
    pairs += [
        (int(r), int(m)) for m, r in re.findall(r"divided by \$(\d+)\$ the remainder is \$(\d+)\$", problem)
    ]
    if not pairs:
        return None
    return next(n for n in range(1, math.prod(m for _, m in pairs) + 1) if all(n % m == r for r, m in pairs))


def lattice_points(problem):
    m = re.search(r"\$A = \(0,0\)\$, \$B = \((\d+),0\)\$ and \$C = \((-?\d+),(\d+)\)\$", problem)
    if not m:
        return None
    a, c, b = map(int, m.groups())
    vertices = [(0, 0), (a, 0), (c, b)]

    def twice_area(p, q, r):
        return abs((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    whole, count = twice_area(*vertices), 0
    closed = "or on its boundary" in problem
    for x in range(min(0, c), max(a, c) + 1):
        for y in range(b + 1):
            parts = [twice_area((x, y), vertices[i], vertices[(i + 1) % 3]) for i in range(3)]
            if sum(parts) == whole and (closed or min(parts) > 0):
                count += 1
    return count


@pytest.mark.parametrize("solver", [power_mod, power_sum, least_solution, lattice_points])
def test_reference_answers_are_rederived_independently(data, solver):
    checked = 0
    for problem, answer in zip(data.reference["problem"], data.reference["answer"], strict=True):
        value = solver(problem)
        if value is None:
            continue
        checked += 1
        asks_remainder = "is divided by $1000$." in problem
        assert asks_remainder == (value >= 1000) or solver is power_mod, problem
        assert answer == value % 1000, problem
    assert checked == 5  # the generator appears once per level


def test_large_quantities_are_asked_modulo_1000(data):
    asks_remainder = data.reference["problem"].str.contains("is divided by $1000$.", regex=False)
    assert 10 <= asks_remainder.sum() <= 40


def test_training_files_follow_the_interface(data, traces):
    cot, tir, grpo = traces["cot"], traces["tir"], traces["grpo"]
    assert (len(cot), len(tir), len(grpo)) == (3 * N_TRAIN, 2 * N_TRAIN, N_TRAIN)
    held_out = set(data.reference["id"]) | set(data.test["id"])
    assert not {r["id"] for r in grpo} & held_out
    for style, records in (("cot", cot), ("tir", tir)):
        for record in records:
            user, assistant = record["messages"]
            assert user["content"] == build_messages(record["problem"], style)[0]["content"]
            assert assistant["content"].startswith("<think>\n") and "\n</think>\n\n" in assistant["content"]
            assert extract_answer(assistant["content"]) is not None
    for record in grpo:
        assert record["prompt"] == build_messages(record["problem"], "cot")


@pytest.mark.parametrize(("name", "per_problem"), [("cot", 3), ("tir", 2)])
def test_a_controlled_fraction_of_traces_is_wrong(traces, name, per_problem):
    records = traces[name]
    wrong = [extract_answer(r["messages"][1]["content"]) != r["answer"] for r in records]
    assert sum(wrong) == round(WRONG_FRACTION * per_problem * N_TRAIN)
    lengths = defaultdict(list)
    for record in records:
        lengths[record["id"]].append(len(record["messages"][1]["content"]))
    assert all(len(set(values)) == per_problem for values in lengths.values())  # different lengths


def test_cot_styles_differ_in_length(traces):
    by_problem = defaultdict(list)
    for record in traces["cot"]:
        by_problem[record["id"]].append(len(record["messages"][1]["content"]))
    # short, standard, long, in this order; a wrong trace may come from a shorter or longer misreading
    in_order = sum(values == sorted(values) for values in by_problem.values())
    assert in_order >= N_TRAIN // 2


def test_tir_output_blocks_are_what_the_code_prints(traces):
    sandbox = PythonSandbox(timeout_s=30, cpu_s=30)
    outputs = {}
    for record in traces["tir"]:
        content = record["messages"][1]["content"]
        blocks = BLOCK.findall(content)
        assert blocks, content
        for code, output in blocks:
            if code not in outputs:
                outputs[code] = format_output_block(sandbox.run(code))
            assert outputs[code] == f"```output\n{output}\n```", code
        last_printed = int(blocks[-1][1].rsplit("\n", 1)[-1])
        assert extract_answer(content) == last_printed % 1000
    assert any("NameError" in output for output in outputs.values())  # the typo-then-fix variant


def test_cli_writes_the_sample_and_rejects_bad_sizes(tmp_path, capsys):
    main(
        ["--out", str(tmp_path / "s"), "--n-reference", "3", "--n-test", "1", "--n-train", "0", "--seed", "5"]
    )
    assert len(load_competition(tmp_path / "s").reference) == 3
    assert load_traces(tmp_path / "s" / "train" / "cot.jsonl") == []
    with pytest.raises(SystemExit) as info:
        main(["--out", str(tmp_path / "t"), "--n-test", "0"])
    assert info.value.code == "error: n_test must be >= 1, got 0"
