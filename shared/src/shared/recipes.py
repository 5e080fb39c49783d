"""Recipes: ``--config recipe.yaml`` sets the fields of the entry point's dataclasses, any ``--field value``
flag overrides them.

The Hugging Face convention (``HfArgumentParser`` dataclasses; ``trl.TrlParser`` does the same for TRL
scripts), so a recipe is data and every field is also a flag. Every problem is one line that says where the
bad value came from: the recipe file or the command line.
"""

from __future__ import annotations

import sys
from dataclasses import field
from pathlib import Path

import yaml
from transformers import HfArgumentParser


def flag(default, help_text: str):
    """A dataclass field with the help text that ``--help`` shows."""
    return field(default=default, metadata={"help": help_text})


class ConfigError(ValueError):
    """A recipe or flag that cannot be used (unknown field, unreadable recipe, value out of range): the
    user's configuration, not the data, so never a chapter's ``DataError``. The message names the recipe file
    or ``command line`` and the field."""


class FieldError(ValueError):
    """A field value out of range, raised by a config dataclass's ``__post_init__``; ``field`` names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


def parse_config(
    parser: HfArgumentParser, argv: list[str] | None = None, error: type[Exception] = ConfigError
) -> tuple:
    """The parser's dataclasses from an optional ``--config`` YAML plus the flags (flags win).

    A missing, unparsable or unknown-field recipe, or a :class:`FieldError`, is raised as ``error``
    (:class:`ConfigError` unless the caller names another), naming the recipe or ``command line`` as where
    the value came from.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    values, path = {}, None
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            parser.error("--config needs a path")
        path = Path(argv[i + 1])
        del argv[i : i + 2]
        if not path.is_file():
            raise error(f"{path}: recipe not found")
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise error(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(values, dict):
            raise error(f"{path}: expected field: value pairs, got {type(values).__name__}")
        known = {f.name for dtype in parser.dataclass_types for f in dtype.__dataclass_fields__.values()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise error(f"{path}: unknown field(s) {unknown}")
        parser.set_defaults(**values)
    try:
        return parser.parse_args_into_dataclasses(args=argv)
    except FieldError as err:
        from_recipe = err.field in values and f"--{err.field}" not in argv
        raise error(f"{path}: {err}" if from_recipe else f"command line: {err}") from None
