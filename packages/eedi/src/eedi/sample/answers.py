"""Answer texts as Eedi writes them (LaTeX inside ``\\( \\)``), each with a key that says when two answers
are the same answer.

A key compares values, not spellings: ``\\frac{2}{4}`` and ``\\frac{1}{2}`` share a key (an unsimplified
fraction of the correct value is not a wrong answer), ``0.5`` and ``50 %`` too; a unit is part of the key,
so ``12 cm`` and ``12 cm²`` differ (a student who does not square the units gave a wrong answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

Number = int | Fraction


@dataclass(frozen=True)
class Ans:
    """One answer option: its text and the key that identifies its value."""

    text: str
    key: tuple


def tex(body: str) -> str:
    return f"\\( {body} \\)"


def decimal(x: Number, places: int | None = None, max_places: int = 4) -> str | None:
    """``x`` written as a decimal (``None`` when it needs more than ``max_places`` places); ``places`` pads
    with zeros (``3.40``)."""
    x = Fraction(x)
    for shown in range(max_places + 1):
        scaled = x * 10**shown
        if scaled.denominator == 1:
            break
    else:
        return None
    shown = max(shown, places or 0)
    digits = str(abs(int(x * 10**shown))).rjust(shown + 1, "0")
    body = digits if not shown else f"{digits[:-shown]}.{digits[-shown:]}"
    return f"-{body}" if x < 0 else body


def signed(x: Number) -> str:
    """A number for use inside an expression: negatives in brackets."""
    text = decimal(x)
    return f"({text})" if x < 0 else text


def num(x: Number | None, unit: str = "", *, positive: bool = False, max_places: int = 4) -> Ans | None:
    """A number with an optional LaTeX unit (``\\mathrm{~cm}``); ``None`` if it needs more than
    ``max_places`` decimal places, or is not above 0 when ``positive``."""
    if x is None or (positive and x <= 0):
        return None
    text = decimal(x, max_places=max_places)
    if text is None:
        return None
    return Ans(tex(f"{text} {unit}".strip()), ("n", Fraction(x), unit))


def words(x: Number | None, unit: str, *, positive: bool = True) -> Ans | None:
    """A number followed by a unit in words (``150 minutes``), as time answers are written."""
    if x is None or (positive and x <= 0) or decimal(x) is None:
        return None
    return Ans(f"{decimal(x)} {unit}", ("n", Fraction(x), unit))


def frac(n: int, d: int, *, simplify: bool = True) -> Ans | None:
    """``\\frac{n}{d}`` (simplified unless told not to; a whole number when it simplifies to one)."""
    if d == 0:
        return None
    value = Fraction(n, d)
    if simplify:
        n, d = value.numerator, value.denominator
    if d < 0:
        n, d = -n, -d
    if d == 1:
        return Ans(tex(str(n)), ("n", value, ""))
    sign = "-" if n < 0 else ""
    return Ans(tex(f"{sign}\\frac{{{abs(n)}}}{{{d}}}"), ("n", value, ""))


def fraction(x: Number | None) -> Ans | None:
    """A value as a simplified fraction (or a whole number)."""
    return None if x is None else frac(Fraction(x).numerator, Fraction(x).denominator)


def mixed(x: Number | None) -> Ans | None:
    """A positive value as a mixed number (``2 \\frac{1}{3}``), a proper fraction or a whole number."""
    if x is None or x <= 0:
        return None
    x = Fraction(x)
    whole, rest = divmod(x.numerator, x.denominator)
    if not whole or not rest:
        return fraction(x)
    return Ans(tex(f"{whole} \\frac{{{rest}}}{{{x.denominator}}}"), ("n", x, ""))


def percent(x: Number | None) -> Ans | None:
    """``x %``; its key is the value ``x / 100``, so 50 % and 0.5 are the same answer."""
    if x is None or decimal(x) is None:
        return None
    return Ans(tex(f"{decimal(x)} \\%"), ("n", Fraction(x) / 100, ""))


def money(x: Number | None) -> Ans | None:
    """Pounds: ``£24`` or ``£2.50``."""
    if x is None or x <= 0 or decimal(x, max_places=2) is None:
        return None
    x = Fraction(x)
    return Ans(f"£{decimal(x, places=0 if x.denominator == 1 else 2)}", ("n", x, "£"))


def degrees(x: Number | None) -> Ans | None:
    if x is None or x <= 0 or decimal(x) is None:
        return None
    return Ans(tex(f"{decimal(x)}^{{\\circ}}"), ("n", Fraction(x), "deg"))


def pi_multiple(coef: Number | None, power: int = 1) -> Ans | None:
    """``25 \\pi`` (``\\frac{25}{4} \\pi``, ``25 \\pi^{2}``): circle answers in terms of pi."""
    if coef is None or coef <= 0:
        return None
    coef = Fraction(coef)
    pi = "\\pi" if power == 1 else f"\\pi^{{{power}}}"
    if coef == 1:
        body = pi
    elif coef.denominator == 1:
        body = f"{coef.numerator} {pi}"
    else:
        body = f"\\frac{{{coef.numerator}}}{{{coef.denominator}}} {pi}"
    return Ans(tex(body), ("pi", coef, power))


def power(base: Number, exponent: int) -> Ans:
    """``3^{6}``, keyed by its value."""
    base_text = signed(base)
    return Ans(tex(f"{base_text}^{{{exponent}}}"), ("n", Fraction(base) ** exponent, ""))


def poly(*terms: tuple[Number, str]) -> Ans | None:
    """An expression from ``(coefficient, variable)`` terms in order (``""`` = the constant): ``3 x+4``."""
    parts: list[str] = []
    key = []
    for coef, var in terms:
        if coef == 0:
            continue
        key.append((var, Fraction(coef)))
        size = decimal(abs(coef))
        body = size if not var else (var if abs(coef) == 1 else f"{size} {var}")
        parts.append(("-" if coef < 0 else ("+" if parts else "")) + body)
    if not parts:
        return Ans(tex("0"), ("e", ()))
    return Ans(tex("".join(parts)), ("e", tuple(sorted(key))))


def equation(var: str, x: Number | None) -> Ans | None:
    """``x=5`` (``x=\\frac{7}{3}``, ``x=-2``): the solution of an equation."""
    if x is None:
        return None
    x = Fraction(x)
    value = decimal(x) if x.denominator in (1, 2, 4, 5, 10) else fraction(x).text[3:-3]
    return Ans(tex(f"{var}={value}"), ("n", x, "="))


def ratio(a: Number, b: Number) -> Ans | None:
    if a <= 0 or b <= 0 or decimal(a) is None or decimal(b) is None:
        return None
    return Ans(tex(f"{decimal(a)}: {decimal(b)}"), ("r", Fraction(a), Fraction(b)))


def point(x: Number, y: Number) -> Ans | None:
    if decimal(x) is None or decimal(y) is None:
        return None
    return Ans(tex(f"({decimal(x)}, {decimal(y)})"), ("p", Fraction(x), Fraction(y)))


def word(text: str) -> Ans:
    return Ans(text, ("w", text))
