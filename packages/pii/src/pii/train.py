"""``pii-train --config recipe.yaml``: one experiment, cross-validated, with its submission file.

The Hugging Face convention (``HfArgumentParser`` dataclasses): ``--config`` sets the fields from a
recipe, any ``--field value`` flag overrides them. Multi-GPU::

    uv run accelerate launch --config_file competitions/pii/recipes/accelerate/ddp.yaml \\
        -m pii.train --config competitions/pii/recipes/deberta-v3-large.yaml
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from transformers import HfArgumentParser

from pii.data import DataError, load_competition
from pii.experiment import ConfigError, ExperimentConfig, is_main_process, run_experiment
from pii.paths import resolve_data_dir, run_dir


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "Kaggle files; default competitions/pii/data, else the sample"}
    )
    output_dir: str | None = field(default=None, metadata={"help": "default outputs/pii/<name>-<timestamp>"})


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments))


def parse_config(parser: HfArgumentParser, argv: list[str] | None = None) -> tuple:
    """Dataclasses from an optional ``--config`` YAML plus command-line flags (flags win); a bad value
    raises DataError naming the recipe when it came from there."""
    argv = list(sys.argv[1:] if argv is None else argv)
    values, path = {}, None
    if "--config" in argv:
        i = argv.index("--config")
        if i + 1 >= len(argv):
            parser.error("--config needs a path")
        path = Path(argv[i + 1])
        del argv[i : i + 2]
        if not path.is_file():
            raise DataError(f"{path}: recipe not found")
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise DataError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(values, dict):
            raise DataError(f"{path}: expected field: value pairs, got {type(values).__name__}")
        known = {f.name for dtype in parser.dataclass_types for f in dtype.__dataclass_fields__.values()}
        unknown = sorted(set(values) - known)
        if unknown:
            raise DataError(f"{path}: unknown field(s) {unknown}")
        parser.set_defaults(**values)
    try:
        return parser.parse_args_into_dataclasses(args=argv)
    except ConfigError as err:
        from_recipe = err.field in values and f"--{err.field}" not in argv
        raise DataError(f"{path}: {err}" if from_recipe else f"command line: {err}") from None


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        data_dir, _ = resolve_data_dir(run.data_dir)
        data = load_competition(data_dir, extra=config.extra_data)
        out = run_dir(run.output_dir, config.name)
        result = run_experiment(config, data, out)
    except DataError as err:
        sys.exit(f"error: {err}")
    if is_main_process():
        tested = f", test F5 {result.test_score:.4f}" if result.test_score is not None else ""
        print(f"{config.name}: CV F5 {result.cv:.4f} ({config.decoding} decoding){tested}; wrote {out}")


if __name__ == "__main__":  # `accelerate launch -m pii.train ...`
    main()
