"""Claims decided beyond their noise, and the ``results.json`` and claims section every reproduce run writes.

A claim is a finding of the write-ups ("metric-aligned weights raise the final metric") checked on the data
just used, by comparing two experiments: the ``baseline`` a practitioner would really use and the
``technique``. One run's difference is not enough: a 0.0005 gain on a sample is as likely to be noise as a
finding. So every claim carries

- ``delta``: technique minus baseline on the metric, over all rows (in the metric's own units; with
  ``higher_is_better`` false a gain is a negative delta);
- ``interval``: a 90 % interval of ``delta`` from a *paired* comparison — the two experiments are scored on
  the same resampled rows (or groups of rows), so what they share cancels;
- ``holds``: ``True`` when the whole interval is on the technique's better side of ``-margin``, ``False``
  when it is on the worse side, ``None`` ("not decided") otherwise. ``margin`` is 0 for "raises the
  metric"; a positive margin makes it a non-inferiority claim ("no worse than ``margin``"), which the
  claim's text must state;
- ``evidence``: ``"model"`` (trained models scored on the data), ``"simulated"`` (a simulator stands in for a
  model, so its constants may decide the outcome) or ``"mechanics"`` (a stand-in too small to say anything
  about quality); only ``"model"`` claims are findings;
- ``method``: how the interval was made, e.g. ``"paired bootstrap over 1,000 rows, 1,000 resamples"``.

Two ways to get the interval:

- :func:`bootstrap` resamples rows, or whole groups of rows (documents, prompts, problems) where the CV is
  grouped, with replacement. Resamples are given to the metric as row *weights* (how often each row was
  drawn), so a metric that sorts can sort once and re-count (see ``shared.metrics.jigsaw_bias_scorer``);
- :func:`spread` uses the paired differences over folds or seeds (a t interval), for metrics too slow to
  bootstrap; with few folds it is wide, and that is honest.

The percentile bootstrap is seeded, so the same inputs give the same interval on every run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats

EVIDENCE = ("model", "simulated", "mechanics")
LEVEL = 0.90
N_RESAMPLES = 1000

# score(weights) -> (baseline's metric, technique's metric), with weights[i] = how often row i was drawn
PairScore = Callable[[np.ndarray], tuple[float, float]]


@dataclass(frozen=True)
class Claim:
    """One finding checked on this run; ``to_dict`` is its entry in results.json."""

    text: str
    baseline: str
    technique: str
    delta: float
    interval: tuple[float, float]
    evidence: str
    holds: bool | None
    method: str
    margin: float = 0.0

    @property
    def verdict(self) -> str:
        return {True: "holds", False: "does not hold", None: "not decided"}[self.holds]

    def line(self) -> str:
        """One line for the console and report.md: verdict, text, the comparison and its numbers."""
        lo, hi = self.interval
        note = "" if self.evidence == "model" else f" [{self.evidence}: not a finding]"
        return (
            f"[{self.verdict}] {self.text} ({self.baseline} → {self.technique}: delta {self.delta:+.4g}, "
            f"90% interval [{lo:+.4g}, {hi:+.4g}]){note}"
        )

    def to_dict(self) -> dict:
        out = asdict(self)
        out["interval"] = [float(v) for v in self.interval]
        return out


def decide(interval: tuple[float, float], higher_is_better: bool = True, margin: float = 0.0) -> bool | None:
    """True when the whole interval is on the better side of ``-margin`` (in the metric's direction),
    False when it is all on the worse side, None when it straddles."""
    lo, hi = interval if higher_is_better else (-interval[1], -interval[0])
    if lo > -margin:
        return True
    if hi < -margin:
        return False
    return None


def _check(evidence: str, margin: float) -> None:
    if evidence not in EVIDENCE:
        raise ValueError(f"evidence: {evidence!r} is not one of {list(EVIDENCE)}")
    if margin < 0:
        raise ValueError(f"margin: expected >= 0, got {margin}")


BLOCK_ELEMENTS = 4_000_000  # resamples are drawn in blocks of about this many row weights


def resample_weights(n_rows: int, groups: Sequence | None, n_resamples: int, seed: int):
    """Yield blocks of row weights, shape (resamples in the block, n_rows), ``n_resamples`` rows in all: rows,
    or whole groups, drawn with replacement; a row's weight is how often it (or its group) was drawn. The
    block size depends only on ``n_rows``, so the draws are the same however the metric consumes them."""
    rng = np.random.default_rng(seed)
    if groups is None:
        index, units = None, n_rows
    else:
        _, index = np.unique(np.asarray(groups), return_inverse=True)
        units = int(index.max()) + 1
    block = max(1, BLOCK_ELEMENTS // max(n_rows, units))
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        draws = rng.integers(0, units, size=(size, units)) + units * np.arange(size)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * units).reshape(size, units).astype(np.float64)
        yield counts if index is None else counts[:, index]


def _units(n_rows: int, groups: Sequence | None) -> int:
    if groups is None:
        return n_rows
    if len(groups) != n_rows:
        raise ValueError(f"groups: {len(groups)} labels for {n_rows} rows")
    return len(np.unique(np.asarray(groups)))


def bootstrap(
    text: str,
    baseline: str,
    technique: str,
    score: PairScore,
    n_rows: int,
    *,
    higher_is_better: bool = True,
    evidence: str = "model",
    groups: Sequence | None = None,
    group_name: str = "groups",
    margin: float = 0.0,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    level: float = LEVEL,
    batched: bool = False,
) -> Claim:
    """A claim whose interval is a paired percentile bootstrap of ``technique - baseline``.

    ``score(weights)`` returns (baseline metric, technique metric) with row ``i`` counted ``weights[i]``
    times; ``weights`` of ones is the run itself (``delta``). ``groups`` (one label per row) resamples whole
    groups, as the CV folds were grouped; ``group_name`` names them in ``method`` ("documents").
    ``batched``: ``score`` also takes a block of resamples, weights of shape (resamples, n_rows), and returns
    two arrays — for metrics whose per-call overhead would dominate (``shared.metrics.jigsaw_bias_scorer``).
    """
    _check(evidence, margin)
    if n_rows < 2:
        raise ValueError(f"n_rows: need at least 2 rows to bootstrap, got {n_rows}")
    if batched:
        base, tech = (np.asarray(v, dtype=float)[0] for v in score(np.ones((1, n_rows))))
    else:
        base, tech = score(np.ones(n_rows))
    delta = float(tech - base)
    units = _units(n_rows, groups)
    deltas = []
    for block in resample_weights(n_rows, groups, n_resamples, seed):
        if batched:
            base_b, tech_b = score(block)
            deltas.append(np.asarray(tech_b, dtype=float) - np.asarray(base_b, dtype=float))
        else:
            deltas.append(np.array([tech_b - base_b for base_b, tech_b in map(score, block)], dtype=float))
    deltas = np.concatenate(deltas)
    finite = deltas[np.isfinite(deltas)]
    if len(finite) < 0.9 * n_resamples:
        raise ValueError(
            f"{text!r}: the metric is undefined (NaN) on {n_resamples - len(finite)} of {n_resamples} resamples"
        )
    tail = (1 - level) / 2
    interval = (float(np.quantile(finite, tail)), float(np.quantile(finite, 1 - tail)))
    name = "rows" if groups is None else group_name
    method = f"paired bootstrap over {units:,} {name}, {n_resamples:,} resamples"
    return Claim(text, baseline, technique, delta, interval, evidence, decide(interval, higher_is_better, margin),
                 method, margin)  # fmt: skip


def spread(
    text: str,
    baseline: str,
    technique: str,
    baseline_scores: Sequence[float],
    technique_scores: Sequence[float],
    *,
    higher_is_better: bool = True,
    evidence: str = "model",
    unit: str = "folds",
    margin: float = 0.0,
    level: float = LEVEL,
) -> Claim:
    """A claim whose interval is a t interval of the paired differences over folds or seeds (``unit``).

    With a single pair there is no spread to measure: the interval is unbounded and the claim undecided.
    """
    _check(evidence, margin)
    a, b = np.asarray(baseline_scores, dtype=float), np.asarray(technique_scores, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or not len(a):
        raise ValueError(
            f"{text!r}: need the same number of {unit} for both experiments, got {len(a)} and {len(b)}"
        )
    diff = b - a
    delta = float(diff.mean())
    if len(diff) < 2:
        interval = (-math.inf, math.inf)
    else:
        half = stats.t.ppf(1 - (1 - level) / 2, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
        interval = (delta - half, delta + half)
    method = f"t interval of the paired differences over {len(diff)} {unit}"
    return Claim(text, baseline, technique, delta, interval, evidence, decide(interval, higher_is_better, margin),
                 method, margin)  # fmt: skip


def claims_markdown(claims: Sequence[Claim]) -> list[str]:
    """The claims section of report.md: one line each, then how to read them."""
    return [
        "## Claims",
        "",
        *(f"- {c.line()} — {c.method}" for c in claims),
        "",
        "A claim holds when its whole 90 % interval is on the better side, does not hold when it is all on the "
        "worse side, and is not decided otherwise. Only `model` evidence is a finding; `simulated` and "
        "`mechanics` claims show that the code path works.",
        "",
    ]


def results(
    *,
    chapter: str,
    metric: str,
    higher_is_better: bool,
    data: str,
    preset: str,
    experiments: Sequence[dict],
    claims: Sequence[Claim],
    **extra,
) -> dict:
    """results.json's content in the house schema; each experiment needs ``name``, ``cv``, ``folds`` and
    ``seconds`` (more keys are kept); ``extra`` adds chapter-specific top-level keys."""
    for i, entry in enumerate(experiments):
        missing = [k for k in ("name", "cv", "folds", "seconds") if k not in entry]
        if missing:
            raise ValueError(f"experiments[{i}] ({entry.get('name', '?')}): missing {missing}")
    return {
        "chapter": chapter,
        "metric": metric,
        "higher_is_better": higher_is_better,
        "data": data,
        "preset": preset,
        "experiments": list(experiments),
        "claims": [c.to_dict() for c in claims],
        **extra,
    }


def markdown_table(frame, decimals: int = 4) -> str:
    """A pipe table of a DataFrame, floats with ``decimals`` decimals, without pulling in ``tabulate`` for
    ``DataFrame.to_markdown``. Example: columns a, b and one row (1, 0.5) give
    ``"| a | b |\n|---|---|\n| 1 | 0.5000 |"``."""
    cells = [[f"{v:.{decimals}f}" if isinstance(v, float) else str(v) for v in row]
             for row in frame.itertuples(index=False)]  # fmt: skip
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|---" * len(frame.columns) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def write_results(path: Path, content: dict) -> None:
    """results.json with NaN and infinities written as null (strict JSON)."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        if isinstance(value, np.generic):
            return clean(value.item())
        return value

    Path(path).write_text(json.dumps(clean(content), indent=2, default=str) + "\n")


def print_claims(claims: Sequence[Claim]) -> None:
    for claim in claims:
        print(claim.line())
