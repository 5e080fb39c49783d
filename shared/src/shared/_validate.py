"""Input checks shared by the metrics: every failure is a ValueError that says what and where."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def as_float_array(values, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return `values` as float64, refusing NaN and non-numeric input with the offending row."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected numbers ({err})") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: empty input")
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        where = f"row {bad[0][0]}" + (f", column {bad[0][1]}" if arr.ndim > 1 else "")
        raise ValueError(f"{name}: NaN or infinite value at {where}")
    return arr


def same_length(**named: Sequence) -> int:
    """Return the common length of the named sequences, or name the ones that disagree."""
    lengths = {name: len(values) for name, values in named.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"length mismatch: {detail}")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(f"empty input: {', '.join(lengths)} have no rows")
    return n


def is_missing(value) -> bool:
    """True for None and float NaN (pandas' missing markers included)."""
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def no_missing(values: Sequence, name: str) -> None:
    """Refuse None/NaN entries, naming the first bad row."""
    for i, value in enumerate(values):
        if is_missing(value):
            raise ValueError(f"{name}: missing value (None/NaN) at row {i}")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    """Refuse a frame that lacks any of `columns`, listing all that are missing."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(frame.columns)}")
