"""Token budgets: hand cases for each strategy, then the properties over a seeded sweep of lengths and
budgets (sum within budget, each field within its length, no non-empty field dropped by head_tail/ratio,
head = the concatenation cut at its end)."""

import random

import pytest

from wsdm.truncation import STRATEGIES, budgets, cut, truncate


def test_cut_keeps_head_and_tail():
    ids = list(range(10))
    assert cut(ids, 4, 0.5) == [0, 1, 8, 9]
    assert cut(ids, 4, 0.25) == [0, 7, 8, 9]
    assert cut(ids, 5, 0.5) == [0, 1, 7, 8, 9]  # round(2.5) = 2 (half to even)
    assert cut(ids, 3, 1.0) == [0, 1, 2]
    assert cut(ids, 3, 0.0) == [7, 8, 9]  # no head: the tail only (not the whole list)
    assert cut(ids, 10, 0.5) == ids and cut(ids, 50, 0.5) == ids
    assert cut(ids, 0, 0.5) == [] and cut(ids, -3, 0.5) == []
    with pytest.raises(ValueError, match=r"head_fraction 1\.5"):
        cut(ids, 3, 1.5)


def test_budget_hand_cases():
    assert budgets([10, 300, 50], 100, "head") == [10, 90, 0]
    # head_tail: the prompt needs 10 of its 20; the 10 left go to A and B in their 0.4 : 0.4 shares
    assert budgets([10, 300, 50], 100, "head_tail") == [10, 45, 45]
    # ... and B, shorter than its share, gives its unused tokens to A
    assert budgets([10, 300, 30], 100, "head_tail") == [10, 60, 30]
    # ratio: proportional to length (t = 100 / 360 gives 2.8, 83.3, 13.9), the prompt floored at 4
    assert budgets([10, 300, 50], 100, "ratio", min_tokens=4) == [4, 82, 14]
    assert budgets([100, 100, 200], 200, "ratio") == [50, 50, 100]
    assert budgets([5, 7, 0], 20, "ratio") == [5, 7, 0]  # fits: unchanged for every strategy
    assert budgets([0, 500, 500], 100, "head_tail") == [0, 50, 50]


def test_below_the_floor_every_field_still_gets_a_token():
    # 3 * min_tokens > budget: the floor drops to budget // 3
    assert budgets([100, 100, 1000], 12, "ratio", min_tokens=16) == [4, 4, 4]
    assert budgets([100, 100, 1000], 3, "ratio") == [1, 1, 1]
    assert budgets([100, 100, 1000], 3, "head_tail") == [1, 1, 1]
    assert budgets([100, 100, 1000], 3, "head") == [3, 0, 0]


def test_invalid_arguments():
    with pytest.raises(ValueError, match="budget 2: below one token per field"):
        budgets([10, 10, 10], 2, "ratio")
    with pytest.raises(ValueError, match="strategy 'tail'"):
        budgets([10, 10, 10], 20, "tail")
    with pytest.raises(ValueError, match="shares"):
        budgets([10, 10, 10], 20, "head_tail", shares=(0.5, 0.5))
    with pytest.raises(ValueError, match="shares"):
        budgets([10, 10, 10], 20, "head_tail", shares=(0.5, 0.5, 0.0))
    with pytest.raises(ValueError, match="min_tokens 0"):
        budgets([10, 10, 10], 20, "ratio", min_tokens=0)
    with pytest.raises(ValueError, match="lengths"):
        budgets([10, -1, 10], 20, "ratio")


def random_case(rng: random.Random):
    """Lengths from empty to far over budget, budgets from the minimum 3 up."""
    lengths = [
        rng.choice([0, rng.randint(1, 20), rng.randint(1, 400), rng.randint(400, 5000)]) for _ in range(3)
    ]
    budget = rng.choice([3, rng.randint(3, 60), rng.randint(60, 2000)])
    shares = rng.choice([(0.2, 0.4, 0.4), (1 / 3, 1 / 3, 1 / 3), (0.1, 0.6, 0.3)])
    return lengths, budget, shares, rng.choice([1, 8, 16, 64])


def test_budget_properties_over_a_seeded_sweep():
    rng = random.Random(0)
    for _ in range(3000):
        lengths, budget, shares, min_tokens = random_case(rng)
        case = (lengths, budget, shares, min_tokens)
        fits = sum(lengths) <= budget
        for strategy in STRATEGIES:
            out = budgets(lengths, budget, strategy, shares, min_tokens)
            assert all(0 <= k <= n for k, n in zip(out, lengths, strict=True)), (strategy, case, out)
            assert sum(out) == min(budget, sum(lengths)), (strategy, case, out)
            if fits:
                assert out == lengths
            if strategy == "head":
                continue
            floor = min(min_tokens, budget // 3)
            assert all(k >= min(n, floor) for k, n in zip(out, lengths, strict=True)), (strategy, case, out)
            assert all(k >= 1 for k, n in zip(out, lengths, strict=True) if n), (strategy, case, out)
            if budget >= 3 * min_tokens:
                assert all(k >= min(n, min_tokens) for k, n in zip(out, lengths, strict=True))


def test_water_filling_gives_unused_share_to_the_longer_fields():
    rng = random.Random(1)
    for _ in range(500):
        lengths, budget, shares, _ = random_case(rng)
        if sum(lengths) <= budget:
            continue
        out = budgets(lengths, budget, "head_tail", shares, min_tokens=1)
        # a field cut below its length has at least its share (up to rounding): nothing is left unused
        for k, n, s in zip(out, lengths, shares, strict=True):
            if k < n:
                assert k >= s * budget - 1, (lengths, budget, shares, out)


def test_ratio_follows_the_lengths():
    out = budgets([1000, 2000, 3000], 600, "ratio")
    assert out == [100, 200, 300]
    out = budgets([1000, 4000, 4000], 900, "ratio")
    assert out == [100, 400, 400]


def test_truncate_head_is_the_concatenation_cut_at_its_end():
    rng = random.Random(2)
    for _ in range(300):
        lengths, budget, shares, min_tokens = random_case(rng)
        fields, start = [], 0
        for n in lengths:
            fields.append(list(range(start, start + n)))
            start += n
        flat = [t for f in fields for t in f]
        out = truncate(fields, budget, "head", shares=shares, min_tokens=min_tokens)
        assert [t for f in out for t in f] == flat[:budget]
        for strategy in ("head_tail", "ratio"):
            out = truncate(fields, budget, strategy, shares=shares, min_tokens=min_tokens)
            keep = budgets(lengths, budget, strategy, shares, min_tokens)
            assert [len(f) for f in out] == keep
            for f, original in zip(out, fields, strict=True):
                assert f == sorted(f) and set(f) <= set(original)  # order kept within a field
                if f and len(f) < len(original) and len(f) >= 2:
                    assert f[0] == original[0] and f[-1] == original[-1]  # head and tail both kept


def test_decisive_tail_survives_head_tail_but_not_head():
    prompt = list(range(50))
    a = [*range(1000, 1400), 7777]  # the final answer is the last token
    b = [*range(2000, 2400), 8888]
    for strategy, kept in (("head", False), ("head_tail", True), ("ratio", True)):
        p, ta, tb = truncate([prompt, a, b], 128, strategy)
        assert len(p) + len(ta) + len(tb) == 128
        assert (7777 in ta and 8888 in tb) is kept, strategy
