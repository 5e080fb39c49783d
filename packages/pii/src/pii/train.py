"""``pii-train --config recipe.yaml``: one experiment, cross-validated, with its submission file.

The Hugging Face convention (``HfArgumentParser`` dataclasses): ``--config`` sets the fields from a
recipe, any ``--field value`` flag overrides them. Multi-GPU::

    uv run accelerate launch --config_file competitions/pii/recipes/accelerate/ddp.yaml \\
        -m pii.train --config competitions/pii/recipes/deberta-v3-large.yaml
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from pii.data import DataError, load_competition
from pii.experiment import ExperimentConfig, is_main_process, run_experiment
from pii.paths import open_run, resolve_data_dir
from pii.predict import write_manifest
from shared.recipes import ConfigError, parse_config


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None,
        metadata={"help": "Kaggle files; default competitions/pii/data, else the sample"},
    )
    output_dir: str | None = field(default=None, metadata={"help": "default outputs/pii/<name>-<timestamp>"})
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments))


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        data_dir, _ = resolve_data_dir(run.data_dir)
        data = load_competition(data_dir, extra=config.extra_data)
        for conversion in data.conversions:
            if conversion.renumbered or conversion.relabelled:
                print(f"pii-train: external set {conversion.summary()}")
        out = open_run(run.output_dir, config.name, run.verbose)
        result = run_experiment(config, data, out, out / "models" / config.name)
        if is_main_process():
            write_manifest(out / "models", [config.name], "experiment", rules=False)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    if is_main_process():
        tested = f", test F5 {result.test_score:.4f}" if result.test_score is not None else ""
        print(f"{config.name}: CV F5 {result.cv:.4f} ({config.decoding} decoding){tested}; wrote {out}")


if __name__ == "__main__":  # `accelerate launch -m pii.train ...`
    main()
