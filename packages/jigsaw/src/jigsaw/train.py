"""``jigsaw-train --config recipe.yaml``: one experiment, cross-validated, with its submission file and its fold
models in ``models/`` for ``jigsaw-predict``.

Any recipe field is also a flag (``--n_folds 3``); ``--data-dir``/``--output-dir`` may be spelled with
dashes or underscores. A bad recipe value stops the command at parse time with one line, before any data
is read. Library output goes to ``run.log`` in the run folder unless ``--verbose``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from transformers import HfArgumentParser

from jigsaw.data import DataError, load
from jigsaw.experiment import ExperimentConfig, is_main_process, run_experiment
from jigsaw.paths import resolve_data_dir, run_dir
from jigsaw.predict import write_manifest
from shared.console import log_to_file
from shared.recipes import ConfigError, parse_config


@dataclass
class RunArguments:
    """Where to read and write (HfArgumentParser accepts ``--data-dir`` as well as ``--data_dir``)."""

    data_dir: str | None = field(
        default=None, metadata={"help": "Kaggle files; default competitions/jigsaw/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/jigsaw/<name>-<timestamp>"}
    )
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output (also KLS_VERBOSE=1)"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments))


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        data_dir, _ = resolve_data_dir(run.data_dir)
        data = load(data_dir)
        out = run_dir(run.output_dir, config.name)
        log = log_to_file(out / "run.log", verbose=run.verbose)
        result = run_experiment(config, data, out, out / "models" / config.name)
        if is_main_process():
            write_manifest(out / "models", [config.name])
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    if is_main_process():
        print(
            f"{config.name}: CV final {result.cv['final']:.4f} (overall AUC {result.cv['overall_auc']:.4f}, "
            f"folds {', '.join(f'{f:.4f}' for f in result.folds)}); wrote {out}, library output in {log}"
        )


if __name__ == "__main__":  # `accelerate launch -m jigsaw.train ...`
    main()
