"""Where a chapter's commands read data and write outputs by default.

Paths are relative to the directory the command runs in (the workspace root in the READMEs): the Kaggle
download in ``competitions/<chapter>/data/``, the generated sample in its ``sample/`` folder, and one
``outputs/<chapter>/<prefix>-<timestamp>/`` folder per run. A chapter's ``paths`` module is one
:class:`ChapterPaths` whose methods its commands call.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


def kaggle_dir(chapter: str) -> Path:
    return Path("competitions") / chapter / "data"


def output_root(chapter: str) -> Path:
    return Path("outputs") / chapter


def resolve_data_dir(
    data_dir: str | None, chapter: str, marker: str, make_sample: Callable[[Path], object]
) -> tuple[Path, str]:
    """(directory, description): ``data_dir`` when given; else the Kaggle download when its ``marker`` file
    is there; else the sample, made by ``make_sample(directory)`` when its ``marker`` is missing (a sample
    writer that writes the marker last gets an interrupted sample made again)."""
    if data_dir:
        return Path(data_dir), str(data_dir)
    kaggle = kaggle_dir(chapter)
    if (kaggle / marker).is_file():
        return kaggle, "kaggle"
    sample = kaggle / "sample"
    if not (sample / marker).is_file():
        print(f"no Kaggle files in {kaggle}: generating the sample in {sample}")
        make_sample(sample)
    return sample, "sample"


def open_run(output_dir: str | None, chapter: str, prefix: str, verbose: bool = False) -> Path:
    """The run folder (:func:`run_dir`), made, with the libraries' chatter (weight loading, Trainer logs,
    warnings) sent to its ``run.log``; ``verbose`` leaves it on the terminal."""
    from shared.console import log_to_file

    out = run_dir(output_dir, chapter, prefix)
    out.mkdir(parents=True, exist_ok=True)
    log_to_file(out / "run.log", verbose=verbose)
    return out


def predict_parser(description: str, test_files: str) -> argparse.ArgumentParser:
    """The flags every ``<chapter>-predict`` takes, spelled alike: ``--models`` (a run's ``models/``), ``--data-dir``
    (the folder with ``test_files``; default: the chapter's data), ``--output`` and ``--verbose``. A chapter adds
    its own after."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--models", required=True, help="the models/ folder of a reproduce or train run")
    parser.add_argument("--data-dir", "--data_dir", default=None,
                        help=f"folder with {test_files} (default: the chapter's data)")  # fmt: skip
    parser.add_argument("--output", default="submission.csv", help="where to write the submission")
    parser.add_argument("--verbose", action="store_true", help="show the libraries' own output")
    return parser


def open_prediction(output: str, verbose: bool = False) -> tuple[Path, Path]:
    """(the submission path, its folder made; the log beside it, ``<output>.log``, which gets the libraries' chatter
    unless ``verbose``)."""
    from shared.console import log_to_file

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path, log_to_file(path.with_suffix(".log"), verbose=verbose)


MANIFEST = "manifest.json"  # in a run's models/: what <chapter>-predict loads


def write_manifest(models: Path, content: dict) -> Path:
    """``models/manifest.json`` holding ``content`` (its ``members``: the model folders the submission reads)."""
    models.mkdir(parents=True, exist_ok=True)
    path = models / MANIFEST
    path.write_text(json.dumps(content, indent=2) + "\n")
    return path


def load_manifest(models: Path, written_by: str, error: type[Exception] = ValueError) -> dict:
    """``models/manifest.json`` as a mapping; missing (one line naming ``written_by``, the commands that write it),
    not JSON, or not a mapping raises ``error``. Each chapter then checks the keys its predict reads."""
    path = models / MANIFEST
    if not path.is_file():
        raise error(f"{path}: not found (models/ is written by {written_by})")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise error(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None
    if not isinstance(manifest, dict):
        raise error(f"{path}: expected a JSON object, got {type(manifest).__name__}")
    return manifest


def read_manifest(models: Path, written_by: str, error: type[Exception] = ValueError) -> dict:
    """:func:`load_manifest`, with a non-empty ``members`` list whose folders are all in ``models``."""
    path = models / MANIFEST
    manifest = load_manifest(models, written_by, error)
    if not manifest.get("members"):
        raise error(f"{path}: 'members' is empty")
    for name in manifest["members"]:
        if not (models / name).is_dir():
            raise error(f"{path}: member {name!r}: folder {models / name} is missing")
    return manifest


def run_dir(output_dir: str | None, chapter: str, prefix: str) -> Path:
    """``output_dir`` when given, else ``outputs/<chapter>/<prefix>-<timestamp>``."""
    if output_dir:
        return Path(output_dir)
    return output_root(chapter) / f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}"


@dataclass(frozen=True)
class ChapterPaths:
    """One chapter's default locations: its Kaggle download is there when its ``marker`` file is (the sample
    writer writes it last, so a half-written sample is made again), and ``sample_maker``
    (``"package.module:function"``, called with the sample folder) writes the sample; it is imported only
    when the sample is made, so a chapter's sample generator may import its ``paths`` module."""

    chapter: str
    marker: str
    sample_maker: str

    @property
    def kaggle_dir(self) -> Path:
        return kaggle_dir(self.chapter)

    @property
    def sample_dir(self) -> Path:
        return self.kaggle_dir / "sample"

    @property
    def output_root(self) -> Path:
        return output_root(self.chapter)

    def make_sample(self, directory: Path) -> object:
        """The sample written into ``directory`` by ``sample_maker``, imported now."""
        module, _, name = self.sample_maker.partition(":")
        return getattr(importlib.import_module(module), name)(directory)

    def resolve_data_dir(self, data_dir: str | None) -> tuple[Path, str]:
        """(directory, description): the given one, else the Kaggle download, else the sample (made on first
        use; :func:`resolve_data_dir`)."""
        return resolve_data_dir(data_dir, self.chapter, self.marker, self.make_sample)

    def run_dir(self, output_dir: str | None, prefix: str) -> Path:
        """``output_dir`` when given, else ``outputs/<chapter>/<prefix>-<timestamp>`` (:func:`run_dir`)."""
        return run_dir(output_dir, self.chapter, prefix)

    def open_run(self, output_dir: str | None, prefix: str, verbose: bool = False) -> Path:
        """The run folder, made, its ``run.log`` receiving the libraries' chatter (:func:`open_run`)."""
        return open_run(output_dir, self.chapter, prefix, verbose)
