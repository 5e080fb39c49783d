"""A word n-gram language model in ARPA format, estimated the way KenLM's ``lmplz`` does it.

The beam-search decoder (:mod:`bengali_asr.lm`) reads ARPA files through the KenLM that flashlight-text
bundles, but that wheel, like ``kenlm`` on PyPI, ships no ``lmplz`` to build one, and no Debian or PyPI
package does. So this module is a small re-implementation of ``lmplz`` (Heafield et al. 2013, "Scalable
Modified Kneser-Ney Language Model Estimation"; Chen & Goodman 1998, eq. 26), followed step by step from
``lm/builder/{corpus_count,adjust_counts,initial_probabilities,interpolate}.cc``:

* Each sentence is ``<s> w1 ... wk </s>``; the words are its whitespace split. An empty sentence is
  ``<s> </s>`` (lmplz counts an empty line the same way).
* Adjusted counts: the highest order keeps raw counts; every lower-order n-gram gets its continuation count
  ``N1+(. g)``, the number of distinct words seen before it, except n-grams that start with ``<s>``: nothing
  can precede them, so they keep their raw counts.
* Discounts per order from the counts-of-counts ``n_j`` of those adjusted counts:
  ``Y = n1 / (n1 + 2 n2)``, ``D_j = j - (j + 1) Y n_{j+1} / n_j`` for j = 1, 2, 3 (3 stands for 3+).
* ``p(w | c) = (a(c w) - D(a(c w))) / sum_x a(c x) + gamma(c) p(w | c')`` with
  ``gamma(c) = (D1 N1(c .) + D2 N2(c .) + D3 N3+(c .)) / sum_x a(c x)`` and ``c'`` the context without
  its first word. The unigrams interpolate with the uniform distribution over the vocabulary *including*
  ``<unk>`` and ``</s>`` but not ``<s>``; ``<unk>`` has adjusted count 0, so its whole probability is its
  share of the interpolation mass, ``gamma() / |V|`` (lmplz's default ``--interpolate_unigrams``; SRILM and
  older lmplz versions instead gave ``<unk>`` all of ``gamma()``). ``<s>`` gets probability 1 (log 0), as in
  lmplz: it is never predicted, only a context.
* The back-off weight of a context is its ``gamma``, because an interpolated model written as a back-off
  model needs exactly that for the words it never saw after the context; n-grams that are no context
  (those ending in ``</s>`` or ``<unk>``, and the highest order) get none (log 1).

Where it follows lmplz even though lmplz is arguably wrong: since 2014 (kenlm commit 758f043, "Fix crash when
pruning") ``AdjustCounts`` adds the *raw* count instead of the adjusted count to the counts-of-counts for the
lower-order n-grams it still holds at the end of its pass, which are the proper suffixes of the last
highest-order n-gram in KenLM's suffix order (vocabulary ids in order of first appearance after
``<unk>``=0, ``<s>``=1, ``</s>``=2). That moves at most one n-gram per order from one ``n_j`` to another, so
it can shift the discounts slightly; it is reproduced here so that the numbers are lmplz's.

Differences from lmplz, all deliberate: arithmetic in float64 (lmplz: float32; probabilities agree to about
1e-7, and the file is written with the shortest decimal that round-trips the float32, lmplz's own format);
the lines are in a different order (any order is valid ARPA); a back-off of exactly 0 is written as
``-99`` (lmplz would write ``-inf``; only possible when the discounts of every count seen after a context
are 0); no pruning, no ``--vocab_pad``, no ``--limit_vocab_file``. Checked against an lmplz built from kenlm
4cb443e on 100 random corpora of orders 1 to 5 (up to 1500 sentences): the same n-grams, and probabilities
and back-offs within 1e-6 in log10.

Tiny corpora: the closed form needs words seen once, twice and three times at every order (``n1``, ``n2``,
``n3`` > 0) and gives discounts in ``[0, j]`` only on natural data. When either fails for an order, lmplz
stops unless run with ``--discount_fallback``, which substitutes ``D = (0.5, 1, 1.5)`` for that order; this
module always does that substitution (tiny corpora are what tests use; the CPU sample's text needs none)
and lists the orders in the returned stats, ``"fallback"``. With it, KenLM's own test models
(``lm/common/test_data/toy0.arpa``, ``toy1.arpa``, made by ``lmplz --discount_fallback -o 3``) are
reproduced to float32 precision (``tests/test_arpa.py``).

It is plain Python over dictionaries: about a second for the CPU sample's few thousand sentences, and fine for a
few million words; for IndicCorp-scale text (the full recipe's billions) run ``lmplz`` itself, which writes the
same model.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
RESERVED = (BOS, EOS, UNK)
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
LOG_ZERO = -99.0  # ARPA's conventional log10 of 0

Ngram = tuple[str, ...]


def _sentences(sentences: Iterable[str]) -> list[list[str]]:
    out = []
    for i, sentence in enumerate(sentences, start=1):
        if not isinstance(sentence, str):
            raise ValueError(f"arpa: sentence {i} is {sentence!r}, expected a string")
        words = sentence.split()
        for word in words:
            if word in RESERVED:
                raise ValueError(f"arpa: sentence {i} contains the reserved word {word!r} (<s>, </s>, <unk>)")
        out.append(words)
    return out


def _raw_counts(sentences: list[list[str]], order: int) -> list[Counter]:
    """``counts[n - 1][g]``: occurrences of each n-gram in ``<s> w1 .. wk </s>`` (the unigram ``<s>`` left out)."""
    counts = [Counter() for _ in range(order)]
    for words in sentences:
        tokens = [BOS, *words, EOS]
        for end in range(1, len(tokens)):
            for n in range(1, min(order, end + 1) + 1):
                counts[n - 1][tuple(tokens[end - n + 1 : end + 1])] += 1
    return counts


def _adjusted_counts(raw: list[Counter]) -> list[dict[Ngram, int]]:
    """Raw counts at the highest order and for n-grams starting with ``<s>``, continuation counts otherwise."""
    order = len(raw)
    adjusted: list[dict[Ngram, int]] = [dict() for _ in range(order)]
    adjusted[-1] = dict(raw[-1])
    for n in range(order - 1, 0, -1):  # n-grams of length n from the (n + 1)-grams
        left = Counter(gram[1:] for gram in raw[n])
        adjusted[n - 1] = {g: (c if g[0] == BOS else left[g]) for g, c in raw[n - 1].items()}
    adjusted[0] = {(UNK,): 0, (BOS,): 0, **adjusted[0]}
    return adjusted


def _kenlm_last_suffixes(sentences: list[list[str]], order: int) -> list[Ngram]:
    """The proper suffixes (without ``<s>``) of the highest-order n-gram that ``lmplz`` sees last.

    lmplz pads each sentence with ``order - 1`` ``<s>`` and sorts the highest-order n-grams by their last word,
    then the one before, ... (suffix order) with ids in order of first appearance."""
    ids = {UNK: 0, BOS: 1, EOS: 2}
    last: tuple[int, ...] | None = None
    for words in sentences:
        tokens = [BOS] * (order - 1) + words + [EOS]
        for word in words:
            ids.setdefault(word, len(ids))
        for end in range(order - 1, len(tokens)):
            key = tuple(ids[w] for w in reversed(tokens[end - order + 1 : end + 1]))
            if last is None or key > last:
                last = key
    if last is None:
        return []
    vocab = {i: w for w, i in ids.items()}
    full = tuple(vocab[i] for i in reversed(last))
    return [full[order - n :] for n in range(1, order) if BOS not in full[order - n :]]


def _counts_of_counts(counts: Iterable[int]) -> list[int]:
    """``[n1, n2, n3, n4]``: how many n-grams have (adjusted) count 1, 2, 3, 4."""
    n = [0, 0, 0, 0]
    for c in counts:
        if 1 <= c <= 4:
            n[c - 1] += 1
    return n


def discounts(n: list[int]) -> tuple[tuple[float, float, float], bool]:
    """Chen & Goodman's closed form ``D1, D2, D3+`` from counts-of-counts ``[n1, n2, n3, n4]``, and whether it
    had to fall back to :data:`FALLBACK_DISCOUNTS` (a zero ``n1``-``n3`` or a discount outside ``[0, j]``).

    >>> discounts([4, 2, 1, 1])
    ((0.5, 1.0, 1.5), True)
    >>> [round(d, 4) for d in discounts([10, 4, 2, 1])[0]]
    [0.5556, 0.9167, 1.0556]
    """
    n1, n2, n3, n4 = n
    if min(n1, n2, n3) == 0:
        return FALLBACK_DISCOUNTS, True
    y = n1 / (n1 + 2 * n2)
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    if any(not 0 <= dj <= j for j, dj in enumerate(d, start=1)):
        return FALLBACK_DISCOUNTS, True
    return d, False


def _log10(x: float) -> float:
    return math.log10(x) if x > 0 else LOG_ZERO


def _format(x: float) -> str:
    """lmplz's number format: the shortest decimal that reads back as the same float32."""
    return np.format_float_positional(np.float32(x + 0.0), unique=True, trim="-")


def estimate(sentences: Iterable[str], order: int = 3) -> tuple[list[dict[Ngram, tuple[float, float]]], dict]:
    """The model without writing it: ``models[n - 1][ngram] = (log10 prob, log10 back-off)`` and the stats of
    :func:`write_arpa`."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"arpa: order must be a positive integer, got {order!r}")
    texts = _sentences(sentences)
    if not texts:
        raise ValueError("arpa: no sentences to estimate a language model from")
    raw = _raw_counts(texts, order)
    adjusted = _adjusted_counts(raw)

    counts_of_counts, discount_table, fallback = [], [], []
    quirk = {g: raw[len(g) - 1][g] for g in _kenlm_last_suffixes(texts, order)}
    for n in range(1, order + 1):
        stats_counts = (quirk.get(g, a) for g, a in adjusted[n - 1].items())
        coc = _counts_of_counts(stats_counts)
        d, fell_back = discounts(coc)
        counts_of_counts.append(coc)
        discount_table.append(d)
        if fell_back:
            fallback.append(n)

    # per context: the sum of adjusted counts and the interpolation weight gamma
    gammas: list[dict[Ngram, tuple[float, float]]] = []
    for n in range(1, order + 1):
        d = discount_table[n - 1]
        totals: dict[Ngram, float] = defaultdict(float)
        mass: dict[Ngram, float] = defaultdict(float)
        for gram, a in adjusted[n - 1].items():
            totals[gram[:-1]] += a
            if a > 0:
                mass[gram[:-1]] += d[min(a, 3) - 1]
        gammas.append({c: (totals[c], mass[c] / totals[c]) for c in totals})

    def apply(n: int, a: int) -> float:
        return a - discount_table[n - 1][min(a, 3) - 1] if a > 0 else 0.0

    uniform = 1.0 / (len(adjusted[0]) - 1)  # every unigram but <s>
    probs: list[dict[Ngram, float]] = []
    total, gamma = gammas[0][()]
    probs.append(
        {g: (1.0 if g == (BOS,) else apply(1, a) / total + gamma * uniform) for g, a in adjusted[0].items()}
    )
    for n in range(2, order + 1):
        level = {}
        for gram, a in adjusted[n - 1].items():
            total, gamma = gammas[n - 1][gram[:-1]]
            level[gram] = apply(n, a) / total + gamma * probs[n - 2][gram[1:]]
        probs.append(level)

    models = []
    for n in range(1, order + 1):
        contexts = gammas[n] if n < order else {}
        level = {}
        for gram, p in probs[n - 1].items():
            is_context = gram in contexts and gram[-1] not in (EOS, UNK)
            backoff = _log10(contexts[gram][1]) if is_context else 0.0
            level[gram] = (min(0.0, _log10(p)), backoff)
        models.append(level)

    stats = {
        "order": order,
        "sentences": len(texts),
        "tokens": sum(len(t) for t in texts),
        "vocab": len(adjusted[0]) - 1,
        "ngrams": [len(level) for level in models],
        "counts_of_counts": counts_of_counts,
        "discounts": [list(d) for d in discount_table],
        "fallback": fallback,
    }
    return models, stats


def write_arpa(sentences: Iterable[str], path, order: int = 3) -> dict:
    """Estimate an interpolated modified Kneser-Ney model of ``order`` from ``sentences`` (already normalised,
    punctuation stripped; words = whitespace split) and write it to ``path`` as a tab-separated ARPA file.

    Returns ``{"order", "sentences", "tokens", "vocab" (with <unk> and </s>), "ngrams" (per order),
    "counts_of_counts" ([n1, n2, n3, n4] per order), "discounts" ([D1, D2, D3+] per order), "fallback"
    (orders that used :data:`FALLBACK_DISCOUNTS`)}``.
    """
    models, stats = estimate(sentences, order)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\\data\\"]
    lines += [f"ngram {n}={len(level)}" for n, level in enumerate(models, start=1)]
    for n, level in enumerate(models, start=1):
        lines += ["", f"\\{n}-grams:"]
        for gram, (prob, backoff) in level.items():
            line = f"{_format(prob)}\t{' '.join(gram)}"
            lines.append(line if n == order else f"{line}\t{_format(backoff)}")
    lines += ["", "\\end\\", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return stats


def read_arpa(path) -> tuple[int, dict[Ngram, float], dict[Ngram, float]]:
    """``(order, log10 probs, log10 back-offs)`` of an ARPA file; a malformed line is a one-line ValueError
    naming the file and the line."""
    path = Path(path)
    probs: dict[Ngram, float] = {}
    backoffs: dict[Ngram, float] = {}
    declared: dict[int, int] = {}
    section = None  # "data", an order, or "end"
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            where = f"{path}: line {number}"
            if line == "\\data\\":
                section = "data"
            elif line == "\\end\\":
                section = "end"
                break
            elif line.startswith("\\") and line.endswith("-grams:"):
                try:
                    section = int(line[1 : -len("-grams:")])
                except ValueError:
                    raise ValueError(f"{where}: bad section header {line!r}") from None
                if section not in declared:
                    raise ValueError(f"{where}: section {line!r} is not declared in \\data\\")
            elif section == "data":
                key, _, value = line.partition("=")
                try:
                    declared[int(key.removeprefix("ngram").strip())] = int(value)
                except ValueError:
                    raise ValueError(f"{where}: expected 'ngram N=COUNT', got {line!r}") from None
            elif isinstance(section, int):
                fields = line.split("\t") if "\t" in line else line.split()
                if "\t" in line:
                    gram = tuple(fields[1].split()) if len(fields) > 1 else ()
                    rest = fields[2:]
                else:
                    gram, rest = tuple(fields[1 : 1 + section]), fields[1 + section :]
                if len(gram) != section or len(rest) > 1:
                    raise ValueError(
                        f"{where}: expected a {section}-gram line 'logprob<TAB>words[<TAB>backoff]'"
                    )
                try:
                    probs[gram] = float(fields[0])
                    if rest:
                        backoffs[gram] = float(rest[0])
                except ValueError:
                    raise ValueError(f"{where}: the probability or back-off is not a number") from None
            else:
                raise ValueError(f"{where}: text outside a section ({line[:40]!r})")
    if section != "end":
        raise ValueError(f"{path}: no \\data\\ header or no \\end\\ marker; not an ARPA file")
    for n, count in declared.items():
        found = sum(1 for g in probs if len(g) == n)
        if found != count:
            raise ValueError(f"{path}: \\data\\ declares {count} {n}-grams but the file has {found}")
    return max(declared), probs, backoffs


def read_unigrams(path) -> tuple[int, list[int], list[str]]:
    """``(order, n-gram counts per order, the unigram words but <s>, </s>, <unk>)`` of an ARPA file, read up to its
    bigrams only: what a lexicon needs from a prebuilt model (KenLM's ``lmplz`` on a large corpus: gigabytes that
    :func:`read_arpa` would hold in memory). A file that does not start like an ARPA file is a one-line ValueError."""
    path = Path(path)
    declared: dict[int, int] = {}
    words: list[str] = []
    section, seen = None, 0
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            if line == "\\data\\":
                section = "data"
            elif line == "\\1-grams:" and declared:
                section = 1
            elif line.startswith("\\"):
                break  # the bigrams (or the end): the unigrams are all read
            elif section == "data" and line.startswith("ngram ") and "=" in line:
                key, _, value = line.partition("=")
                try:
                    declared[int(key.removeprefix("ngram").strip())] = int(value)
                except ValueError:
                    raise ValueError(
                        f"{path}: line {number}: expected 'ngram N=COUNT', got {line!r}"
                    ) from None
            elif section == 1:
                fields = line.split("\t") if "\t" in line else line.split()
                if len(fields) < 2:
                    raise ValueError(
                        f"{path}: line {number}: expected a 1-gram line 'logprob<TAB>word[<TAB>backoff]'"
                    )
                seen += 1
                if fields[1] not in RESERVED:
                    words.append(fields[1])
            else:
                raise ValueError(f"{path}: line {number}: not an ARPA file (expected the \\data\\ header and "
                                 f"'ngram N=COUNT' lines, got {line[:40]!r})")  # fmt: skip
    if not declared or section != 1:
        raise ValueError(f"{path}: no \\data\\ header or no \\1-grams: section; not an ARPA file")
    if seen != declared.get(1):
        raise ValueError(f"{path}: \\data\\ declares {declared.get(1, 0)} 1-grams but the file has {seen}")
    return max(declared), [declared[n] for n in sorted(declared)], words


class ArpaLM:
    """A back-off n-gram model read from an ARPA file, scored with the standard back-off rule (what KenLM's
    query computes): ``log p(w | c) = log p(c w)`` if the n-gram is listed, else ``log b(c) + log p(w | c')``,
    with ``b(c) = 1`` for a context that is not listed. Words outside the vocabulary score as ``<unk>``.
    Everything in log10, like the ARPA file and KenLM."""

    def __init__(self, path):
        self.path = Path(path)
        self.order, self._probs, self._backoffs = read_arpa(self.path)
        self.vocab = {g[0] for g in self._probs if len(g) == 1}
        if UNK not in self.vocab:
            raise ValueError(
                f"{self.path}: the model has no <unk> unigram, so unknown words cannot be scored"
            )

    def logprob(self, word: str, context: Iterable[str] = ()) -> float:
        """``log10 P(word | context)``; ``context`` is the preceding words, ``<s>`` first at a sentence start."""
        word = word if word in self.vocab else UNK
        context = tuple(w if w in self.vocab else UNK for w in context)
        context = context[max(0, len(context) - self.order + 1) :] if self.order > 1 else ()
        backoff = 0.0
        for start in range(len(context) + 1):
            history = context[start:]
            prob = self._probs.get((*history, word))
            if prob is not None:
                return backoff + prob
            backoff += self._backoffs.get(history, 0.0)
        raise AssertionError("unreachable: the unigram of every word is listed")

    def score(self, sentence: str, bos: bool = True, eos: bool = True) -> float:
        """``log10 P(w1 .. wk </s> | <s>)`` of a whitespace-split sentence (without ``</s>`` / ``<s>`` when
        ``eos`` / ``bos`` is false)."""
        context = [BOS] if bos else []
        total = 0.0
        for word in [*sentence.split(), *([EOS] if eos else [])]:
            total += self.logprob(word, context)
            context.append(word)
        return total
