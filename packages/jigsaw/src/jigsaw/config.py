"""Recipe parsing: ``--config recipe.yaml`` sets the dataclass fields, any ``--field value`` flag overrides.

The Hugging Face convention (``HfArgumentParser`` dataclasses; ``trl.TrlParser`` does the same for TRL
scripts), so a recipe is data and every field is also a flag.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from transformers import HfArgumentParser

from jigsaw.data import DataError


def parse_config(parser: HfArgumentParser, argv: list[str] | None = None) -> tuple:
    """Dataclasses from an optional ``--config`` YAML plus command-line flags (flags win)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            parser.error("--config needs a path")
        path = Path(argv[i + 1])
        del argv[i : i + 2]
        if not path.is_file():
            raise DataError(f"{path}: recipe not found")
        values = yaml.safe_load(path.read_text()) or {}
        known = {f.name for dtype in parser.dataclass_types for f in dtype.__dataclass_fields__.values()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DataError(f"{path}: unknown field(s) {unknown}")
        parser.set_defaults(**values)
    return parser.parse_args_into_dataclasses(args=argv)
