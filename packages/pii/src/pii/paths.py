"""Where the pii commands read data and write outputs by default (see ``shared.runs``)."""

from __future__ import annotations

from pathlib import Path

from pii.synth import make_sample
from shared import runs

KAGGLE_DIR = runs.kaggle_dir("pii")
SAMPLE_DIR = KAGGLE_DIR / "sample"
OUTPUT_ROOT = runs.output_root("pii")


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use)."""
    return runs.resolve_data_dir(data_dir, "pii", "train.json", make_sample)


def open_run(output_dir: str | None, prefix: str, verbose: bool = False) -> Path:
    """The run folder, made, its ``run.log`` receiving the libraries' chatter (``shared.runs.open_run``)."""
    return runs.open_run(output_dir, "pii", prefix, verbose)
