"""Where data and outputs go by default (paths relative to the directory the command runs in)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

KAGGLE_DIR = Path("competitions/aimo2/data")
SAMPLE_DIR = KAGGLE_DIR / "sample"
OUTPUT_ROOT = Path("outputs/aimo2")


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use).

    The sample writes its reference.csv last, so a sample interrupted half-way is made again.
    """
    if data_dir:
        return Path(data_dir), str(data_dir)
    if (KAGGLE_DIR / "reference.csv").is_file():
        return KAGGLE_DIR, "kaggle"
    if not (SAMPLE_DIR / "reference.csv").is_file():
        from aimo2.synth import make_sample  # here: synth imports this module for its default --out

        print(f"no Kaggle files in {KAGGLE_DIR}: generating the sample in {SAMPLE_DIR}")
        make_sample(SAMPLE_DIR)
    return SAMPLE_DIR, "sample"


def run_dir(output_dir: str | None, prefix: str) -> Path:
    """The given output directory, else ``outputs/aimo2/<prefix>-<timestamp>``."""
    if output_dir:
        return Path(output_dir)
    return OUTPUT_ROOT / f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}"
