"""``models/manifest.json``: what ``wsdm-predict`` runs to rebuild the submitted rung's test predictions.

An entry is one of four kinds: ``features`` (the TF-IDF/length baseline's fold pickles in ``features/``),
``model`` (``experiment``: the folder of its fold models; ``tta``; ``quantisation``), ``ensemble``
(``members``: entries, ``weights``) and ``cascade`` (``small`` and ``big``: entries, ``share``: the least
certain share of rows the big one decides).
"""

from __future__ import annotations

from pathlib import Path

from shared.runs import load_manifest
from wsdm.data import DataError

MANIFEST = "manifest.json"
KINDS = ("features", "model", "ensemble", "cascade")


def read_manifest(directory: Path) -> dict:
    """``manifest.json``, checked: a known kind, and every folder it names has fold models."""
    path = directory / MANIFEST
    manifest = load_manifest(directory, "wsdm-reproduce or wsdm-train", DataError)
    if manifest.get("kind") not in KINDS:
        raise DataError(f"{path}: 'kind' must be one of {', '.join(KINDS)}")
    for folder in needed_folders(manifest):
        if not fold_dirs(directory / folder):
            raise DataError(f"{path}: the folder {directory / folder} it names has no fold-<k> models")
    return manifest


def fold_dirs(directory: Path) -> list[Path]:
    """``fold-0``, ``fold-1``, ... in fold order."""
    return sorted(directory.glob("fold-*"), key=lambda p: int(p.name.removeprefix("fold-")))


def needed_folders(recipe: dict):
    """The ``models/`` folders a manifest entry reads."""
    if recipe["kind"] == "features":
        yield "features"
    elif recipe["kind"] == "model":
        yield recipe["experiment"]
    elif recipe["kind"] == "ensemble":
        for member in recipe["members"]:
            yield from needed_folders(member)
    else:
        yield from needed_folders(recipe["small"])
        yield from needed_folders(recipe["big"])
