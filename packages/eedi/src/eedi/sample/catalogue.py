"""The misconception catalogue: a few hundred maths misconceptions, each with the wrong answer it produces.

Every misconception has a name in the varied wording of Eedi's mapping ("Adds the numerators and the
denominators", "Thinks a negative times a negative is negative", "Confuses the radius with the
diameter"), the constructs it applies to and a *mechanism* per construct: given a question's numbers it
computes the answer a student holding it would give, or ``None`` where it does not apply. About sixty
base mechanisms are parametrised (unit pairs, rounding places, percentages, angle totals) into ~320
names, and each distinct name has a distinct mechanism or distinct constructs. Near duplicates are
deliberate: names a word or two apart ("Believes you add the denominators when adding fractions" /
"... multiply the denominators ...", "Rounds down instead of up" / "Rounds up instead of down") whose
answers differ, so that a ranker must read the numbers, not just the words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction as F

import numpy as np

from eedi.sample.answers import Ans, decimal, frac, num, pi_multiple, point, poly, power, ratio, tex, word
from eedi.sample.families import (
    CONSTRUCTS,
    PLACES,
    UNIT_PAIRS,
    Params,
    angle_type,
    area,
    leading_exp,
    length,
    median,
    mode,
    round_down,
    round_half_up,
    round_up,
)

Mechanism = Callable[[Params], object]


@dataclass(frozen=True)
class Misconception:
    """A named misconception, the constructs it applies to and the wrong answer it gives on each."""

    name: str
    mechanisms: dict[str, Mechanism]  # construct key -> mechanism
    id: int = -1

    @property
    def constructs(self) -> tuple[str, ...]:
        return tuple(self.mechanisms)

    def apply(self, p: Params) -> object:
        """The wrong answer on the question ``p`` (a number for the construct to format, an Ans, or None)."""
        try:
            return self.mechanisms[p["construct"]](p)
        except ZeroDivisionError:
            return None


def raw(n: int, d: int) -> Ans | None:
    """A fraction as the student writes it: not simplified."""
    return frac(n, d, simplify=False)


def M(name: str, constructs: str | Sequence[str] | dict[str, Mechanism], mechanism: Mechanism | None = None):
    """A misconception from one mechanism shared by ``constructs``, or from a dict construct -> mechanism."""
    if isinstance(constructs, dict):
        return Misconception(name, constructs)
    keys = [constructs] if isinstance(constructs, str) else list(constructs)
    return Misconception(name, dict.fromkeys(keys, mechanism))


def _when(condition: bool, value):
    return value if condition else None


# ---------------------------------------------------------------- fractions


def _lcm(p: Params) -> int:
    return math.lcm(p["b"], p["d"])


def _fractions() -> list[Misconception]:
    a_b = lambda p: F(p["a"], p["b"])  # noqa: E731
    c_d = lambda p: F(p["c"], p["d"])  # noqa: E731
    return [
        M("Adds the numerators and the denominators", "frac_add",
          lambda p: raw(p["a"] + p["c"], p["b"] + p["d"])),
        M("Believes you multiply the denominators when adding fractions", "frac_add",
          lambda p: raw(p["a"] + p["c"], p["b"] * p["d"])),
        M("Believes you add the denominators when adding fractions", "frac_add",
          lambda p: raw(p["a"] * p["d"] + p["c"] * p["b"], 2 * p["b"] * p["d"])),
        M("Multiplies the fractions instead of adding them", "frac_add", lambda p: a_b(p) * c_d(p)),
        M("Subtracts instead of adds when adding fractions", "frac_add", lambda p: a_b(p) - c_d(p)),
        M("Converts the denominators to a common denominator but leaves the numerators the same", "frac_add",
          lambda p: raw(p["a"] + p["c"], _lcm(p))),
        M("Only converts one fraction to the common denominator before adding", "frac_add",
          lambda p: raw(p["a"] * _lcm(p) // p["b"] + p["c"], _lcm(p))),
        M("Adds the numerators and keeps the larger denominator", "frac_add",
          lambda p: raw(p["a"] + p["c"], max(p["b"], p["d"]))),
        M("Subtracts the numerators and subtracts the denominators", "frac_sub",
          lambda p: raw(p["a"] - p["c"], p["b"] - p["d"])),
        M("Believes you multiply the denominators when subtracting fractions", "frac_sub",
          lambda p: raw(p["a"] - p["c"], p["b"] * p["d"])),
        M("Adds instead of subtracts when subtracting fractions", "frac_sub", lambda p: a_b(p) + c_d(p)),
        M("Only converts one fraction to the common denominator before subtracting", "frac_sub",
          lambda p: raw(p["a"] * _lcm(p) // p["b"] - p["c"], _lcm(p))),
        M("Believes that when adding fractions you add the tops and the bottoms", "frac_add_same",
          lambda p: raw(p["a"] + p["c"], 2 * p["b"])),
        M("Multiplies the denominators when adding fractions with the same denominator", "frac_add_same",
          lambda p: raw(p["a"] + p["c"], p["b"] ** 2)),
        M("Adds the whole number to the numerator only", "frac_add_whole", lambda p: raw(p["n"] + p["a"], p["b"])),
        M("Adds the whole number to both the numerator and the denominator", "frac_add_whole",
          lambda p: raw(p["n"] + p["a"], p["n"] + p["b"])),
        M("Writes a whole number as a fraction with the same numerator and denominator", "frac_add_whole",
          lambda p: raw(p["b"] + p["a"], p["b"])),
        M("Multiplies the whole number by the fraction instead of adding", "frac_add_whole",
          lambda p: raw(p["n"] * p["a"], p["b"])),
        M("Subtracts the numerator from the whole number and keeps the denominator", "frac_sub_whole",
          lambda p: _when(p["n"] > p["a"], raw(p["n"] - p["a"], p["b"]))),
        M("Subtracts the fraction from 1 and forgets the other whole ones", "frac_sub_whole",
          lambda p: raw(p["b"] - p["a"], p["b"])),
        M("When multiplying fractions, adds the numerators and multiplies the denominators", "frac_mul",
          lambda p: raw(p["a"] + p["c"], p["b"] * p["d"])),
        M("When multiplying fractions, adds the numerators and the denominators", "frac_mul",
          lambda p: raw(p["a"] + p["c"], p["b"] + p["d"])),
        M("Cross-multiplies when multiplying fractions", "frac_mul", lambda p: raw(p["a"] * p["d"], p["b"] * p["c"])),
        M("Finds a common denominator when multiplying fractions and keeps it in the answer", "frac_mul",
          lambda p: raw(p["a"] * p["d"] * p["c"] * p["b"], p["b"] * p["d"])),
        M("When multiplying a fraction by an integer, multiplies both the numerator and denominator by the integer",
          "frac_mul_int", lambda p: raw(p["n"] * p["a"], p["n"] * p["b"])),
        M("Multiplies the denominator by the integer instead of the numerator", "frac_mul_int",
          lambda p: raw(p["a"], p["n"] * p["b"])),
        M("Adds the integer to the numerator when multiplying a fraction by an integer", "frac_mul_int",
          lambda p: raw(p["n"] + p["a"], p["b"])),
        M("Does the reciprocal of the first fraction instead of the second when dividing", "frac_div",
          lambda p: 1 / a_b(p) * c_d(p)),
        M("Multiplies instead of divides when dividing fractions", "frac_div", lambda p: a_b(p) * c_d(p)),
        M("Takes the reciprocal of both fractions before multiplying", "frac_div", lambda p: 1 / (a_b(p) * c_d(p))),
        M("When dividing a fraction by an integer, divides both the numerator and denominator by the integer",
          "frac_div_int",
          lambda p: _when(p["a"] % p["n"] == 0 and p["b"] % p["n"] == 0, raw(p["a"] // p["n"], p["b"] // p["n"]))),
        M("Multiplies instead of divides when dividing a fraction by an integer", "frac_div_int",
          lambda p: raw(p["n"] * p["a"], p["b"])),
        M("When dividing a fraction by an integer, divides the numerator and also multiplies the denominator",
          "frac_div_int", lambda p: _when(p["a"] % p["n"] == 0, raw(p["a"] // p["n"], p["b"] * p["n"]))),
        M("Divides by the numerator and multiplies by the denominator when finding a fraction of an amount",
          "frac_of", lambda p: F(p["N"] * p["b"], p["a"])),
        M("Divides by the denominator but does not multiply by the numerator when finding a fraction of an amount",
          "frac_of", lambda p: F(p["N"], p["b"])),
        M("Finds the fraction of the amount that is left instead of the fraction asked for", "frac_of",
          lambda p: F(p["N"] * (p["b"] - p["a"]), p["b"])),
        M("Multiplies the amount by the numerator but does not divide by the denominator", "frac_of",
          lambda p: p["N"] * p["a"]),
    ]  # fmt: skip


# ---------------------------------------------------------------- negative numbers and order of operations


def _negatives() -> list[Misconception]:
    return [
        M("Thinks a negative times a negative is negative", "neg_mul_two", lambda p: -p["x"] * p["y"]),
        M("Adds instead of multiplies when multiplying negative numbers", ("neg_mul_two", "neg_mul_one"),
          lambda p: p["x"] + p["y"]),
        M("Believes multiplying a positive by a negative gives a positive answer", {
            "neg_mul_one": lambda p: abs(p["x"] * p["y"]),
            "expand_single": lambda p: _when(p["s"] < 0, poly((p["a"] * p["b"], "x"), (p["a"] * p["c"], ""))),
        }),
        M("Believes dividing a negative by a negative gives a negative answer", "neg_div",
          lambda p: _when(p["x"] < 0 and p["y"] < 0, -F(p["x"], p["y"]))),
        M("Believes dividing a negative by a positive gives a positive answer", "neg_div",
          lambda p: _when(p["x"] < 0 < p["y"], -F(p["x"], p["y"]))),
        M("Believes dividing a positive by a negative gives a positive answer", "neg_div",
          lambda p: _when(p["y"] < 0 < p["x"], -F(p["x"], p["y"]))),
        M("Believes adding a negative number makes the answer bigger", "neg_add",
          lambda p: _when(p["y"] < 0 < p["x"], p["x"] - p["y"])),
        M("Ignores the negative sign when adding a positive number to a negative number", "neg_add",
          lambda p: _when(p["x"] < 0 < p["y"], -p["x"] + p["y"])),
        M("Believes adding two negative numbers gives a positive answer", "neg_add",
          lambda p: _when(p["x"] < 0 and p["y"] < 0, -(p["x"] + p["y"]))),
        M("Believes subtracting a negative number makes the answer smaller", "neg_sub",
          lambda p: _when(p["y"] < 0, p["x"] + p["y"])),
        M("Ignores the negative sign of the first number in a subtraction", "neg_sub",
          lambda p: _when(p["x"] < 0, -p["x"] - p["y"])),
        M("Believes subtracting a positive number from a negative number gives a positive answer", "neg_sub",
          lambda p: _when(p["x"] < 0 < p["y"], -p["x"] + p["y"])),
        M("Counts in the wrong direction on a number line", {
            "neg_add": lambda p: p["x"] - p["y"],
            "neg_sub": lambda p: p["x"] + p["y"],
            "temp_change": lambda p: p["s"] - p["k"],
        }),
        M("Ignores the negative sign of the starting temperature", "temp_change",
          lambda p: _when(p["s"] < 0, -p["s"] + p["k"])),
        M("Believes a temperature that falls below zero is still positive", "temp_change",
          lambda p: _when(p["k"] < 0, -(p["s"] + p["k"]))),
        M("Finds the difference between a negative and a positive number by subtracting their sizes", "temp_diff",
          lambda p: p["hi"] + p["lo"]),
        M("Gives the difference between two temperatures as a negative number", "temp_diff",
          lambda p: p["lo"] - p["hi"]),
    ]  # fmt: skip


def _order_of_operations() -> list[Misconception]:
    def power_on_all(p: Params):
        return (p["a"] + p["b"]) ** 2 if p["op"] == "+" else (p["a"] * p["b"]) ** 2

    return [
        M("Carries out operations from left to right regardless of priority order", {
            "bidmas_add_mul": lambda p: (p["a"] + p["b"]) * p["c"] if p["order"] == "a+bc" else None,
            "bidmas_sub_div": lambda p: F(p["a"] - p["b"], p["c"]),
        }),
        M("Believes addition comes before multiplication", "bidmas_add_mul",
          lambda p: (p["a"] + p["b"]) * p["c"] if p["order"] == "a+bc" else p["b"] * (p["c"] + p["a"])),
        M("Ignores the brackets when working out a calculation", "bidmas_brackets",
          lambda p: p["a"] * p["b"] + p["c"] if p["order"] == "a(b+c)" else p["a"] + p["b"] * p["c"]),
        M("Performs addition ahead of subtraction", "bidmas_add_sub", lambda p: p["a"] - (p["b"] + p["c"])),
        M("Believes multiplication always comes before division", "bidmas_mul_div",
          lambda p: F(p["a"], p["b"] * p["c"])),
        M("Applies the power to the whole expression instead of only the number it is on", "bidmas_powers",
          power_on_all),
    ]  # fmt: skip


# ---------------------------------------------------------------- powers and roots


def _is_cube(n: int) -> bool:
    return round(n ** (1 / 3)) ** 3 == n


def _powers() -> list[Misconception]:
    return [
        M("Mixes up squaring and multiplying by 2", {
            "square": lambda p: 2 * p["a"],
            "square_negative": lambda p: -2 * p["a"],
            "negative_of_square": lambda p: -2 * p["a"],
            "bidmas_powers": lambda p: p["a"] + 2 * p["b"] if p["op"] == "+" else p["a"] * 2 * p["b"],
            "substitute_square": lambda p: 2 * p["a"] * p["k"],
        }),
        M("Adds the power to the base instead of raising to the power", {
            "square": lambda p: p["a"] + 2, "cube": lambda p: p["a"] + 3,
            "power_notation": lambda p: p["a"] + p["n"],
        }),
        M("Believes cubing a number means multiplying it by 3", "cube", lambda p: 3 * p["a"]),
        M("Mixes up cubing and squaring", "cube", lambda p: p["a"] ** 2),
        M("Halves when asked to find the square root", "sqrt", lambda p: F(p["n"], 2)),
        M("Squares the number instead of finding the square root", "sqrt", lambda p: p["n"] ** 2),
        M("Confuses square roots and cube roots", {
            "sqrt": lambda p: _when(_is_cube(p["n"]), round(p["n"] ** (1 / 3))),
            "cbrt": lambda p: _when(math.isqrt(p["n"]) ** 2 == p["n"], math.isqrt(p["n"])),
        }),
        M("Divides by 3 when asked to find the cube root", "cbrt", lambda p: F(p["n"], 3)),
        M("Multiplies the base by the power instead of raising it", "power_notation", lambda p: p["a"] * p["n"]),
        M("Confuses the base and the power", "power_notation", lambda p: p["n"] ** p["a"]),
        M("Believes the square of a negative will also be negative", {
            "square_negative": lambda p: -p["a"] ** 2,
            "substitute_square": lambda p: _when(p["k"] < 0, -p["a"] * p["k"] ** 2),
        }),
        M("Thinks the negative of a square is the square of the negative", "negative_of_square",
          lambda p: p["a"] ** 2),
        M("Multiplies the powers when multiplying terms with the same base", "index_mul",
          lambda p: power(p["a"], p["m"] * p["n"])),
        M("Multiplies the base numbers as well as adding the powers", "index_mul",
          lambda p: power(p["a"] ** 2, p["m"] + p["n"])),
        M("Subtracts the powers when multiplying terms with the same base", "index_mul",
          lambda p: power(p["a"], abs(p["m"] - p["n"]))),
        M("Divides the powers when dividing terms with the same base", "index_div",
          lambda p: _when(p["m"] % p["n"] == 0, power(p["a"], p["m"] // max(p["n"], 1)))),
        M("Adds the powers when dividing terms with the same base", "index_div",
          lambda p: power(p["a"], p["m"] + p["n"])),
        M("Adds the powers when raising a power to a power", "index_power", lambda p: power(p["a"], p["m"] + p["n"])),
        M("Raises the first power to the second when simplifying a power of a power", "index_power",
          lambda p: power(p["a"], p["m"] ** p["n"]) if p["m"] ** p["n"] <= 100 else None),
        M("Believes any number to the power of zero is zero", "zero_power", lambda p: 0),
        M("Believes a number to the power of zero is the number itself", "zero_power", lambda p: p["a"]),
        M("Believes a negative power results in a negative answer", "negative_power", lambda p: -p["a"] ** p["n"]),
        M("Thinks a negative power means multiplying the base by the negative number", "negative_power",
          lambda p: -p["a"] * p["n"]),
        M("Believes a negative power gives the reciprocal with a negative sign", "negative_power",
          lambda p: -F(1, p["a"] ** p["n"])),
    ]  # fmt: skip


# ---------------------------------------------------------------- rounding, place value, powers of ten

ROUNDING = [f"round_{exp}" for exp in (1, 2, 3, 0, -1, -2)]


def _place_phrase(exp: int) -> str:
    return f"the nearest {PLACES[exp]}" if exp >= 0 else PLACES[exp]


def _rounded(x, exp: int) -> Ans | None:
    """A rounded value written as the student would: whole numbers plainly, decimals to ``-exp`` places."""
    if exp >= 0:
        return num(x)
    text = decimal(x, places=-exp)
    return None if text is None else Ans(tex(text), ("n", F(x), ""))


def _nine_not_carried(p: Params) -> Ans | None:
    """Rounding up a 9 written as "10" in its column (3.96 -> 3.10; 2961 -> 21000 to the nearest 100)."""
    x, exp = p["x"], p["exp"]
    if int(x / F(10) ** exp) % 10 != 9 or round_half_up(x, exp) <= x:
        return None
    head = round_down(x, exp + 1)
    if exp >= 0:
        if head == 0:
            return None
        text = f"{int(head) // 10 ** (exp + 1)}10" + "0" * exp
    else:
        text = decimal(head, places=-exp - 1) + ("." if exp == -1 else "") + "10"
    return Ans(tex(text), ("n", F(text), ""))


def _rounding() -> list[Misconception]:
    wrong_places = [(1, 2), (2, 1), (2, 3), (3, 2), (3, 1), (0, 1), (0, -1), (-1, 0), (-1, -2), (-2, -1)]
    return [
        M("Rounds down instead of up", [*ROUNDING, "round_1sf"],
          lambda p: _when(round_half_up(p["x"], p["exp"]) > p["x"], round_down(p["x"], p["exp"]))),
        M("Rounds up instead of down", [*ROUNDING, "round_1sf"],
          lambda p: _when(round_half_up(p["x"], p["exp"]) < p["x"], round_up(p["x"], p["exp"]))),
        *[M(f"Rounds to {_place_phrase(to)} instead of {_place_phrase(asked)}", f"round_{asked}",
            lambda p, to=to: _rounded(round_half_up(p["x"], to), to))
          for asked, to in wrong_places],
        M("Removes the digits after the rounding place instead of replacing them with zeros", ROUNDING[:3],
          lambda p: round_half_up(p["x"], p["exp"]) / F(10) ** p["exp"]),
        M("When rounding up from a 9, does not add one on to the digit to the left", [*ROUNDING],
          _nine_not_carried),
        M("Confuses decimal places and significant figures", {
            "round_-1": lambda p: _rounded(round_half_up(p["x"], leading_exp(p["x"])), 0),
            "round_1sf": lambda p: _rounded(round_half_up(p["x"], -1), -1),
        }),
    ]  # fmt: skip


def _place_value() -> list[Misconception]:
    def swap(a: int, b: int):
        """The digit's value with columns 10**a and 10**b confused."""
        return lambda p: _when(p["pos"] in (a, b), p["d"] * F(10) ** (a + b - p["pos"]))

    def as_whole(pos: int):
        return lambda p: _when(p["pos"] == pos, p["d"] * 10 ** (-pos))

    return [
        M("Gives the digit rather than its place value", ("place_value_int", "place_value_dec"), lambda p: p["d"]),
        M("Confuses the tens and hundreds columns", "place_value_int", swap(1, 2)),
        M("Confuses the hundreds and thousands columns", "place_value_int", swap(2, 3)),
        M("Confuses the thousands and ten thousands columns", "place_value_int", swap(3, 4)),
        M("Counts the place value columns from the left instead of the right", "place_value_int",
          lambda p: _when(p["digits"].index(p["d"]) > 0, p["d"] * 10 ** p["digits"].index(p["d"]))),
        M("Confuses the tenths and hundredths columns", "place_value_dec", swap(-1, -2)),
        M("Confuses the hundredths and thousandths columns", "place_value_dec", swap(-2, -3)),
        M("Thinks the tenths column is the tens column", "place_value_dec", as_whole(-1)),
        M("Thinks the hundredths column is the hundreds column", "place_value_dec", as_whole(-2)),
        M("Thinks the thousandths column is the thousands column", "place_value_dec", as_whole(-3)),
        M("Adds zeros onto the end of a decimal when multiplying by a power of ten", "times_power_ten",
          lambda p: Ans(tex(decimal(p["x"]) + "0" * p["k"]), ("n", p["x"], ""))),
        M("Moves the decimal point the wrong way when multiplying by a power of ten", "times_power_ten",
          lambda p: p["x"] / p["f"]),
        M("Moves the decimal point the wrong way when dividing by a power of ten", "divide_power_ten",
          lambda p: p["x"] * p["f"]),
        *[M(f"Multiplies by {10**used} instead of {10**k}", "times_power_ten",
            lambda p, k=k, used=used: _when(p["k"] == k, p["x"] * 10**used))
          for k, used in ((2, 1), (3, 2), (2, 3), (1, 2))],
        *[M(f"Divides by {10**used} instead of {10**k}", "divide_power_ten",
            lambda p, k=k, used=used: _when(p["k"] == k, p["x"] / 10**used))
          for k, used in ((2, 1), (3, 2), (2, 3), (1, 2))],
        M("Removes the last digit instead of moving the decimal point when dividing by 10", "divide_power_ten",
          lambda p: _when(p["k"] == 1 and p["x"].denominator == 1 and p["x"] % 10, p["x"] // 10)),
    ]  # fmt: skip


# ---------------------------------------------------------------- fractions, decimals and percentages


def _digits_after_point(a: int, b: int) -> Ans:
    """``a.b`` written from two whole numbers (3/20 -> 3.20)."""
    text = f"{a}.{b}"
    return Ans(tex(text), ("n", F(text), ""))


def _conversions() -> list[Misconception]:
    return [
        M("Divides by 10 instead of 100 when converting a percentage to a decimal", "percent_to_decimal",
          lambda p: p["q"] / 10),
        M("Thinks you only need to remove the percentage sign to convert a percentage to a decimal",
          "percent_to_decimal", lambda p: p["q"]),
        M("Divides by 1000 instead of 100 when converting a percentage to a decimal", "percent_to_decimal",
          lambda p: p["q"] / 1000),
        M("Multiplies by 10 instead of 100 when converting a decimal to a percentage", "decimal_to_percent",
          lambda p: 10 * p["x"]),
        M("Writes the decimal followed by a percentage sign", "decimal_to_percent", lambda p: p["x"]),
        M("Divides by 100 instead of multiplying when converting a decimal to a percentage", "decimal_to_percent",
          lambda p: p["x"] / 100),
        M("Multiplies by 1000 instead of 100 when converting a decimal to a percentage", "decimal_to_percent",
          lambda p: 1000 * p["x"]),
        M("Writes the numerator and the denominator either side of a decimal point", "fraction_to_decimal",
          lambda p: _digits_after_point(p["a"], p["b"])),
        M("Divides the denominator by the numerator when converting a fraction to a decimal", "fraction_to_decimal",
          lambda p: F(p["b"], p["a"])),
        M("Writes the denominator after the decimal point", "fraction_to_decimal",
          lambda p: _digits_after_point(0, p["b"])),
        M("Writes the numerator after the decimal point", "fraction_to_decimal",
          lambda p: _digits_after_point(0, p["a"])),
        M("Writes the numerator as the percentage", "fraction_to_percent", lambda p: p["a"]),
        M("Writes the denominator as the percentage", "fraction_to_percent", lambda p: p["b"]),
        M("Multiplies the numerator by 100 but does not divide by the denominator", "fraction_to_percent",
          lambda p: 100 * p["a"]),
        M("Writes the decimal equivalent followed by a percentage sign", "fraction_to_percent",
          lambda p: F(p["a"], p["b"])),
        M("Uses 10 as the denominator whatever the number of decimal places", "decimal_to_fraction",
          lambda p: _when(p["places"] == 2, raw(p["digits"], 10))),
        M("Uses 1000 as the denominator for a decimal with two decimal places", "decimal_to_fraction",
          lambda p: _when(p["places"] == 2, raw(p["digits"], 1000))),
        M("Uses 100 as the denominator for a decimal with one decimal place", "decimal_to_fraction",
          lambda p: _when(p["places"] == 1, raw(p["digits"], 100))),
        M("Writes the digits after the decimal point as the denominator of a unit fraction", "decimal_to_fraction",
          lambda p: raw(1, p["digits"])),
        *[M(f"Thinks that to find {q}% of an amount you divide by {q}", "percent_of_amount",
            lambda p, q=q: _when(p["q"] == q, F(p["N"], q)))
          for q in (5, 20, 25, 50)],
        M("Multiplies the amount by the percentage without dividing by 100", "percent_of_amount",
          lambda p: p["q"] * p["N"]),
        M("Finds the percentage of the amount that is left instead of the percentage asked for",
          "percent_of_amount", lambda p: F(p["N"] * (100 - p["q"]), 100)),
        M("Thinks finding a percentage of an amount means subtracting the percentage from it", "percent_of_amount",
          lambda p: p["N"] - p["q"]),
        M("Divides by 100 instead of 10 to find 10% of an amount", "percent_of_amount",
          lambda p: _when(p["q"] % 10 == 0, F(p["N"] * p["q"], 1000))),
        M("Finds the percentage increase but does not add it to the original amount", "percent_increase",
          lambda p: F(p["N"] * p["q"], 100)),
        M("Adds the percentage to the amount as if it were a number", "percent_increase", lambda p: p["N"] + p["q"]),
        M("Uses 1.q as the multiplier for an increase of q% when q is less than 10", "percent_increase",
          lambda p: _when(p["q"] < 10, p["N"] * (1 + F(p["q"], 10)))),
        M("Decreases by the percentage instead of increasing", "percent_increase",
          lambda p: F(p["N"] * (100 - p["q"]), 100)),
        M("Finds the percentage decrease but does not subtract it from the original amount", "percent_decrease",
          lambda p: F(p["N"] * p["q"], 100)),
        M("Subtracts the percentage from the amount as if it were a number", "percent_decrease",
          lambda p: p["N"] - p["q"]),
        M("Increases by the percentage instead of decreasing", "percent_decrease",
          lambda p: F(p["N"] * (100 + p["q"]), 100)),
    ]  # fmt: skip


# ---------------------------------------------------------------- angles


def _angles() -> list[Misconception]:
    def total(t: int):
        return lambda p: t - sum(p["given"])

    def other(t: int):
        return lambda p: t - p["a"]

    def swap_types(x: str, y: str):
        return lambda p: word(y if angle_type(p["a"]) == x else x) if angle_type(p["a"]) in (x, y) else None

    return [
        M("Believes angles in a triangle sum to 360 degrees", "angle_triangle", total(360)),
        M("Subtracts only one of the given angles from 180 degrees", "angle_triangle", lambda p: 180 - p["g0"]),
        M("Adds the given angles instead of subtracting them from 180 degrees", "angle_triangle",
          lambda p: sum(p["given"])),
        M("Believes angles on a straight line add to 360 degrees", "angle_straight_line", total(360)),
        M("Believes angles on a straight line add to 90 degrees", "angle_straight_line", total(90)),
        M("Believes angles on a straight line add to 100 degrees", "angle_straight_line", total(100)),
        M("Thinks the missing angle on a straight line is equal to the given angle", "angle_straight_line",
          lambda p: p["g0"]),
        M("Believes angles around a point sum to 180 degrees", "angle_point", total(180)),
        M("Adds the given angles instead of subtracting them from 360 degrees", "angle_point",
          lambda p: sum(p["given"])),
        M("Confuses the sum of angles in a triangle with that of a quadrilateral", "angle_quadrilateral", total(180)),
        M("Believes vertically opposite angles add up to 180 degrees", "angle_vertically_opposite", other(180)),
        M("Thinks vertically opposite angles sum to 360 degrees", "angle_vertically_opposite", other(360)),
        M("Believes alternate angles sum to 180 degrees", "angle_alternate", other(180)),
        M("Believes corresponding angles sum to 180 degrees", "angle_corresponding", other(180)),
        M("Believes corresponding angles sum to 90 degrees", "angle_corresponding", other(90)),
        M("Thinks co-interior angles are equal", "angle_cointerior", lambda p: p["a"]),
        M("Thinks co-interior angles sum to 360 degrees", "angle_cointerior", other(360)),
        M("Thinks co-interior angles sum to 90 degrees", "angle_cointerior", other(90)),
        M("Does not halve the remaining angle when finding the base angles of an isosceles triangle",
          "angle_isosceles_base", other(180)),
        M("Subtracts the apex angle from 90 degrees to find a base angle of an isosceles triangle",
          "angle_isosceles_base", other(90)),
        M("Only subtracts one base angle from 180 degrees when finding the apex of an isosceles triangle",
          "angle_isosceles_apex", other(180)),
        M("Thinks all three angles of an isosceles triangle are equal", "angle_isosceles_apex", lambda p: p["a"]),
        M("Believes the interior angles of any polygon add up to 360 degrees", "polygon_angle_sum", lambda p: 360),
        M("Uses n times 180 degrees for the sum of the interior angles of a polygon", "polygon_angle_sum",
          lambda p: 180 * p["n"]),
        M("Uses (n - 1) times 180 degrees for the sum of the interior angles of a polygon", "polygon_angle_sum",
          lambda p: 180 * (p["n"] - 1)),
        M("Confuses acute and obtuse angles", "angle_type", swap_types("Acute", "Obtuse")),
        M("Confuses obtuse and reflex angles", "angle_type", swap_types("Obtuse", "Reflex")),
        M("Thinks an angle close to 90 degrees is a right angle", "angle_type",
          lambda p: _when(abs(p["a"] - 90) <= 10, word("Right angle"))),
    ]  # fmt: skip


# ---------------------------------------------------------------- area, perimeter, volume


def _mensuration() -> list[Misconception]:
    half_d = lambda p: F(p["d"], 2)  # noqa: E731
    return [
        M("Adds the length and width instead of multiplying when finding area", "area_rectangle",
          lambda p: p["l"] + p["wd"]),
        M("Calculates perimeter when asked for area", "area_rectangle", lambda p: 2 * (p["l"] + p["wd"])),
        M("Does not square the units when calculating area", "area_rectangle", lambda p: length(p["l"] * p["wd"])),
        M("Calculates area when asked for perimeter", "perimeter_rectangle", lambda p: p["l"] * p["wd"]),
        M("Adds only the length and the width when finding perimeter", "perimeter_rectangle",
          lambda p: p["l"] + p["wd"]),
        M("Counts only three sides when finding the perimeter of a rectangle", "perimeter_rectangle",
          lambda p: 2 * p["l"] + p["wd"]),
        M("Gives the units of a perimeter as square units", "perimeter_rectangle",
          lambda p: area(2 * (p["l"] + p["wd"]))),
        M("Forgets to halve when finding the area of a triangle", "area_triangle", lambda p: p["b"] * p["h"]),
        M("Halves both the base and the height when finding the area of a triangle", "area_triangle",
          lambda p: F(p["b"] * p["h"], 4)),
        M("Uses the slant height instead of the perpendicular height", {
            "area_triangle": lambda p: F(p["b"] * p["s"], 2),
            "area_parallelogram": lambda p: p["b"] * p["s"],
        }),
        M("Multiplies all the lengths given in the question", ("area_triangle", "area_parallelogram"),
          lambda p: p["b"] * p["h"] * p["s"]),
        M("Halves base times height when finding the area of a parallelogram", "area_parallelogram",
          lambda p: F(p["b"] * p["h"], 2)),
        M("Uses the formula for circumference instead of area", {
            "circle_area_radius": lambda p: 2 * p["r"], "circle_area_diameter": lambda p: p["d"],
        }),
        M("Uses the formula for area instead of circumference", {
            "circumference_radius": lambda p: p["r"] ** 2, "circumference_diameter": lambda p: half_d(p) ** 2,
        }),
        M("Confuses the radius with the diameter", {
            "circle_area_radius": lambda p: F(p["r"], 2) ** 2, "circumference_radius": lambda p: p["r"],
        }),
        M("Confuses the diameter with the radius", {
            "circle_area_diameter": lambda p: p["d"] ** 2, "circumference_diameter": lambda p: 2 * p["d"],
        }),
        M("Squares pi as well as the radius when finding the area of a circle", {
            "circle_area_radius": lambda p: pi_multiple(p["r"] ** 2, 2),
            "circle_area_diameter": lambda p: pi_multiple(half_d(p) ** 2, 2),
        }),
        M("Forgets to square the radius when finding the area of a circle", {
            "circle_area_radius": lambda p: p["r"], "circle_area_diameter": half_d,
        }),
        M("Adds the dimensions instead of multiplying to find volume", "volume_cuboid",
          lambda p: p["l"] + p["wd"] + p["h"]),
        M("Calculates the surface area instead of the volume", "volume_cuboid",
          lambda p: 2 * (p["l"] * p["wd"] + p["l"] * p["h"] + p["wd"] * p["h"])),
        M("Multiplies only two of the dimensions to find volume", "volume_cuboid", lambda p: p["l"] * p["wd"]),
        M("Gives volume in square units", "volume_cuboid", lambda p: area(p["l"] * p["wd"] * p["h"])),
    ]  # fmt: skip


def _units() -> list[Misconception]:
    out = []
    for pair in UNIT_PAIRS:
        article = "an" if pair.big_word[0] in "aeiouh" else "a"
        out.append(M(f"Divides instead of multiplies when converting from {pair.big_word}s to {pair.small_word}",
                     pair.key,
                     lambda p, pair=pair: _when(p["down"], pair.answer(p["x"] / pair.factor, p["to"]))))
        out.append(M(f"Multiplies instead of divides when converting from {pair.small_word} to {pair.big_word}s",
                     pair.key,
                     lambda p, pair=pair: _when(not p["down"], pair.answer(p["x"] * pair.factor, p["to"]))))
        for wrong in pair.wrong:
            out.append(M(f"Thinks there are {wrong} {pair.small_word} in {article} {pair.big_word}", pair.key,
                         lambda p, pair=pair, w=wrong: pair.answer(p["x"] * w if p["down"] else p["x"] / w,
                                                                   p["to"])))
    return out


# ---------------------------------------------------------------- equations and algebra


def _equations() -> list[Misconception]:
    same_operation = {
        "solve_x+b": lambda p: p["c"] + p["b"], "solve_x-b": lambda p: p["c"] - p["b"],
        "solve_ax": lambda p: p["a"] * p["c"], "solve_x/a": lambda p: F(p["c"], p["a"]),
    }
    return [
        M("Uses the same operation rather than the inverse operation when solving an equation", same_operation),
        M("Thinks the inverse of addition is division", "solve_x+b", lambda p: F(p["c"], p["b"])),
        M("Thinks the inverse of subtraction is division", "solve_x-b", lambda p: F(p["c"], p["b"])),
        M("Thinks the inverse of multiplication is subtraction", "solve_ax", lambda p: p["c"] - p["a"]),
        M("Thinks the inverse of multiplication is addition", "solve_ax", lambda p: p["c"] + p["a"]),
        M("Thinks the inverse of division is addition", "solve_x/a", lambda p: p["c"] + p["a"]),
        M("Divides the right-hand side by the coefficient before subtracting the constant term", "solve_ax+b",
          lambda p: F(p["c"], p["a"]) - p["b"]),
        M("Adds the constant term to both sides instead of subtracting it", "solve_ax+b",
          lambda p: F(p["c"] + p["b"], p["a"])),
        M("Subtracts the coefficient instead of dividing by it when solving an equation", "solve_ax+b",
          lambda p: p["c"] - p["b"] - p["a"]),
        M("Only multiplies the first term in the bracket when solving an equation", "solve_a(x+b)",
          lambda p: F(p["c"] - p["b"], p["a"])),
        M("Adds the number in the bracket instead of subtracting it after dividing", "solve_a(x+b)",
          lambda p: F(p["c"], p["a"]) + p["b"]),
        M("Adds the x terms instead of subtracting them when collecting them on one side", "solve_ax+b=cx+d",
          lambda p: F(p["d"] - p["b"], p["a"] + p["c"])),
        M("Does not change the sign of a term when moving it to the other side of an equation", "solve_ax+b=cx+d",
          lambda p: F(p["d"] + p["b"], p["a"] - p["c"])),
    ]  # fmt: skip


def _algebra() -> list[Misconception]:
    def nth(coef_n: Callable[[Params], int], constant: Callable[[Params], int]):
        return lambda p: poly((coef_n(p), "n"), (constant(p), ""))

    return [
        M("Only multiplies the first term in the expansion of a bracket", "expand_single",
          lambda p: poly((p["a"] * p["b"], "x"), (p["s"] * p["c"], ""))),
        M("Only multiplies the second term in the expansion of a bracket", "expand_single",
          lambda p: poly((p["b"], "x"), (p["a"] * p["s"] * p["c"], ""))),
        M("Adds the number outside the bracket to each term instead of multiplying", "expand_single",
          lambda p: poly((p["a"] + p["b"], "x"), (p["s"] * p["c"] + p["a"], ""))),
        M("Multiplies the letters as well as adding the coefficients when collecting like terms", "collect_like",
          lambda p: poly((p["a"] + p["b"], "x^{2}"))),
        M("Multiplies the coefficients when collecting like terms", "collect_like",
          lambda p: poly((p["a"] * p["b"], "x"))),
        M("Drops the letter when collecting like terms", "collect_like", lambda p: poly((p["a"] + p["b"], ""))),
        M("Adds unlike terms together into a single term", "collect_unlike",
          lambda p: poly((p["a"] + p["b"] + p["e"], "x y"))),
        M("Adds all the coefficients and ignores the letters", "collect_unlike",
          lambda p: poly((p["a"] + p["b"] + p["e"], ""))),
        M("Leaves out the term with a different letter when simplifying", "collect_unlike",
          lambda p: poly((p["a"] + p["e"], "x"))),
        M("Thinks ax means a + x when substituting", "substitute_linear", lambda p: p["a"] + p["k"] + p["b"]),
        M("Writes the coefficient and the value of the variable side by side as a two-digit number",
          "substitute_linear", lambda p: 10 * p["a"] + p["k"] + p["b"]),
        M("Squares the coefficient as well as the variable when substituting", "substitute_square",
          lambda p: (p["a"] * p["k"]) ** 2),
        M("Uses the first term as the constant in the nth term rule", "nth_term",
          nth(lambda p: p["d"], lambda p: p["f"])),
        M("Uses the first term as the coefficient of n and the difference as the constant", "nth_term",
          nth(lambda p: p["f"], lambda p: p["d"])),
        M("Thinks the nth term is n plus the common difference", "nth_term", nth(lambda p: 1, lambda p: p["d"])),
        M("Forgets the constant when finding the nth term rule", "nth_term", nth(lambda p: p["d"], lambda p: 0)),
    ]  # fmt: skip


# ---------------------------------------------------------------- ratio, statistics, coordinates, factors, chance


def _smallest_prime_factor(n: int) -> int:
    return next(k for k in range(2, n + 1) if n % k == 0)


def _ratio() -> list[Misconception]:
    return [
        M("Divides the total by the first part of the ratio instead of by the total number of parts", "ratio_share",
          lambda p: F(p["N"], p["a"])),
        M("Finds the value of one part but does not multiply it by the number of parts", "ratio_share",
          lambda p: F(p["N"], p["a"] + p["b"])),
        M("Mixes up the sides of a ratio", {
            "ratio_share": lambda p: F(p["N"] * p["b"], p["a"] + p["b"]),
            "ratio_simplify": lambda p: ratio(p["b"], p["a"]),
            "ratio_to_fraction": lambda p: F(p["b"], p["a"] + p["b"]),
        }),
        M("Shares the amount equally instead of in the ratio", "ratio_share", lambda p: F(p["N"], 2)),
        M("Thinks the ratio a:b means the first share is a/b of the total", "ratio_share",
          lambda p: F(p["N"] * p["a"], p["b"])),
        M("Divides both sides by a common factor that is not the highest common factor", "ratio_simplify",
          lambda p: ratio(p["P"] // _smallest_prime_factor(p["g"]), p["Q"] // _smallest_prime_factor(p["g"]))),
        M("Only divides one side of the ratio by the common factor", "ratio_simplify",
          lambda p: ratio(p["a"], p["Q"])),
        M("Uses additive rather than multiplicative reasoning in proportion problems", "direct_proportion",
          lambda p: p["C"] + p["m"] - p["k"]),
        M("Multiplies by the new number of items without dividing first", "direct_proportion",
          lambda p: p["C"] * p["m"]),
        M("Finds the cost of one item but does not multiply it", "direct_proportion", lambda p: F(p["C"], p["k"])),
        M("Writes the ratio a:b as the fraction a/b", "ratio_to_fraction", lambda p: raw(p["a"], p["b"])),
        M("Writes the fraction as the total number of parts over the part", "ratio_to_fraction",
          lambda p: raw(p["a"] + p["b"], p["a"])),
    ]  # fmt: skip


def _statistics() -> list[Misconception]:
    def unordered_middle(p: Params):
        v, n = p["v"], len(p["v"])
        return F(v[n // 2]) if n % 2 else F(v[n // 2 - 1] + v[n // 2], 2)

    def middle(p: Params, i: int):
        return sorted(p["v"])[len(p["v"]) // 2 - 1 + i]

    mean = lambda p: F(sum(p["v"]), len(p["v"]))  # noqa: E731
    return [
        M("Finds the median instead of the mean", "mean", lambda p: median(p["v"])),
        M("Adds the values but does not divide by how many there are", "mean", lambda p: sum(p["v"])),
        M("Divides by one less than the number of values when finding the mean", "mean",
          lambda p: F(sum(p["v"]), len(p["v"]) - 1)),
        M("Finds the mode instead of the mean", "mean", lambda p: mode(p["v"])),
        M("Finds the median without putting the data in order", ("median_odd", "median_even"), unordered_middle),
        M("Finds the mean instead of the median", ("median_odd", "median_even"), mean),
        M("Gives the position of the median instead of its value", ("median_odd", "median_even"),
          lambda p: F(len(p["v"]) + 1, 2)),
        M("Finds the mode instead of the median", "median_odd", lambda p: mode(p["v"])),
        M("Thinks the median of an even set of data is the lower of the two middle values", "median_even",
          lambda p: middle(p, 0)),
        M("Thinks the median of an even set of data is the higher of the two middle values", "median_even",
          lambda p: middle(p, 1)),
        M("Adds the two middle values but does not halve when finding the median", "median_even",
          lambda p: middle(p, 0) + middle(p, 1)),
        M("Gives the frequency of the mode instead of its value", "mode", lambda p: p["v"].count(mode(p["v"]))),
        M("Thinks the mode is the largest value", "mode", lambda p: max(p["v"])),
        M("Finds the median instead of the mode", "mode", lambda p: median(p["v"])),
        M("Finds the mean instead of the mode", "mode", mean),
        M("Gives the largest value as the range", "range", lambda p: max(p["v"])),
        M("Finds the range by subtracting the first value from the last without ordering the data", "range",
          lambda p: p["v"][-1] - p["v"][0]),
        M("Adds the largest and smallest values to find the range", "range", lambda p: max(p["v"]) + min(p["v"])),
    ]  # fmt: skip


def _coordinates_factors_probability() -> list[Misconception]:
    dx = lambda p: p["x2"] - p["x1"]  # noqa: E731
    dy = lambda p: p["y2"] - p["y1"]  # noqa: E731
    total = lambda p: p["T"]  # noqa: E731
    return [
        M("Writes the y-coordinate before the x-coordinate", "coordinates", lambda p: point(p["y"], p["x"])),
        M("Ignores the negative sign of a coordinate left of or below the origin", "coordinates",
          lambda p: point(abs(p["x"]), abs(p["y"]))),
        M("Forgets to halve when finding the midpoint", "midpoint",
          lambda p: point(p["x1"] + p["x2"], p["y1"] + p["y2"])),
        M("Subtracts the coordinates instead of adding them when finding a midpoint", "midpoint",
          lambda p: point(F(dx(p), 2), F(dy(p), 2))),
        M("Thinks the gradient is the change in x divided by the change in y", "gradient", lambda p: F(dx(p), dy(p))),
        M("Gives the change in y as the gradient without dividing by the change in x", "gradient", dy),
        M("Subtracts the coordinates in a different order for the change in x and the change in y", "gradient",
          lambda p: -F(dy(p), dx(p))),
        M("Finds the lowest common multiple instead of the highest common factor", "hcf",
          lambda p: math.lcm(p["a"], p["b"])),
        M("Finds a common factor but not the highest common factor", "hcf", lambda p: _smallest_prime_factor(p["g"])),
        M("Thinks the highest common factor is the smaller of the two numbers", "hcf",
          lambda p: min(p["a"], p["b"])),
        M("Finds the highest common factor instead of the lowest common multiple", "lcm", lambda p: p["g"]),
        M("Multiplies the two numbers to find the lowest common multiple", "lcm", lambda p: p["a"] * p["b"]),
        M("Adds the two numbers to find the lowest common multiple", "lcm", lambda p: p["a"] + p["b"]),
        M("Uses the number of other outcomes as the denominator of a probability", "probability_single",
          lambda p: raw(p["r"], total(p) - p["r"])),
        M("Gives the number of successful outcomes instead of a probability", "probability_single",
          lambda p: num(p["r"])),
        M("Gives the probability of the event not happening", "probability_single",
          lambda p: F(total(p) - p["r"], total(p))),
        M("Writes a probability as a ratio of successful to unsuccessful outcomes", "probability_single",
          lambda p: ratio(p["r"], total(p) - p["r"])),
        M("Adds the probabilities of independent events instead of multiplying them", "probability_two",
          lambda p: F(2 * p["r"], total(p))),
        M("Multiplies the numerators but adds the denominators", "probability_two",
          lambda p: raw(p["r"] ** 2, 2 * total(p))),
        M("Gives the probability of one event instead of both", "probability_two", lambda p: F(p["r"], total(p))),
    ]  # fmt: skip


def build_catalogue() -> list[Misconception]:
    """Every misconception of the catalogue, in a fixed order, without ids."""
    entries = [*_fractions(), *_negatives(), *_order_of_operations(), *_powers(), *_rounding(), *_place_value(),
               *_conversions(), *_angles(), *_mensuration(), *_units(), *_equations(), *_algebra(), *_ratio(),
               *_statistics(), *_coordinates_factors_probability()]  # fmt: skip
    names = [m.name for m in entries]
    if len(set(names)) != len(names):
        raise AssertionError(f"repeated names: {[n for n, c in Counter(names).items() if c > 1]}")
    unknown = sorted({key for m in entries for key in m.constructs} - set(CONSTRUCTS))
    if unknown:
        raise AssertionError(f"misconceptions name unknown constructs {unknown}")
    return entries


CATALOGUE = build_catalogue()


def catalogue(n: int, rng: np.random.Generator) -> list[Misconception]:
    """``n`` misconceptions drawn from the catalogue, shuffled, with ids 0..n-1 in that order (so an id
    says nothing about a misconception's topic, as in Eedi's mapping)."""
    if not 1 <= n <= len(CATALOGUE):
        raise ValueError(f"n_misconceptions={n}: the catalogue holds 1 to {len(CATALOGUE)}")
    chosen = rng.permutation(len(CATALOGUE))[:n]
    return [replace(CATALOGUE[i], id=new_id) for new_id, i in enumerate(chosen)]


def near_duplicates(names: Sequence[str], max_changed: int = 1) -> list[tuple[int, int]]:
    """Pairs of different names with the same words but for at most ``max_changed`` words replaced, added or
    removed (word order ignored, so "Rounds down instead of up" / "Rounds up instead of down" pair too)."""
    bags = [Counter(name.lower().split()) for name in names]
    words = [set(bag) for bag in bags]
    pairs = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if len(words[i] ^ words[j]) > 2 * max_changed or names[i] == names[j]:
                continue  # a cheap bound: the multisets differ at least as much as the sets
            gone, new = bags[i] - bags[j], bags[j] - bags[i]
            if max(sum(gone.values()), sum(new.values())) <= max_changed:
                pairs.append((i, j))
    return pairs
