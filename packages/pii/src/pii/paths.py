"""Where the pii commands read data and write outputs by default (see ``shared.runs``)."""

from __future__ import annotations

from pathlib import Path

from pii.synth import make_sample
from shared import runs
from shared.console import log_to_file

KAGGLE_DIR = runs.kaggle_dir("pii")
SAMPLE_DIR = KAGGLE_DIR / "sample"
OUTPUT_ROOT = runs.output_root("pii")


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use)."""
    return runs.resolve_data_dir(data_dir, "pii", "train.json", make_sample)


def run_dir(output_dir: str | None, prefix: str) -> Path:
    return runs.run_dir(output_dir, "pii", prefix)


def open_run(output_dir: str | None, prefix: str, verbose: bool = False) -> Path:
    """The run folder, made, with the libraries' chatter (weight loading, Trainer logs, warnings) sent to
    its ``run.log``; ``verbose`` leaves it on the terminal."""
    out = run_dir(output_dir, prefix)
    out.mkdir(parents=True, exist_ok=True)
    log_to_file(out / "run.log", verbose=verbose)
    return out
