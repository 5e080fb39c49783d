"""Where the aimo2 commands read data and write outputs by default (see ``shared.runs``)."""

from __future__ import annotations

from pathlib import Path

from shared import runs

KAGGLE_DIR = runs.kaggle_dir("aimo2")
SAMPLE_DIR = KAGGLE_DIR / "sample"
OUTPUT_ROOT = runs.output_root("aimo2")


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use;
    the sample writes its reference.csv last, so one interrupted half-way is made again)."""
    from aimo2.synth import make_sample  # here: synth imports this module for its default --out

    return runs.resolve_data_dir(data_dir, "aimo2", "reference.csv", make_sample)


def run_dir(output_dir: str | None, prefix: str) -> Path:
    return runs.run_dir(output_dir, "aimo2", prefix)
