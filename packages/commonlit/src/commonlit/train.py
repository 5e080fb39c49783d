"""``commonlit-train --config recipe.yaml``: one experiment, cross-validated, with its models and submission.

The Hugging Face convention (``HfArgumentParser`` dataclasses): ``--config`` sets the fields from a recipe,
any ``--field value`` flag overrides them. The run folder gets the experiment's OOF and test predictions,
``models/`` (fold models, plus ``full/`` with ``full_data``; ``manifest.json``) for ``commonlit-predict``,
and ``submission.csv``. Multi-GPU::

    uv run accelerate launch --config_file competitions/commonlit/recipes/accelerate/ddp.yaml \\
        -m commonlit.train --config competitions/commonlit/recipes/deberta-v3-large-pooled.yaml
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from transformers import HfArgumentParser

from commonlit.configs import ExperimentConfig
from commonlit.data import DataError, load_competition
from commonlit.experiment import assign_folds, is_main_process, run_experiment
from commonlit.paths import open_run, resolve_data_dir
from commonlit.pseudo import PseudoLabels, fold_of_prompt
from commonlit.submission import MANIFEST, write_submission
from shared.metrics import mcrmse
from shared.recipes import ConfigError, parse_config


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "Kaggle files; default competitions/commonlit/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/commonlit/<name>-<timestamp>"}
    )
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments))


def pseudo_labels(config: ExperimentConfig, train, fold) -> PseudoLabels | None:
    """The recipe's pseudo-labelled file, checked against this run's folds (labels from other folds would
    leak the validation prompts' targets into training)."""
    if not config.pseudo_data:
        return None
    labels = PseudoLabels.read_csv(Path(config.pseudo_data), config.pseudo_weight)
    if len(labels.by_fold) != fold.max() + 1:
        raise DataError(f"{config.pseudo_data}: labelled by {len(labels.by_fold)} fold models, but this run has "
                        f"{fold.max() + 1} folds: label with models of the same n_folds and seed")  # fmt: skip
    ours = fold_of_prompt(train, fold)
    for prompt, k in zip(labels.frame["prompt_id"], labels.prompt_fold, strict=True):
        if k >= 0 and ours.get(prompt) != k:
            raise DataError(f"{config.pseudo_data}: prompt {prompt} was labelled as fold {k}, but this run puts it "
                            f"in fold {ours.get(prompt)}: label with models of the same n_folds and seed")  # fmt: skip
    return labels


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not run.output_dir:
            raise ConfigError(
                "--output-dir: name it under accelerate launch, so that every rank uses the same folder"
            )
        data_dir, _ = resolve_data_dir(run.data_dir)
        data = load_competition(data_dir)
        fold = assign_folds(data.train, config.n_folds, config.seed)
        pseudo = pseudo_labels(config, data.train, fold)
        out = open_run(run.output_dir, config.name, run.verbose)
        result = run_experiment(
            config, data, out, fold=fold, pseudo=pseudo, models_dir=out / "models" / config.name
        )
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    if not is_main_process():
        return
    # full_data: the submission is the full-data model's (what the 4th place submitted), else the folds' mean
    dirs = (
        [f"{config.name}/full"]
        if config.full_data
        else [f"{config.name}/fold-{k}" for k in range(fold.max() + 1)]
    )
    preds = result.full_test if config.full_data else result.test
    manifest = {
        "rung": config.name,
        "members": [{"name": config.name, "models": dirs, "weights": [1.0, 1.0]}],
    }
    (out / "models" / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    write_submission(out / "submission.csv", data.test["student_id"], preds)
    tested = ""
    if data.test_labels is not None:
        tested = (
            f", test MCRMSE {mcrmse(data.test_labels[['content', 'wording']].to_numpy(float), preds):.4f}"
        )
    which = "the full-data model" if config.full_data else f"the mean of {fold.max() + 1} fold models"
    print(
        f"{config.name}: CV MCRMSE {result.cv:.4f} over {fold.max() + 1} folds; submission from {which}{tested}; "
        f"wrote {out}"
    )


if __name__ == "__main__":  # `accelerate launch -m commonlit.train ...`
    main()
