"""Where the jigsaw commands read data and write outputs by default (see ``shared.runs``)."""

from __future__ import annotations

from pathlib import Path

from jigsaw.synth import make_sample
from shared import runs

KAGGLE_DIR = runs.kaggle_dir("jigsaw")
SAMPLE_DIR = KAGGLE_DIR / "sample"
OUTPUT_ROOT = runs.output_root("jigsaw")


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use)."""
    return runs.resolve_data_dir(data_dir, "jigsaw", "train.csv", make_sample)


def run_dir(output_dir: str | None, prefix: str) -> Path:
    return runs.run_dir(output_dir, "jigsaw", prefix)
