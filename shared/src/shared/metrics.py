"""The eight competitions' metrics, computed exactly as Kaggle scored them.

One function per metric, each with its definition, a worked example and input validation that fails
with a ``ValueError`` naming the argument and the row. The two metrics that are run on millions of rows
(the Jigsaw bias AUC and the PII F-beta) sort once and count, instead of calling a generic routine
per subset; ``benchmarks/metrics.py`` measures the gain against the straightforward versions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from shared._validate import as_float_array, is_missing, no_missing, require_columns, same_length

__all__ = [
    "accuracy",
    "aimo2_score",
    "jigsaw_bias_auc",
    "jigsaw_bias_breakdown",
    "jigsaw_bias_scorer",
    "jigsaw_bias_summary",
    "map_at_k",
    "mcrmse",
    "mean_wer",
    "pii_fbeta",
    "sample_wers",
]


# --------------------------------------------------------------------------------------------------
# Jigsaw Unintended Bias
# --------------------------------------------------------------------------------------------------
def _jigsaw_inputs(y_true, y_pred, identities):
    """Validate and binarise the Jigsaw inputs: (label bool, score float, member bool matrix, names)."""
    if not isinstance(identities, pd.DataFrame):
        raise ValueError(
            f"identities: expected a DataFrame with one column per identity, got {type(identities).__name__}"
        )
    if identities.shape[1] == 0:
        raise ValueError("identities: no identity columns")
    same_length(y_true=y_true, y_pred=y_pred, identities=identities)
    target = as_float_array(y_true, "y_true", ndim=1)
    score = as_float_array(y_pred, "y_pred", ndim=1)
    members = {}
    for col in identities.columns:
        try:
            values = identities[col].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError(f"identities: column {col!r} is not numeric") from None
        with np.errstate(invalid="ignore"):
            members[col] = values >= 0.5  # NaN compares False: not a member, as in the official code
    return target >= 0.5, score, members


class _BiasCounter:
    """The Jigsaw inputs sorted once, then counted under any row weights (ones for the metric itself,
    bootstrap multiplicities to resample it; a 2-d block of weights counts many resamples at once).

    The overall AUC walks the distinct scores once. Each identity's three AUCs are counted over its own
    rows only: a background count "below score s" is the global cumulative count at ``s`` minus the
    subgroup's own, so an identity costs O(its rows), not O(all rows).
    """

    def __init__(self, y_true, y_pred, identities):
        self.label, score, members = _jigsaw_inputs(y_true, y_pred, identities)
        _, self.group = np.unique(score, return_inverse=True)
        self.n_groups = int(self.group.max()) + 1
        self.names = list(members)
        self.subsets = []
        for member in members.values():
            rows = np.flatnonzero(member)
            local, inverse = np.unique(self.group[rows], return_inverse=True)
            self.subsets.append((rows, inverse, local))
        self._flat: tuple[int, np.ndarray | None] = (0, None)

    def _flat_groups(self, n_rows: int) -> np.ndarray:
        """Row ``b``'s scores mapped to bins ``b * n_groups + group``, kept for the next block of this size."""
        if self._flat[0] != n_rows:
            self._flat = (n_rows, (self.group + self.n_groups * np.arange(n_rows)[:, None]).ravel())
        return self._flat[1]

    def aucs(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For a block of row weights of shape (B, rows): overall AUCs (B,), per-identity AUCs (B,
        identities, 3) in the order subgroup, BPSN, BNSP, and weighted identity sizes (B, identities);
        NaN where a subset has a single class."""
        pos_w = weights * self.label
        neg_w = weights - pos_w
        flat = self._flat_groups(len(weights))
        size = len(weights) * self.n_groups
        all_pos = np.bincount(flat, pos_w.ravel(), size).reshape(len(weights), self.n_groups)
        all_neg = np.bincount(flat, neg_w.ravel(), size).reshape(len(weights), self.n_groups)
        pos_below = np.cumsum(all_pos, axis=1) - all_pos  # positives strictly below each distinct score
        neg_below = np.cumsum(all_neg, axis=1) - all_neg
        total_pos, total_neg = all_pos.sum(axis=1), all_neg.sum(axis=1)
        overall = _ratio(_rowdot(all_pos, neg_below + 0.5 * all_neg), total_pos * total_neg)
        table = np.empty((len(weights), len(self.subsets), 3))
        sizes = np.empty((len(weights), len(self.subsets)))
        for i, (rows, inverse, local) in enumerate(self.subsets):
            sub_pos = _bincount_rows(inverse, pos_w[:, rows], len(local))
            sub_neg = _bincount_rows(inverse, neg_w[:, rows], len(local))
            sub_pos_below = np.cumsum(sub_pos, axis=1) - sub_pos
            sub_neg_below = np.cumsum(sub_neg, axis=1) - sub_neg
            n_pos, n_neg = sub_pos.sum(axis=1), sub_neg.sum(axis=1)
            sizes[:, i] = n_pos + n_neg
            # subgroup: subgroup positives vs subgroup negatives
            table[:, i, 0] = _ratio(_rowdot(sub_pos, sub_neg_below + 0.5 * sub_neg), n_pos * n_neg)
            # BPSN: background positives vs subgroup negatives, counted from the negatives' side
            bg_pos_above = (total_pos[:, None] - pos_below[:, local] - all_pos[:, local]) - (
                n_pos[:, None] - sub_pos_below - sub_pos
            )
            bg_pos_tied = all_pos[:, local] - sub_pos
            table[:, i, 1] = _ratio(
                _rowdot(sub_neg, bg_pos_above + 0.5 * bg_pos_tied), (total_pos - n_pos) * n_neg
            )
            # BNSP: subgroup positives vs background negatives
            bg_neg_below = neg_below[:, local] - sub_neg_below
            bg_neg_tied = all_neg[:, local] - sub_neg
            table[:, i, 2] = _ratio(
                _rowdot(sub_pos, bg_neg_below + 0.5 * bg_neg_tied), n_pos * (total_neg - n_neg)
            )
        return overall, table, sizes


def _bincount_rows(index: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount(index, weights[b], size)`` for every row b of a 2-d ``weights``, in one call."""
    offsets = size * np.arange(len(weights))[:, None]
    return np.bincount((index + offsets).ravel(), weights.ravel(), size * len(weights)).reshape(
        len(weights), size
    )


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def _ratio(wins: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """AUCs from weighted wins and pairs; NaN where one class is absent (no pairs)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pairs > 0, wins / pairs, np.nan)


def _bias_aucs(y_true, y_pred, identities) -> tuple[float, pd.DataFrame]:
    """Overall AUC and the per-identity table, all from one sort of the scores."""
    counter = _BiasCounter(y_true, y_pred, identities)
    overall, table, sizes = counter.aucs(np.ones((1, len(counter.label))))
    frame = pd.DataFrame(table[0], columns=["subgroup_auc", "bpsn_auc", "bnsp_auc"])
    frame.insert(0, "subgroup_size", sizes[0].round().astype(np.int64))
    frame.insert(0, "identity", counter.names)
    return float(overall[0]), frame


def jigsaw_bias_breakdown(y_true, y_pred, identities: pd.DataFrame) -> pd.DataFrame:
    """Per-identity subgroup, BPSN and BNSP AUC (the table behind :func:`jigsaw_bias_auc`).

    Subgroup AUC uses only the comments that mention the identity; BPSN (background positive,
    subgroup negative) the non-toxic mentions plus the toxic non-mentions; BNSP the toxic mentions
    plus the non-toxic non-mentions. A subset with a single class gives NaN. Returns one row per
    identity column: ``identity, subgroup_size, subgroup_auc, bpsn_auc, bnsp_auc``.
    """
    return _bias_aucs(y_true, y_pred, identities)[1]


def _power_mean(values: np.ndarray, p: float) -> np.ndarray | float:
    """Generalised mean (mean of x**p)**(1/p) over the last axis; NaN propagates, as in the official code."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.power(np.mean(np.power(values, p), axis=-1), 1.0 / p)
    return float(out) if np.ndim(out) == 0 else out


def jigsaw_bias_auc(
    y_true, y_pred, identities: pd.DataFrame, *, power: float = -5.0, overall_weight: float = 0.25
) -> float:
    """Jigsaw Unintended Bias final metric.

    ``final = w * AUC_overall + (1 - w) / 3 * (M_p(subgroup AUCs) + M_p(BPSN AUCs) + M_p(BNSP AUCs))``
    with ``M_p(x) = (mean(x_i ** p)) ** (1/p)`` over the identity columns (p = ``power`` = -5, w =
    ``overall_weight`` = 0.25). ``y_true`` is the fraction of toxic votes, positive when >= 0.5;
    ``identities`` has one column per identity, a member when >= 0.5 and NaN meaning not a member.
    As in the official benchmark code, an identity whose subset has one class gives a NaN AUC and so a
    NaN final score; a single-class ``y_true`` has no overall AUC and raises.

    Example: y_true = [0, 0, 1, 1], y_pred = [0.1, 0.6, 0.4, 0.9], one identity = [1, 0, 1, 0].
    Overall AUC 3/4; subgroup {0.1-, 0.4+} 1.0; BPSN {0.1- vs 0.9+} 1.0; BNSP {0.4+ vs 0.6-} 0.0,
    so final = 0.25 * 0.75 + 0.25 * (1 + 1 + 0) = 0.6875.
    """
    return jigsaw_bias_summary(y_true, y_pred, identities, power=power, overall_weight=overall_weight)[
        "final"
    ]


def _summary(overall, table: np.ndarray, power: float, overall_weight: float) -> dict:
    """The final metric's parts from the overall AUC(s) and the (..., identities, 3) AUC table."""
    summary = {"overall_auc": overall}
    for j, col in enumerate(("subgroup_auc", "bpsn_auc", "bnsp_auc")):
        summary[col] = _power_mean(table[..., j], power)
    bias = summary["subgroup_auc"] + summary["bpsn_auc"] + summary["bnsp_auc"]
    summary["final"] = overall_weight * overall + (1.0 - overall_weight) / 3.0 * bias
    return summary


def jigsaw_bias_summary(
    y_true, y_pred, identities: pd.DataFrame, *, power: float = -5.0, overall_weight: float = 0.25
) -> dict[str, float]:
    """The parts of :func:`jigsaw_bias_auc`: ``overall_auc``, the power means ``subgroup_auc``, ``bpsn_auc``,
    ``bnsp_auc`` over the identities, and ``final``."""
    overall, table = _bias_aucs(y_true, y_pred, identities)
    if np.isnan(overall):
        raise ValueError("y_true: a single class (all toxic or all non-toxic) has no overall AUC")
    return _summary(
        overall, table[["subgroup_auc", "bpsn_auc", "bnsp_auc"]].to_numpy(), power, overall_weight
    )


def jigsaw_bias_scorer(
    y_true, y_pred, identities: pd.DataFrame, *, power: float = -5.0, overall_weight: float = 0.25
) -> Callable[[np.ndarray | None], float | np.ndarray]:
    """:func:`jigsaw_bias_auc` as a function of row weights, with the scores sorted once.

    ``score(weights)`` counts row ``i`` ``weights[i]`` times: the multiplicities of a bootstrap resample
    (``shared.report.bootstrap``) cost a few weighted bincounts instead of a sort per resample, and a 2-d
    block of weights (resamples, rows) returns one score per resample (``bootstrap(..., batched=True)``).
    ``score(None)`` equals ``jigsaw_bias_auc(y_true, y_pred, identities)``; a resample without both classes
    in some subset scores NaN, as the metric does.
    """
    counter = _BiasCounter(y_true, y_pred, identities)
    n = len(counter.label)

    def score(weights: np.ndarray | None = None) -> float | np.ndarray:
        block = np.ones((1, n)) if weights is None else np.asarray(weights, dtype=np.float64)
        single = block.ndim == 1
        block = block[None, :] if single else block
        if block.ndim != 2 or block.shape[1] != n or (block < 0).any():
            raise ValueError(
                f"weights: expected {n} non-negative numbers per row, got shape {np.shape(weights)}"
            )
        overall, table, _ = counter.aucs(block)
        final = _summary(overall, table, power, overall_weight)["final"]
        return float(final[0]) if weights is None or single else final

    return score


# --------------------------------------------------------------------------------------------------
# CommonLit
# --------------------------------------------------------------------------------------------------
def mcrmse(y_true, y_pred) -> float:
    """Mean column-wise root mean squared error.

    ``MCRMSE = mean_j sqrt(mean_i (y_ij - yhat_ij)**2)`` over the k target columns (content and
    wording in CommonLit). A 1-d input is one column. DataFrames are taken by position.

    Example: y_true = [[1, 0], [3, 0]], y_pred = [[2, 0], [3, 2]]: column RMSEs sqrt(1/2) and
    sqrt(4/2), so MCRMSE = (0.7071 + 1.4142) / 2 = 1.0607.
    """
    true = as_float_array(y_true, "y_true")
    pred = as_float_array(y_pred, "y_pred")
    if true.ndim == 1:
        true = true[:, None]
    if pred.ndim == 1:
        pred = pred[:, None]
    if true.ndim != 2 or true.shape != pred.shape:
        raise ValueError(f"shape mismatch: y_true {true.shape}, y_pred {pred.shape} (expected equal (n, k))")
    return float(np.mean(np.sqrt(np.mean((true - pred) ** 2, axis=0))))


# --------------------------------------------------------------------------------------------------
# LLM Science Exam, Eedi
# --------------------------------------------------------------------------------------------------
def map_at_k(y_true: Sequence, y_pred: Sequence, k: int) -> float:
    """Mean average precision at k with one correct label per row (Kaggle's ``apk`` averaged).

    Each row scores ``1 / rank`` of the first occurrence of its correct label among its first ``k``
    ranked predictions, and 0 if it is absent; repeats of a label after its first occurrence neither
    score nor count as a hit. A row of ``y_pred`` may be shorter than ``k``. A row given as a string
    ("A B C", the submission format) is split on whitespace. Labels and predictions are compared as
    strings, as Kaggle compares the submission's text: label ``12`` matches a predicted ``"12"`` or ``12``
    (a float label such as ``12.0`` is written as its integer when it is one).

    Example: y_true = ["A", "B", "C"], y_pred = [["A", "B", "C"], ["C", "B"], ["C", "C", "A"]], k = 3:
    rows score 1, 1/2 and 1, so MAP@3 = 2.5 / 3 = 0.8333.
    """
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k: expected a positive integer, got {k!r}")
    same_length(y_true=y_true, y_pred=y_pred)
    no_missing(y_true, "y_true")
    total = 0.0
    for i, (label, ranked) in enumerate(zip(y_true, y_pred, strict=True)):
        if isinstance(ranked, str):
            ranked = ranked.split()
        elif is_missing(ranked):
            raise ValueError(f"y_pred: missing prediction (None/NaN) at row {i}")
        top = list(ranked)[:k]
        if any(is_missing(p) for p in top):
            raise ValueError(f"y_pred: missing value (None/NaN) inside the ranking at row {i}")
        label = _as_text(label)
        for rank, candidate in enumerate(top, start=1):
            if _as_text(candidate) == label:
                total += 1.0 / rank
                break
    return total / len(y_true)


def _as_text(value) -> str:
    """A label as the submission would write it: integral floats without ``.0``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------------------------------
# Bengali.AI Speech Recognition
# --------------------------------------------------------------------------------------------------
def _word_edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word lists (substitution, insertion, deletion cost 1)."""
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, start=1):
        current = [i]
        for j, hyp_word in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def sample_wers(references: Sequence[str], hypotheses: Sequence[str]) -> np.ndarray:
    """Each sample's word error rate, ``(substitutions + deletions + insertions) / len(reference words)``, with
    words split on whitespace and no normalisation; an empty hypothesis scores 1.0; an empty reference is an
    error (its WER is undefined). The per-clip figure behind :func:`mean_wer`, WER filtering and bootstraps."""
    same_length(references=references, hypotheses=hypotheses)
    out = np.empty(len(references))
    for i, (ref, hyp) in enumerate(zip(references, hypotheses, strict=True)):
        for name, text in (("references", ref), ("hypotheses", hyp)):
            if not isinstance(text, str):
                raise ValueError(f"{name}: row {i} is {text!r}, expected a string")
        ref_words, hyp_words = ref.split(), hyp.split()
        if not ref_words:
            raise ValueError(f"references: row {i} is empty; WER is undefined for an empty reference")
        out[i] = _word_edit_distance(ref_words, hyp_words) / len(ref_words)
    return out


def mean_wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Mean over samples of each sample's word error rate (:func:`sample_wers`), the competition's metric; the
    corpus WER (errors summed over samples) is a different number.

    Example: references = ["a b c d", "x y"], hypotheses = ["a c d e", ""]: sample 1 has one deletion
    (b) and one insertion (e) -> 2/4; sample 2 -> 1.0; mean WER = 0.75.
    """
    return float(sample_wers(references, hypotheses).mean())


# --------------------------------------------------------------------------------------------------
# PII Data Detection
# --------------------------------------------------------------------------------------------------
_PII_COLUMNS = ("document", "token", "label")


def _pii_keys(frame: pd.DataFrame, name: str, label_codes: dict[str, int]) -> np.ndarray:
    """Encode the non-'O' (document, token, label) triples of a frame as unique int64 keys."""
    require_columns(frame, _PII_COLUMNS, name)
    for col in _PII_COLUMNS:
        missing = frame[col].isna().to_numpy()
        if missing.any():
            raise ValueError(f"{name}: missing {col} at row {int(np.argmax(missing))}")
    ints = {}
    for col in ("document", "token"):
        values = frame[col].to_numpy()
        if not np.issubdtype(values.dtype, np.integer) and pd.api.types.infer_dtype(values) not in (
            "integer",
            "empty",
        ):
            raise ValueError(f"{name}: column {col!r} must hold integers, got dtype {frame[col].dtype}")
        if len(values) and values.min() < 0:
            raise ValueError(f"{name}: column {col!r} has a negative value at row {int(np.argmin(values))}")
        ints[col] = values.astype(np.int64, copy=False)
    if len(frame) and ints["token"].max() >= 1 << 20:
        raise ValueError(
            f"{name}: token index {int(ints['token'].max())} at row {int(np.argmax(ints['token']))} exceeds 2**20"
        )
    # Label strings -> small codes, shared between the two frames through `label_codes`.
    labels = frame["label"]
    inverse, uniques = pd.factorize(labels if pd.api.types.is_string_dtype(labels) else labels.astype(str))
    for lab in uniques:
        label_codes.setdefault(lab, len(label_codes))
    if len(label_codes) > 64:
        raise ValueError(f"{name}: more than 64 distinct labels")
    codes = np.array([label_codes[lab] for lab in uniques], dtype=np.int64)[inverse]
    # (document, token, label) -> one integer: 2**20 tokens per essay and 64 labels leave 2**37 documents.
    key = (ints["document"] << 26) | (ints["token"] << 6) | codes
    key = np.sort(
        np.compress(codes != label_codes.setdefault("O", len(label_codes)), key)
    )  # 'O' never counts
    # Sorted de-duplication: numpy 2.3's np.unique hashes, which is several times slower on int64 keys.
    return np.compress(np.concatenate(([True], key[1:] != key[:-1])), key) if len(key) else key


def _count_common(a: np.ndarray, b: np.ndarray) -> int:
    """How many keys two sorted, de-duplicated arrays share (binary search of the shorter in the longer)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if not len(short) or not len(long):
        return 0
    at = np.minimum(np.searchsorted(long, short), len(long) - 1)
    return int(np.count_nonzero(long[at] == short))


def pii_fbeta(y_true: pd.DataFrame, y_pred: pd.DataFrame, beta: float = 5.0) -> float:
    """Micro F-beta over (document, token, label) triples, the PII Data Detection metric (beta = 5).

    Both frames have columns ``document, token, label`` with the full BIO label ("B-NAME_STUDENT").
    Rows labelled 'O' are ignored and duplicate rows count once. With TP the triples in both, FP those
    only predicted and FN those only true: ``F = (1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)``; no true
    positive gives 0.0. Beta = 5 weighs recall 25 times as much as precision.

    Example: true {(0, 1, B-NAME_STUDENT), (0, 2, I-NAME_STUDENT)}, predicted {(0, 1, B-NAME_STUDENT),
    (0, 5, B-EMAIL)}: TP = FN = FP = 1, so F5 = 26 / (26 + 25 + 1) = 0.5.
    """
    if beta <= 0:
        raise ValueError(f"beta: expected a positive number, got {beta}")
    label_codes: dict[str, int] = {}
    true = _pii_keys(y_true, "y_true", label_codes)
    pred = _pii_keys(y_pred, "y_pred", label_codes)
    tp = _count_common(true, pred)
    if tp == 0:
        return 0.0
    fn, fp = len(true) - tp, len(pred) - tp
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + b2 * fn + fp)


# --------------------------------------------------------------------------------------------------
# WSDM Cup
# --------------------------------------------------------------------------------------------------
def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    """Fraction of rows where the prediction equals the label.

    Example: y_true = ["model_a", "model_b", "model_a"], y_pred = ["model_a", "model_a", "model_a"] -> 2/3.
    """
    same_length(y_true=y_true, y_pred=y_pred)
    no_missing(y_true, "y_true")
    no_missing(y_pred, "y_pred")
    return sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)


# --------------------------------------------------------------------------------------------------
# AIMO Progress Prize 2
# --------------------------------------------------------------------------------------------------
def _answers(values: Sequence, name: str) -> np.ndarray:
    """Integers 0..999, or a ValueError naming the first row that is not one."""
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        if not _is_answer(value):
            raise ValueError(f"{name}: row {i} is {value!r}, expected an integer 0..999")
        out[i] = int(value)
    return out


def _is_answer(value) -> bool:
    numeric = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    return numeric and float(value).is_integer() and 0 <= value <= 999


def aimo2_score(y_true: Sequence[int], runs: Sequence[Sequence[int]]) -> float:
    """AIMO score: correct answers, averaged over repeated runs of the same submission.

    ``runs`` holds one or more prediction lists aligned with ``y_true`` (integers 0..999). With one
    run the score is the number of correct answers (the public leaderboard). With R runs it is
    ``sum_i (number of runs correct on problem i) / R``: with two runs a problem scores 1, 0.5 or 0,
    the "penalized accuracy" of the AIMO private leaderboards. A prediction that is not an integer
    0..999 (a -1 "no answer" sentinel, None, NaN, 1000, 2.5, a string) is scored as wrong, as Kaggle
    scores it; ``y_true`` must hold answers 0..999.

    Example: y_true = [1, 2, 3], runs = [[1, 2, 0], [1, 5, -1]] -> 1 + 0.5 + 0 = 1.5.
    """
    if isinstance(runs, str) or not len(runs):
        raise ValueError("runs: expected one or more prediction lists")
    if not all(
        isinstance(run, Sequence | np.ndarray | pd.Series) and not isinstance(run, str) for run in runs
    ):
        raise ValueError("runs: expected a sequence of prediction lists; wrap a single run as [predictions]")
    truth = _answers(y_true, "y_true")
    correct = np.zeros(len(truth), dtype=np.float64)
    for r, run in enumerate(runs):
        same_length(y_true=y_true, **{f"runs[{r}]": run})
        correct += [_is_answer(p) and int(p) == t for p, t in zip(run, truth, strict=True)]
    return float(correct.sum() / len(runs))
