"""Where the eedi commands read data and write outputs by default (see ``shared.runs``)."""

from __future__ import annotations

from pathlib import Path

from shared import runs

CHAPTER = "eedi"
MARKER = "train.csv"  # the sample writer writes it last: a half-written sample is made again


def make_sample(directory: Path) -> Path:
    from eedi.sample.synth import make_sample as write  # the sample generator only when it is needed

    return write(directory)


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use)."""
    return runs.resolve_data_dir(data_dir, CHAPTER, MARKER, make_sample)


def open_run(output_dir: str | None, prefix: str, verbose: bool = False) -> Path:
    """The run folder, made, its ``run.log`` receiving the libraries' chatter (``shared.runs.open_run``)."""
    return runs.open_run(output_dir, CHAPTER, prefix, verbose)
