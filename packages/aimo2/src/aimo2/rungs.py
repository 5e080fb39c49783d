"""A rung of a ladder: one way of answering, served problem by problem through the local gateway, as Kaggle does."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from aimo2.gateway import LocalGateway
from shared.console import progress


@dataclass
class Rung:
    name: str
    scores: list[float]  # correct answers per repeat
    seconds: float
    records: list[dict]  # the solver's per-problem records, every repeat
    n_problems: int
    submission: pd.DataFrame  # id, answer of the first repeat, Kaggle's layout
    note: str = ""


def run_rung(name, problems, make_solver, budget_s, repeats, note="") -> Rung:
    """Serve every problem to a fresh solver per repeat (one bar, named after the rung, over them all);
    the gateway's score is one fold."""
    start = time.perf_counter()
    scores, records, submissions = [], [], []
    bar = progress(desc=name, total=repeats * len(problems), unit="problem")
    for repeat in range(repeats):
        solver, clock = make_solver(repeat)

        def predict(id_: str, problem: str, solver=solver) -> int:
            try:
                return solver.predict(id_, problem)
            finally:
                bar.update()

        result = LocalGateway(problems, time_budget_s=budget_s, clock=clock).run(predict, show_progress=False)
        bar.update((repeat + 1) * len(problems) - bar.n)  # the problems the budget left unserved
        scores.append(result.score())
        submissions.append(result.submission())
        served = {r.id: r for r in solver.records}
        for row in result.frame.itertuples(index=False):
            rec = (
                served[row.id].to_dict() if row.id in served else {"id": row.id, "tokens": 0, "n_samples": 0}
            )
            records.append(rec | {"repeat": repeat, "status": row.status, "correct": bool(row.correct)})
    bar.close()
    return Rung(name, scores, time.perf_counter() - start, records, len(problems), submissions[0], note)


def seconds_per_batch(rung: Rung) -> float:
    """The rung's mean clock time per batch of samples (decoding steps on a metered clock)."""
    records = pd.DataFrame(rung.records)
    return records["seconds"].sum() / records["n_batches"].sum()


def fitted_samples(
    vote: Rung, seconds_per_problem: float, batch_size: int, n_max: int, unit: str = "s"
) -> tuple[int, str]:
    """(K, the rung's note): the largest K, in whole batches and at least one, whose expected time fits the
    budget, expecting every batch to take the mean seconds per batch measured on ``vote`` (a pilot run
    on the same problems, as one would time the public reference problems before submitting)."""
    per_batch = seconds_per_batch(vote)
    batches = max(int(seconds_per_problem // per_batch), 1)
    k = min(batches * batch_size, n_max)
    note = (f"fixed N sized to the budget: {seconds_per_problem:.0f} {unit} per problem / {per_batch:.0f} {unit} per batch "
            f"of {batch_size} (mean of {vote.name}) -> {batches} batch(es)")  # fmt: skip
    return k, note
