"""``aimo2-predict --model DIR [--data-dir DIR] [--output FILE] [--backend vllm|transformers] [...]``: the
submission's ``predict`` run over ``test.csv`` through the local gateway, as Kaggle runs it.

The same :func:`aimo2.kaggle.build_solver` a Kaggle notebook serves (its README cell), with the problems of
``test.csv`` (not reference.csv: that is the locally scored set ``aimo2-reproduce`` uses) served one at a time by
:class:`~aimo2.gateway.LocalGateway` under one shared budget: by default Kaggle's per-problem time times the
problems served. Writes ``submission.csv`` (``id, answer``) and, beside it, ``<output>.records.csv`` (per problem:
samples, tokens, seconds, votes, whether it stopped early or ran out of time) and ``<output>.log``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace

import pandas as pd
from transformers import HfArgumentParser

from aimo2.data import DataError, load_competition
from aimo2.gateway import ANSWERED, LocalGateway
from aimo2.kaggle import InferenceSettings, build_solver
from aimo2.paths import resolve_data_dir
from shared.recipes import ConfigError, parse_config
from shared.runs import open_prediction


@dataclass
class PredictArguments:
    data_dir: str | None = field(
        default=None, metadata={"help": "folder with test.csv (default: the sample)"}
    )
    output: str = field(default="submission.csv", metadata={"help": "where to write the submission"})
    verbose: bool = field(default=False, metadata={"help": "show the libraries' own output"})


def main(argv: list[str] | None = None) -> None:
    parser = HfArgumentParser((PredictArguments, InferenceSettings), description=__doc__.split("\n")[0])
    try:
        args, settings = parse_config(parser, argv)
        data_dir, _ = resolve_data_dir(args.data_dir)
        problems = load_competition(data_dir).test
    except (ConfigError, DataError) as err:
        sys.exit(f"aimo2-predict: {err}")
    output, log = open_prediction(args.output, args.verbose)
    if settings.n_problems is None:
        settings = replace(settings, n_problems=len(problems))
    solver = build_solver(settings)
    result = LocalGateway(problems, time_budget_s=settings.budget_s).run(solver.predict)
    result.write_submission(output)
    pd.DataFrame([r.to_dict() for r in solver.records]).to_csv(
        output.with_suffix(".records.csv"), index=False
    )
    answered = int((result.frame["status"] == ANSWERED).sum())
    print(f"aimo2-predict: {answered} of {len(problems)} problems answered in {result.elapsed_s:.0f} s of a "
          f"{settings.budget_s:.0f} s budget; wrote {output} (library output in {log})")  # fmt: skip


if __name__ == "__main__":
    main()
