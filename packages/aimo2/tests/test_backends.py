"""The generation backends: prompt rendering, the transformers path on a tiny model, the simulated model."""

import numpy as np
import pandas as pd
import pytest

from aimo2.answers import extract_answer
from aimo2.backends import (
    SimulatedBackend,
    SimulatedClock,
    TransformersBackend,
    render_prompt,
    token_limits,
)
from aimo2.constrained import BoxForcing
from aimo2.data import DataError
from aimo2.prompts import THINK_END, build_messages
from shared.testing import needs
from shared.tiny import tiny_causal_lm


@pytest.fixture(scope="module")
def tiny_path():
    texts = ["<think>\nLet x = 12. Then 3x = 36.\n</think>\n\nThe answer is \\boxed{36}.", "print(6*7)"] * 4
    return str(tiny_causal_lm(texts, extra_special_tokens=["<think>", "</think>"]))


@pytest.fixture(scope="module")
def backend(tiny_path):
    return TransformersBackend(tiny_path, device="cpu")


MESSAGES = build_messages("What is 6 times 7?")


def test_render_prompt_new_turn_partial_turn_and_string(backend):
    tokenizer = backend.tokenizer
    new_turn = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    assert render_prompt(tokenizer, MESSAGES) == new_turn
    assert new_turn.endswith("<|im_start|>assistant\n")
    partial = [*MESSAGES, {"role": "assistant", "content": "<think>\nSo far"}]
    assert render_prompt(tokenizer, partial) == new_turn + "<think>\nSo far"  # no <|im_end|> after it
    assert render_prompt(tokenizer, "raw text") == "raw text"


def test_token_limits():
    assert token_limits(5, 3) == [5, 5, 5]
    assert token_limits([4, 2], 2) == [4, 2]
    with pytest.raises(ValueError, match="2 token limits for 3 prompts"):
        token_limits([4, 2], 3)
    with pytest.raises(ValueError, match=">= 1"):
        token_limits([4, 0], 2)


def test_transformers_samples_respect_each_prompts_token_limit(backend):
    rows = backend.generate([MESSAGES, MESSAGES], n=3, max_new_tokens=[4, 9], temperature=1.0, seed=0)
    assert [len(row) for row in rows] == [3, 3]
    for row, limit in zip(rows, [4, 9], strict=True):
        for sample in row:
            assert 1 <= sample.n_tokens <= limit
            assert sample.finish_reason in ("stop", "length")
            if sample.finish_reason == "length":
                assert sample.n_tokens == limit


def test_transformers_same_seed_same_samples_and_greedy_copies(backend):
    def run(seed):
        rows = backend.generate([MESSAGES], n=2, max_new_tokens=8, temperature=1.0, seed=seed)
        return [(s.text, s.n_tokens, s.finish_reason) for s in rows[0]]

    assert run(11) == run(11)
    assert run(11) != run(12)
    greedy = backend.generate([MESSAGES], n=3, max_new_tokens=8, temperature=0.0)[0]
    assert len({s.text for s in greedy}) == 1  # greedy decoding: three identical copies


def test_transformers_min_p_of_one_keeps_only_the_likeliest_token(backend):
    def run(seed, **kw):
        return [
            s.text
            for s in backend.generate([MESSAGES], n=2, max_new_tokens=8, temperature=1.0, seed=seed, **kw)[0]
        ]

    greedy = backend.generate([MESSAGES], n=1, max_new_tokens=8, temperature=0.0)[0][0].text
    assert run(11, min_p=1.0) == run(12, min_p=1.0) == [greedy, greedy]  # sampling from one token is greedy
    assert run(11) != run(12)  # without it the seeds differ


def test_transformers_stop_string_cuts_after_its_first_occurrence(backend):
    full = backend.generate([MESSAGES], n=1, max_new_tokens=20, temperature=1.0, seed=5)[0][0]
    ids = backend.tokenizer.encode(full.text, add_special_tokens=False)
    pieces = [backend.tokenizer.decode([i]) for i in ids[2:]]
    stop = next(p for p in pieces if p.isascii() and p.strip() and p.isprintable())
    # The same seed draws the same tokens; the stop string only ends the row earlier.
    cut = backend.generate([MESSAGES], n=1, max_new_tokens=20, temperature=1.0, seed=5, stop=[stop])[0][0]
    assert cut.text == full.text[: full.text.index(stop) + len(stop)]
    assert cut.finish_reason == "stop"
    assert cut.n_tokens < full.n_tokens


def test_transformers_force_box_gives_every_sample_an_answer(tiny_path):
    backend = TransformersBackend(tiny_path, device="cpu", force_box=BoxForcing(max_digits=3))
    partial = [*MESSAGES, {"role": "assistant", "content": f"<think>\nok\n{THINK_END}\n\n"}]
    rows = backend.generate([MESSAGES, partial], n=2, max_new_tokens=[20, 16], temperature=1.0, seed=1)
    for row, limit in zip(rows, [20, 16], strict=True):
        for sample in row:
            assert sample.n_tokens <= limit
            assert extract_answer(sample.text) is not None
    assert all(THINK_END not in s.text for s in rows[1])  # the continued turn had already closed it
    with pytest.raises(ValueError, match="no room for the forced box"):
        backend.generate([MESSAGES], n=1, max_new_tokens=5)


PROBLEMS = pd.DataFrame(
    {
        "id": ["a1b2c3", "d4e5f6", "0a0b0c"],
        "problem": ["Find $x$ if $2x = 84$.", "How many primes are below 100?", "Compute $7^{2}$."],
        "answer": [42, 25, 49],
    }
)
METADATA = pd.DataFrame({"id": ["a1b2c3", "d4e5f6", "0a0b0c"], "topic": ["algebra"] * 3, "level": [1, 5, 3]})


def messages_of(i: int) -> list[dict]:
    return build_messages(PROBLEMS["problem"][i])


def simulated(**kwargs) -> SimulatedBackend:
    return SimulatedBackend.from_problems(PROBLEMS, METADATA, seed=0, **kwargs)


def test_simulated_rejects_bad_rows():
    bad = PROBLEMS.assign(answer=[42, 1000, 49])
    with pytest.raises(DataError, match=r"row 2 \(id 'd4e5f6'\), column 'answer': 1000 is not an integer"):
        SimulatedBackend.from_problems(bad)
    with pytest.raises(DataError, match=r"metadata: no row for the problem of row 3 \(id '0a0b0c'\)"):
        SimulatedBackend.from_problems(PROBLEMS, METADATA.iloc[:2])
    with pytest.raises(DataError, match=r"id 'a1b2c3', column 'level': 6 is not"):
        SimulatedBackend.from_problems(PROBLEMS, METADATA.assign(level=[6, 1, 1]))
    with pytest.raises(ValueError, match="not the user message"):
        simulated().generate([build_messages("Some other problem")], n=1, max_new_tokens=100)


def test_simulated_answers_follow_the_problems_distribution():
    backend = simulated()
    for problem_id, text in zip(PROBLEMS["id"], PROBLEMS["problem"], strict=True):
        problem = backend.problems[problem_id]
        samples = backend.generate([build_messages(text, "tir")], n=3000, max_new_tokens=10**6, seed=0)[0]
        answers = [extract_answer(s.text) for s in samples]  # the real parser reads the simulated text
        correct = np.mean([a == problem.answer for a in answers])
        no_box = np.mean([a is None for a in answers])
        assert abs(correct - problem.p_correct) < 0.03  # about 4 standard errors
        assert abs(no_box - problem.p_no_box) < 0.02
        assert set(answers) <= {problem.answer, *problem.distractors, None}
        right = [s.n_tokens for s, a in zip(samples, answers, strict=True) if a == problem.answer]
        wrong = [s.n_tokens for s, a in zip(samples, answers, strict=True) if a not in (problem.answer, None)]
        assert np.median(wrong) > np.median(right)
    levels = {i: backend.problems[i].p_correct for i in PROBLEMS["id"]}
    assert levels["a1b2c3"] > levels["0a0b0c"] > levels["d4e5f6"]  # levels 1, 3, 5


def test_simulated_clock_advances_by_the_longest_sample():
    backend = simulated(tokens_per_second=100.0, clock=SimulatedClock(start=5.0))
    rows = backend.generate([messages_of(0), messages_of(1)], n=4, max_new_tokens=10**6, seed=3)
    longest = max(s.n_tokens for row in rows for s in row)
    assert backend.clock() == pytest.approx(5.0 + longest / 100.0)
    assert all(s.seconds == pytest.approx(s.n_tokens / 100.0) for row in rows for s in row)


def test_simulated_is_deterministic_by_seed_and_call_seed():
    def texts(backend, seed):
        return [s.text for s in backend.generate([messages_of(1)], n=8, max_new_tokens=10**6, seed=seed)[0]]

    assert texts(simulated(), 7) == texts(simulated(), 7)
    assert texts(simulated(), 7) != texts(simulated(), 8)
    backend = simulated()
    texts(backend, 1)
    assert texts(backend, 7) == texts(simulated(), 7)  # earlier calls do not shift a seeded call
    other = SimulatedBackend.from_problems(PROBLEMS, METADATA, seed=1)
    assert texts(other, 7) != texts(simulated(), 7)


def test_simulated_cut_samples_have_no_box_unless_forced():
    limit = 100  # far below every median length
    cut = simulated().generate([messages_of(1)], n=50, max_new_tokens=limit, seed=0)[0]
    assert all(s.finish_reason == "length" and s.n_tokens == limit for s in cut)
    assert all(extract_answer(s.text) is None for s in cut)
    forced = simulated(force_box=BoxForcing()).generate([messages_of(1)], n=50, max_new_tokens=limit, seed=0)[
        0
    ]
    assert all(s.finish_reason == "stop" and s.n_tokens == limit for s in forced)
    assert all(extract_answer(s.text) is not None for s in forced)


@pytest.mark.gpu
def test_vllm_backend_on_cuda(tiny_path, gpu):
    """vLLM's offline engine on the tiny model: per-prompt token limits, forced boxes and stop strings."""
    needs("vllm", "the vllm backend")
    if gpu.type != "cuda":
        pytest.skip(f"vLLM's engine needs CUDA: no dry run on {gpu.type}")
    from aimo2.backends import VLLMBackend

    backend = VLLMBackend(
        tiny_path,
        max_model_len=1024,
        gpu_memory_utilization=0.3,
        force_box=BoxForcing(max_digits=3),
        enforce_eager=True,
    )
    rows = backend.generate([MESSAGES, messages_of(0)], n=4, max_new_tokens=[40, 24], temperature=1.0, seed=0)
    assert [len(row) for row in rows] == [4, 4]
    for row, limit in zip(rows, [40, 24], strict=True):
        for sample in row:
            assert sample.n_tokens <= limit
            assert extract_answer(sample.text) is not None
    stopped = backend.generate([MESSAGES], n=2, max_new_tokens=40, temperature=0.0, stop=["\n"])[0]
    assert all(s.text.count("\n") <= 1 for s in stopped)
