"""Cross-validation folds as a column, the way Kaggle notebooks keep them.

``make_folds`` returns a copy of the frame with an integer ``fold`` column (0..n_splits-1): the row is
in the validation set of that fold. Every strategy is deterministic under ``seed`` and refuses splits
that cannot be made (fewer groups than folds, a class smaller than the number of folds) instead of
letting scikit-learn warn and produce empty or one-sided folds.

Strategies:
    kfold             shuffled KFold
    stratified        StratifiedKFold on ``target``; a continuous target is first cut into quantile bins
    group             GroupKFold on ``groups`` (e.g. CommonLit's prompt_id: no prompt in two folds)
    stratified_group  StratifiedGroupKFold: groups kept whole, class balance kept as well as possible
    multilabel        iterative stratification (Sechidis et al. 2011) over several binary labels, e.g.
                      which PII types a document contains
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold
from sklearn.preprocessing import MultiLabelBinarizer

STRATEGIES = ("kfold", "stratified", "group", "stratified_group", "multilabel")


def bin_continuous(values: pd.Series, n_bins: int | None = None) -> np.ndarray:
    """Quantile bins of a continuous target so it can be stratified.

    ``n_bins`` defaults to Sturges' rule, ``1 + log2(n)``, the usual Kaggle choice; bins with equal
    edges (many tied values) are merged.
    """
    if n_bins is None:
        n_bins = int(np.floor(1 + np.log2(len(values))))
    return pd.qcut(values, q=n_bins, labels=False, duplicates="drop").to_numpy()


def _column(df: pd.DataFrame, name: str | None, role: str) -> pd.Series:
    if name is None:
        raise ValueError(f"this strategy needs `{role}`: the name of a column")
    if name not in df.columns:
        raise ValueError(f"{role}: column {name!r} not in the frame (columns: {list(df.columns)})")
    col = df[name]
    missing = col.isna().to_numpy()
    if missing.any():
        raise ValueError(f"{role}: column {name!r} is missing at row {df.index[int(np.argmax(missing))]!r}")
    return col


def _is_continuous(target: pd.Series) -> bool:
    """A float target with non-integer values is a regression target, not classes."""
    return pd.api.types.is_float_dtype(target) and not np.all(np.mod(target.to_numpy(), 1) == 0)


def _check_class_sizes(classes: np.ndarray, n_splits: int, what: str) -> None:
    values, counts = np.unique(classes, return_counts=True)
    small = [(v, c) for v, c in zip(values, counts, strict=True) if c < n_splits]
    if small:
        detail = ", ".join(f"{v!r} has {c}" for v, c in small[:10])
        raise ValueError(f"{what}: a class has fewer members than n_splits={n_splits} ({detail})")


def _check_group_count(groups: pd.Series, n_splits: int, name: str) -> None:
    n_groups = groups.nunique()
    if n_groups < n_splits:
        raise ValueError(
            f"groups: column {name!r} has {n_groups} distinct groups, fewer than n_splits={n_splits}"
        )


def _label_matrix(df: pd.DataFrame, labels: str | Sequence[str] | None) -> tuple[np.ndarray, list]:
    """Binary label matrix and label names, from indicator columns or one list-valued column."""
    if labels is None:
        raise ValueError(
            "the multilabel strategy needs `labels`: indicator columns or one list-valued column"
        )
    if isinstance(labels, str):
        binarizer = MultiLabelBinarizer()
        matrix = binarizer.fit_transform([sorted(set(v)) for v in _column(df, labels, "labels")])
        return matrix, list(binarizer.classes_)
    matrix = np.column_stack([_column(df, name, "labels").to_numpy(dtype=np.float64) for name in labels])
    if not np.isin(matrix, (0.0, 1.0)).all():
        raise ValueError(f"labels: indicator columns {list(labels)} must hold only 0/1")
    return matrix.astype(np.int64), list(labels)


def make_folds(
    df: pd.DataFrame,
    n_splits: int = 5,
    strategy: str = "kfold",
    *,
    target: str | None = None,
    groups: str | None = None,
    labels: str | Sequence[str] | None = None,
    n_bins: int | None = None,
    seed: int = 42,
    column: str = "fold",
) -> pd.DataFrame:
    """Return a copy of ``df`` with a ``column`` of fold ids 0..n_splits-1 (see the module docstring).

    ``target`` names the column to stratify on (stratified, stratified_group), ``groups`` the group
    column (group, stratified_group), ``labels`` the indicator columns or a list-valued column
    (multilabel). ``n_bins`` forces binning of the target (used automatically for float targets).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy: {strategy!r} is not one of {STRATEGIES}")
    if not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise ValueError(f"n_splits: expected an integer >= 2, got {n_splits!r}")
    if len(df) < n_splits:
        raise ValueError(f"the frame has {len(df)} rows, fewer than n_splits={n_splits}")
    x = np.zeros((len(df), 1))
    if strategy == "kfold":
        splitter, y, grp = KFold(n_splits, shuffle=True, random_state=seed), None, None
    elif strategy == "multilabel":
        y, names = _label_matrix(df, labels)
        rare = {name: int(n) for name, n in zip(names, y.sum(axis=0), strict=True) if n < n_splits}
        if rare:
            raise ValueError(
                f"labels: a class has fewer members than n_splits={n_splits} (rows per label: {rare})"
            )
        splitter, grp = MultilabelStratifiedKFold(n_splits, shuffle=True, random_state=seed), None
    else:
        y = grp = None
        if strategy in ("stratified", "stratified_group"):
            col = _column(df, target, "target")
            y = bin_continuous(col, n_bins) if (n_bins is not None or _is_continuous(col)) else col.to_numpy()
        if strategy in ("group", "stratified_group"):
            grp_col = _column(df, groups, "groups")
            _check_group_count(grp_col, n_splits, groups)
            grp = grp_col.to_numpy()
        if strategy == "stratified":
            _check_class_sizes(y, n_splits, f"target {target!r}")
            splitter = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
        elif strategy == "group":
            splitter = GroupKFold(n_splits, shuffle=True, random_state=seed)
        else:
            # A class must span at least n_splits groups to appear in every validation fold.
            per_class = pd.DataFrame({"y": y, "g": grp}).groupby("y")["g"].nunique()
            _check_class_sizes(
                np.repeat(per_class.index.to_numpy(), per_class.to_numpy()),
                n_splits,
                f"target {target!r} (counted in groups)",
            )
            splitter = StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed)
    folds = np.full(len(df), -1, dtype=np.int64)
    for fold, (_, valid) in enumerate(splitter.split(x, y, grp)):
        folds[valid] = fold
    out = df.copy()
    out[column] = folds
    return out
