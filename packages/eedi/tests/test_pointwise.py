"""The pointwise reranker: the shared-prefix KV cache scores exactly what one forward per pair does,
truncation cuts only the question text, hard negatives come from the retrieval candidates, and LoRA training
learns a planted rule, deterministically, with an offline save/load round trip."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from eedi import pointwise
from eedi.llm_rerank import Collator, last_logits
from shared.llm import BASE, ensure_padding
from shared.tiny import resolve_backbone

FRUIT = ["apple", "banana", "cherry", "grape", "lemon", "mango", "melon", "olive", "peach", "pear", "plum", "lime",
         "kiwi", "fig", "date", "guava"]  # fmt: skip
RARE = ["zygote", "quasar", "nebula", "prism"]
DOCS = [f"Thinks every {w} is a whole number" for w in FRUIT] + [f"Believes the {w} is special" for w in RARE]
QUERY = (
    "Construct: Add fractions\nSubject: Fractions\nQuestion: \\( \\frac{1}{2}+\\frac{1}{3} \\) what is the sum of "
    "the two fractions in its lowest terms\nCorrect answer: \\( \\frac{5}{6} \\)\nIncorrect answer: \\( \\frac{2}{5} \\)"
)


def planted(n: int, seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Queries about one of the rare words, whose truth is the misconception naming that word, among six
    candidates (the truth and five fruit ones) in random order."""
    rng = np.random.default_rng(seed)
    queries, candidates, truth = [], [], []
    for _ in range(n):
        r = int(rng.integers(len(RARE)))
        queries.append(f"Construct: Count\nSubject: Number\nQuestion: How many {RARE[r]} are in the box?\n"
                       f"Correct answer: 3\nIncorrect answer: {int(rng.integers(4, 9))}")  # fmt: skip
        row = [len(FRUIT) + r, *rng.choice(len(FRUIT), 5, replace=False)]
        candidates.append(rng.permutation(row))
        truth.append(len(FRUIT) + r)
    return queries, np.array(candidates), np.array(truth)


@pytest.fixture(scope="module")
def tiny():
    queries, _, _ = planted(8, 0)
    path = resolve_backbone("tiny:qwen2", [*pointwise.PROMPT_TEXTS, QUERY, *queries, *DOCS])
    tokenizer = ensure_padding(AutoTokenizer.from_pretrained(path))
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    return path, tokenizer, model


def config(path: str, **changes) -> SimpleNamespace:
    values = dict(
        pointwise_backbone=path, pointwise_candidates=6, pointwise_negatives=3, pointwise_loss="pair", pointwise_max_length=128,
        pointwise_learning_rate=1e-2, pointwise_epochs=4.0, pointwise_batch_size=8,
        pointwise_gradient_accumulation_steps=1, lora_r=8, lora_alpha=16, lora_dropout=0.0,
        lora_target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], load_in_4bit=False, bf16=False,
        attn_implementation="sdpa", gradient_checkpointing=False, warmup_ratio=0.0, weight_decay=0.0,
        scheduler="constant", seed=0, inference_backend="transformers", tensor_parallel_size=1, max_model_len=1024,
        gpu_memory_utilization=0.9, quantization="", enable_prefix_caching=True,
    )  # fmt: skip
    return SimpleNamespace(**(values | changes))


def test_yes_and_no_are_single_tokens_after_the_cue(tiny):
    _, tokenizer, _ = tiny
    yes, no = pointwise.yes_no_ids(tokenizer)
    assert [tokenizer.decode([yes]).strip(), tokenizer.decode([no]).strip()] == ["Yes", "No"]
    suffix = pointwise.Encoder(tokenizer, DOCS[:1], 100).suffixes[0]
    assert tokenizer.encode(tokenizer.decode(suffix) + " Yes", add_special_tokens=False)[-1] == yes


@torch.no_grad()
def test_shared_prefix_scores_exactly_what_one_forward_per_pair_does(tiny):
    path, tokenizer, model = tiny
    docs = [
        *DOCS,
        "x",
        "Confuses the area and the perimeter of a rectangle whose sides are given in different units",
    ]
    encoder = pointwise.Encoder(tokenizer, docs, 200)
    queries = [
        QUERY,
        "Question: short",
        QUERY.replace("Add fractions", "Subtract fractions with unlike denominators"),
    ]
    prefixes = [encoder.prefix(q) for q in queries]
    assert len({len(p) for p in prefixes}) == 3  # left padding of the prefixes
    candidates = np.array([[20, 21, 0, 3], [21, 20, 5, 5], [1, 2, 20, 21]])
    suffixes = [[encoder.suffixes[c] for c in row] for row in candidates]
    assert len({len(s) for row in suffixes for s in row}) >= 3  # padding between prefix and suffix
    yes_no = pointwise.yes_no_ids(tokenizer)
    shared = pointwise.score_shared_prefix(model, prefixes, suffixes, tokenizer.pad_token_id, yes_no)
    independent = pointwise.score_independent(model, prefixes, suffixes, yes_no)
    torch.testing.assert_close(shared, independent, atol=1e-4, rtol=0)
    assert shared[1, 2] == pytest.approx(float(shared[1, 3]), abs=1e-5)  # the same pair twice
    # the training path: full prompts, left-padded in one batch, no cache
    rows = [{"input_ids": p + s, "label": 0} for p, row in zip(prefixes, suffixes, strict=True) for s in row]
    batch = Collator(tokenizer.pad_token_id)(rows)
    logits = last_logits(model, batch["input_ids"], batch["attention_mask"])[:, list(yes_no)]
    torch.testing.assert_close((logits[:, 0] - logits[:, 1]).view(3, 4), independent, atol=1e-4, rtol=0)
    # the reranker (length-sorted batches of two queries: 8 pairs) returns the same, in the input's row order
    reranker = pointwise.PointwiseReranker(
        model, tokenizer, {**vars(config(path)), "max_length": 200, "batch_size": 8}
    )
    np.testing.assert_allclose(reranker.scores(queries, candidates, docs), independent.numpy(), atol=1e-4)


def test_truncation_cuts_the_question_text_never_the_candidate_or_cue(tiny):
    _, tokenizer, _ = tiny
    whole = pointwise.Encoder(tokenizer, DOCS, 10_000)
    cut = pointwise.Encoder(tokenizer, DOCS, len(whole.prefix(QUERY)) + whole.longest - 12)
    prefix = cut.prefix(QUERY)
    assert len(prefix) + cut.longest == cut.max_length  # the longest candidate just fits
    text = tokenizer.decode(prefix + cut.suffixes[0])
    assert text.endswith("\nCorrect answer: \\( \\frac{5}{6} \\)\nIncorrect answer: \\( \\frac{2}{5} \\)\n"
                         f"Misconception: {DOCS[0]}\nDoes the misconception explain the incorrect answer? Answer:")  # fmt: skip
    assert "Construct: Add fractions\nSubject: Fractions\nQuestion: \\( \\frac{1}{2}" in text
    assert "lowest terms" in tokenizer.decode(whole.prefix(QUERY)) and "lowest terms" not in text
    # a budget below the fixed parts drops the whole question text and keeps the rest whole
    tiny_budget = pointwise.Encoder(tokenizer, DOCS, 5).prefix(QUERY)
    assert tokenizer.decode(tiny_budget).endswith(
        "Question:\nCorrect answer: \\( \\frac{5}{6} \\)\nIncorrect answer: \\( \\frac{2}{5} \\)"
    )


def test_hard_negatives_come_from_the_top_candidates_without_the_truth():
    candidates = np.array([[4, 7, 1, 9, 2, 8], [3, 5, 6, 0, 1, 2], [1, 2, 3, 4, 5, 6]])
    truth = np.array([7, 9, 1])  # in the top 4 / outside it / first
    pairs = pointwise.training_pairs(candidates, truth, top=4, negatives=3, seed=0)
    assert [p[0] for p in pairs] == [7, 9, 1]
    for p, row, t in zip(pairs, candidates, truth, strict=True):
        assert len(p) == 4 and len(set(p)) == 4 and t not in p[1:] and set(p[1:]) <= set(row[:4])
    assert set(pairs[2][1:]) == {2, 3, 4}  # the truth's own slot leaves exactly three
    few = pointwise.training_pairs(candidates, truth, top=2, negatives=3, seed=0)
    assert [list(p) for p in few] == [[7, 4], [9, 3, 5], [1, 2]]  # up to `negatives`
    again = pointwise.training_pairs(candidates, truth, top=4, negatives=3, seed=0)
    assert all((a == b).all() for a, b in zip(pairs, again, strict=True))
    other = pointwise.training_pairs(np.tile(np.arange(20), (30, 1)), np.zeros(30, int), 20, 3, seed=1)
    assert any(set(a[1:]) != set(b[1:]) for a, b in itertools.pairwise(other))  # drawn, not the first three


def test_bad_candidates_and_truth_are_named(tiny):
    path, tokenizer, model = tiny
    reranker = pointwise.PointwiseReranker(
        model, tokenizer, {**vars(config(path)), "max_length": 64, "batch_size": 2}
    )
    with pytest.raises(
        ValueError, match=r"candidates: row 1, column 2: 20 is not a document index \(0\.\.19\)"
    ):
        reranker.scores(["q", "q"], np.array([[0, 1, 2], [3, 4, 20]]), DOCS[:20])
    with pytest.raises(ValueError, match=r"candidates: shape \(1, 3\), expected \(2, k\)"):
        reranker.scores(["q", "q"], np.array([[0, 1, 2]]), DOCS)
    with pytest.raises(ValueError, match=r"truth: row 1: -1 is not a document index"):
        pointwise.fit(
            config(path), ["q", "q"], np.array([[0, 1], [1, 2]]), np.array([0, -1]), DOCS, desc="bad"
        )


def test_vllm_backend_says_it_needs_cuda_on_a_cpu(tiny, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    path, tokenizer, model = tiny
    settings = {**vars(config(path)), "max_length": 64, "batch_size": 2, "base": path}
    pointwise.PointwiseReranker(model, tokenizer, settings).save(tmp_path / "r")
    reranker = pointwise.load(tmp_path / "r", inference_backend="vllm")
    assert reranker.model is None  # the engine reads the folder; no transformers weights loaded
    with pytest.raises(RuntimeError, match="inference_backend: vllm needs a CUDA GPU"):
        reranker.scores(["q"], np.array([[0, 1]]), DOCS)


def pair_loss(scores: np.ndarray, candidates: np.ndarray, truth: np.ndarray) -> float:
    """Mean binary cross-entropy of the yes/no scores (Yes for the truth)."""
    label = candidates == truth[:, None]
    return float(np.mean(np.logaddexp(0, np.where(label, -scores, scores))))


def mean_truth_rank(scores: np.ndarray, candidates: np.ndarray, truth: np.ndarray) -> float:
    own = scores[candidates == truth[:, None]]
    return float(np.mean((scores > own[:, None]).sum(1) + 1))


@pytest.mark.slow
def test_lora_training_learns_a_planted_rule_deterministically_and_round_trips(tiny, tmp_path):
    """A random frozen base gives LoRA little to read the query with, so the planted rule can be learnt from
    the candidate alone (the truth is the one misconception naming a rare word, also in the query); whether
    LoRA learns to *read* the query is measured on the pretrained stand-in."""
    path, tokenizer, model = tiny
    queries, candidates, truth = planted(32, seed=1)
    reranker = pointwise.fit(config(path), queries, candidates, truth, DOCS, desc="test pointwise")
    trainable = [name for name, p in reranker.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    untrained = pointwise.PointwiseReranker(model, tokenizer, reranker.settings)
    held_out = planted(24, seed=2)
    before, after = untrained.scores(queries, candidates, DOCS), reranker.scores(queries, candidates, DOCS)
    assert pair_loss(after, candidates, truth) < pair_loss(before, candidates, truth) - 0.2
    assert mean_truth_rank(reranker.scores(*held_out[:2], DOCS), *held_out[1:]) < 1.5
    assert mean_truth_rank(untrained.scores(*held_out[:2], DOCS), *held_out[1:]) > 2.5

    again = pointwise.fit(config(path), queries, candidates, truth, DOCS, desc="test pointwise again")
    np.testing.assert_array_equal(again.scores(queries, candidates, DOCS), after)  # the seed decides all

    reranker.save(tmp_path / "pointwise")
    loaded = pointwise.load(tmp_path / "pointwise")
    np.testing.assert_allclose(loaded.scores(queries, candidates, DOCS), after, atol=1e-6)
    assert not any(p.requires_grad for p in loaded.model.parameters())
    # a tiny base (shared.tiny's cache, absent offline) travels with the adapters
    assert loaded.settings.pop("base") == str(tmp_path / "pointwise" / BASE)
    assert loaded.settings == {k: v for k, v in reranker.settings.items() if k != "base"}


def test_full_fine_tuning_trains_every_weight_and_round_trips(tiny, tmp_path):
    """``lora_r: 0`` trains the whole model (no adapter) and saves its whole weights in ``model/``, which
    load alone and score the same."""
    path, tokenizer, model = tiny
    queries, candidates, truth = planted(16, seed=1)
    changes = dict(lora_r=0, pointwise_learning_rate=3e-3, pointwise_epochs=2.0)
    reranker = pointwise.fit(config(path, **changes), queries, candidates, truth, DOCS, desc="test full")
    params = dict(reranker.model.named_parameters())
    assert all(p.requires_grad for p in params.values()) and not any("lora_" in n for n in params)
    untrained = pointwise.PointwiseReranker(model, tokenizer, reranker.settings)
    after = reranker.scores(queries, candidates, DOCS)
    before = untrained.scores(queries, candidates, DOCS)
    assert pair_loss(after, candidates, truth) < pair_loss(before, candidates, truth)

    reranker.save(tmp_path / "full")
    assert (tmp_path / "full" / "model" / "config.json").is_file()
    assert not (tmp_path / "full" / "adapter").exists()
    loaded = pointwise.load(tmp_path / "full")
    np.testing.assert_allclose(loaded.scores(queries, candidates, DOCS), after, atol=1e-6)
    assert not any(p.requires_grad for p in loaded.model.parameters())
    assert loaded.settings.pop("base") == str(tmp_path / "full" / "model")
    assert loaded.settings.pop("trained_from") == path
    assert loaded.settings == {k: v for k, v in reranker.settings.items() if k != "base"}
    pointwise.load(tmp_path / "full").save(tmp_path / "again")  # a loaded one saves again, still naming what it was trained from
    assert pointwise.load(tmp_path / "again").settings["trained_from"] == path


def test_group_loss_is_the_softmax_cross_entropy_over_each_query_group():
    """``GroupTrainer``'s loss: per group (one query's truth first, then its negatives), the cross-entropy of
    the truth over the group's logit(Yes) - logit(No) scores; groups of unequal size are padded with -inf."""
    from eedi.llm_rerank import GroupCollator, group_scores

    rows = [{"input_ids": [[5, 6], [7]], "label": 0}, {"input_ids": [[8], [9], [4, 3]], "label": 0}]
    batch = GroupCollator(pad_id=0)(rows)
    assert batch["input_ids"].shape == (5, 2) and batch["sizes"].tolist() == [2, 3]
    assert batch["attention_mask"][1].tolist() == [0, 1]  # left padding
    scores = torch.tensor([1.0, 0.0, 2.0, -1.0, 0.5])
    grouped = group_scores(scores, batch["sizes"])
    assert grouped[0, 2] == float("-inf") and grouped[1].tolist() == [2.0, -1.0, 0.5]
    loss = torch.nn.functional.cross_entropy(grouped, batch["labels"])
    expected = np.mean([np.log(1 + np.exp(-1.0)), -(2.0 - np.log(np.exp(2.0) + np.exp(-1.0) + np.exp(0.5)))])
    assert loss.item() == pytest.approx(expected, rel=1e-6)
