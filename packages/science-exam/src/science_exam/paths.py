"""Where the science-exam commands read data and write outputs by default (see ``shared.runs``)."""

from __future__ import annotations

from pathlib import Path

from shared import runs
from shared.console import log_to_file

CHAPTER = "science-exam"
MARKER = "train.csv"  # the sample writer writes it last: a half-written sample is made again


def make_sample(directory: Path) -> Path:
    from science_exam.sample.synth import make_sample as write  # the sample generator only when it is needed

    return write(directory)


def resolve_data_dir(data_dir: str | None) -> tuple[Path, str]:
    """(directory, description): the given one, else the Kaggle download, else the sample (made on first use)."""
    return runs.resolve_data_dir(data_dir, CHAPTER, MARKER, make_sample)


def open_run(output_dir: str | None, prefix: str, verbose: bool = False) -> Path:
    """The run folder, made, with the libraries' chatter sent to its ``run.log`` (``verbose``: left on the
    terminal)."""
    out = runs.run_dir(output_dir, CHAPTER, prefix)
    out.mkdir(parents=True, exist_ok=True)
    log_to_file(out / "run.log", verbose=verbose)
    return out
