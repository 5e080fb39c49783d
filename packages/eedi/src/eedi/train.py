"""``eedi-train --config recipe.yaml [--data-dir DIR] [--output-dir DIR] [--field value ...]``: one recipe,
cross-validated, with its ``models/`` and ``submission.csv``.

The recipe is an :class:`eedi.configs.ExperimentConfig` (every field also a flag). The run folder gets the
experiment's ``oof.csv``, ``test.csv``, ``scores.json`` and ``config.json``, then (when the recipe's
``unseen_boost`` is on) the boost tuned out of fold, the ``submission.csv`` of the result and ``models/``
with the ``manifest.json`` that ``eedi-predict`` follows. Under ``accelerate launch`` every rank trains and
rank 0 writes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from eedi.configs import ExperimentConfig
from eedi.data import DataError, load_competition
from eedi.experiment import is_main_process, prepare, submission_of
from eedi.paths import open_run, resolve_data_dir
from eedi.reproduce import Ladder, write_models
from shared.recipes import ConfigError, parse_config


@dataclass
class RunArguments:
    data_dir: str | None = field(default=None, metadata={"help": "default competitions/eedi/data, else the sample"})
    output_dir: str | None = field(default=None, metadata={"help": "default outputs/eedi/<name>-<timestamp>"})
    verbose: bool = field(default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"})


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments), description="One eedi recipe, cross-validated.")


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        data_dir, data_name = resolve_data_dir(run.data_dir)
        out = open_run(run.output_dir, config.name, run.verbose)
        print(f"eedi-train {config.name}: {data_name} data; library logs in {out / 'run.log'}")
        data = load_competition(data_dir, extra=config.synthetic)
        prep = prepare(data, config.n_folds, config.holdout_misconceptions, config.seed)
        evidence = "mechanics" if config.embedder.startswith("tiny:") else "model"
        ladder = Ladder(prep, Path(out), config, evidence, evidence)
        result = ladder.experiment(config.name, "the recipe")
        rung = ladder.boost(config.name) if config.unseen_boost else ladder.rungs[config.name]
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    if is_main_process():
        submission_of(prep, rung.test).to_csv(out / "submission.csv", index=False)
        write_models(Path(out), rung, prep)
        print(f"{config.name}: CV MAP@25 {result.cv:.4f} (folds {', '.join(f'{f:.3f}' for f in result.folds)}); "
              f"{rung.name}: {rung.oof.average_precision(prep.truth).mean():.4f}")  # fmt: skip
        if config.unseen_boost:
            print(ladder.boost_line)
        print(f"wrote {out}: submission.csv, models/, {config.name}/")


if __name__ == "__main__":
    main()
