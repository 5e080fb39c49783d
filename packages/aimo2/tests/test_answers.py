r"""Answer extraction and voting: every spelling rule, the tie-break, early stopping and refusals."""

import pytest

from aimo2.answers import EarlyStopVoter, extract_answer, extract_boxed, majority_vote, parse_integer_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"so the answer is \boxed{42}.", "42"),
        (r"\boxed{\frac{1}{2}}", r"\frac{1}{2}"),
        (r"\boxed{\frac{\sqrt{2}}{2}} then", r"\frac{\sqrt{2}}{2}"),
        (r"first \boxed{1}, finally \boxed{7}", "7"),
        (r"\boxed {12}", "12"),
        (r"\fbox{5}", "5"),
        (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),  # escaped braces do not count
        ("no box here", None),
        (r"\boxed{1} and then \boxed{\frac{1}{2}", None),  # the last box never closes: cut off
    ],
)
def test_extract_boxed(text, expected):
    assert extract_boxed(text) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("42", 42),
        ("042", 42),
        ("2025", 25),
        ("1000", 0),
        ("1,000", 0),
        (r"1\,000", 0),
        ("1{,}000", 0),
        ("1 000", 0),
        ("12,345,678", 678),
        ("$42$", 42),
        (r"\$42", 42),
        (r"\text{42}", 42),
        (r"\mathrm{42}", 42),
        (r"\textbf{\text{8}}", 8),
        (r"42 \text{ cm}", 42),
        (r"42\text{ apples}", 42),
        (r"\text{42 apples}", 42),
        ("42 apples", 42),
        (r"50\%", 50),
        (r"30^\circ", 30),
        ("42.", 42),
        ("+7", 7),
        ("-1", 999),
        ("-1000", 0),
        (r"\left(5\right)", 5),
        ("n = 42", 42),
        ("\u22123", 997),
        (r"\frac{6}{3}", 2),
        (r"\dfrac{6}{3}", 2),
        (r"\tfrac{12}{4}", 3),
        (r"\frac63", 2),
        (r"-\frac{6}{3}", 998),
        (r"\frac{-6}{3}", 998),
        ("6/3", 2),
        (r"12 \div 4", 3),
        ("12.0", 12),
        ("1e3", 0),
        (r"10^{3}", 0),
        (r"2^{10}", 24),
        (r"3 \times 10^{2}", 300),
        (r"1.5 \cdot 10^{3}", 500),
        (r"5000 \times 10^{-3}", 5),
    ],
)
def test_parse_integer_answer_accepts(content, expected):
    assert parse_integer_answer(content) == expected


@pytest.mark.parametrize(
    "content",
    [
        r"\frac{1}{2}",
        r"\tfrac12",  # TeX reads it as 1/2
        "1/3",
        "12.5",
        r"10^{-3}",
        "1,2",  # a list, not a thousands separator
        "1 2",
        "n=5, m=6",
        "3+4",
        r"\sqrt{4}",
        r"2\pi",
        "x",
        "",
        "1/0",
        "0^{-1}",
        r"10^{10^{9}}",  # refused instead of computing a billion-digit number
        "(" * 5000 + "1",  # degenerate generation
        r"2\frac{1}{2}",
    ],
)
def test_parse_integer_answer_rejects(content):
    assert parse_integer_answer(content) is None


def test_extract_answer_combines_box_and_parse():
    assert extract_answer(r"... so $x = \boxed{2025}$ and we are done.") == 25
    assert extract_answer(r"\boxed{3} wait, recheck: \boxed{\dfrac{12}{3}}") == 4
    assert extract_answer(r"\boxed{\frac{1}{2}}") is None
    assert extract_answer("I could not solve it") is None


def test_majority_vote_counts_and_ignores_none():
    assert majority_vote([1, 2, 2, None, None, None, 3]) == 2
    assert majority_vote([None, None]) is None
    assert majority_vote([]) is None


def test_majority_vote_tie_goes_to_answer_that_reached_the_count_first():
    # 7 reaches two votes at index 2, 5 only at index 3.
    assert majority_vote([5, 7, 7, 5]) == 7
    assert majority_vote([7, 5, 5, 7]) == 5
    assert majority_vote([9, 8]) == 9


def test_majority_vote_weights_are_summed():
    assert majority_vote([1, 2, 2], weights=[3.0, 1.0, 1.0]) == 1
    assert majority_vote([1, 2, 2], weights=[1.0, 1.0, 1.0]) == 2
    assert majority_vote([1, 2], weights=[0.0, 0.0]) is None  # zero weight casts no vote
    # 0.1 + 0.2 ties 0.3 despite rounding; 4 reached its total (index 1) before 3 (index 2).
    assert majority_vote([3, 4, 3], weights=[0.1, 0.3, 0.2]) == 4


@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0], "entries"), ([1.0, -1.0], "finite"), ([1.0, float("nan")], "finite")],
)
def test_majority_vote_rejects_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        majority_vote([1, 2], weights=weights)


def feed(voter, answers):
    """Index of the sample after which the voter asked to stop, or None."""
    for i, answer in enumerate(answers):
        if voter.add(answer):
            return i
    return None


def test_early_stop_when_enough_samples_agree():
    voter = EarlyStopVoter(min_agree=3)
    assert feed(voter, [4, 7, 4, None, 4, 7, 7, 7]) == 4
    assert (voter.answer, voter.counts, voter.n_seen, voter.stopped) == (4, {4: 3, 7: 1}, 5, True)


def test_early_stop_waits_for_the_margin():
    voter = EarlyStopVoter(min_agree=2, margin=2)
    # After index 3 the leader 4 has 2 votes but leads 7 by one; it leads by two at index 5.
    assert feed(voter, [4, 7, 1, 4, 2, 4, 7]) == 5
    assert voter.answer == 4


def test_early_stop_respects_max_samples():
    voter = EarlyStopVoter(min_agree=3, max_samples=4)
    assert feed(voter, [1, 2, None, 2, 2, 2]) == 3
    assert voter.answer == 2
    assert voter.n_seen == 4
    with pytest.raises(RuntimeError, match="already stopped"):
        voter.add(2)


def test_early_stop_never_stops_without_agreement_or_cap():
    voter = EarlyStopVoter(min_agree=2)
    assert feed(voter, [1, 2, 3, None, 4]) is None
    assert voter.answer == 1  # all tied at one vote: the first to reach it
    assert voter.n_seen == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_agree": 0}, "min_agree"),
        ({"min_agree": 2, "margin": 0}, "margin"),
        ({"min_agree": 5, "max_samples": 4}, "never"),
    ],
)
def test_early_stop_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        EarlyStopVoter(**kwargs)
