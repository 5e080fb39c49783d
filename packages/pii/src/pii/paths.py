"""Where data and outputs go by default (paths relative to the directory the command runs in)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pii.synth import make_sample

KAGGLE_DIR = Path("competitions/pii/data")
SAMPLE_DIR = KAGGLE_DIR / "sample"
OUTPUT_ROOT = Path("outputs/pii")


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use)."""
    if data_dir:
        return Path(data_dir), str(data_dir)
    if (KAGGLE_DIR / "train.json").is_file():
        return KAGGLE_DIR, "kaggle"
    if not (SAMPLE_DIR / "train.json").is_file():
        print(f"no Kaggle files in {KAGGLE_DIR}: generating the sample in {SAMPLE_DIR}")
        make_sample(SAMPLE_DIR)
    return SAMPLE_DIR, "sample"


def run_dir(output_dir: str | None, prefix: str) -> Path:
    """The given output directory, else ``outputs/pii/<prefix>-<timestamp>``."""
    if output_dir:
        return Path(output_dir)
    return OUTPUT_ROOT / f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}"
