"""``jigsaw-train --config recipe.yaml``: one experiment, cross-validated, with its submission file."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from jigsaw.data import DataError, load
from jigsaw.experiment import ExperimentConfig, is_main_process, run_experiment
from jigsaw.paths import resolve_data_dir, run_dir
from shared.recipes import parse_config


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "Kaggle files; default competitions/jigsaw/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/jigsaw/<name>-<timestamp>"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments))


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv, error=DataError)
        data_dir, _ = resolve_data_dir(run.data_dir)
        data = load(data_dir)
        out = run_dir(run.output_dir, config.name)
        result = run_experiment(config, data, out)
    except DataError as err:
        sys.exit(f"error: {err}")
    if is_main_process():
        print(
            f"{config.name}: CV final {result.cv['final']:.4f} (overall AUC {result.cv['overall_auc']:.4f}); wrote {out}"
        )


if __name__ == "__main__":  # `accelerate launch -m jigsaw.train ...`
    main()
