"""Speed of the two big-data metrics, and of a claim's bootstrap, against straightforward versions in one run.

    uv run python benchmarks/metrics.py [--rows 1804874] [--pii-rows 2000000] [--claim-rows 20000] [--repeats 5]

- ``jigsaw_bias_auc`` on the full train-set size (1.8 M rows x 9 identities, ~78 % NaN identities, scores
  with ties as float32 model outputs have) vs the official benchmark kernel's way: sklearn
  ``roc_auc_score`` on each of the 1 + 27 subsets.
- ``pii_fbeta`` on two 2 M-row frames vs de-duplicating and merging them with pandas.

- one claim of ``jigsaw-reproduce`` on the sample's 20,000 rows: a paired bootstrap (1,000 resamples) of
  two experiments' ``jigsaw_bias_auc`` through ``jigsaw_bias_scorer`` (scores sorted once, resamples counted
  as row weights in blocks) vs calling ``jigsaw_bias_auc`` on each resample's rows; the straightforward
  version runs the first 100 resamples only and its time is scaled to 1,000.

Each pair must agree to 1e-12; the script prints seconds (best of ``--repeats``) and the ratio.
Goals: >= 3x for both metrics; a claim's bootstrap in a few seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from shared.metrics import jigsaw_bias_auc, jigsaw_bias_scorer, pii_fbeta
from shared.report import bootstrap, resample_weights

IDENTITIES = [
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
]
PII_LABELS = [
    "O",
    "B-NAME_STUDENT",
    "I-NAME_STUDENT",
    "B-EMAIL",
    "B-USERNAME",
    "B-ID_NUM",
    "B-PHONE_NUM",
    "I-PHONE_NUM",
    "B-URL_PERSONAL",
    "B-STREET_ADDRESS",
    "I-STREET_ADDRESS",
]


def jigsaw_reference(y_true, y_pred, identities, power=-5.0, w=0.25) -> float:
    """The benchmark kernel's computation: one sklearn AUC per subset (NaN for a one-class subset)."""
    label = y_true >= 0.5

    def auc(mask):
        try:
            return roc_auc_score(label[mask], y_pred[mask])
        except ValueError:
            return np.nan

    rows = []
    for col in identities.columns:
        sub = identities[col].to_numpy() >= 0.5
        rows.append((auc(sub), auc((sub & ~label) | (~sub & label)), auc((sub & label) | (~sub & ~label))))
    table = np.array(rows)
    means = [np.power(np.mean(np.power(table[:, j], power)), 1 / power) for j in range(3)]
    return w * roc_auc_score(label, y_pred) + (1 - w) * np.mean(means)


def pii_reference(y_true: pd.DataFrame, y_pred: pd.DataFrame, beta=5.0) -> float:
    """De-duplicate, drop 'O' and merge on (document, token, label) with pandas."""
    t = y_true[y_true["label"] != "O"].drop_duplicates()
    p = y_pred[y_pred["label"] != "O"].drop_duplicates()
    tp = len(t.merge(p, on=["document", "token", "label"]))
    if tp == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + b2 * (len(t) - tp) + (len(p) - tp))


def jigsaw_data(n: int, rng: np.random.Generator):
    y_true = np.clip(rng.beta(0.3, 2.0, n), 0, 1)
    members = {}
    for col in IDENTITIES:
        annotated = rng.random(n) < 0.22
        share = rng.uniform(0.01, 0.08)
        members[col] = np.where(annotated, (rng.random(n) < share / 0.22).astype(float), np.nan)
    identities = pd.DataFrame(members)
    bias = identities.fillna(0).to_numpy().sum(axis=1) * 0.1  # identity mentions push scores up: real bias
    y_pred = (0.6 * y_true + 0.4 * rng.random(n) + bias).astype(np.float32).astype(np.float64)
    return y_true, y_pred, identities


def pii_data(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    def frame(labels):
        return pd.DataFrame(
            {"document": rng.integers(0, 6807, n), "token": rng.integers(0, 3000, n), "label": labels}
        )

    true = frame(rng.choice(PII_LABELS, size=n, p=[0.5] + [0.05] * 10))
    pred = true.copy()
    flip = rng.random(n) < 0.2
    pred.loc[flip, "label"] = rng.choice(PII_LABELS, size=int(flip.sum()))
    return true, pred


def best_of(repeats: int, fn, *args) -> tuple[float, float]:
    """(best wall-clock seconds, value) over repeats."""
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn(*args)
        times.append(time.perf_counter() - start)
    return min(times), value


def compare(name: str, repeats: int, ours, reference, *args) -> None:
    t_ours, v_ours = best_of(repeats, ours, *args)
    t_ref, v_ref = best_of(repeats, reference, *args)
    if not np.isclose(v_ours, v_ref, rtol=0, atol=1e-12):
        raise SystemExit(f"{name}: values differ: ours {v_ours!r}, reference {v_ref!r}")
    print(
        f"{name:<16} value {v_ours:.6f}   shared.metrics {t_ours:7.3f} s   straightforward {t_ref:7.3f} s   speed-up {t_ref / t_ours:5.1f}x"
    )


def claim_bootstrap(rows: int, repeats: int, rng: np.random.Generator) -> None:
    """One jigsaw claim's bootstrap: the scorer on 1,000 resamples vs the metric on each resample's rows."""
    y_true, base, identities = jigsaw_data(rows, rng)
    tech = base + 0.05 * rng.random(rows)

    def ours():
        scores = [jigsaw_bias_scorer(y_true, p, identities) for p in (base, tech)]
        return bootstrap("t", "a", "b", lambda w: (scores[0](w), scores[1](w)), rows, batched=True)

    def straightforward(n_resamples: int = 100) -> list[float]:
        deltas = []
        for block in resample_weights(rows, None, n_resamples, seed=0):
            for w in block:
                idx = np.repeat(np.arange(rows), w.astype(np.int64))
                ids = identities.iloc[idx].reset_index(drop=True)
                deltas.append(
                    jigsaw_bias_auc(y_true[idx], tech[idx], ids)
                    - jigsaw_bias_auc(y_true[idx], base[idx], ids)
                )
        return deltas

    t_ours, claim = best_of(repeats, ours)
    t_ref, deltas = best_of(1, straightforward)
    scorer = [jigsaw_bias_scorer(y_true, p, identities) for p in (base, tech)]
    first = next(resample_weights(rows, None, 1, seed=0))[0]
    if not np.isclose(scorer[1](first) - scorer[0](first), deltas[0], rtol=0, atol=1e-12):
        raise SystemExit("claim bootstrap: the scorer and the metric disagree on a resample")
    print(
        f"{'claim bootstrap':<16} {rows:,} rows, 1,000 resamples: scorer {t_ours:7.3f} s   "
        f"straightforward {10 * t_ref:7.3f} s (100 resamples x 10)   speed-up {10 * t_ref / t_ours:5.1f}x   "
        f"[{claim.verdict}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_804_874, help="Jigsaw rows (train.csv has 1,804,874)")
    parser.add_argument("--pii-rows", type=int, default=2_000_000, help="rows of each PII frame")
    parser.add_argument(
        "--claim-rows", type=int, default=20_000, help="rows of the claim bootstrap (the sample)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"jigsaw: {args.rows:,} rows x {len(IDENTITIES)} identities; pii: 2 frames x {args.pii_rows:,} rows; best of {args.repeats}"
    )
    compare("jigsaw_bias_auc", args.repeats, jigsaw_bias_auc, jigsaw_reference, *jigsaw_data(args.rows, rng))
    compare("pii_fbeta", args.repeats, pii_fbeta, pii_reference, *pii_data(args.pii_rows, rng))
    claim_bootstrap(args.claim_rows, min(args.repeats, 3), rng)


if __name__ == "__main__":
    main()
