"""Construct families of the sample: KS2-GCSE maths questions whose numbers are drawn at random.

A construct (Eedi's fine-grained ``ConstructName``, "Add proper fractions with different denominators")
belongs to a coarser subject ("Adding and Subtracting Fractions") and a family (fractions, negative numbers,
angles, ...). It draws the numbers of one question (a dict; every key a mechanism of the catalogue may
read), writes the question text with LaTeX inside ``\\( \\)`` as the original does, computes the correct
answer and formats any number as that construct's answers are written (``fmt``). The wrong answers come
from the misconceptions of :mod:`catalogue`, applied to the same numbers; ``slip`` gives a wrong answer
that no catalogued misconception explains (a careless slip, left unlabelled).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction as F
from string import Template

import numpy as np

from eedi.sample.answers import (
    Ans,
    decimal,
    degrees,
    equation,
    fraction,
    mixed,
    money,
    num,
    percent,
    pi_multiple,
    point,
    poly,
    power,
    ratio,
    signed,
    word,
    words,
)

Params = dict


@dataclass(frozen=True)
class Construct:
    """One ConstructName: how to draw a question's numbers, write it and answer it."""

    key: str
    name: str
    subject: str  # SubjectName
    family: str
    draw: Callable[[np.random.Generator], Params]
    text: Callable[[Params], str]
    correct: Callable[[Params], object]  # a number (formatted by ``fmt``) or an Ans
    fmt: Callable[[object], Ans | None] = num
    slip: Callable[[Params, np.random.Generator], list[Ans | None]] | None = None  # else: near the answer


def say(*templates: str) -> Callable[[Params], str]:
    """Question text from ``string.Template`` wordings (``$a``; LaTeX braces need no escaping); the
    wording is ``p["w"]`` (drawn for every question) modulo their number."""

    def text(p: Params) -> str:
        shown = {k: (decimal(v, max_places=6) if isinstance(v, F) else str(v)) for k, v in p.items()}
        return Template(templates[p["w"] % len(templates)]).substitute(shown)

    return text


def ri(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A random integer in ``[lo, hi]``."""
    return int(rng.integers(lo, hi + 1))


def pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def fmt_number(x) -> Ans | None:
    """A whole number or short decimal, else a fraction (results of ordinary arithmetic)."""
    return num(x) or fraction(x)


def nearby(p: Params, rng: np.random.Generator, value, fmt) -> Iterable[Ans | None]:
    """Wrong answers near ``value``, in random order: the default slip (never below zero when the answer is
    positive)."""
    value = F(value)
    if value.denominator == 1:
        options = [value + 1, value - 1, value + 2, value - 2, value + 10, value - 10, 2 * value, -value, value + 5]
        options += [value / 2] if value % 2 == 0 else []
    else:
        step = F(1, value.denominator)
        options = [value + 1, value - 1, 2 * value, value / 2, 10 * value, value / 10, -value, value + step,
                   value - step, 1 / value]  # fmt: skip
    if value > 0:
        options = [x for x in options if x > 0]
    return (fmt(options[i]) for i in rng.permutation(len(options)))


# ---------------------------------------------------------------- fractions: adding and subtracting


def _fraction_pair(rng: np.random.Generator, larger_first: bool = False) -> Params:
    """Two proper fractions in lowest terms with different denominators (one often a multiple of the other)."""
    while True:
        b = ri(rng, 2, 9)
        d = b * ri(rng, 2, 3) if rng.random() < 0.35 else ri(rng, 2, 12)
        a, c = ri(rng, 1, b - 1), ri(rng, 1, d - 1)
        if d == b or math.gcd(a, b) > 1 or math.gcd(c, d) > 1:
            continue
        if larger_first and F(a, b) <= F(c, d):
            if F(a, b) == F(c, d):
                continue
            a, b, c, d = c, d, a, b
        return {"a": a, "b": b, "c": c, "d": d}


def _same_denominator(rng: np.random.Generator) -> Params:
    b = ri(rng, 3, 12)
    return {"a": ri(rng, 1, b - 1), "b": b, "c": ri(rng, 1, b - 1)}


def _whole_and_fraction(rng: np.random.Generator) -> Params:
    b = ri(rng, 2, 9)
    a = pick(rng, [a for a in range(1, b) if math.gcd(a, b) == 1])
    return {"n": ri(rng, 2, 5), "a": a, "b": b}


ADD_SUB = "Adding and Subtracting Fractions"
FRACTIONS_ADD = [
    Construct("frac_add", "Add proper fractions with different denominators", ADD_SUB, "fractions",
              _fraction_pair,
              say(r"Calculate: \( \frac{$a}{$b}+\frac{$c}{$d} \)",
                  r"What is \( \frac{$a}{$b}+\frac{$c}{$d} \) ? Give your answer in its simplest form.",
                  r"Work out \( \frac{$a}{$b}+\frac{$c}{$d} \)"),
              lambda p: F(p["a"], p["b"]) + F(p["c"], p["d"]), fraction),
    Construct("frac_sub", "Subtract proper fractions with different denominators", ADD_SUB, "fractions",
              lambda rng: _fraction_pair(rng, larger_first=True),
              say(r"Calculate: \( \frac{$a}{$b}-\frac{$c}{$d} \)",
                  r"What is \( \frac{$a}{$b}-\frac{$c}{$d} \) ? Simplify your answer if possible."),
              lambda p: F(p["a"], p["b"]) - F(p["c"], p["d"]), fraction),
    Construct("frac_add_same", "Add fractions with the same denominator", ADD_SUB, "fractions",
              _same_denominator,
              say(r"\( \frac{$a}{$b}+\frac{$c}{$b}= \)", r"Work out \( \frac{$a}{$b}+\frac{$c}{$b} \)"),
              lambda p: F(p["a"] + p["c"], p["b"]), fraction),
    Construct("frac_add_whole", "Add a whole number and a proper fraction", ADD_SUB, "fractions",
              _whole_and_fraction,
              say(r"Calculate: \( $n+\frac{$a}{$b} \)", r"What is \( \frac{$a}{$b}+$n \) ?"),
              lambda p: p["n"] + F(p["a"], p["b"]), mixed),
    Construct("frac_sub_whole", "Subtract a proper fraction from a whole number", ADD_SUB, "fractions",
              _whole_and_fraction,
              say(r"Calculate: \( $n-\frac{$a}{$b} \)", r"What is \( $n-\frac{$a}{$b} \) ?"),
              lambda p: p["n"] - F(p["a"], p["b"]), mixed),
]  # fmt: skip


# ---------------------------------------------------------------- fractions: multiplying and dividing


def _fraction_and_integer(rng: np.random.Generator, divisible: float = 0.0) -> Params:
    """A proper fraction and an integer ``n``; with probability ``divisible`` both parts are multiples of n."""
    n = ri(rng, 2, 6)
    while True:
        b = ri(rng, 3, 10)
        a = ri(rng, 1, b - 1)
        if math.gcd(a, b) == 1:
            break
    if rng.random() < divisible:
        a, b = a * n, b * n
    return {"n": n, "a": a, "b": b}


def _fraction_of(rng: np.random.Generator) -> Params:
    b = ri(rng, 3, 10)
    a = pick(rng, [a for a in range(2, b) if math.gcd(a, b) == 1] or [1])
    return {"a": a, "b": b, "N": b * ri(rng, 2, 12)}


MUL_DIV = "Multiplying and Dividing Fractions"
FRACTIONS_MUL = [
    Construct("frac_mul", "Multiply proper fractions in the form: Fraction × Fraction", MUL_DIV, "fractions",
              _fraction_pair,
              say(r"Calculate: \( \frac{$a}{$b} \times \frac{$c}{$d} \)",
                  r"What is \( \frac{$a}{$b} \times \frac{$c}{$d} \) ?"),
              lambda p: F(p["a"], p["b"]) * F(p["c"], p["d"]), fraction),
    Construct("frac_mul_int", "Multiply proper fractions in the form: Fraction × Integer", MUL_DIV, "fractions",
              _fraction_and_integer,
              say(r"\( \frac{$a}{$b} \times $n= \)", r"Work out \( $n \times \frac{$a}{$b} \)"),
              lambda p: p["n"] * F(p["a"], p["b"]), fraction),
    Construct("frac_div", "Divide proper fractions in the form: Fraction ÷ Fraction", MUL_DIV, "fractions",
              _fraction_pair,
              say(r"Calculate: \( \frac{$a}{$b} \div \frac{$c}{$d} \)",
                  r"What is \( \frac{$a}{$b} \div \frac{$c}{$d} \) ?"),
              lambda p: F(p["a"], p["b"]) / F(p["c"], p["d"]), fraction),
    Construct("frac_div_int", "Divide proper fractions in the form: Fraction ÷ Integer", MUL_DIV, "fractions",
              lambda rng: _fraction_and_integer(rng, divisible=0.6),
              say(r"\( \frac{$a}{$b} \div $n= \)", r"Calculate: \( \frac{$a}{$b} \div $n \)"),
              lambda p: F(p["a"], p["b"]) / p["n"], fraction),
    Construct("frac_of", "Calculate a fraction of an amount", "Fractions of an Amount", "fractions",
              _fraction_of,
              say(r"What is \( \frac{$a}{$b} \) of \( $N \) ?", r"Find \( \frac{$a}{$b} \) of \( $N \)"),
              lambda p: F(p["a"] * p["N"], p["b"]), fmt_number),
]  # fmt: skip


# ---------------------------------------------------------------- negative numbers


def _signed_pair(rng: np.random.Generator, signs: tuple[str, ...], lo: int = 2, hi: int = 12) -> Params:
    """Two integers whose signs are one of ``signs`` ("-+" = negative then positive), shown in brackets."""
    pattern = pick(rng, signs)
    x, y = (ri(rng, lo, hi) * (-1 if s == "-" else 1) for s in pattern)
    return {"x": x, "y": y, "X": signed(x), "Y": signed(y)}


def _division(rng: np.random.Generator) -> Params:
    p = _signed_pair(rng, ("--", "-+", "+-"))
    p["x"] *= abs(p["y"])  # exact division
    p["X"] = signed(p["x"])
    return p


def _temperature_change(rng: np.random.Generator) -> Params:
    rises = rng.random() < 0.5
    start = -ri(rng, 2, 12) if rises else ri(rng, 2, 12)
    change = ri(rng, abs(start) + 1, abs(start) + 12)  # crosses zero
    return {"s": start, "k": change if rises else -change, "m": change, "S": decimal(start),
            "way": "risen" if rises else "fallen"}  # fmt: skip


def _temperature_pair(rng: np.random.Generator) -> Params:
    low, high = -ri(rng, 2, 15), ri(rng, 2, 20)
    town = pick(rng, [("Oslo", "Rome"), ("Moscow", "Madrid"), ("Helsinki", "Lisbon"), ("Calgary", "Miami")])
    return {"lo": low, "hi": high, "LO": decimal(low), "T1": town[0], "T2": town[1]}


CELSIUS = r"^{\circ} \mathrm{C}"
NEGATIVES = [
    Construct("neg_mul_two", "Carry out multiplication problems involving two negative integers",
              "Multiplying and Dividing Negative Numbers", "negatives",
              lambda rng: _signed_pair(rng, ("--",)),
              say(r"\( $X \times $Y= \)", r"What is \( $X \times $Y \) ?"),
              lambda p: p["x"] * p["y"]),
    Construct("neg_mul_one", "Carry out multiplication problems involving one negative integer",
              "Multiplying and Dividing Negative Numbers", "negatives",
              lambda rng: _signed_pair(rng, ("-+", "+-")),
              say(r"\( $X \times $Y= \)", r"Calculate: \( $X \times $Y \)"),
              lambda p: p["x"] * p["y"]),
    Construct("neg_div", "Carry out division problems involving negative integers",
              "Multiplying and Dividing Negative Numbers", "negatives", _division,
              say(r"\( $X \div $Y= \)", r"What is \( $X \div $Y \) ?"),
              lambda p: F(p["x"], p["y"])),
    Construct("neg_add", "Carry out addition problems involving negative integers",
              "Adding and Subtracting Negative Numbers", "negatives",
              lambda rng: _signed_pair(rng, ("+-", "-+", "--"), 1, 15),
              say(r"\( $X+$Y= \)", r"Work out \( $X+$Y \)"),
              lambda p: p["x"] + p["y"]),
    Construct("neg_sub", "Carry out subtraction problems involving negative integers",
              "Adding and Subtracting Negative Numbers", "negatives",
              lambda rng: _signed_pair(rng, ("+-", "-+", "--"), 1, 15),
              say(r"\( $X-$Y= \)", r"Work out \( $X-$Y \)"),
              lambda p: p["x"] - p["y"]),
    Construct("temp_change", "Solve problems involving temperature changes that cross zero",
              "Negative Numbers in Context", "negatives", _temperature_change,
              say(r"At 6am the temperature was \( $S^{\circ} \mathrm{C} \). By noon it had $way by "
                  r"\( $m^{\circ} \mathrm{C} \). What was the temperature at noon?",
                  r"A freezer is at \( $S^{\circ} \mathrm{C} \). Its temperature has $way by "
                  r"\( $m^{\circ} \mathrm{C} \). "
                  r"What is the temperature now?"),
              lambda p: p["s"] + p["k"], lambda x: num(x, CELSIUS)),
    Construct("temp_diff", "Find the difference between a negative and a positive temperature",
              "Negative Numbers in Context", "negatives", _temperature_pair,
              say(r"The temperature in $T1 is \( $LO^{\circ} \mathrm{C} \) and in $T2 it is "
                  r"\( $hi^{\circ} \mathrm{C} \). What is the difference between the two temperatures?",
                  r"How many degrees warmer is $T2 at \( $hi^{\circ} \mathrm{C} \) than $T1 at "
                  r"\( $LO^{\circ} \mathrm{C} \) ?"),
              lambda p: p["hi"] - p["lo"], lambda x: num(x, CELSIUS)),
]  # fmt: skip


# ---------------------------------------------------------------- order of operations


def _two_ops(rng: np.random.Generator, first: str, second: str) -> Params:
    """``a first b second c`` with whole-number intermediate results where a division is involved."""
    b, c = ri(rng, 2, 9), ri(rng, 2, 9)
    a = ri(rng, 2, 20)
    if first == "÷":
        a = b * ri(rng, 2, 9)
    if second == "÷":
        b = c * ri(rng, 2, 6)
    if first == "-" and second == "×":
        a = b * c + ri(rng, 1, 20)
    return {"a": a, "b": b, "c": c}


def _add_mul(rng: np.random.Generator) -> Params:
    p = _two_ops(rng, "+", "×")
    p["order"] = pick(rng, ["a+bc", "bc+a"])
    p["E"] = rf"{p['a']}+{p['b']} \times {p['c']}" if p["order"] == "a+bc" else rf"{p['b']} \times {p['c']}+{p['a']}"
    return p


def _brackets(rng: np.random.Generator) -> Params:
    p = {"a": ri(rng, 2, 9), "b": ri(rng, 2, 9), "c": ri(rng, 2, 9), "order": pick(rng, ["a(b+c)", "(a+b)c"])}
    p["E"] = (rf"{p['a']} \times({p['b']}+{p['c']})" if p["order"] == "a(b+c)"
              else rf"({p['a']}+{p['b']}) \times {p['c']}")  # fmt: skip
    return p


def _power_op(rng: np.random.Generator) -> Params:
    p = {"a": ri(rng, 2, 9), "b": ri(rng, 3, 9), "op": pick(rng, ["+", "×"])}
    p["E"] = rf"{p['a']}+{p['b']}^{{2}}" if p["op"] == "+" else rf"{p['a']} \times {p['b']}^{{2}}"
    return p


BIDMAS = "BIDMAS"
_BIDMAS_TEXT = say(r"\( $E= \)", r"Calculate: \( $E \)", r"What is the value of \( $E \) ?")
ORDER_OF_OPERATIONS = [
    Construct("bidmas_add_mul", "Use the order of operations to carry out calculations involving addition and "
              "multiplication", BIDMAS, "order of operations", _add_mul, _BIDMAS_TEXT,
              lambda p: p["a"] + p["b"] * p["c"]),
    Construct("bidmas_sub_div", "Use the order of operations to carry out calculations involving subtraction and "
              "division", BIDMAS, "order of operations",
              lambda rng: _two_ops(rng, "-", "÷"),
              say(r"\( $a-$b \div $c= \)", r"Calculate: \( $a-$b \div $c \)"),
              lambda p: p["a"] - F(p["b"], p["c"]), fmt_number),
    Construct("bidmas_brackets", "Use the order of operations to carry out calculations involving brackets",
              BIDMAS, "order of operations", _brackets, _BIDMAS_TEXT,
              lambda p: p["a"] * (p["b"] + p["c"]) if p["order"] == "a(b+c)" else (p["a"] + p["b"]) * p["c"]),
    Construct("bidmas_powers", "Use the order of operations to carry out calculations involving powers",
              BIDMAS, "order of operations", _power_op, _BIDMAS_TEXT,
              lambda p: p["a"] + p["b"] ** 2 if p["op"] == "+" else p["a"] * p["b"] ** 2),
    Construct("bidmas_add_sub", "Use the order of operations to carry out calculations involving addition and "
              "subtraction", BIDMAS, "order of operations",
              lambda rng: {"a": ri(rng, 12, 30), "b": ri(rng, 2, 11), "c": ri(rng, 2, 9)},
              say(r"\( $a-$b+$c= \)", r"Calculate: \( $a-$b+$c \)"),
              lambda p: p["a"] - p["b"] + p["c"]),
    Construct("bidmas_mul_div", "Use the order of operations to carry out calculations involving multiplication "
              "and division", BIDMAS, "order of operations",
              lambda rng: _two_ops(rng, "÷", "×"),
              say(r"\( $a \div $b \times $c= \)", r"Calculate: \( $a \div $b \times $c \)"),
              lambda p: p["a"] // p["b"] * p["c"], fmt_number),
]  # fmt: skip


# ---------------------------------------------------------------- powers and roots


def _power_slips(p: Params, rng: np.random.Generator) -> list[Ans | None]:
    """Near misses for a power answer: the right base with a neighbouring exponent, or the next base."""
    base, exponent = p["base"], p["exp"]
    options = [power(base, exponent + 1), power(base, exponent - 1), power(base + 1, exponent),
               power(base, exponent + 2), power(base * 2, exponent)]  # fmt: skip
    return [options[i] for i in rng.permutation(len(options))]


def _index_law(rng: np.random.Generator, law: str) -> Params:
    a, m, n = ri(rng, 2, 9), ri(rng, 2, 8), ri(rng, 2, 6)
    if law == "÷":
        m = n * ri(rng, 2, 3) if rng.random() < 0.5 else n + ri(rng, 1, 6)
    exp = {"×": m + n, "÷": m - n, "^": m * n}[law]
    return {"a": a, "m": m, "n": n, "base": a, "exp": exp}


POWERS = "Squares, Cubes, etc"
ROOTS = "Square Roots, Cube Roots, etc"
INDICES = "Laws of Indices"
POWERS_AND_ROOTS = [
    Construct("square", "Calculate the square of a number", POWERS, "powers",
              lambda rng: {"a": ri(rng, 3, 15)}, say(r"What is \( $a^{2} \) ?", r"Calculate: \( $a^{2} \)"),
              lambda p: p["a"] ** 2),
    Construct("cube", "Calculate the cube of a number", POWERS, "powers",
              lambda rng: {"a": ri(rng, 2, 6)}, say(r"What is \( $a^{3} \) ?", r"Calculate: \( $a^{3} \)"),
              lambda p: p["a"] ** 3),
    Construct("sqrt", "Calculate the square root of a number", ROOTS, "powers",
              lambda rng: {"n": pick(rng, [4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169])},
              say(r"What is \( \sqrt{$n} \) ?", r"Calculate: \( \sqrt{$n} \)"),
              lambda p: math.isqrt(p["n"])),
    Construct("cbrt", "Calculate the cube root of a number", ROOTS, "powers",
              lambda rng: {"n": pick(rng, [8, 27, 64, 125, 216, 729, 1000])},
              say(r"What is \( \sqrt[3]{$n} \) ?", r"Calculate: \( \sqrt[3]{$n} \)"),
              lambda p: round(p["n"] ** (1 / 3))),
    Construct("power_notation", "Understand the notation for powers", POWERS, "powers",
              lambda rng: {"a": ri(rng, 2, 5), "n": ri(rng, 3, 5)},
              say(r"What is the value of \( $a^{$n} \) ?", r"\( $a^{$n}= \)"),
              lambda p: p["a"] ** p["n"]),
    Construct("square_negative", "Square a negative number", POWERS, "powers",
              lambda rng: {"a": ri(rng, 2, 12)}, say(r"What is \( (-$a)^{2} \) ?", r"\( (-$a)^{2}= \)"),
              lambda p: p["a"] ** 2),
    Construct("negative_of_square", "Evaluate the negative of a square number", POWERS, "powers",
              lambda rng: {"a": ri(rng, 2, 12)}, say(r"What is the value of \( -$a^{2} \) ?", r"\( -$a^{2}= \)"),
              lambda p: -(p["a"] ** 2)),
    Construct("index_mul", "Multiply terms with the same base using the laws of indices", INDICES, "powers",
              lambda rng: _index_law(rng, "×"),
              say(r"Simplify: \( $a^{$m} \times $a^{$n} \)", r"Write \( $a^{$m} \times $a^{$n} \) as a single power"),
              lambda p: power(p["a"], p["exp"]), slip=_power_slips),
    Construct("index_div", "Divide terms with the same base using the laws of indices", INDICES, "powers",
              lambda rng: _index_law(rng, "÷"),
              say(r"Simplify: \( $a^{$m} \div $a^{$n} \)", r"Write \( $a^{$m} \div $a^{$n} \) as a single power"),
              lambda p: power(p["a"], p["exp"]), slip=_power_slips),
    Construct("index_power", "Raise a power to a power using the laws of indices", INDICES, "powers",
              lambda rng: _index_law(rng, "^"),
              say(r"Simplify: \( \left($a^{$m}\right)^{$n} \)",
                  r"Write \( \left($a^{$m}\right)^{$n} \) as a single power"),
              lambda p: power(p["a"], p["exp"]), slip=_power_slips),
    Construct("zero_power", "Understand the zero index", INDICES, "powers",
              lambda rng: {"a": ri(rng, 2, 60)}, say(r"What is \( $a^{0} \) ?", r"\( $a^{0}= \)"),
              lambda p: 1),
    Construct("negative_power", "Understand negative indices", INDICES, "powers",
              lambda rng: {"a": ri(rng, 2, 5), "n": ri(rng, 1, 3)},
              say(r"What is \( $a^{-$n} \) ?", r"\( $a^{-$n}= \)"),
              lambda p: F(1, p["a"] ** p["n"]), fraction),
]  # fmt: skip


# ---------------------------------------------------------------- place value and rounding

PLACES = {3: "thousand", 2: "hundred", 1: "ten", 0: "whole number", -1: "1 decimal place", -2: "2 decimal places"}


def round_half_up(x, exp: int) -> F:
    """``x`` rounded to a multiple of ``10**exp`` (halves up, as taught)."""
    unit = F(10) ** exp
    return math.floor(F(x) / unit + F(1, 2)) * unit


def round_down(x, exp: int) -> F:
    return math.floor(F(x) / F(10) ** exp) * F(10) ** exp


def round_up(x, exp: int) -> F:
    return math.ceil(F(x) / F(10) ** exp) * F(10) ** exp


def leading_exp(x) -> int:
    """The place of the first significant digit of ``x`` > 0 (``0.034`` -> -2, ``470`` -> 2)."""
    x, exp = F(x), 0
    while x >= 10 ** (exp + 1):
        exp += 1
    while x < F(10) ** exp:
        exp -= 1
    return exp


def _number_to_round(rng: np.random.Generator, exp: int) -> Params:
    """A number with three digits below the rounding place; the rounding place is sometimes a 9 that
    carries (``3.96`` to 1 d.p.)."""
    places = max(0, -exp + 2)
    x = F(ri(rng, 10 ** (exp + 1), 5 * 10 ** (exp + 2))) if exp >= 1 else F(ri(rng, 1000, 99999), 10**places)
    if rng.random() < 0.2:  # a 9 in the rounding place, rounding up
        unit = F(10) ** exp
        x = round_down(x, exp + 1) + 9 * unit + F(ri(rng, 5, 9), 10) * unit + (unit / 100 if exp < 1 else 0)
    while round_half_up(x, exp) == x or round_half_up(x, exp) == 0:
        x += F(10) ** (exp - 1)
    return {"x": x, "exp": exp, "place": PLACES[exp]}


def _rounded(exp: int):
    return lambda x: num(x) if exp >= 0 else _fixed(x, -exp)


def _fixed(x, places: int) -> Ans | None:
    """A decimal shown with at least ``places`` places (``4.0``), as a rounded answer is written."""
    text = decimal(x, places=places)
    return None if text is None else Ans(rf"\( {text} \)", ("n", F(x), ""))


def _round_construct(exp: int) -> Construct:
    if exp >= 0:
        name = f"Round integers to the nearest {PLACES[exp]}" if exp else "Round numbers to the nearest whole number"
        subject = "Rounding to the Nearest Whole (10, 100, etc)"
        text = say(r"What is \( $x \) rounded to the nearest $place?", r"Round \( $x \) to the nearest $place")
    else:
        name = f"Round numbers to {PLACES[exp]}"
        subject = "Rounding to Decimal Places"
        text = say(r"What is \( $x \) rounded to $place?", r"Round \( $x \) to $place")
    return Construct(f"round_{exp}", name, subject, "place value", lambda rng: _number_to_round(rng, exp), text,
                     lambda p: round_half_up(p["x"], p["exp"]), _rounded(exp))


def _significant(rng: np.random.Generator) -> Params:
    digits = ri(rng, 1000, 9999)
    x = pick(rng, [F(digits, 100000), F(digits, 10), F(digits, 1000), F(10 * digits + ri(rng, 0, 9))])
    while round_half_up(x, leading_exp(x)) == x:
        x += F(10) ** (leading_exp(x) - 2)
    return {"x": x, "exp": leading_exp(x)}


def _digit_in(rng: np.random.Generator, decimals: bool) -> Params:
    """A number and one of its non-zero digits that occurs once, with its place (10**pos)."""
    while True:
        digits = [ri(rng, 1, 9)] + [ri(rng, 0, 9) for _ in range(4)]
        if len(set(digits)) < 4:
            continue
        n_dec = 3 if decimals else 0
        x = F(int("".join(map(str, digits))), 10**n_dec)
        positions = [len(digits) - 1 - i - n_dec for i in range(len(digits))]
        choices = [(d, pos) for d, pos in zip(digits, positions, strict=True)
                   if d and digits.count(d) == 1 and ((pos < 0) if decimals else (pos > 0))]  # fmt: skip
        if choices:
            d, pos = pick(rng, choices)
            shown = f"{int(x):,}".replace(",", "{,}") if not decimals else decimal(x)
            return {"x": x, "X": shown, "d": d, "pos": pos, "digits": digits, "n_dec": n_dec}


def _decimal_times(rng: np.random.Generator, divide: bool) -> Params:
    k = ri(rng, 1, 3)
    two, three = ri(rng, 11, 99), ri(rng, 101, 999)
    options = [F(two, 10), F(three, 100), F(three, 10), F(ri(rng, 11, 999))] if divide else [
        F(two, 10), F(three, 100), F(two, 100)]  # fmt: skip
    x = pick(rng, options)
    return {"x": x, "k": k, "f": 10**k}


def long_decimal(x) -> Ans | None:
    """Up to six decimal places: a digit moved the wrong way past a power of ten."""
    return num(x, max_places=6)


PLACE_VALUE = "Place Value"
POWERS_OF_TEN = "Multiplying and Dividing by 10, 100 and 1000"
ROUNDING_AND_PLACE = [
    *[_round_construct(exp) for exp in (1, 2, 3, 0, -1, -2)],
    Construct("round_1sf", "Round numbers to one significant figure", "Rounding to Significant Figures",
              "place value", _significant,
              say(r"Round \( $x \) to \( 1 \) significant figure", r"What is \( $x \) to 1 significant figure?"),
              lambda p: round_half_up(p["x"], p["exp"])),
    Construct("place_value_int", "Recognise the place value of each digit in integers", PLACE_VALUE, "place value",
              lambda rng: _digit_in(rng, False),
              say(r"What is the value of the digit \( $d \) in \( $X \) ?",
                  r"In the number \( $X \), what does the \( $d \) represent?"),
              lambda p: p["d"] * 10 ** p["pos"]),
    Construct("place_value_dec", "Recognise the place value of each digit in decimals", PLACE_VALUE, "place value",
              lambda rng: _digit_in(rng, True),
              say(r"What is the value of the digit \( $d \) in \( $X \) ?",
                  r"In the number \( $X \), what is the \( $d \) worth?"),
              lambda p: p["d"] * F(10) ** p["pos"]),
    Construct("times_power_ten", "Multiply decimals by 10, 100 or 1000", POWERS_OF_TEN, "place value",
              lambda rng: _decimal_times(rng, False),
              say(r"\( $x \times $f= \)", r"Calculate: \( $x \times $f \)"),
              lambda p: p["x"] * p["f"], long_decimal),
    Construct("divide_power_ten", "Divide integers and decimals by 10, 100 or 1000", POWERS_OF_TEN, "place value",
              lambda rng: _decimal_times(rng, True),
              say(r"\( $x \div $f= \)", r"Calculate: \( $x \div $f \)"),
              lambda p: p["x"] / p["f"], long_decimal),
]  # fmt: skip


# ---------------------------------------------------------------- fractions, decimals and percentages

FDP = "Converting between Fractions, Decimals and Percentages"


def _percentage(rng: np.random.Generator) -> Params:
    return {"q": pick(rng, [F(q) for q in (3, 4, 6, 7, 8, 9, 12, 15, 24, 35, 45, 60, 75, 85, 120, 150)] + [F(25, 2)])}


def _unit_fraction_base(rng: np.random.Generator, bases) -> Params:
    b = pick(rng, bases)
    a = pick(rng, [a for a in range(1, b) if math.gcd(a, b) == 1])
    return {"a": a, "b": b}


def _decimal_to_convert(rng: np.random.Generator) -> Params:
    places = pick(rng, [1, 2, 2, 2])
    digits = ri(rng, 1, 9) if places == 1 else pick(rng, [ri(rng, 11, 99), ri(rng, 1, 9)])
    while places == 2 and digits % 10 == 0:
        digits = ri(rng, 11, 99)
    return {"x": F(digits, 10**places), "digits": digits, "places": places}


def _percent_of(rng: np.random.Generator, change: bool = False) -> Params:
    q = pick(rng, [5, 10, 15, 20, 25, 30, 40, 50, 60, 75] if not change else [5, 8, 10, 15, 20, 25, 30, 40])
    return {"q": q, "N": 20 * ri(rng, 2, 20)}


CONVERSIONS = [
    Construct("percent_to_decimal", "Convert percentages to decimals", FDP, "conversions", _percentage,
              say(r"Convert \( $q \% \) to a decimal", r"Write \( $q \% \) as a decimal"),
              lambda p: p["q"] / 100),
    Construct("decimal_to_percent", "Convert decimals to percentages", FDP, "conversions",
              lambda rng: {"x": pick(rng, [F(n, 100) for n in (3, 5, 8, 30, 45, 60, 72, 95, 120)] + [F(1, 8)])},
              say(r"Convert \( $x \) to a percentage", r"Write \( $x \) as a percentage"),
              lambda p: p["x"] * 100, percent),
    Construct("fraction_to_decimal", "Convert fractions to decimals", FDP, "conversions",
              lambda rng: _unit_fraction_base(rng, [2, 4, 5, 8, 20, 25]),
              say(r"Convert \( \frac{$a}{$b} \) to a decimal", r"Write \( \frac{$a}{$b} \) as a decimal"),
              lambda p: F(p["a"], p["b"])),
    Construct("fraction_to_percent", "Convert fractions to percentages", FDP, "conversions",
              lambda rng: _unit_fraction_base(rng, [4, 5, 20, 25, 50]),
              say(r"Convert \( \frac{$a}{$b} \) to a percentage", r"What is \( \frac{$a}{$b} \) as a percentage?"),
              lambda p: F(100 * p["a"], p["b"]), percent),
    Construct("decimal_to_fraction", "Convert decimals to fractions", FDP, "conversions", _decimal_to_convert,
              say(r"Write \( $x \) as a fraction in its simplest form", r"Convert \( $x \) to a fraction"),
              lambda p: p["x"], fraction),
    Construct("percent_of_amount", "Calculate a percentage of an amount", "Percentages of an Amount",
              "conversions", _percent_of,
              say(r"What is \( $q \% \) of \( $N \) ?", r"Calculate \( $q \% \) of \( $N \)"),
              lambda p: F(p["q"] * p["N"], 100)),
    Construct("percent_increase", "Increase an amount by a percentage", "Percentage Increase and Decrease",
              "conversions", lambda rng: _percent_of(rng, True),
              say(r"Increase \( $N \) by \( $q \% \)", r"What is \( $N \) increased by \( $q \% \) ?"),
              lambda p: F(p["N"] * (100 + p["q"]), 100), fmt_number),
    Construct("percent_decrease", "Decrease an amount by a percentage", "Percentage Increase and Decrease",
              "conversions", lambda rng: _percent_of(rng, True),
              say(r"Decrease \( $N \) by \( $q \% \)", r"What is \( $N \) decreased by \( $q \% \) ?"),
              lambda p: F(p["N"] * (100 - p["q"]), 100), fmt_number),
]  # fmt: skip


# ---------------------------------------------------------------- angles


def _angles(rng: np.random.Generator, count: int, total: int, most: int = 170) -> Params:
    """``count`` given whole-degree angles (20 to 150 each) leaving ``total`` minus their sum between 10 and
    ``most`` degrees for the missing angle."""
    while True:
        given = [ri(rng, 20, 150) for _ in range(count)]
        if 10 <= total - sum(given) <= most:
            return {f"g{i}": g for i, g in enumerate(given)} | {"given": given}


POLYGONS = {5: "a pentagon", 6: "a hexagon", 7: "a heptagon", 8: "an octagon", 9: "a nonagon", 10: "a decagon"}
ANGLE_TYPES = ("Acute", "Obtuse", "Reflex", "Right angle")


def angle_type(a: int) -> str:
    return "Acute" if a < 90 else "Right angle" if a == 90 else "Obtuse" if a < 180 else "Reflex"


def _parallel(rng: np.random.Generator, relation: str) -> Params:
    return {"a": ri(rng, 25, 155), "rel": relation, "v": pick(rng, ["p", "q", "x", "y"])}


_PARALLEL_TEXT = say(r"Two parallel lines are crossed by a transversal. One of the angles marked is \( $a^{\circ} \). "
                     r"Angle \( $v \) is $rel to it. What is the size of angle \( $v \) ?",
                     r"In the diagram the two lines are parallel. The marked angle is \( $a^{\circ} \) and \( $v \) is "
                     r"the $rel angle. Find \( $v \).")  # fmt: skip
ANGLES = [
    Construct("angle_triangle", "Find missing angles in a triangle", "Angles in Triangles", "angles",
              lambda rng: _angles(rng, 2, 180),
              say(r"Two angles in a triangle are \( $g0^{\circ} \) and \( $g1^{\circ} \). What is the third angle?",
                  r"A triangle has angles of \( $g0^{\circ} \), \( $g1^{\circ} \) and \( x \). Find \( x \)."),
              lambda p: 180 - sum(p["given"]), degrees),
    Construct("angle_straight_line", "Find missing angles on a straight line",
              "Basic Angle Facts (straight line, opposite, around a point, etc)", "angles",
              lambda rng: _angles(rng, 1, 180),
              say(r"Two angles lie on a straight line. One of them is \( $g0^{\circ} \). What is the other?",
                  r"The line \( AB \) is straight. An angle of \( $g0^{\circ} \) and an angle \( y \) meet on it. "
                  r"What is \( y \) ?"),
              lambda p: 180 - p["g0"], degrees),
    Construct("angle_point", "Find missing angles around a point",
              "Basic Angle Facts (straight line, opposite, around a point, etc)", "angles",
              lambda rng: _angles(rng, 2, 360, most=300),
              say(r"Three angles meet at a point. Two of them are \( $g0^{\circ} \) and \( $g1^{\circ} \). "
                  r"What is the third?",
                  r"Angles of \( $g0^{\circ} \), \( $g1^{\circ} \) and \( z \) surround a point. What is \( z \) ?"),
              lambda p: 360 - sum(p["given"]), degrees),
    Construct("angle_quadrilateral", "Find missing angles in a quadrilateral", "Angles in Polygons", "angles",
              lambda rng: _angles(rng, 3, 360, most=250),
              say(r"A quadrilateral has angles of \( $g0^{\circ} \), \( $g1^{\circ} \) and \( $g2^{\circ} \). "
                  r"What is the fourth angle?"),
              lambda p: 360 - sum(p["given"]), degrees),
    Construct("angle_vertically_opposite", "Identify vertically opposite angles",
              "Basic Angle Facts (straight line, opposite, around a point, etc)", "angles",
              lambda rng: {"a": ri(rng, 20, 160)},
              say(r"Two straight lines cross. One of the four angles is \( $a^{\circ} \). What is the angle "
                  r"opposite it?",
                  r"Two straight roads cross, making an angle of \( $a^{\circ} \). What is the size of "
                  r"the angle directly across from it?"),
              lambda p: p["a"], degrees),
    *[Construct(f"angle_{rel.replace('-', '')}", f"Identify {rel} angles", "Angle Facts with Parallel Lines",
                "angles", lambda rng, rel=rel: _parallel(rng, rel), _PARALLEL_TEXT,
                (lambda p: 180 - p["a"]) if rel == "co-interior" else (lambda p: p["a"]), degrees)
      for rel in ("alternate", "corresponding", "co-interior")],
    Construct("angle_isosceles_base", "Find the base angles of an isosceles triangle given the apex angle",
              "Angles in Triangles", "angles", lambda rng: {"a": 2 * ri(rng, 10, 70)},
              say(r"An isosceles triangle has an apex angle of \( $a^{\circ} \). What is the size of each of the "
                  r"other two angles?"),
              lambda p: (180 - p["a"]) // 2, degrees),
    Construct("angle_isosceles_apex", "Find the apex angle of an isosceles triangle given a base angle",
              "Angles in Triangles", "angles", lambda rng: {"a": ri(rng, 25, 85)},
              say(r"The two equal angles of an isosceles triangle are each \( $a^{\circ} \). What is the third angle?"),
              lambda p: 180 - 2 * p["a"], degrees),
    Construct("polygon_angle_sum", "Find the sum of the interior angles of a polygon", "Angles in Polygons",
              "angles", lambda rng: {"n": (n := ri(rng, 5, 10)), "shape": POLYGONS[n]},
              say(r"What is the sum of the interior angles of $shape?",
                  r"The interior angles of $shape are added together. What is the total?"),
              lambda p: 180 * (p["n"] - 2), degrees),
    Construct("angle_type", "Identify acute, obtuse, reflex and right angles", "Types, Naming and Estimating",
              "angles", lambda rng: {"a": pick(rng, [ri(rng, 15, 85), ri(rng, 95, 175), ri(rng, 185, 350)])},
              say(r"An angle measures \( $a^{\circ} \). What type of angle is it?",
                  r"Which word describes an angle of \( $a^{\circ} \) ?"),
              lambda p: word(angle_type(p["a"])), word,
              slip=lambda p, rng: [word(t) for t in rng.permutation(ANGLE_TYPES)]),
]  # fmt: skip


# ---------------------------------------------------------------- area, perimeter and volume

LENGTH_UNIT = r"\mathrm{~cm}"
AREA_UNIT = r"\mathrm{~cm}^{2}"
VOLUME_UNIT = r"\mathrm{~cm}^{3}"


def _rectangle(rng: np.random.Generator) -> Params:
    length, width = ri(rng, 3, 15), ri(rng, 2, 12)
    while width == length:
        width = ri(rng, 2, 12)
    return {"l": length, "wd": width, "U": LENGTH_UNIT}


def _sloped(rng: np.random.Generator) -> Params:
    """Base, perpendicular height and a longer sloping side (all in cm)."""
    b, h = 2 * ri(rng, 2, 8), ri(rng, 3, 10)
    return {"b": b, "h": h, "s": h + ri(rng, 1, 4), "U": LENGTH_UNIT}


def area(x) -> Ans | None:
    return num(x, AREA_UNIT, positive=True)


def length(x) -> Ans | None:
    return num(x, LENGTH_UNIT, positive=True)


AREA = "Area of Simple Shapes"
CIRCLES = "Area and Circumference of Circles"
MENSURATION = [
    Construct("area_rectangle", "Calculate the area of a rectangle", AREA, "area and perimeter", _rectangle,
              say(r"A rectangle is \( $l $U \) long and \( $wd $U \) wide. What is its area?",
                  r"What is the area of a rectangle measuring \( $l $U \) by \( $wd $U \) ?"),
              lambda p: p["l"] * p["wd"], area),
    Construct("perimeter_rectangle", "Calculate the perimeter of a rectangle", "Perimeter", "area and perimeter",
              _rectangle,
              say(r"A rectangle is \( $l $U \) long and \( $wd $U \) wide. What is its perimeter?",
                  r"What is the distance all the way around a rectangle measuring \( $l $U \) by \( $wd $U \) ?"),
              lambda p: 2 * (p["l"] + p["wd"]), length),
    Construct("area_triangle", "Calculate the area of a triangle", AREA, "area and perimeter", _sloped,
              say(r"A triangle has a base of \( $b $U \), a perpendicular height of \( $h $U \) and a sloping side "
                  r"of \( $s $U \). What is its area?"),
              lambda p: F(p["b"] * p["h"], 2), area),
    Construct("area_parallelogram", "Calculate the area of a parallelogram", AREA, "area and perimeter", _sloped,
              say(r"A parallelogram has a base of \( $b $U \), a perpendicular height of \( $h $U \) and sloping "
                  r"sides of \( $s $U \). What is its area?"),
              lambda p: p["b"] * p["h"], area),
    Construct("circle_area_radius", "Calculate the area of a circle given the radius", CIRCLES, "area and perimeter",
              lambda rng: {"r": ri(rng, 2, 12)},
              say(r"A circle has a radius of \( $r \mathrm{~cm} \). What is its area? Give your answer in terms of "
                  r"\( \pi \)."),
              lambda p: p["r"] ** 2, pi_multiple),
    Construct("circle_area_diameter", "Calculate the area of a circle given the diameter", CIRCLES,
              "area and perimeter", lambda rng: {"d": 2 * ri(rng, 2, 10)},
              say(r"A circle has a diameter of \( $d \mathrm{~cm} \). What is its area? Give your answer in terms "
                  r"of \( \pi \)."),
              lambda p: F(p["d"], 2) ** 2, pi_multiple),
    Construct("circumference_radius", "Calculate the circumference of a circle given the radius", CIRCLES,
              "area and perimeter", lambda rng: {"r": ri(rng, 2, 12)},
              say(r"A circle has a radius of \( $r \mathrm{~cm} \). What is its circumference in terms of \( \pi \) ?"),
              lambda p: 2 * p["r"], pi_multiple),
    Construct("circumference_diameter", "Calculate the circumference of a circle given the diameter", CIRCLES,
              "area and perimeter", lambda rng: {"d": 2 * ri(rng, 2, 10)},
              say(r"A circular plate is \( $d \mathrm{~cm} \) across through its centre. What is its circumference in "
                  r"terms of \( \pi \) ?"),
              lambda p: p["d"], pi_multiple),
    Construct("volume_cuboid", "Calculate the volume of a cuboid", "Volume of Prisms", "area and perimeter",
              lambda rng: {"l": ri(rng, 2, 10), "wd": ri(rng, 2, 8), "h": ri(rng, 2, 6)},
              say(r"A cuboid measures \( $l \mathrm{~cm} \) by \( $wd \mathrm{~cm} \) by \( $h \mathrm{~cm} \). "
                  r"What is its volume?",
                  r"What is the volume of a box \( $l \mathrm{~cm} \) long, \( $wd \mathrm{~cm} \) "
                  r"wide and \( $h \mathrm{~cm} \) tall?"),
              lambda p: p["l"] * p["wd"] * p["h"], lambda x: num(x, VOLUME_UNIT, positive=True)),
]  # fmt: skip


# ---------------------------------------------------------------- units of measure


@dataclass(frozen=True)
class UnitPair:
    """A small and a big unit with ``factor`` small units in one big one."""

    small: str  # abbreviation (or word for time)
    big: str
    factor: int
    small_word: str  # plural
    big_word: str  # singular
    subject: str
    wrong: tuple[int, ...]  # factors students wrongly use
    time: bool = False

    @property
    def key(self) -> str:
        return f"units_{self.small}_{self.big}".replace("^", "")

    def tex(self, unit: str) -> str:
        return rf"\mathrm{{~{unit[:-2]}}}^{{2}}" if unit.endswith("^2") else rf"\mathrm{{~{unit}}}"

    def answer(self, x, unit: str) -> Ans | None:
        if self.time:
            return words(x, unit)
        return num(x, self.tex(unit), positive=True)


UNIT_PAIRS = [
    UnitPair("mm", "cm", 10, "millimetres", "centimetre", "Length Units", (100,)),
    UnitPair("cm", "m", 100, "centimetres", "metre", "Length Units", (10, 1000)),
    UnitPair("mm", "m", 1000, "millimetres", "metre", "Length Units", (100,)),
    UnitPair("m", "km", 1000, "metres", "kilometre", "Length Units", (100,)),
    UnitPair("g", "kg", 1000, "grams", "kilogram", "Weight Units", (100,)),
    UnitPair("kg", "t", 1000, "kilograms", "tonne", "Weight Units", (100,)),
    UnitPair("ml", "l", 1000, "millilitres", "litre", "Volume and Capacity Units", (100,)),
    UnitPair("cl", "l", 100, "centilitres", "litre", "Volume and Capacity Units", (10, 1000)),
    UnitPair("seconds", "minutes", 60, "seconds", "minute", "Time", (100,), time=True),
    UnitPair("minutes", "hours", 60, "minutes", "hour", "Time", (100,), time=True),
    UnitPair("hours", "days", 24, "hours", "day", "Time", (12,), time=True),
    UnitPair("mm^2", "cm^2", 100, "square millimetres", "square centimetre", "Area Units", (10,)),
    UnitPair("cm^2", "m^2", 10000, "square centimetres", "square metre", "Area Units", (100, 1000)),
]


def _unit_question(pair: UnitPair):
    def draw(rng: np.random.Generator) -> Params:
        down = rng.random() < 0.5  # big -> small
        if pair.time:
            big = F(ri(rng, 3, 14), 2) if pair.factor == 24 else F(ri(rng, 5, 30), 4 if rng.random() < 0.3 else 2)
        else:
            big = F(ri(rng, 11, 99), 10) if rng.random() < 0.7 else F(ri(rng, 2, 15))
        x = big if down else big * pair.factor
        source, target = (pair.big, pair.small) if down else (pair.small, pair.big)
        shown = (f"{decimal(x)} {source}" if pair.time else rf"\( {decimal(x)} {pair.tex(source)} \)")
        return {"x": x, "down": down, "from": source, "to": target, "X": shown,
                "TO": pair.small_word if down else pair.big_word + "s"}  # fmt: skip

    return draw


def _unit_construct(pair: UnitPair) -> Construct:
    small, big = pair.small.replace("^2", "²"), pair.big.replace("^2", "²")
    return Construct(pair.key, f"Convert between {small} and {big}", pair.subject, "units", _unit_question(pair),
                     say(r"Convert $X into $TO", r"How many $TO are there in $X?", r"Write $X in $TO"),
                     lambda p: pair.answer(p["x"] * pair.factor if p["down"] else p["x"] / pair.factor, p["to"]),
                     slip=lambda p, rng: _unit_slips(pair, p, rng))  # fmt: skip


def _unit_slips(pair: UnitPair, p: Params, rng: np.random.Generator) -> list[Ans | None]:
    right = p["x"] * pair.factor if p["down"] else p["x"] / pair.factor
    return [pair.answer(v, p["to"]) for v in (right + 1, right * 2, right / 2, right + 10, right - 1)]


UNITS = [_unit_construct(pair) for pair in UNIT_PAIRS]


# ---------------------------------------------------------------- equations and algebra


def _equation(rng: np.random.Generator, form: str) -> Params:
    x, a, b = ri(rng, 2, 12), ri(rng, 2, 9), ri(rng, 2, 15)
    c = {"x+b": x + b, "x-b": x - b, "ax": a * x, "x/a": x, "ax+b": a * x + b, "a(x+b)": a * (x + b)}.get(form)
    if form == "x/a":
        x = a * c
    p = {"x": x, "a": a, "b": b, "c": c}
    if form == "ax+b=cx+d":
        p["c"] = ri(rng, 1, a - 1) if a > 2 else 1
        p["d"] = (a - p["c"]) * x + b
        p["cx"] = "x" if p["c"] == 1 else f"{p['c']} x"
    return p


def _solve(form: str, template: str) -> Construct:
    names = {"x+b": "Solve one-step linear equations requiring subtraction",
             "x-b": "Solve one-step linear equations requiring addition",
             "ax": "Solve one-step linear equations requiring division",
             "x/a": "Solve one-step linear equations requiring multiplication",
             "ax+b": "Solve two-step linear equations",
             "a(x+b)": "Solve linear equations with a bracket on one side",
             "ax+b=cx+d": "Solve linear equations with the unknown on both sides"}  # fmt: skip
    return Construct(f"solve_{form}", names[form], "Linear Equations", "equations",
                     lambda rng: _equation(rng, form) | {"form": form},
                     say(rf"Solve \( {template} \)", rf"What is the value of \( x \) if \( {template} \) ?"),
                     lambda p: p["x"], lambda x: equation("x", x))


def _expand(rng: np.random.Generator) -> Params:
    a, b, c, s = ri(rng, 2, 9), pick(rng, [1, 1, 2, 3, 4, 5]), ri(rng, 1, 9), pick(rng, [1, -1])
    inner = ("x" if b == 1 else f"{b} x") + ("+" if s > 0 else "-") + str(c)
    return {"a": a, "b": b, "c": c, "s": s, "E": f"{a}({inner})"}


def _expression_slips(terms):
    """Slips for an expression answer: each coefficient nudged."""

    def slip(p: Params, rng: np.random.Generator) -> list[Ans | None]:
        base = terms(p)
        options = []
        for i in range(len(base)):
            for delta in (1, -1, 2):
                options.append(poly(*[(c + delta if j == i else c, v) for j, (c, v) in enumerate(base)]))
        return [options[i] for i in rng.permutation(len(options))]

    return slip


def _nth_terms(p: Params):
    return [(p["d"], "n"), (p["f"] - p["d"], "")]


def _sequence(rng: np.random.Generator) -> Params:
    f, d = ri(rng, 2, 12), ri(rng, 2, 9)
    while f == d:
        f = ri(rng, 2, 12)
    return {"f": f, "d": d, "S": ", ".join(str(f + i * d) for i in range(4)) + r", \ldots"}


EQUATIONS = [
    _solve("x+b", "x+$b=$c"), _solve("x-b", "x-$b=$c"), _solve("ax", "$a x=$c"), _solve("x/a", r"\frac{x}{$a}=$c"),
    _solve("ax+b", "$a x+$b=$c"), _solve("a(x+b)", "$a(x+$b)=$c"), _solve("ax+b=cx+d", "$a x+$b=$cx+$d"),
]
ALGEBRA = [
    Construct("expand_single", "Expand a single bracket with a number outside", "Expanding Single Brackets",
              "algebra", _expand, say(r"Expand: \( $E \)", r"Multiply out the bracket: \( $E \)"),
              lambda p: poly((p["a"] * p["b"], "x"), (p["a"] * p["s"] * p["c"], "")), poly,
              _expression_slips(lambda p: [(p["a"] * p["b"], "x"), (p["a"] * p["s"] * p["c"], "")])),
    Construct("collect_like", "Simplify expressions by collecting like terms",
              "Simplifying Expressions by Collecting Like Terms", "algebra",
              lambda rng: {"a": ri(rng, 2, 9), "b": ri(rng, 2, 9)},
              say(r"Simplify: \( $a x+$b x \)", r"Write \( $a x+$b x \) as simply as possible"),
              lambda p: poly((p["a"] + p["b"], "x")), poly,
              _expression_slips(lambda p: [(p["a"] + p["b"], "x")])),
    Construct("collect_unlike", "Simplify expressions with two variables by collecting like terms",
              "Simplifying Expressions by Collecting Like Terms", "algebra",
              lambda rng: {"a": ri(rng, 2, 9), "b": ri(rng, 2, 9), "e": ri(rng, 2, 9)},
              say(r"Simplify: \( $a x+$b y+$e x \)", r"Collect like terms: \( $a x+$b y+$e x \)"),
              lambda p: poly((p["a"] + p["e"], "x"), (p["b"], "y")), poly,
              _expression_slips(lambda p: [(p["a"] + p["e"], "x"), (p["b"], "y")])),
    Construct("substitute_linear", "Substitute positive integers into linear expressions", "Substitution into Formula",
              "algebra", lambda rng: {"a": ri(rng, 2, 9), "b": ri(rng, 1, 9), "k": ri(rng, 2, 9)},
              say(r"What is the value of \( $a x+$b \) when \( x=$k \) ?", r"If \( x=$k \), what is \( $a x+$b \) ?"),
              lambda p: p["a"] * p["k"] + p["b"]),
    Construct("substitute_square", "Substitute integers into expressions involving a square",
              "Substitution into Formula", "algebra",
              lambda rng: {"a": ri(rng, 2, 5), "k": (k := pick(rng, [-1, 1]) * ri(rng, 2, 6)), "K": decimal(k)},
              say(r"What is the value of \( $a x^{2} \) when \( x=$K \) ?", r"If \( x=$K \), work out \( $a x^{2} \)"),
              lambda p: p["a"] * p["k"] ** 2),
    Construct("nth_term", "Find the nth term rule of an ascending linear sequence", "Linear Sequences (nth term)",
              "algebra", _sequence,
              say(r"What is the \( n \)th term of the sequence \( $S \) ?",
                  r"Find a rule for the \( n \)th term of \( $S \)"),
              lambda p: poly(*_nth_terms(p)), poly, _expression_slips(_nth_terms)),
]  # fmt: skip


# ---------------------------------------------------------------- ratio and proportion


def _share(rng: np.random.Generator) -> Params:
    a, b = ri(rng, 1, 7), ri(rng, 1, 7)
    while a == b or math.gcd(a, b) > 1:
        a, b = ri(rng, 1, 7), ri(rng, 1, 7)
    pair = pick(rng, [("Amy", "Ben"), ("Priya", "Tom"), ("Kai", "Zara"), ("Sam", "Lily")])
    return {"a": a, "b": b, "N": (a + b) * ri(rng, 2, 15), "P1": pair[0], "P2": pair[1]}


def _ratio_to_simplify(rng: np.random.Generator) -> Params:
    a, b = ri(rng, 1, 7), ri(rng, 2, 9)
    while a == b or math.gcd(a, b) > 1:
        a, b = ri(rng, 1, 7), ri(rng, 2, 9)
    g = pick(rng, [4, 6, 8, 9, 10, 12])
    return {"a": a, "b": b, "g": g, "P": a * g, "Q": b * g}


def _proportion(rng: np.random.Generator) -> Params:
    k, m = ri(rng, 2, 6), ri(rng, 3, 12)
    while m == k:
        m = ri(rng, 3, 12)
    item = pick(rng, ["pens", "apples", "tickets", "notebooks"])
    return {"k": k, "m": m, "C": k * ri(rng, 2, 9), "item": item}


def _ratio_slips(p: Params, rng: np.random.Generator) -> list[Ans | None]:
    a, b = p["a"], p["b"]
    return [ratio(*pair) for pair in ((a + 1, b), (a, b + 1), (a * 2, b), (p["P"], p["Q"] // 2))]


RATIO = [
    Construct("ratio_share", "Share an amount in a given ratio", "Sharing in a Ratio", "ratio", _share,
              say(r"$P1 and $P2 share £$N in the ratio \( $a: $b \). How much does $P1 get?",
                  r"£$N is split between $P1 and $P2 in the ratio \( $a: $b \). What is $P1's share?"),
              lambda p: F(p["N"] * p["a"], p["a"] + p["b"]), money),
    Construct("ratio_simplify", "Simplify a ratio by dividing by the highest common factor", "Simplifying Ratios",
              "ratio", _ratio_to_simplify,
              say(r"Write \( $P: $Q \) in its simplest form", r"Simplify the ratio \( $P: $Q \)"),
              lambda p: ratio(p["a"], p["b"]), slip=_ratio_slips),
    Construct("direct_proportion", "Solve direct proportion problems", "Direct Proportion", "ratio", _proportion,
              say(r"\( $k \) $item cost £$C. How much do \( $m \) $item cost?",
                  r"If \( $k \) $item cost £$C altogether, what is the cost of \( $m \) $item?"),
              lambda p: F(p["C"] * p["m"], p["k"]), money),
    Construct("ratio_to_fraction", "Write a ratio as a fraction of the whole", "Writing Ratios", "ratio",
              lambda rng: _share(rng),
              say(r"The ratio of boys to girls in a class is \( $a: $b \). What fraction of the class are boys?",
                  r"Red and blue beads are in the ratio \( $a: $b \). What fraction of the beads are red?"),
              lambda p: F(p["a"], p["a"] + p["b"]), fraction),
]  # fmt: skip


# ---------------------------------------------------------------- averages and range


def median(values) -> F:
    s = sorted(values)
    mid = len(s) // 2
    return F(s[mid]) if len(s) % 2 else F(s[mid - 1] + s[mid], 2)


def mode(values) -> int | None:
    counts = {v: values.count(v) for v in values}
    top = max(counts.values())
    modes = [v for v, c in counts.items() if c == top]
    return modes[0] if len(modes) == 1 and top > 1 else None


def _data(rng: np.random.Generator, n: int, kind: str) -> Params:
    while True:
        values = [ri(rng, 1, 20) for _ in range(n)]
        if kind == "mode":
            values[ri(rng, 0, n - 1)] = values[0]
            if mode(values) is None:
                continue
        if kind == "mean" and sum(values) % n:
            continue
        if kind.startswith("median") and values == sorted(values):
            continue
        return {"v": values, "n": n, "L": ",\\ ".join(map(str, values))}


_STATS_TEXT = {
    "mean": say(r"What is the mean of these numbers? \( $L \)", r"Find the mean of \( $L \)"),
    "median": say(r"What is the median of these numbers? \( $L \)", r"Find the median of \( $L \)"),
    "mode": say(r"What is the mode of these numbers? \( $L \)", r"Which number is the mode of \( $L \) ?"),
    "range": say(r"What is the range of these numbers? \( $L \)", r"Find the range of \( $L \)"),
}
AVERAGES = "Averages (mean, median, mode) from a List of Data"
STATISTICS = [
    Construct("mean", "Calculate the mean from a list of data", AVERAGES, "statistics",
              lambda rng: _data(rng, pick(rng, [4, 5, 6]), "mean"), _STATS_TEXT["mean"],
              lambda p: F(sum(p["v"]), p["n"])),
    Construct("median_odd", "Calculate the median from a list of data with an odd number of values", AVERAGES,
              "statistics", lambda rng: _data(rng, pick(rng, [5, 7]), "median"), _STATS_TEXT["median"],
              lambda p: median(p["v"])),
    Construct("median_even", "Calculate the median from a list of data with an even number of values", AVERAGES,
              "statistics", lambda rng: _data(rng, pick(rng, [4, 6]), "median"), _STATS_TEXT["median"],
              lambda p: median(p["v"])),
    Construct("mode", "Identify the mode from a list of data", AVERAGES, "statistics",
              lambda rng: _data(rng, pick(rng, [6, 7, 8]), "mode"), _STATS_TEXT["mode"],
              lambda p: mode(p["v"])),
    Construct("range", "Calculate the range from a list of data", "Range and Interquartile Range from a List of Data",
              "statistics", lambda rng: _data(rng, pick(rng, [5, 6, 7]), "range"), _STATS_TEXT["range"],
              lambda p: max(p["v"]) - min(p["v"])),
]  # fmt: skip


# ---------------------------------------------------------------- coordinates, factors, probability


def _position(rng: np.random.Generator) -> Params:
    x, y = ri(rng, 1, 9), ri(rng, 1, 9)
    while x == y:
        y = ri(rng, 1, 9)
    sx, sy = pick(rng, [(-1, 1), (1, -1), (-1, -1)])
    return {"x": sx * x, "y": sy * y, "H": f"{x} units to the {'left' if sx < 0 else 'right'}",
            "V": f"{y} units {'down' if sy < 0 else 'up'}"}  # fmt: skip


def _two_points(rng: np.random.Generator, even: bool) -> Params:
    while True:
        x1, y1, x2, y2 = (ri(rng, -6, 12) for _ in range(4))
        if x1 == x2 or y1 == y2 or abs(x2 - x1) == abs(y2 - y1):
            continue
        if even and ((x1 + x2) % 2 or (y1 + y2) % 2):
            continue
        return {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "A": f"({x1},{y1})", "B": f"({x2},{y2})"}


def _point_slips(p: Params, rng: np.random.Generator) -> list[Ans | None]:
    x, y = p["ax"], p["ay"]
    return [point(*xy) for xy in ((x + 1, y), (x, y - 1), (-x, y), (x, -y), (x + 2, y + 2))]


def _common(rng: np.random.Generator) -> Params:
    g = pick(rng, [4, 6, 8, 9, 10, 12])
    m, n = ri(rng, 2, 7), ri(rng, 2, 7)
    while m == n or math.gcd(m, n) > 1:
        m, n = ri(rng, 2, 7), ri(rng, 2, 7)
    return {"a": g * m, "b": g * n, "g": g}


def _bag(rng: np.random.Generator) -> Params:
    r, b, g = ri(rng, 1, 7), ri(rng, 1, 7), ri(rng, 1, 7)
    return {"r": r, "bl": b, "gr": g, "T": r + b + g}


_BAG = r"A bag holds $r red, $bl blue and $gr green counters."
OTHER = [
    Construct("coordinates", "Write the coordinates of a point in all four quadrants", "Coordinates",
              "coordinates", _position,
              say(r"A point is $H of the origin and $V. What are its coordinates?",
                  r"Starting at \( (0,0) \), move $H and then $V. Where do you end up?"),
              lambda p: point(p["x"], p["y"]), slip=lambda p, rng: _point_slips(p | {"ax": p["x"], "ay": p["y"]}, rng)),
    Construct("midpoint", "Find the midpoint of two coordinates", "Midpoint Between Two Co-ordinates",
              "coordinates", lambda rng: _two_points(rng, True),
              say(r"What is the midpoint of \( $A \) and \( $B \) ?",
                  r"Find the point halfway between \( $A \) and \( $B \)"),
              lambda p: point(F(p["x1"] + p["x2"], 2), F(p["y1"] + p["y2"], 2)),
              slip=lambda p, rng: _point_slips(p | {"ax": F(p["x1"] + p["x2"], 2),
                                                    "ay": F(p["y1"] + p["y2"], 2)}, rng)),
    Construct("gradient", "Find the gradient of a line through two points", "Gradient Between Two Co-ordinates",
              "coordinates", lambda rng: _two_points(rng, False),
              say(r"What is the gradient of the line through \( $A \) and \( $B \) ?",
                  r"A straight line passes through \( $A \) and \( $B \). Find its gradient."),
              lambda p: F(p["y2"] - p["y1"], p["x2"] - p["x1"]), fraction),
    Construct("hcf", "Find the highest common factor of two numbers", "Factors and Highest Common Factor",
              "factors and multiples", _common,
              say(r"What is the highest common factor of \( $a \) and \( $b \) ?",
                  r"Find the HCF of \( $a \) and \( $b \)"),
              lambda p: p["g"]),
    Construct("lcm", "Find the lowest common multiple of two numbers", "Multiples and Lowest Common Multiple",
              "factors and multiples", _common,
              say(r"What is the lowest common multiple of \( $a \) and \( $b \) ?",
                  r"Find the LCM of \( $a \) and \( $b \)"),
              lambda p: math.lcm(p["a"], p["b"])),
    Construct("probability_single", "Calculate the probability of a single event from equally likely outcomes",
              "Probability of Single Events", "probability", _bag,
              say(_BAG + " One counter is taken at random. What is the probability that it is red?"),
              lambda p: F(p["r"], p["T"]), fraction),
    Construct("probability_two", "Calculate the probability of two independent events",
              "Probability of Combined Events",
              "probability", _bag,
              say(_BAG + " A counter is taken at random and put back, then a second is taken. What is the probability "
                  "that both are red?"),
              lambda p: F(p["r"], p["T"]) ** 2, fraction),
]  # fmt: skip


FAMILIES: dict[str, list[Construct]] = {}
for _construct in [*FRACTIONS_ADD, *FRACTIONS_MUL, *NEGATIVES, *ORDER_OF_OPERATIONS, *POWERS_AND_ROOTS,
                   *ROUNDING_AND_PLACE, *CONVERSIONS, *ANGLES, *MENSURATION, *UNITS, *EQUATIONS, *ALGEBRA, *RATIO,
                   *STATISTICS, *OTHER]:  # fmt: skip
    FAMILIES.setdefault(_construct.family, []).append(_construct)
CONSTRUCTS: dict[str, Construct] = {c.key: c for family in FAMILIES.values() for c in family}
CONSTRUCT_IDS = {key: 1000 + 7 * i for i, key in enumerate(CONSTRUCTS)}
SUBJECT_IDS = {s: 200 + i for i, s in enumerate(dict.fromkeys(c.subject for c in CONSTRUCTS.values()))}


def answer(construct: Construct, value) -> Ans | None:
    """A mechanism's or the correct method's result as an answer of ``construct`` (``None`` stays ``None``)."""
    if value is None or isinstance(value, Ans):
        return value
    return construct.fmt(value)


def slips(construct: Construct, p: Params, rng: np.random.Generator) -> Iterable[Ans | None]:
    """Candidate slips, in random order, formatted lazily: the construct's own, or numbers near the correct
    value."""
    if construct.slip is not None:
        return construct.slip(p, rng)
    return nearby(p, rng, construct.correct(p), construct.fmt)
