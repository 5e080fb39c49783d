"""``science-exam-train --config recipe.yaml``: one experiment, cross-validated, with its models and submission.

The Hugging Face convention (``HfArgumentParser`` dataclasses): ``--config`` sets the fields from a recipe,
any ``--field value`` flag overrides them. The run folder gets the experiment's OOF and test probabilities,
``models/`` (the corpus index, the fold pipelines, ``manifest.json``) for ``science-exam-predict``, and
``submission.csv``. Multi-GPU::

    uv run accelerate launch --config_file competitions/science-exam/recipes/accelerate/ddp.yaml \\
        -m science_exam.train --config competitions/science-exam/recipes/deberta-v3-large-hybrid-rerank.yaml \\
        --output-dir outputs/science-exam/deberta
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field, replace

from transformers import HfArgumentParser

from science_exam.configs import ExperimentConfig
from science_exam.data import DataError, load_competition
from science_exam.experiment import INDEX, assign_folds, is_main_process, prepare, run_experiment
from science_exam.paths import open_run, resolve_data_dir
from science_exam.scoring import map_at_3
from science_exam.submission import MANIFEST, write_submission
from shared.recipes import ConfigError, parse_config


@dataclass
class RunArguments:
    data_dir: str | None = field(
        default=None,
        metadata={"help": "Kaggle files; default competitions/science-exam/data, else the sample"},
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/science-exam/<name>-<timestamp>"}
    )
    corpus: str | None = field(
        default=None, metadata={"help": "corpus folder or file (.parquet/.jsonl); default <data-dir>/corpus"}
    )
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )


def make_parser() -> HfArgumentParser:
    return HfArgumentParser((ExperimentConfig, RunArguments))


def main(argv: list[str] | None = None) -> None:
    try:
        config, run = parse_config(make_parser(), argv)
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not run.output_dir:
            raise ConfigError(
                "--output-dir: name it under accelerate launch, so that every rank uses the same folder"
            )
        data_dir, _ = resolve_data_dir(run.data_dir)
        data = load_competition(data_dir, extra=config.extra, corpus=run.corpus)
        if config.retrieval == "none":  # no index to build or ship
            data = replace(data, articles=None)
        elif data.articles is None:
            raise DataError(
                f"retrieval: {config.retrieval!r} needs a corpus: none in {data_dir}/corpus, and no --corpus"
            )
        out = open_run(run.output_dir, config.name, run.verbose)
        prep = prepare(data, config, out / "models", config.max_extra, config.seed)
        fold = assign_folds(data.train, config.n_folds, config.seed)
        result = run_experiment(config, prep, fold, out, models_dir=out / "models" / config.name)
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    if not is_main_process():
        return
    n_folds = int(fold.max()) + 1
    member = {"name": config.name, "folds": [f"{config.name}/fold-{k}" for k in range(n_folds)],
              "tta": config.tta_permutations, "weight": 1.0}  # fmt: skip
    manifest = {"rung": config.name, "kind": "blend", "members": [member],
                "index": INDEX if config.retrieval != "none" else None}  # fmt: skip
    (out / "models" / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    write_submission(out / "submission.csv", data.test["id"], result.test)
    tested = ""
    if data.test_labels is not None:
        truth = data.test[["id"]].merge(data.test_labels, on="id", how="left")["answer"]
        tested = f", test MAP@3 {map_at_3(result.test, truth.to_numpy()):.4f}"
    print(f"{config.name}: CV MAP@3 {result.cv:.4f} over {n_folds} folds{tested}; wrote {out}")


if __name__ == "__main__":  # `accelerate launch -m science_exam.train ...`
    main()
