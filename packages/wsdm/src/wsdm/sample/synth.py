"""A deterministic WSDM Cup sample in the Kaggle layout, whose winner follows from what the responses say.

Written files (``train.parquet`` last: its presence marks a complete sample):

- ``train.parquet`` (``id, prompt, response_a, response_b, winner, model_a, model_b, language``) and
  ``test.parquet`` (``id, prompt, response_a, response_b, scored``; every row scored);
- ``sample_submission.csv`` (``id, winner`` = "model_a") and ``test_labels.csv`` (``id, winner``);
- ``extra/lmsys_arena.csv``: more pairs from the same generator in the LMSYS Chatbot Arena layout (JSON
  lists of turns, a fifth of them two turns, a few null turns; the three winner flags, ties when the two
  responses are of nearly equal quality);
- ``card.json``: the generator's settings and what they produce, among them the *ceiling*: the accuracy
  of the noiseless rule (A wins when ``SHARPNESS * (q_A - q_B) + position bias > 0``) against the noisy
  labels, the most any model can expect.

Each row is a :func:`wsdm.sample.tasks.make_pair` in one of seven languages (:mod:`languages`), of one of
five kinds; about four in five are controlled contrasts (one wording, one property apart), the rest differ
in two properties or in none (``SECOND_SHARE``, ``EQUAL_SHARE``); its label is drawn with ``P(A wins) = sigmoid(SHARPNESS * (q_A - q_B) + bias)``, the bias set
so that at equal quality A wins ``A_RATE_AT_EQUAL`` of the time after the noise, and then ``LABEL_NOISE``
of the labels are flipped. ``LONG_SHARE`` of the rows are long (about ``LONG_TOKENS`` tokens) with their
decisive text at the end of each long field, so head+tail truncation keeps it and head-only loses it.
Model names are drawn independently of quality; ids are 8-byte hex strings (LMSYS ids are integers).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from wsdm.data import LMSYS_FLAGS, TRAIN_COLUMNS
from wsdm.sample.languages import LANGUAGES, NAMES
from wsdm.sample.tasks import KINDS, WEIGHTS, Spec, make_pair, quality

KIND_SHARES = {"facts": 0.22, "format": 0.22, "language": 0.24, "length": 0.22, "arithmetic": 0.10}
LONG_KINDS = ("facts", "format", "arithmetic")  # kinds whose decisive text can sit at the end of a field
LONG_MODES = ("prompt", "responses", "both")
LONG_SHARE = 0.15
LONG_TOKENS = 1100  # about 4x a 256-token budget
EQUAL_SHARE = 0.12  # short rows whose two responses have the same properties
SECOND_SHARE = 0.15  # of the other short rows: a second property differs too (the rest: one property)
SHARPNESS = 3.0
LABEL_NOISE = 0.065
A_RATE_AT_EQUAL = 0.55
MULTI_TURN_SHARE = 0.2
NULL_TURN_SHARE = 0.1  # of the two-turn LMSYS rows: one second-turn response is null
TIE_WINDOW = 0.25  # LMSYS: |q_A - q_B| below this is a tie ...
TIE_RATE = 0.85  # ... this often
MODELS = (
    "gpt-4o-2024-08-06",
    "claude-3-5-sonnet-20241022",
    "gemini-1.5-pro-002",
    "llama-3.1-405b-instruct",
    "qwen2.5-72b-instruct",
    "mistral-large-2407",
    "gemma-2-27b-it",
    "deepseek-v2.5",
    "yi-lightning",
    "athene-70b-0725",
    "command-r-plus-08-2024",
    "grok-2-2024-08-13",
    "o1-mini",
    "glm-4-plus",
    "llama-3.1-8b-instruct",
    "gemma-2-9b-it",
)


def position_bias(noise: float = LABEL_NOISE, rate: float = A_RATE_AT_EQUAL) -> float:
    """The logit added for A so that, after flipping ``noise`` of the labels, A wins ``rate`` of the
    equal-quality pairs: the pre-noise rate p solves ``noise + (1 - 2 noise) p = rate``."""
    p = (rate - noise) / (1 - 2 * noise)
    return math.log(p / (1 - p))


def _shares(table: dict[str, float]) -> np.ndarray:
    values = np.asarray(list(table.values()), dtype=float)
    return values / values.sum()


def generate(n: int, seed: int | np.random.Generator = 0, *, lmsys: bool = False) -> pd.DataFrame:
    """``n`` labelled rows with their hidden truth. Columns: ``prompt, response_a, response_b`` (str; lists
    of turns when ``lmsys``, a response turn may be None), ``language, kind, long`` ("" or a LONG_MODES
    entry), ``equal`` (same properties), ``single`` (the responses differ in one property), ``turns``, ``model_a, model_b``, ``quality_a, quality_b``,
    ``rule_a`` (the noiseless rule picks A), ``p_a`` (P(A wins) before noise), ``flipped`` (label noise)
    and ``winner`` (``model_a``/``model_b``; ``tie`` in an LMSYS set)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    languages = [
        NAMES[i] for i in rng.choice(len(NAMES), size=n, p=_shares({k: v[0] for k, v in LANGUAGES.items()}))
    ]
    long = np.where(
        rng.random(n) < LONG_SHARE, np.asarray(LONG_MODES)[rng.integers(len(LONG_MODES), size=n)], ""
    )
    kinds = [KINDS[i] for i in rng.choice(len(KINDS), size=n, p=_shares(KIND_SHARES))]
    long_kinds = rng.choice(len(LONG_KINDS), size=n, p=_shares({k: KIND_SHARES[k] for k in LONG_KINDS}))
    equal = (rng.random(n) < EQUAL_SHARE) & (long == "")
    second = (rng.random(n) < SECOND_SHARE) & ~equal & (long == "")
    turns = np.where(lmsys & (rng.random(n) < MULTI_TURN_SHARE) & (long == ""), 2, 1)
    rows = []
    for i in range(n):
        kind = LONG_KINDS[long_kinds[i]] if long[i] else kinds[i]
        pair = make_pair(
            kind,
            languages[i],
            rng,
            equal=bool(equal[i]),
            second=bool(second[i]),
            long=str(long[i]),
            long_tokens=LONG_TOKENS,
        )
        row = {
            "prompt": pair.prompt,
            "response_a": pair.response_a,
            "response_b": pair.response_b,
            "quality_a": pair.quality_a,
            "quality_b": pair.quality_b,
            "kind": kind,
        }
        if lmsys:
            row = {**row, **{c: [row[c]] for c in ("prompt", "response_a", "response_b")}}
            if turns[i] == 2:
                follow = make_pair(
                    KINDS[int(rng.choice(len(KINDS), p=_shares(KIND_SHARES)))], languages[i], rng
                )
                texts = {"response_a": follow.response_a, "response_b": follow.response_b}
                scores = {"response_a": follow.quality_a, "response_b": follow.quality_b}
                if rng.random() < NULL_TURN_SHARE:  # a failed generation: judged like a refusal
                    side = ("response_a", "response_b")[int(rng.integers(2))]
                    texts[side] = None
                    scores[side] = quality(Spec(languages[i], style="curt"), languages[i], follow.want)
                row["prompt"].append(follow.prompt)
                for side, q in (("response_a", "quality_a"), ("response_b", "quality_b")):
                    row[side].append(texts[side])
                    row[q] = round(row[q] + scores[side], 6)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.insert(3, "language", languages)
    frame["long"], frame["equal"], frame["turns"] = long, equal, turns
    frame["single"] = ~equal & ~second
    first = rng.integers(len(MODELS), size=n)
    frame["model_a"] = [MODELS[i] for i in first]
    frame["model_b"] = [
        MODELS[(i + j) % len(MODELS)]
        for i, j in zip(first, rng.integers(1, len(MODELS), size=n), strict=True)
    ]
    margin = SHARPNESS * (frame["quality_a"].to_numpy() - frame["quality_b"].to_numpy()) + position_bias()
    frame["rule_a"] = margin > 0
    frame["p_a"] = 1 / (1 + np.exp(-margin))
    a_wins = rng.random(n) < frame["p_a"].to_numpy()
    frame["flipped"] = rng.random(n) < LABEL_NOISE
    winner = np.where(a_wins ^ frame["flipped"].to_numpy(), "model_a", "model_b").astype(object)
    if lmsys:
        close = np.abs(frame["quality_a"].to_numpy() - frame["quality_b"].to_numpy()) < TIE_WINDOW
        winner[close & (rng.random(n) < TIE_RATE)] = "tie"
    frame["winner"] = winner
    return frame


def _hex_ids(n: int, rng: np.random.Generator, taken: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        value = rng.bytes(8).hex()
        if value not in taken:
            taken.add(value)
            out.append(value)
    return out


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="snappy")


def _lmsys(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The LMSYS layout: integer ids, JSON-encoded turns, the three winner flags."""
    ids: dict[int, None] = {}
    while len(ids) < len(frame):
        ids[int(rng.integers(100_000, 4_300_000_000))] = None
    encode = lambda turns: json.dumps(turns, ensure_ascii=False)  # noqa: E731
    out = pd.DataFrame(
        {
            "id": list(ids),
            "model_a": frame["model_a"],
            "model_b": frame["model_b"],
            **{c: frame[c].map(encode) for c in ("prompt", "response_a", "response_b")},
        }
    )
    for flag, value in zip(LMSYS_FLAGS, ("model_a", "model_b", "tie"), strict=True):
        out[flag] = (frame["winner"] == value).astype(int)
    return out


def _stats(frame: pd.DataFrame) -> dict[str, float]:
    decided = frame[frame["winner"] != "tie"]
    return {
        "rows": len(frame),
        "ceiling": round(float(((decided["winner"] == "model_a") == decided["rule_a"]).mean()), 4),
        "a_rate": round(float((decided["winner"] == "model_a").mean()), 4),
        "long_share": round(float((frame["long"] != "").mean()), 4),
        "equal_share": round(float(frame["equal"].mean()), 4),
        "single_share": round(float(frame["single"].mean()), 4),
        "flipped_share": round(float(frame["flipped"].mean()), 4),
        "tie_share": round(float((frame["winner"] == "tie").mean()), 4),
        "two_turn_share": round(float((frame["turns"] == 2).mean()), 4),
    }


def card(seed: int, n_train: int, n_test: int, n_extra: int, frames: dict[str, pd.DataFrame]) -> dict:
    """The generator's settings and, per split, what they produced (``ceiling``: the noiseless rule's
    accuracy against the labels; ties left out)."""
    stats = {name: _stats(frame) for name, frame in frames.items()}
    return {
        "generator": "wsdm.sample.synth",
        "seed": seed,
        "rows": {"train": n_train, "test": n_test, "extra": n_extra},
        "languages": {name: share for name, (share, _) in LANGUAGES.items()},
        "scripts": {name: script for name, (_, script) in LANGUAGES.items()},
        "kinds": KIND_SHARES,
        "weights": WEIGHTS,
        "label": {
            "sharpness": SHARPNESS,
            "position_bias": round(position_bias(), 6),
            "label_noise": LABEL_NOISE,
            "a_rate_at_equal_quality": A_RATE_AT_EQUAL,
        },
        "long": {
            "share": LONG_SHARE,
            "tokens": LONG_TOKENS,
            "kinds": list(LONG_KINDS),
            "modes": list(LONG_MODES),
        },
        "equal_share": EQUAL_SHARE,
        "second_share": SECOND_SHARE,
        "lmsys": {
            "two_turn_share": MULTI_TURN_SHARE,
            "null_turn_share": NULL_TURN_SHARE,
            "tie_window": TIE_WINDOW,
            "tie_rate": TIE_RATE,
        },
        "ceiling": {"train": stats["train"]["ceiling"], "test": stats["test"]["ceiling"]},
        "measured": stats,
    }


def make_sample(
    out: str | Path, seed: int = 0, n_train: int = 900, n_test: int = 300, n_extra: int = 600
) -> Path:
    """Write the sample (see the module docstring) into ``out``; the same seed gives the same bytes."""
    out = Path(out)
    (out / "extra").mkdir(parents=True, exist_ok=True)
    (out / "train.parquet").unlink(missing_ok=True)  # a half-rewritten sample must not look finished
    rng_train, rng_test, rng_extra, rng_ids = np.random.default_rng(seed).spawn(4)
    frames = {
        "train": generate(n_train, rng_train),
        "test": generate(n_test, rng_test),
        "extra": generate(n_extra, rng_extra, lmsys=True),
    }
    taken: set[str] = set()
    for name in ("train", "test"):
        frames[name].insert(0, "id", _hex_ids(len(frames[name]), rng_ids, taken))
    test = frames["test"]
    _write_parquet(
        test[["id", "prompt", "response_a", "response_b"]].assign(scored=True), out / "test.parquet"
    )
    csv = {"index": False, "lineterminator": "\n"}
    pd.DataFrame({"id": test["id"], "winner": "model_a"}).to_csv(out / "sample_submission.csv", **csv)
    test[["id", "winner"]].to_csv(out / "test_labels.csv", **csv)
    _lmsys(frames["extra"], rng_ids).to_csv(out / "extra" / "lmsys_arena.csv", **csv)
    text = json.dumps(card(seed, n_train, n_test, n_extra, frames), indent=2, ensure_ascii=False)
    (out / "card.json").write_text(text + "\n", encoding="utf-8")
    _write_parquet(frames["train"][list(TRAIN_COLUMNS)], out / "train.parquet")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Write a synthetic WSDM Cup sample in the Kaggle layout: multilingual prompt/response "
        "pairs whose winner follows from visible properties, with a position bias and label noise."
    )
    parser.add_argument("--out", default="competitions/wsdm/data/sample", help="output directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=900)
    parser.add_argument("--n-test", type=int, default=300)
    parser.add_argument(
        "--n-extra", type=int, default=600, help="rows of extra/lmsys_arena.csv (ties included)"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = make_sample(
        args.out, seed=args.seed, n_train=args.n_train, n_test=args.n_test, n_extra=args.n_extra
    )
    seconds = time.perf_counter() - start
    info = json.loads((out / "card.json").read_text(encoding="utf-8"))
    train, extra = info["measured"]["train"], info["measured"]["extra"]
    print(
        f"wrote the WSDM sample to {out} in {seconds:.1f} s: {args.n_train} train, {args.n_test} test and "
        f"{args.n_extra} LMSYS-layout extra rows ({extra['tie_share']:.0%} ties) in {len(LANGUAGES)} "
        f"languages; {train['long_share']:.0%} long rows, A wins {train['a_rate']:.0%} of train; the noiseless rule "
        f"scores {info['ceiling']['train']:.3f} (train) / {info['ceiling']['test']:.3f} (test)"
    )
