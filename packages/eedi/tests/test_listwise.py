"""The listwise reranker: the letters' logits processor leaves no probability elsewhere (and generate only
emits a candidate letter), averaging over all orders makes the scores independent of the candidates' order,
training rows shuffle the truth's letter and put a missing truth in, truncation cuts only the question, and
LoRA training raises the truth letter's probability on a planted task, with an offline save/load round trip."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessorList

from eedi import listwise
from shared.llm import ensure_padding
from shared.tiny import resolve_backbone

FRUIT = ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "olive", "peach", "pear", "plum", "lime",
         "kiwi", "fig", "date", "guava"]  # fmt: skip
RARE = ["zygote", "quasar", "nebula", "prism"]
DOCS = [f"Thinks every {w} is a whole number" for w in FRUIT] + [f"Believes the {w} is special" for w in RARE]
QUERY = (
    "Construct: Add fractions\nSubject: Fractions\nQuestion: \\( \\frac{1}{2}+\\frac{1}{3} \\) what is the sum of "
    "the two fractions in its lowest terms\nCorrect answer: \\( \\frac{5}{6} \\)\nIncorrect answer: \\( \\frac{2}{5} \\)"
)


def planted(n: int, seed: int, k: int = 3) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Queries about one of the rare words, whose truth is the misconception naming that word, listed
    among k - 1 fruit ones in random order."""
    rng = np.random.default_rng(seed)
    queries, candidates, truth = [], [], []
    for _ in range(n):
        r = int(rng.integers(len(RARE)))
        queries.append(f"Construct: Count\nSubject: Number\nQuestion: How many {RARE[r]} are in the box?\n"
                       f"Correct answer: 3\nIncorrect answer: {int(rng.integers(4, 9))}")  # fmt: skip
        candidates.append(rng.permutation([len(FRUIT) + r, *rng.choice(len(FRUIT), k - 1, replace=False)]))
        truth.append(len(FRUIT) + r)
    return queries, np.array(candidates), np.array(truth)


@pytest.fixture(scope="module")
def tiny():
    queries, _, _ = planted(8, 0)
    path = resolve_backbone("tiny:qwen2", [*listwise.PROMPT_TEXTS, QUERY, *queries, *DOCS])
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return path, tokenizer, model


def config(path: str, **changes) -> SimpleNamespace:
    values = dict(
        listwise_backbone=path, listwise_candidates=3, listwise_max_length=256, listwise_learning_rate=5e-3,
        listwise_epochs=10.0, listwise_batch_size=8, listwise_gradient_accumulation_steps=1, lora_r=8,
        lora_alpha=16, lora_dropout=0.0, lora_target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        load_in_4bit=False, bf16=False, attn_implementation="sdpa", gradient_checkpointing=False,
        warmup_ratio=0.0, weight_decay=0.0, scheduler="constant", seed=0, inference_backend="transformers",
        tensor_parallel_size=1, max_model_len=1024, gpu_memory_utilization=0.9, quantization="",
        enable_prefix_caching=True,
    )  # fmt: skip
    return SimpleNamespace(**(values | changes))


def reranker_of(tiny, **settings) -> listwise.ListwiseReranker:
    path, tokenizer, model = tiny
    values = {**vars(config(path)), "base": path, "max_length": 256, "batch_size": 4} | settings
    return listwise.ListwiseReranker(model, tokenizer, values)


def test_the_processor_leaves_zero_probability_outside_the_candidate_letters():
    logits = torch.randn(4, 50) * 10
    allowed = (7, 3, 41)
    proba = listwise.CandidateLetters(allowed)(torch.zeros(4, 1, dtype=torch.long), logits).softmax(-1)
    outside = torch.ones(50, dtype=torch.bool)
    outside[list(allowed)] = False
    assert (proba[:, outside] == 0).all()
    torch.testing.assert_close(proba[:, list(allowed)], logits[:, list(allowed)].softmax(-1))


def test_generate_only_emits_a_candidate_letter_and_agrees_with_the_scores(tiny):
    _, tokenizer, model = tiny
    assert len(listwise.letter_ids(tokenizer, 52)) == 52  # PROMPT_TEXTS make every letter one token
    allowed = listwise.letter_ids(tokenizer, 3)
    assert [tokenizer.decode([i]).strip() for i in allowed] == ["A", "B", "C"]
    ids = torch.tensor([listwise.encode(tokenizer, QUERY, DOCS[:3], 256)])
    processors = LogitsProcessorList([listwise.CandidateLetters(allowed)])
    torch.manual_seed(0)
    sampled = model.generate(
        ids, attention_mask=torch.ones_like(ids), max_new_tokens=1, do_sample=True, temperature=1.0, top_k=0,
        top_p=1.0, num_return_sequences=200, logits_processor=processors,
    )[:, -1]  # fmt: skip
    assert set(sampled.tolist()) == set(allowed)  # all three letters, nothing else
    with torch.no_grad():
        scores = listwise.letter_scores(model, ids, torch.ones_like(ids), allowed)[0]
        greedy = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=1, do_sample=False,
                                logits_processor=processors)[0, -1]  # fmt: skip
    assert float(scores.exp().sum()) == pytest.approx(1.0, abs=1e-6)
    assert int(greedy) == allowed[int(scores.argmax())]
    counts = np.bincount([allowed.index(t) for t in sampled.tolist()], minlength=3) / 200
    np.testing.assert_allclose(counts, scores.exp().numpy(), atol=0.12)  # sampled from that distribution


def test_orders_cover_the_positions():
    assert listwise.orders(3, 1) == [(0, 1, 2)]
    assert listwise.orders(3, 2) == [(0, 1, 2), (2, 1, 0)]
    assert (
        sorted(listwise.orders(3, 6)) == sorted(listwise.orders(3, 100)) and len(listwise.orders(3, 6)) == 6
    )
    shifts = listwise.orders(5, 6)  # identity, reverse, then the identity's shifts
    assert shifts[2:] == [(1, 2, 3, 4, 0), (2, 3, 4, 0, 1), (3, 4, 0, 1, 2), (4, 0, 1, 2, 3)]
    latin = np.array([shifts[0], *shifts[2:]])
    assert all(sorted(col) == list(range(5)) for col in latin.T)  # each candidate at each letter once
    many = listwise.orders(5, 15, seed=3)
    assert len(set(many)) == 15 and many == listwise.orders(5, 15, seed=3)
    with pytest.raises(ValueError, match="permutations: 0"):
        listwise.orders(3, 0)


def test_averaging_all_orders_makes_the_scores_independent_of_the_candidates_order(tiny):
    reranker = reranker_of(tiny)
    queries = [QUERY, "Question: How many prism are in the box?"]
    candidates = np.array([[16, 3, 9], [5, 19, 0]])
    perm = [2, 0, 1]
    full = reranker.scores(queries, candidates, DOCS, permutations=math.factorial(3))
    np.testing.assert_allclose(reranker.scores(queries, candidates[:, perm], DOCS, permutations=6), full[:, perm],
                               atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(np.exp(full).sum(1), 1.0, atol=0.05)  # a mean of log-probabilities, nearly one
    one = reranker.scores(queries, candidates, DOCS)
    assert np.abs(reranker.scores(queries, candidates[:, perm], DOCS)[:, np.argsort(perm)] - one).max() > 1e-4
    np.testing.assert_allclose(np.exp(one).sum(1), 1.0, atol=1e-5)
    # the reranker's batches give what one prompt alone gives
    ids = torch.tensor(
        [listwise.encode(reranker.tokenizer, queries[1], [DOCS[c] for c in candidates[1]], 256)]
    )
    alone = listwise.letter_scores(
        reranker.model, ids, torch.ones_like(ids), listwise.letter_ids(reranker.tokenizer, 3)
    )
    np.testing.assert_allclose(one[1], alone[0].detach().numpy(), atol=1e-5)


def test_training_rows_shuffle_the_truth_and_put_a_missing_one_in():
    rng = np.random.default_rng(0)
    candidates = np.array([rng.permutation(30)[:6] for _ in range(400)])
    truth = np.where(np.arange(400) % 4 == 0, 99, candidates[:, 0])  # every 4th row misses its truth
    columns, labels, inserted = listwise.training_rows(candidates, truth, 4, seed=0)
    assert inserted == 100
    assert (columns[np.arange(400), labels] == truth).all()
    assert all(
        set(c) == set(row[:3]) | {99} for c, row in zip(columns[::4], candidates[::4], strict=True)
    )  # last one out
    assert all(set(c) == set(row[:4]) for c, row in zip(columns[1::4], candidates[1::4], strict=True))
    counts = np.bincount(labels, minlength=4)
    assert counts.min() > 70  # every letter carries the truth about as often (first position in the input)
    again = listwise.training_rows(candidates, truth, 4, seed=0)
    assert (again[0] == columns).all() and (again[1] == labels).all()


def test_truncation_cuts_the_question_text_never_the_listing_or_cue(tiny):
    _, tokenizer, _ = tiny
    names = DOCS[:3]
    whole = listwise.encode(tokenizer, QUERY, names, 10_000)
    cut = listwise.encode(tokenizer, QUERY, names, len(whole) - 12)
    assert len(cut) == len(whole) - 12
    text = tokenizer.decode(cut)
    assert text.endswith("\nIncorrect answer: \\( \\frac{2}{5} \\)\n\nMisconceptions:\nA. Thinks every apple is a "
                         "whole number\nB. Thinks every banana is a whole number\nC. Thinks every cherry is a whole "
                         "number\nAnswer:")  # fmt: skip
    assert "lowest terms" in tokenizer.decode(whole) and "lowest terms" not in text


def test_bad_inputs_are_named(tiny):
    path, _, _ = tiny
    reranker = reranker_of(tiny)
    with pytest.raises(ValueError, match=r"candidates: row 0, column 1: 99 is not a document index"):
        reranker.scores(["q"], np.array([[0, 99]]), DOCS)
    with pytest.raises(ValueError, match=r"listwise candidates: 53, expected 1\.\.52"):
        listwise.letter_ids(reranker.tokenizer, 53)
    with pytest.raises(ValueError, match="candidates: 2 columns, fewer than listwise_candidates=3"):
        listwise.fit(config(path), ["q"], np.array([[0, 1]]), np.array([0]), DOCS, desc="bad")
    with pytest.raises(ValueError, match="a row repeats a document among its first 3 columns"):
        listwise.fit(config(path), ["q"], np.array([[0, 1, 0]]), np.array([0]), DOCS, desc="bad")


def truth_logprob(scores: np.ndarray, candidates: np.ndarray, truth: np.ndarray) -> float:
    return float(scores[candidates == truth[:, None]].mean())


@pytest.mark.slow
def test_lora_training_raises_the_truth_letter_and_round_trips(tiny, tmp_path):
    """The truth is the candidate that names a rare word (as the query does) at a shuffled letter: the
    adapters must find which letter's line holds it."""
    path, tokenizer, model = tiny
    queries, candidates, truth = planted(48, seed=1)
    for i in range(5):  # five rows whose retrieval missed the truth
        candidates[i, candidates[i] == truth[i]] = next(
            c for c in range(len(FRUIT)) if c not in candidates[i]
        )
    reranker = listwise.fit(config(path), queries, candidates, truth, DOCS, desc="test listwise")
    assert reranker.truth_inserted == 5
    untrained = listwise.ListwiseReranker(model, tokenizer, reranker.settings)
    held_out = planted(24, seed=2)
    before = truth_logprob(untrained.scores(*held_out[:2], DOCS), *held_out[1:])
    after = truth_logprob(reranker.scores(*held_out[:2], DOCS), *held_out[1:])
    assert before == pytest.approx(math.log(1 / 3), abs=0.15) and after > math.log(0.55), (before, after)
    reversed_too = reranker.scores(*held_out[:2], DOCS, permutations=2)
    assert truth_logprob(reversed_too, *held_out[1:]) > math.log(0.55)

    reranker.save(tmp_path / "listwise")
    loaded = listwise.load(tmp_path / "listwise")
    np.testing.assert_allclose(loaded.scores(*held_out[:2], DOCS, permutations=2), reversed_too, atol=1e-6)
