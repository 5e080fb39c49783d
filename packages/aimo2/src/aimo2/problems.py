r"""The problem generators of the AIMO2 sample: each writes a problem, solves it, and re-derives it in code.

Each generator (number theory, modular arithmetic, combinatorics, algebra, geometry), at a difficulty
level 1..5, computes the answer one way (a closed form, Newton's identities, Pick's theorem, a dynamic
programme), keeping the intermediate steps that become chain-of-thought traces, and writes Python that
re-derives it another way (brute force, cycle detection, root finding). ``aimo2.synth`` runs that code
and refuses any problem where the two disagree. ``misread`` gives the parameters of a plausible
misreading, whose real computation becomes a wrong trace.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["GENERATORS", "LEVELS", "Generator", "Solution"]

LEVELS = (1, 2, 3, 4, 5)
_CDOT = " \\cdot "


@dataclass(frozen=True)
class Solution:
    """The exact quantity a problem asks for and the steps that computed it (LaTeX prose)."""

    value: int
    steps: list[str]


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    """A uniform integer in ``low..high`` (both included)."""
    return int(rng.integers(low, high + 1))


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _factor(n: int) -> dict[int, int]:
    """Prime factorisation by trial division (the sample's numbers are small)."""
    factors, p = {}, 2
    while p * p <= n:
        while n % p == 0:
            factors[p] = factors.get(p, 0) + 1
            n //= p
        p += 1
    if n > 1:
        factors[n] = factors.get(n, 0) + 1
    return factors


def _factor_tex(factors: dict[int, int]) -> str:
    return _CDOT.join(str(p) if e == 1 else f"{p}^{{{e}}}" for p, e in factors.items())


def _num(value: int) -> str:
    """A factor in a product, parenthesised when negative."""
    return f"({value})" if value < 0 else str(value)


def _power_steps(base: int, exponent: int, modulus: int) -> tuple[int, list[str]]:
    """``base^exponent mod modulus`` by repeated squaring, with the squares and products as steps."""
    if exponent == 0:
        return 1, [f"${base}^{{0}} = 1$."]
    bits = [1 << i for i in range(exponent.bit_length()) if exponent >> i & 1]
    squares, square = {}, base % modulus
    for i in range(exponent.bit_length()):
        squares[1 << i] = square
        square = square * square % modulus
    listed = ", ".join(f"{base}^{{{k}}} \\equiv {v}" for k, v in squares.items())
    value = 1
    for k in bits:
        value = value * squares[k] % modulus
    decomposition = " + ".join(str(k) for k in reversed(bits))
    product = " \\cdot ".join(str(squares[k]) for k in reversed(bits))
    return value, [
        f"Write ${exponent} = {decomposition}$ and square repeatedly modulo ${modulus}$: ${listed}$.",
        f"So ${base}^{{{exponent}}} \\equiv {product} \\equiv {value} \\pmod{{{modulus}}}$.",
    ]


class Generator:
    """One kind of problem. Subclasses fill in the parameters, the text, the solution and the check code.

    ``solve`` and ``code`` must compute the value by different methods: the code's last printed line
    is compared with ``solve(params).value`` for every problem written.
    """

    topic = ""
    check = ""  # how the code re-derives the value, for the long CoT trace ("by listing every subset")

    @property
    def name(self) -> str:
        return type(self).__name__

    def sample(self, rng: np.random.Generator, level: int) -> dict:
        raise NotImplementedError

    def setup(self, p: dict) -> str:
        return ""

    def quantity(self, p: dict) -> str:
        raise NotImplementedError

    def solve(self, p: dict) -> Solution:
        raise NotImplementedError

    def code(self, p: dict) -> str:
        """Python that prints the value on its last line, from a final ``print(result)``."""
        raise NotImplementedError

    def misread(self, p: dict, rng: np.random.Generator) -> dict:
        """The parameters of a plausible misreading of the problem (for the wrong traces)."""
        raise NotImplementedError

    def statement(self, p: dict, value: int) -> str:
        quantity = self.quantity(p)
        ask = (
            f"Find {quantity}."
            if value < 1000
            else f"Find the remainder when {quantity} is divided by $1000$."
        )
        setup = self.setup(p)
        if not setup:
            return ask
        return f"{setup}\n\n{ask}" if "$$" in setup else f"{setup} {ask}"


class Divisors(Generator):
    topic = "number_theory"
    check = "by trying every candidate divisor"

    def sample(self, rng, level):
        if level == 4:
            exponents = {2: _int(rng, 2, 6), 3: _int(rng, 1, 5), 5: _int(rng, 1, 3), 7: _int(rng, 0, 2)}
            return {"kind": "squares", "factors": {p: e for p, e in exponents.items() if e}}
        if level == 5:
            while True:
                a, b = _int(rng, 3, 9), _int(rng, 2, 6)
                if 2**a * 3**b <= 20_000:
                    return {"kind": "aime", "a": a, "b": b}
        low, high = {1: (30, 200), 2: (500, 9999), 3: (100, 3000)}[level]
        while True:
            n = _int(rng, low, high)
            if math.prod(e + 1 for e in _factor(n).values()) >= 6:
                return {"kind": "sum" if level == 3 else "count", "n": n}

    def setup(self, p):
        if p["kind"] == "squares":
            return f"Let $N = {_factor_tex(p['factors'])}$."
        if p["kind"] == "aime":
            return f"Let $n = 2^{{{p['a']}}} \\cdot 3^{{{p['b']}}}$."
        return f"Let $N = {p['n']}$."

    def quantity(self, p):
        return {
            "count": "the number of positive divisors of $N$",
            "sum": "the sum of all positive divisors of $N$",
            "squares": "the number of positive divisors of $N$ that are perfect squares",
            "aime": "the number of positive divisors of $n^{2}$ that are less than $n$ but do not divide $n$",
        }[p["kind"]]

    def solve(self, p):
        kind = p["kind"]
        if kind == "aime":
            a, b = p["a"], p["b"]
            big, small = (2 * a + 1) * (2 * b + 1), (a + 1) * (b + 1)
            value = (big - 1) // 2 - (small - 1)
            return Solution(
                value,
                [
                    f"$n^{{2}} = 2^{{{2 * a}}} \\cdot 3^{{{2 * b}}}$ has $({2 * a}+1)({2 * b}+1) = {big}$ "
                    "positive divisors.",
                    f"They pair up as $d \\leftrightarrow n^{{2}}/d$ with $n$ unpaired, so ${(big - 1) // 2}$ "
                    "of them are less than $n$.",
                    f"$n$ has $({a}+1)({b}+1) = {small}$ divisors; ${small - 1}$ of them are less than $n$, "
                    "and all of them divide $n^{2}$.",
                    f"So ${(big - 1) // 2} - {small - 1} = {value}$ divisors of $n^{{2}}$ are less than $n$ "
                    "but do not divide $n$.",
                ],
            )
        if kind == "squares":
            factors = p["factors"]
            choices = [e // 2 + 1 for e in factors.values()]
            value = math.prod(choices)
            per_prime = "; ".join(
                f"the exponent of ${q}$ is one of $0, 2, \\ldots$ up to ${e}$: ${c}$ choices"
                for (q, e), c in zip(factors.items(), choices, strict=True)
            )
            return Solution(
                value,
                [
                    "A divisor of $N$ is a perfect square exactly when every exponent in it is even.",
                    per_prime[0].upper() + per_prime[1:] + ".",
                    f"So there are ${_CDOT.join(map(str, choices))} = {value}$ square divisors.",
                ],
            )
        n = p["n"]
        factors = _factor(n)
        steps = [f"Factor $N$: ${n} = {_factor_tex(factors)}$."]
        if kind == "count":
            value = math.prod(e + 1 for e in factors.values())
            counts = "".join(f"({e}+1)" for e in factors.values())
            steps.append(
                f"A divisor chooses the exponent of each prime independently, so $N$ has ${counts} = {value}$ "
                "positive divisors."
            )
            return Solution(value, steps)
        sums = {q: sum(q**i for i in range(e + 1)) for q, e in factors.items()}
        value = math.prod(sums.values())
        steps.append("The divisor sum is multiplicative, with $\\sigma(p^{e}) = 1 + p + \\cdots + p^{e}$.")
        steps.append(
            "; ".join(
                f"$\\sigma({_factor_tex({q: e})}) = {' + '.join(str(q**i) for i in range(e + 1))} = {sums[q]}$"
                for q, e in factors.items()
            )
            + "."
        )
        steps.append(f"So $\\sigma(N) = {_CDOT.join(map(str, sums.values()))} = {value}$.")
        return Solution(value, steps)

    def code(self, p):
        kind = p["kind"]
        if kind == "aime":
            return (
                f"n = 2**{p['a']} * 3**{p['b']}\n"
                "result = sum(1 for d in range(1, n) if n * n % d == 0 and n % d != 0)\n"
                "print(result)"
            )
        if kind == "squares":
            power = " * ".join(f"{q}**{e}" for q, e in p["factors"].items())
            return (
                "from math import isqrt\n\n"
                f"N = {power}\n"
                "result = sum(1 for k in range(1, isqrt(N) + 1) if N % (k * k) == 0)\n"
                "print(result)"
            )
        term = "1" if kind == "count" else "d"
        return f"N = {p['n']}\nresult = sum({term} for d in range(1, N + 1) if N % d == 0)\nprint(result)"

    def misread(self, p, rng):
        if p["kind"] == "aime":  # the answer is a * b, so lowering b changes it
            return {**p, "b": p["b"] - 1} if p["b"] > 1 else {**p, "a": p["a"] + 1}
        if p["kind"] == "squares":
            factors = dict(p["factors"])
            q = _pick(rng, list(factors))
            factors[q] += 1 if factors[q] == 1 else _pick(rng, [-1, 1])
            return {**p, "factors": factors}
        return {**p, "n": p["n"] // min(_factor(p["n"]))}  # a prime factor dropped


class Coprime(Generator):
    topic = "number_theory"
    check = "by testing the gcd of every $n$ in the range"

    def sample(self, rng, level):
        count, pool, (low, high), squares = {
            1: (2, [2, 3, 5, 7], (30, 100), False),
            2: (2, [2, 3, 5, 7, 11], (100, 600), False),
            3: (3, [2, 3, 5, 7, 11, 13], (300, 1500), False),
            4: (3, [2, 3, 5, 7, 11, 13], (1000, 4000), True),
            5: (4, [2, 3, 5, 7, 11, 13, 17], (2000, 8000), True),
        }[level]
        primes = sorted(int(q) for q in rng.choice(pool, size=count, replace=False))
        exponents = [_int(rng, 1, 2) if squares else 1 for _ in primes]
        return {
            "N": _int(rng, low, high),
            "M": math.prod(q**e for q, e in zip(primes, exponents, strict=True)),
        }

    def setup(self, p):
        return f'Call a positive integer "lonely" if it has no prime factor in common with ${p["M"]}$.'

    def quantity(self, p):
        return f"the number of lonely integers $n$ with $1 \\le n \\le {p['N']}$"

    def solve(self, p):
        n, factors = p["N"], _factor(p["M"])
        primes = list(factors)
        steps = [
            f"${p['M']} = {_factor_tex(factors)}$, so $n$ is lonely exactly when none of "
            f"${', '.join(map(str, primes))}$ divides $n$.",
            f"Up to ${n}$ there are $\\lfloor {n}/d \\rfloor$ multiples of $d$; use inclusion-exclusion.",
        ]
        value, signed = n, [str(n)]
        for size in range(1, len(primes) + 1):
            products = [math.prod(c) for c in itertools.combinations(primes, size)]
            counts = [n // d for d in products]
            total = sum(counts)
            floors = " + ".join(f"\\lfloor {n}/{d} \\rfloor" for d in products)
            added = f" = {' + '.join(map(str, counts))}" if len(counts) > 1 else ""
            steps.append(f"Products of {size} of the primes: ${floors}{added} = {total}$.")
            value += (-1) ** size * total
            signed.append(f"{'-' if size % 2 else '+'} {total}")
        steps.append(f"So the number of lonely integers is ${' '.join(signed)} = {value}$.")
        return Solution(value, steps)

    def code(self, p):
        return (
            "from math import gcd\n\n"
            f"N, M = {p['N']}, {p['M']}\n"
            "result = sum(1 for n in range(1, N + 1) if gcd(n, M) == 1)\n"
            "print(result)"
        )

    def misread(self, p, rng):
        factors = _factor(p["M"])
        if len(factors) > 1 and rng.random() < 0.5:
            q = _pick(rng, list(factors))
            return {**p, "M": p["M"] // q ** factors[q]}  # a prime forgotten
        return {**p, "N": p["N"] - 1}  # the endpoint left out


class PowerMod(Generator):
    topic = "modular_arithmetic"
    check = "by listing the powers until they cycle"

    def sample(self, rng, level):
        if level == 1:
            m = _pick(rng, [7, 11, 13, 17, 19, 23, 29, 31, 37])
            return {"a": _pick(rng, [a for a in range(2, 13) if a % m > 1]), "b": _int(rng, 20, 99), "m": m}
        coprime = [a for a in range(3, 1000) if math.gcd(a, 10) == 1]
        if level == 2:
            return {"a": _pick(rng, [a for a in range(2, 20) if a != 10]), "b": _int(rng, 10, 60), "m": 1000}
        if level == 3:
            return {"a": _pick(rng, coprime[:40]), "b": _int(rng, 100, 9999), "m": 1000}
        if level == 4:
            return {"a": _pick(rng, coprime), "b": _int(rng, 10**4, 10**9), "m": 1000}
        return {"a": _pick(rng, coprime[:20]), "b": _int(rng, 2, 9), "c": _int(rng, 5, 20), "m": 1000}

    def _power_tex(self, p):
        exponent = f"{p['b']}^{{{p['c']}}}" if "c" in p else str(p["b"])
        return f"{p['a']}^{{{exponent}}}"

    def quantity(self, p):
        return f"the remainder when ${self._power_tex(p)}$ is divided by ${p['m']}$"

    def solve(self, p):
        a, b, m = p["a"], p["b"], p["m"]
        if m != 1000:  # a prime modulus not dividing a: the powers are purely periodic
            residues = [a % m]
            while residues[-1] != 1:
                residues.append(residues[-1] * a % m)
            period = len(residues)
            e = b % period or period
            listed = ", ".join(f"{a}^{{{k}}} \\equiv {r}" for k, r in enumerate(residues, 1))
            return Solution(
                residues[e - 1],
                [
                    f"Powers of ${a}$ modulo ${m}$: ${listed}$, so they repeat with period ${period}$.",
                    f"${b} \\equiv {e} \\pmod{{{period}}}$ (taking a representative in $1..{period}$), so "
                    f"${a}^{{{b}}} \\equiv {a}^{{{e}}} \\equiv {residues[e - 1]} \\pmod{{{m}}}$.",
                ],
            )
        if math.gcd(a, 10) != 1:
            return Solution(*_power_steps(a, b, m))
        steps = [
            f"Since $\\gcd({a}, 1000) = 1$ and $\\lambda(1000) = \\operatorname{{lcm}}(\\lambda(8), "
            f"\\lambda(125)) = \\operatorname{{lcm}}(2, 100) = 100$, we have ${a}^{{100}} \\equiv 1 \\pmod{{1000}}$, "
            "so only the exponent modulo $100$ matters."
        ]
        if "c" in p:
            e, exponent_steps = _power_steps(b, p["c"], 100)
            steps += exponent_steps
        else:
            e = b % 100
            steps.append(f"${b} \\equiv {e} \\pmod{{100}}$.")
        value, power_steps = _power_steps(a, e, 1000)
        return Solution(value, steps + power_steps)

    def code(self, p):
        exponent = f"{p['b']}**{p['c']}" if "c" in p else str(p["b"])
        return (
            f"a, m = {p['a']}, {p['m']}\n"
            f"E = {exponent}\n"
            "first_seen = {}  # residue of a^k -> first k\n"
            "x, k = 1, 0\n"
            "while x not in first_seen:\n"
            "    first_seen[x] = k\n"
            "    x = x * a % m\n"
            "    k += 1\n"
            "start, period = first_seen[x], k - first_seen[x]\n"
            'print("cycle start", start, "period", period)\n'
            "residues = list(first_seen)\n"
            "result = residues[E if E < start else start + (E - start) % period]\n"
            "print(result)"
        )

    def misread(self, p, rng):
        if "c" in p:  # not c: 5^c is 25 modulo 100 for every c >= 2
            return {**p, "b": p["b"] + 1}
        return {**p, "b": p["b"] + _pick(rng, [-1, 1])}


class Congruences(Generator):
    topic = "modular_arithmetic"
    check = "by stepping through the candidates with the largest modulus"

    def sample(self, rng, level):
        count, (low, high), (least, most) = {
            1: (2, (3, 9), (10, 60)),
            2: (2, (5, 25), (60, 400)),
            3: (3, (3, 15), (100, 999)),
            4: (3, (5, 30), (1000, 8000)),
            5: (4, (3, 25), (2000, 30000)),
        }[level]
        while True:
            moduli = sorted(int(m) for m in rng.choice(np.arange(low, high + 1), size=count, replace=False))
            pairwise = all(math.gcd(x, y) == 1 for i, x in enumerate(moduli) for y in moduli[i + 1 :])
            if pairwise and least <= math.prod(moduli) <= most:
                return {"congruences": [(_int(rng, 0, m - 1), m) for m in moduli]}

    def setup(self, p):
        congruences = p["congruences"]
        if len(congruences) == 2:
            (r1, m1), (r2, m2) = congruences
            return (
                f"When a positive integer $n$ is divided by ${m1}$ the remainder is ${r1}$, and when $n$ is "
                f"divided by ${m2}$ the remainder is ${r2}$."
            )
        rows = ",\\\\\n".join(f"n &\\equiv {r} \\pmod{{{m}}}" for r, m in congruences)
        return f"A positive integer $n$ satisfies\n$$\\begin{{aligned}}\n{rows}.\n\\end{{aligned}}$$"

    def quantity(self, p):
        return "the least such $n$"

    def solve(self, p):
        (r, modulus), *rest = p["congruences"]
        steps = [f"Start from $n \\equiv {r} \\pmod{{{modulus}}}$, i.e. $n = {r} + {modulus}t$."]
        for r_i, m_i in rest:
            coefficient, difference = modulus % m_i, (r_i - r) % m_i
            inverse = pow(coefficient, -1, m_i)
            t = difference * inverse % m_i
            r, modulus = r + modulus * t, modulus * m_i
            steps.append(
                f"Modulo ${m_i}$: ${coefficient}t \\equiv {difference} \\pmod{{{m_i}}}$; the inverse of "
                f"${coefficient}$ is ${inverse}$, so $t \\equiv {t} \\pmod{{{m_i}}}$ and "
                f"$n \\equiv {r} \\pmod{{{modulus}}}$."
            )
        value = r or modulus
        steps.append(f"The least positive solution is $n = {value}$.")
        return Solution(value, steps)

    def code(self, p):
        return (
            f"congruences = {p['congruences']}  # (remainder, modulus)\n"
            "r, m = max(congruences, key=lambda c: c[1])\n"
            "n = r if r > 0 else m\n"
            "while not all(n % mod == res for res, mod in congruences):\n"
            "    n += m\n"
            "result = n\n"
            "print(result)"
        )

    def misread(self, p, rng):
        congruences = list(p["congruences"])
        i = int(rng.integers(len(congruences)))
        r, m = congruences[i]
        congruences[i] = ((r + _pick(rng, [-1, 1])) % m, m)
        return {"congruences": congruences}


def _bernoulli_plus(count: int) -> list[Fraction]:
    """B_0..B_{count-1} with B_1 = +1/2, the convention of Faulhaber's formula for sums up to N."""
    numbers = [Fraction(1)]
    for m in range(1, count):
        numbers.append(-sum(math.comb(m + 1, j) * numbers[j] for j in range(m)) / (m + 1))
    if count > 1:
        numbers[1] = Fraction(1, 2)
    return numbers


def _faulhaber(k: int) -> dict[int, Fraction]:
    """Coefficients of N^j in 1^k + ... + N^k."""
    numbers = _bernoulli_plus(k + 1)
    return {
        k + 1 - j: Fraction(math.comb(k + 1, j)) * numbers[j] / (k + 1)
        for j in range(k + 1)
        if numbers[j] != 0
    }


def _fraction_tex(value: Fraction) -> str:
    return (
        str(value.numerator)
        if value.denominator == 1
        else f"\\frac{{{value.numerator}}}{{{value.denominator}}}"
    )


def _signed_sum_tex(terms: list[tuple[Fraction, str]]) -> str:
    """``c_1 x_1 + c_2 x_2 - ...`` with signs pulled out and unit coefficients omitted."""
    parts = []
    for i, (coefficient, factor) in enumerate(terms):
        sign = "-" if coefficient < 0 else "+"
        magnitude = abs(coefficient)
        body = factor if magnitude == 1 and factor else f"{_fraction_tex(magnitude)}{factor}"
        parts.append(("-" if sign == "-" else "") + body if i == 0 else f" {sign} {body}")
    return "".join(parts)


class PowerSum(Generator):
    topic = "modular_arithmetic"
    check = "by adding the terms one by one"

    def sample(self, rng, level):
        k, (low, high) = {
            1: (1, (20, 80)),
            2: (2, (8, 40)),
            3: (3, (10, 120)),
            4: (_int(rng, 4, 5), (30, 400)),
            5: (_int(rng, 6, 8), (200, 3000)),
        }[level]
        return {"k": k, "N": _int(rng, low, high), "sigma": level >= 4}

    def setup(self, p):
        return f"Let $S = \\sum_{{n=1}}^{{{p['N']}}} n^{{{p['k']}}}$." if p["sigma"] else ""

    def quantity(self, p):
        if p["sigma"]:
            return "$S$"
        k, n = p["k"], p["N"]
        if k == 1:
            return f"$1 + 2 + 3 + \\cdots + {n}$"
        return f"$1^{{{k}}} + 2^{{{k}}} + 3^{{{k}}} + \\cdots + {n}^{{{k}}}$"

    def solve(self, p):
        k, n = p["k"], p["N"]
        coefficients = _faulhaber(k)
        formula = _signed_sum_tex([(c, "N" if j == 1 else f"N^{{{j}}}") for j, c in coefficients.items()])
        terms = [c * n**j for j, c in coefficients.items()]
        value = sum(terms)
        if value.denominator != 1:
            raise RuntimeError(f"Faulhaber's formula gave a fraction for k={k}, N={n}")
        evaluated = _signed_sum_tex([(t, "") for t in terms])
        return Solution(
            int(value),
            [
                f"Faulhaber's formula: $\\sum_{{n=1}}^{{N}} {'n' if k == 1 else f'n^{{{k}}}'} = {formula}$.",
                f"With $N = {n}$ the terms are ${evaluated} = {value}$.",
            ],
        )

    def code(self, p):
        return f"k, N = {p['k']}, {p['N']}\nresult = sum(n**k for n in range(1, N + 1))\nprint(result)"

    def misread(self, p, rng):
        return {**p, "N": p["N"] + _pick(rng, [-1, 1])}


class LatticePaths(Generator):
    topic = "combinatorics"
    check = "by counting paths point by point across the grid"

    def sample(self, rng, level):
        if level == 5:
            b = _int(rng, 5, 12)
            return {"kind": "diagonal", "a": b + _int(rng, 0, 4), "b": b, "blocked": []}
        kind, low, high, count = {
            1: ("plain", 2, 6, 0),
            2: ("through", 3, 6, 1),
            3: ("avoid", 4, 8, 1),
            4: ("avoid", 6, 10, 2),
        }[level]
        a, b = _int(rng, low, high), _int(rng, low, high)
        inner = [(x, y) for x in range(a + 1) for y in range(b + 1) if (x, y) not in ((0, 0), (a, b))]
        blocked = sorted(inner[i] for i in rng.choice(len(inner), size=count, replace=False))
        return {"kind": kind, "a": a, "b": b, "blocked": [tuple(map(int, point)) for point in blocked]}

    def setup(self, p):
        a, b, points = p["a"], p["b"], p["blocked"]
        text = (
            f"A lattice path from $(0,0)$ to $({a},{b})$ is a sequence of unit steps, each either right, "
            "from $(x,y)$ to $(x+1,y)$, or up, from $(x,y)$ to $(x,y+1)$."
        )
        named = " and ".join(f"$({x},{y})$" for x, y in points)
        return (
            text
            + {
                "plain": "",
                "through": f" Consider the lattice paths that pass through {named}.",
                "avoid": f" The point{'s' if len(points) > 1 else ''} {named} {'are' if len(points) > 1 else 'is'} "
                '"blocked": consider the lattice paths that visit no blocked point.',
                "diagonal": " Consider the lattice paths all of whose points $(x,y)$ satisfy $y \\le x$.",
            }[p["kind"]]
        )

    def quantity(self, p):
        return "the number of lattice paths" if p["kind"] == "plain" else "the number of such paths"

    @staticmethod
    def _paths(start, end) -> tuple[int, str]:
        dx, dy = end[0] - start[0], end[1] - start[1]
        if dx < 0 or dy < 0:
            return 0, "0"
        return math.comb(dx + dy, dx), f"\\binom{{{dx + dy}}}{{{dx}}}"

    def solve(self, p):
        a, b, kind = p["a"], p["b"], p["kind"]
        total, tex = self._paths((0, 0), (a, b))
        steps = [f"A path is a word of ${a}$ right steps and ${b}$ up steps: ${tex} = {total}$ paths in all."]
        if kind == "plain":
            return Solution(total, steps)
        if kind == "diagonal":
            bad = math.comb(a + b, b - 1)
            value = total - bad
            steps.append(
                "A path that goes above $y = x$ touches $y = x + 1$; reflecting its part before the first "
                "touch in that line maps these paths one-to-one onto all paths from $(-1,1)$ to "
                f"$({a},{b})$, and there are $\\binom{{{a + b}}}{{{b - 1}}} = {bad}$ of those."
            )
            steps.append(f"So ${total} - {bad} = {value}$ paths stay on or below $y = x$.")
            return Solution(value, steps)
        via = {}
        for point in p["blocked"]:
            before, before_tex = self._paths((0, 0), point)
            after, after_tex = self._paths(point, (a, b))
            via[point] = before * after
            steps.append(
                f"Through $({point[0]},{point[1]})$: ${before_tex} \\cdot {after_tex} = {before} \\cdot {after} "
                f"= {via[point]}$ paths."
            )
        if kind == "through":
            return Solution(via[p["blocked"][0]], steps)
        if len(via) == 1:
            value = total - via[p["blocked"][0]]
            steps.append(f"Avoiding the blocked point: ${total} - {via[p['blocked'][0]]} = {value}$.")
            return Solution(value, steps)
        first, second = sorted(p["blocked"])
        both = self._paths((0, 0), first)[0] * self._paths(first, second)[0] * self._paths(second, (a, b))[0]
        steps.append(
            f"Through both points (in the order $({first[0]},{first[1]})$ then $({second[0]},{second[1]})$): "
            f"${both}$ paths."
        )
        value = total - sum(via.values()) + both
        removed = " - ".join(str(v) for v in via.values())
        steps.append(f"By inclusion-exclusion: ${total} - {removed} + {both} = {value}$.")
        return Solution(value, steps)

    def code(self, p):
        call = {
            "plain": "result = count_paths(set())",
            "diagonal": "result = count_paths(set(), below_diagonal=True)",
            "avoid": f"result = count_paths({set(p['blocked'])})",
            "through": f"total = count_paths(set())\navoiding = count_paths({set(p['blocked'])})\n"
            "print(total, avoiding)\nresult = total - avoiding",
        }[p["kind"]]
        return (
            f"a, b = {p['a']}, {p['b']}\n\n\n"
            "def count_paths(blocked, below_diagonal=False):\n"
            "    ways = {}\n"
            "    for x in range(a + 1):\n"
            "        for y in range(b + 1):\n"
            "            if (x, y) in blocked or (below_diagonal and y > x):\n"
            "                ways[x, y] = 0\n"
            "            elif x == y == 0:\n"
            "                ways[x, y] = 1\n"
            "            else:\n"
            "                ways[x, y] = ways.get((x - 1, y), 0) + ways.get((x, y - 1), 0)\n"
            "    return ways[a, b]\n\n\n"
            f"{call}\n"
            "print(result)"
        )

    def misread(self, p, rng):
        if p["kind"] == "diagonal" or rng.random() < 0.5:
            return {**p, "a": p["a"] + 1}
        return {**p, "b": p["b"] + 1}


class SubsetSums(Generator):
    topic = "combinatorics"
    check = "by listing every subset"

    def sample(self, rng, level):
        n_range, k_range, kind = {
            1: ((4, 9), (3, 5), "all"),
            2: ((8, 11), (3, 6), "all"),
            3: ((10, 12), (4, 9), "all"),
            4: ((11, 13), (3, 7), "size"),
            5: ((12, 14), (3, 9), "sparse"),
        }[level]
        return {"n": _int(rng, *n_range), "k": _int(rng, *k_range), "kind": kind, "size": _int(rng, 3, 5)}

    def setup(self, p):
        text = (
            f'Call a subset $S$ of $\\{{1, 2, \\ldots, {p["n"]}\\}}$ "balanced" if the sum of its elements is '
            f"divisible by ${p['k']}$ (the empty set has sum $0$)."
        )
        if p["kind"] == "sparse":
            text += ' A subset is "sparse" if it contains no two consecutive integers.'
        return text

    def quantity(self, p):
        return {
            "all": 'the number of "balanced" subsets',
            "size": f'the number of "balanced" subsets with exactly ${p["size"]}$ elements',
            "sparse": 'the number of subsets that are both "balanced" and "sparse"',
        }[p["kind"]]

    def solve(self, p):
        n, k, kind = p["n"], p["k"], p["kind"]
        if kind == "size":
            size = p["size"]
            steps = [
                f"Let $c[j][r]$ count the $j$-element subsets of $\\{{1, \\ldots, i\\}}$ with sum $\\equiv r "
                f"\\pmod{{{k}}}$; adding $i$ gives $c[j][r] \\mathrel{{+}}= c[j-1][r - i]$. "
                f"The ${size}$-element counts by residue:"
            ]
            table = [[0] * k for _ in range(size + 1)]
            table[0][0] = 1
            for i in range(1, n + 1):
                table = [table[0]] + [
                    [table[j][r] + table[j - 1][(r - i) % k] for r in range(k)] for j in range(1, size + 1)
                ]
                steps.append(f"after ${i}$: $({', '.join(map(str, table[size]))})$.")
            value = table[size][0]
        elif kind == "sparse":
            steps = [
                f"Track subsets of $\\{{1, \\ldots, i\\}}$ by sum modulo ${k}$, split by whether they contain "
                "$i$ (then $i+1$ may not be added). All sparse subsets by residue:"
            ]
            without, with_last = [1] + [0] * (k - 1), [0] * k
            for i in range(1, n + 1):
                without, with_last = (
                    [without[r] + with_last[r] for r in range(k)],
                    [without[(r - i) % k] for r in range(k)],
                )
                counts = [without[r] + with_last[r] for r in range(k)]
                steps.append(f"after ${i}$: $({', '.join(map(str, counts))})$.")
            value = without[0] + with_last[0]
        else:
            steps = [
                f"Track how many subsets of $\\{{1, \\ldots, i\\}}$ have each sum modulo ${k}$ (residues "
                f"$0, \\ldots, {k - 1}$), starting from the empty set; adding $i$ shifts a copy by $i$:"
            ]
            counts = [1] + [0] * (k - 1)
            for i in range(1, n + 1):
                counts = [counts[r] + counts[(r - i) % k] for r in range(k)]
                steps.append(f"after ${i}$: $({', '.join(map(str, counts))})$.")
            value = counts[0]
        steps.append(f"The count for residue $0$ is ${value}$.")
        return Solution(value, steps)

    def code(self, p):
        n, k, kind = p["n"], p["k"], p["kind"]
        sizes = f"[{p['size']}]" if kind == "size" else "range(n + 1)"
        condition = "sum(subset) % k == 0"
        if kind == "sparse":
            condition += " and all(y - x > 1 for x, y in zip(subset, subset[1:]))"
        return (
            "from itertools import combinations\n\n"
            f"n, k = {n}, {k}\n"
            "result = 0\n"
            f"for size in {sizes}:\n"
            "    for subset in combinations(range(1, n + 1), size):\n"
            f"        if {condition}:\n"
            "            result += 1\n"
            "print(result)"
        )

    def misread(self, p, rng):
        return {**p, "n": p["n"] - 1}


class RootPowers(Generator):
    topic = "algebra"
    check = "by finding the integer roots and adding their powers"

    def sample(self, rng, level):
        degree, (low, high), (k_low, k_high) = {
            1: (2, (1, 9), (2, 2)),
            2: (2, (1, 9), (3, 5)),
            3: (3, (1, 6), (2, 3)),
            4: (3, (-3, 7), (4, 6)),
            5: (4, (-3, 5), (3, 6)),
        }[level]
        while True:
            roots = sorted(_int(rng, low, high) for _ in range(degree))
            k = _int(rng, k_low, k_high)
            if sum(r**k for r in roots) >= 0 and len(set(roots)) > 1:
                coefficients = [1]
                for r in roots:  # multiply by (x - r)
                    coefficients = [*coefficients, 0]
                    coefficients = [
                        c - r * prev for c, prev in zip(coefficients, [0, *coefficients[:-1]], strict=True)
                    ]
                return {"coefficients": coefficients, "k": k}

    @staticmethod
    def _names(degree: int) -> list[str]:
        return {2: ["r", "s"], 3: ["r", "s", "t"]}.get(degree, [f"r_{i}" for i in range(1, degree + 1)])

    def setup(self, p):
        coefficients = p["coefficients"]
        degree = len(coefficients) - 1
        terms = [
            (Fraction(c), "" if power == 0 else "x" if power == 1 else f"x^{{{power}}}")
            for c, power in zip(coefficients, range(degree, -1, -1), strict=True)
            if c
        ]
        polynomial = _signed_sum_tex(terms)
        names = self._names(degree)
        if degree == 2:
            return f"Let $r$ and $s$ be the roots of ${polynomial} = 0$."
        listed = ", ".join(f"${name}$" for name in names[:-1]) + f" and ${names[-1]}$"
        return f"Let {listed} be the roots, counted with multiplicity, of\n$$P(x) = {polynomial}.$$"

    def quantity(self, p):
        names = self._names(len(p["coefficients"]) - 1)
        return "$" + " + ".join(f"{name}^{{{p['k']}}}" for name in names) + "$"

    def solve(self, p):
        coefficients, k = p["coefficients"], p["k"]
        degree = len(coefficients) - 1
        e = {i: (-1) ** i * coefficients[i] for i in range(1, degree + 1)}
        steps = [
            "By Vieta's formulas the elementary symmetric functions of the roots are "
            + ", ".join(f"$e_{i} = {v}$" for i, v in e.items())
            + ".",
            "Newton's identities give the power sums $p_j$: "
            "$p_j = e_1 p_{j-1} - e_2 p_{j-2} + \\cdots + (-1)^{j-1} j e_j$ (with $e_i = 0$ for "
            f"$i > {degree}$).",
        ]
        power_sums = {}
        for j in range(1, k + 1):
            terms = [((-1) ** (i - 1) * e[i], power_sums[j - i]) for i in range(1, min(j - 1, degree) + 1)]
            expression = [f"{_num(c)} \\cdot {_num(s)}" for c, s in terms]
            value = sum(c * s for c, s in terms)
            if j <= degree:
                value += (-1) ** (j - 1) * j * e[j]
                expression.append(f"{_num((-1) ** (j - 1) * j)} \\cdot {_num(e[j])}")
            power_sums[j] = value
            steps.append(f"$p_{{{j}}} = {' + '.join(expression)} = {value}$.")
        return Solution(power_sums[k], steps)

    def code(self, p):
        return (
            f"coefficients = {p['coefficients']}  # highest degree first\n"
            f"k = {p['k']}\n"
            "roots, poly = [], coefficients[:]\n"
            "while len(poly) > 1:  # rational root theorem, then synthetic division by (x - root)\n"
            "    constant = poly[-1]\n"
            "    candidates = [0] if constant == 0 else [\n"
            "        s * d for d in range(1, abs(constant) + 1) if constant % d == 0 for s in (1, -1)\n"
            "    ]\n"
            "    degree = len(poly) - 1\n"
            "    root = next(c for c in candidates if sum(a * c ** (degree - i) for i, a in enumerate(poly)) == 0)\n"
            "    roots.append(root)\n"
            "    quotient = [poly[0]]\n"
            "    for a in poly[1:-1]:\n"
            "        quotient.append(a + quotient[-1] * root)\n"
            "    poly = quotient\n"
            'print("roots", sorted(roots))\n'
            "result = sum(r**k for r in roots)\n"
            "print(result)"
        )

    def misread(self, p, rng):
        return {**p, "k": p["k"] + 1 if p["k"] <= 2 else p["k"] + _pick(rng, [-1, 1])}


class Recurrence(Generator):
    topic = "algebra"
    check = "by running the recurrence term by term"

    def sample(self, rng, level):
        c_high, n_range = {1: (1, (8, 13)), 2: (3, (6, 10)), 3: (3, (15, 30)), 4: (9, (100, 999))}.get(
            level, (20, (10_000, 50_000))
        )
        return {
            "a1": _int(rng, 0 if level > 1 else 1, 5),
            "a2": _int(rng, 1, 5),
            "c": _int(rng, 1, c_high),
            "d": _int(rng, 1, c_high),
            "N": _int(rng, *n_range),
            "mod": level >= 3,
        }

    def setup(self, p):
        c, d = (("" if v == 1 else str(v)) for v in (p["c"], p["d"]))
        return (
            f"The sequence $(a_n)_{{n \\ge 1}}$ is defined by $a_1 = {p['a1']}$, $a_2 = {p['a2']}$ and\n"
            f"$$a_{{n+2}} = {c}a_{{n+1}} + {d}a_n \\quad \\text{{for }} n \\ge 1.$$"
        )

    def quantity(self, p):
        term = f"$a_{{{p['N']}}}$"
        return f"the remainder when {term} is divided by $1000$" if p["mod"] else term

    def solve(self, p):
        c, d, n = p["c"], p["d"], p["N"]
        if not p["mod"] or n <= 40:
            modulus = 1000 if p["mod"] else None
            terms = [p["a1"], p["a2"]]
            while len(terms) < n:
                nxt = c * terms[-1] + d * terms[-2]
                terms.append(nxt % modulus if modulus else nxt)
            where = " modulo $1000$ (only the remainder is needed)" if modulus else ""
            listed = ", ".join(map(str, terms))
            return Solution(
                terms[-1],
                [
                    f"Compute the terms $a_1, \\ldots, a_{{{n}}}${where}: ${listed}$.",
                    f"So $a_{{{n}}} = {terms[-1]}$.",
                ],
            )

        def matmul(x, y):
            return [[sum(x[i][t] * y[t][j] for t in range(2)) % 1000 for j in range(2)] for i in range(2)]

        def tex(m):
            return f"\\begin{{pmatrix}} {m[0][0]} & {m[0][1]} \\\\ {m[1][0]} & {m[1][1]} \\end{{pmatrix}}"

        e = n - 2
        steps = [
            f"With $M = {tex([[c, d], [1, 0]])}$ we have $(a_{{n+1}}, a_n)^T = M^{{n-1}} (a_2, a_1)^T$, so "
            f"$a_{{{n}}}$ is the first entry of $M^{{{e}}} ({p['a2']}, {p['a1']})^T$; work modulo $1000$."
        ]
        power, square, bits = [[1, 0], [0, 1]], [[c, d], [1, 0]], []
        for i in range(e.bit_length()):
            if e >> i & 1:
                power = matmul(power, square)
                bits.append(1 << i)
            steps.append(f"$M^{{{1 << i}}} \\equiv {tex(square)}$.")
            square = matmul(square, square)
        steps.append(
            f"${e} = {' + '.join(map(str, reversed(bits)))}$, and the product of those powers is "
            f"$M^{{{e}}} \\equiv {tex(power)} \\pmod{{1000}}$."
        )
        value = (power[0][0] * p["a2"] + power[0][1] * p["a1"]) % 1000
        steps.append(
            f"So $a_{{{n}}} \\equiv {power[0][0]} \\cdot {p['a2']} + {power[0][1]} \\cdot {p['a1']} \\equiv {value} "
            "\\pmod{1000}$."
        )
        return Solution(value, steps)

    def code(self, p):
        step = "(c * b + d * a) % 1000" if p["mod"] else "c * b + d * a"
        return (
            f"c, d, N = {p['c']}, {p['d']}, {p['N']}\n"
            f"a, b = {p['a1']}, {p['a2']}  # a_1, a_2\n"
            "for _ in range(N - 2):\n"
            f"    a, b = b, {step}\n"
            "result = b\n"
            "print(result)"
        )

    def misread(self, p, rng):
        return {**p, "N": p["N"] + _pick(rng, [-1, 1])}


class LatticeTriangle(Generator):
    topic = "geometry"
    check = "by testing every lattice point of the bounding box"

    def sample(self, rng, level):
        low, high, right = {
            1: (3, 12, True),
            2: (10, 40, True),
            3: (5, 40, False),
            4: (30, 80, False),
            5: (40, 100, False),
        }[level]
        a, b = _int(rng, low, high), _int(rng, low, high)
        c = 0 if right else _int(rng, -a // 4, a + a // 4)
        return {"a": a, "b": b, "c": c, "closed": level == 5}

    def setup(self, p):
        return (
            f"In the coordinate plane, let $T$ be the triangle with vertices $A = (0,0)$, $B = ({p['a']},0)$ "
            f'and $C = ({p["c"]},{p["b"]})$. A "lattice point" is a point whose coordinates are both integers.'
        )

    def quantity(self, p):
        if p["closed"]:
            return "the number of lattice points that lie inside $T$ or on its boundary"
        return "the number of lattice points strictly inside $T$"

    def solve(self, p):
        a, b, c = p["a"], p["b"], p["c"]
        gcds = [a, math.gcd(abs(c - a), b), math.gcd(abs(c), b)]
        boundary = sum(gcds)
        interior = (a * b - boundary + 2) // 2
        steps = [
            f"Twice the area of $T$ is ${a} \\cdot {b} = {a * b}$ (base $AB = {a}$, height ${b}$).",
            f"Lattice points on the boundary: $\\gcd({a},0) + \\gcd({abs(c - a)},{b}) + \\gcd({abs(c)},{b}) = "
            f"{' + '.join(map(str, gcds))} = {boundary}$.",
            f"Pick's theorem, $\\text{{Area}} = I + B/2 - 1$, gives $I = ({a * b} - {boundary} + 2)/2 = {interior}$ "
            "interior points.",
        ]
        if not p["closed"]:
            return Solution(interior, steps)
        steps.append(f"Inside or on the boundary: ${interior} + {boundary} = {interior + boundary}$.")
        return Solution(interior + boundary, steps)

    def code(self, p):
        a, b, c = p["a"], p["b"], p["c"]
        counted = "inside + boundary" if p["closed"] else "inside"
        return (
            f"A, B, C = (0, 0), ({a}, 0), ({c}, {b})\n\n\n"
            "def cross(o, p, q):\n"
            "    return (p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0])\n\n\n"
            "inside = boundary = 0\n"
            f"for x in range({min(0, c)}, {max(a, c)} + 1):\n"
            f"    for y in range(0, {b} + 1):\n"
            "        sides = (cross(A, B, (x, y)), cross(B, C, (x, y)), cross(C, A, (x, y)))\n"
            "        if min(sides) > 0:\n"
            "            inside += 1\n"
            "        elif min(sides) == 0:\n"
            "            boundary += 1\n"
            'print("inside", inside, "boundary", boundary)\n'
            f"result = {counted}\n"
            "print(result)"
        )

    def misread(self, p, rng):
        return {**p, "closed": not p["closed"]}


GENERATORS: tuple[Generator, ...] = (
    Divisors(),
    Coprime(),
    PowerMod(),
    Congruences(),
    PowerSum(),
    LatticePaths(),
    SubsetSums(),
    RootPowers(),
    Recurrence(),
    LatticeTriangle(),
)
