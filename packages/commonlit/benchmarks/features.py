"""Feature extraction throughput: ``commonlit.features.extract`` vs a straightforward per-row version.

    uv run --package commonlit python packages/commonlit/benchmarks/features.py [--n-summaries 7165] [--reference-rows N]

The training set's shape: 7,165 summaries over 4 long prompts. Passages (400-700 words in paragraphs
joined by ``\\r\\n``, a few invented proper nouns) and summaries (20-150 words: verbatim spans of the
passage, sentences of the summary writer's own, about 3 % misspelt words, a few empty) are drawn from
pyspellchecker's English word list with a seeded RNG, so every run sees the same text.

The reference below is the notebook way, row by row: tokenise the summary and its prompt, build the
prompt's n-gram sets again, find the longest copied span by the textbook longest-common-substring
dynamic programme over words, ask pyspellchecker about the row's words and call textstat's functions on
the row. Same definitions (``features.tokenize``, ``features.COPY_MIN``), so both must give the same
values (checked with ``np.allclose``). Goal: ``extract`` at least 5x the reference's summaries/s.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from commonlit import features

NAMES = ("Okonkwo", "Marlowe", "Tessaly", "Quenby", "Vasquez", "Ilsabet", "Drummond", "Achterberg")


def word_list(size: int = 4000) -> list[str]:
    """The ``size`` most frequent alphabetic words of pyspellchecker's English dictionary (>= 2 letters)."""
    from spellchecker import SpellChecker

    frequency = SpellChecker(language="en").word_frequency.dictionary
    words = [w for w, _ in sorted(frequency.items(), key=lambda item: (-item[1], item[0])) if w.isalpha()]
    return [w for w in words if len(w) > 1 or w in ("a", "i")][:size]


def sentence(rng, vocabulary, probs, n_words: int, names=()) -> list[str]:
    words = list(rng.choice(vocabulary, size=n_words, p=probs))
    for _ in range(rng.binomial(n_words, 0.05) if names else 0):
        words[rng.integers(n_words)] = str(rng.choice(names))
    return words


def passage(rng, vocabulary, probs, names) -> str:
    target, paragraphs, total = rng.integers(400, 701), [], 0
    while total < target:
        sentences = []
        for _ in range(rng.integers(3, 7)):
            words = sentence(rng, vocabulary, probs, int(rng.integers(8, 25)), names)
            if rng.random() < 0.4:
                words[int(rng.integers(2, len(words) - 2))] += ","
            sentences.append(" ".join(words).capitalize().replace(names[0].lower(), names[0]) + ".")
            total += len(words)
        paragraphs.append(" ".join(sentences))
    return "\r\n\r\n".join(paragraphs)


def misspell(rng, word: str) -> str:
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(3)
    if kind == 0:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]  # swap
    if kind == 1:
        return word[:i] + word[i + 1 :]  # drop
    return word[:i] + word[i] + word[i:]  # double


def summary(rng, source: list[str], vocabulary, probs) -> str:
    if rng.random() < 0.002:
        return ""
    target, sentences, total = rng.integers(20, 151), [], 0
    while total < target:
        if rng.random() < 0.4:  # a verbatim span of the passage
            start = int(rng.integers(0, len(source) - 30))
            words = source[start : start + int(rng.integers(3, 26))]
        else:
            words = sentence(rng, vocabulary, probs, int(rng.integers(6, 19)))
            for k in np.flatnonzero(rng.random(len(words)) < 0.3):
                words[k] = source[int(rng.integers(len(source)))]
        words = [misspell(rng, w) if rng.random() < 0.03 else w for w in words]
        sentences.append(" ".join(words).strip(",.").capitalize() + ".")
        total += len(words)
    return " ".join(sentences)


def make_frame(n_summaries: int, n_prompts: int = 4, seed: int = 0) -> pd.DataFrame:
    """``n_summaries`` summaries spread evenly over ``n_prompts`` long prompts, rows shuffled."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array(word_list())
    probs = 1.0 / np.arange(1, len(vocabulary) + 1) ** 0.9  # Zipf-like
    probs /= probs.sum()
    rows = []
    for p in range(n_prompts):
        names = tuple(rng.choice(NAMES, size=3, replace=False))
        text = passage(rng, vocabulary, probs, names)
        question = (
            " ".join(sentence(rng, vocabulary, probs, int(rng.integers(8, 16)), names)).capitalize() + "?"
        )
        source = text.split()
        for i in range(n_summaries // n_prompts + (p < n_summaries % n_prompts)):
            rows.append((f"s{p}-{i}", f"p{p}", summary(rng, source, vocabulary, probs), question, text))
    frame = pd.DataFrame(rows, columns=["student_id", "prompt_id", "text", "prompt_question", "prompt_text"])
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


# --- the straightforward per-row reference -----------------------------------------------------------------


def ngram_set(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def longest_common_span(a: list[str], b: list[str]) -> int:
    """Longest common substring of two word lists, by dynamic programming."""
    best, previous = 0, [0] * (len(b) + 1)
    for i in range(len(a)):
        current = [0] * (len(b) + 1)
        for j in range(len(b)):
            if a[i] == b[j]:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


def share(tokens, target, n) -> tuple[float, int]:
    mine = ngram_set(tokens, n)
    shared = len(mine & ngram_set(target, n))
    return (shared / len(mine) if mine else 0.0), shared


def reference_row(text: str, prompt_text: str, question: str, spell) -> list[float]:
    import textstat

    tokens = features.tokenize(text)
    if not tokens:
        return [0.0] * len(features.FEATURES)
    prompt, asked = features.tokenize(prompt_text), features.tokenize(question)
    row = {
        "n_chars": len(text),
        "n_words": len(tokens),
        "n_sentences": textstat.sentence_count(text),
        "unique_ratio": len(set(tokens)) / len(tokens),
        "mean_word_len": sum(len(t) for t in tokens) / len(tokens),
    }
    for n in features.OVERLAP_N:
        row[f"prompt_share_{n}"], row[f"prompt_count_{n}"] = share(tokens, prompt, n)
    for n in features.QUESTION_N:
        row[f"question_share_{n}"] = share(tokens, asked, n)[0]
    row["longest_copied_span"] = longest_common_span(tokens, prompt)
    windows = ngram_set(prompt, features.COPY_MIN)
    copied = [False] * len(tokens)
    for i in range(len(tokens) - features.COPY_MIN + 1):
        if tuple(tokens[i : i + features.COPY_MIN]) in windows:
            copied[i : i + features.COPY_MIN] = [True] * features.COPY_MIN
    row["copied_ratio"] = sum(copied) / len(tokens)
    misspelt = spell.unknown(tokens) - set(prompt)
    row["spelling_errors"] = sum(t in misspelt for t in tokens)
    row["spelling_error_ratio"] = row["spelling_errors"] / len(tokens)
    for name in features.READABILITY:
        row[name] = getattr(textstat, name)(text)
    return [float(row[name]) for name in features.FEATURES]


def reference(frame: pd.DataFrame, spell) -> pd.DataFrame:
    values = [
        reference_row(t, p, q, spell)
        for t, p, q in zip(frame["text"], frame["prompt_text"], frame["prompt_question"], strict=True)
    ]
    return pd.DataFrame(values, columns=list(features.FEATURES), index=frame.index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-summaries", type=int, default=7165)
    parser.add_argument("--n-prompts", type=int, default=4)
    parser.add_argument("--reference-rows", type=int, default=0, help="rows the reference runs on (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    t0 = time.perf_counter()
    frame = make_frame(args.n_summaries, args.n_prompts, args.seed)
    words = frame["text"].str.split().str.len()
    prompt_words = frame.drop_duplicates("prompt_id")["prompt_text"].str.split().str.len()
    print(
        f"generated {len(frame)} summaries over {args.n_prompts} prompts in {time.perf_counter() - t0:.1f} s: "
        f"summary words mean {words.mean():.0f} (min {words.min()}, max {words.max()}), prompt words "
        f"{', '.join(map(str, prompt_words))}; {os.cpu_count()} CPUs"
    )
    features.extract(frame.head(50))  # load pyspellchecker's dictionary and textstat outside the timing
    import textstat  # noqa: F401  (the reference's import, also outside the timing)

    t0 = time.perf_counter()
    ours = features.extract(frame)
    fast = time.perf_counter() - t0
    print(f"features.extract: {len(frame)} summaries in {fast:.2f} s = {len(frame) / fast:,.0f} summaries/s")

    subset = frame.head(args.reference_rows) if args.reference_rows else frame
    from spellchecker import SpellChecker

    spell = SpellChecker(language="en")  # loaded before the clock starts, as extract's was in its warm-up
    t0 = time.perf_counter()
    expected = reference(subset, spell)
    slow = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours_subset = features.extract(subset) if args.reference_rows else ours
    fast_subset = time.perf_counter() - t0 if args.reference_rows else fast
    bad = [c for c in features.FEATURES if not np.allclose(ours_subset[c], expected[c], rtol=1e-9, atol=1e-9)]
    speedup = (len(subset) / fast_subset) / (len(subset) / slow)
    print(
        f"per-row reference: {len(subset)} summaries in {slow:.2f} s = {len(subset) / slow:,.0f} summaries/s; "
        f"speed-up {speedup:.1f}x (goal >= 5x: {'met' if speedup >= 5 else 'MISSED'}); "
        f"values {'equal' if not bad else 'DIFFER in ' + ', '.join(bad)}"
    )
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
