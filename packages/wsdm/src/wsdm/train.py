"""``wsdm-train --config recipe.yaml [--data-dir DIR] [--output-dir DIR] [--field value ...]``: one recipe,
cross-validated, with its ``models/`` and ``submission.csv``.

The recipe is a :class:`wsdm.configs.ExperimentConfig` (every field also a flag). The run folder gets the
experiment's ``oof.parquet`` and ``test.parquet``, ``soft_labels.parquet`` (its out-of-fold p(A), swap-averaged
with ``tta``: the ``teacher_file`` of a student recipe), the ``submission.csv`` and ``models/`` with the
``manifest.json`` that ``wsdm-predict`` follows. Under ``accelerate launch`` every rank trains and rank 0
writes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from shared.recipes import ConfigError, parse_config
from wsdm.configs import ExperimentConfig
from wsdm.data import DataError, load_competition
from wsdm.experiment import accuracy, is_main_process, prepare, submission_of, write_soft_labels
from wsdm.paths import open_run, resolve_data_dir
from wsdm.reproduce import Ladder, write_models

SOFT_LABELS = "soft_labels.parquet"


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/wsdm/data, else the sample"}
    )
    output_dir: str | None = field(default=None, metadata={"help": "default outputs/wsdm/<name>-<timestamp>"})
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments), description="One wsdm recipe, cross-validated.")


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        data_dir, data_name = resolve_data_dir(run.data_dir)
        out = open_run(run.output_dir, config.name, run.verbose)
        print(f"wsdm-train {config.name}: {data_name} data; library logs in {out / 'run.log'}")
        data = load_competition(data_dir, extra=config.extra)
        prep = prepare(data, config.n_folds, config.seed, data_dir)
        ladder = Ladder(
            prep, Path(out), config, "mechanics" if config.backbone.startswith("tiny:") else "model"
        )
        ladder.experiment(config.name, "the recipe")
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    rung = ladder.rungs[f"{config.name}+tta" if config.tta else config.name]
    if is_main_process():
        write_soft_labels(Path(out) / SOFT_LABELS, prep.train["id"], rung.predictions.oof)
        submission_of(prep, rung.predictions.test).to_csv(out / "submission.csv", index=False)
        write_models(Path(out), rung)
        for name in dict.fromkeys([config.name, rung.name]):
            right = accuracy(ladder.rungs[name].predictions.oof, prep.y)
            folds = ", ".join(f"{right[prep.fold == k].mean():.3f}" for k in range(prep.n_folds))
            print(f"{name}: CV accuracy {right.mean():.4f} (folds {folds})")
        print(f"wrote {out}: submission.csv, {SOFT_LABELS}, models/, {config.name}/")


if __name__ == "__main__":
    main()
