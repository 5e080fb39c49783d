r"""``aimo2-reproduce``'s ladders on a model that learns (cpu preset): train, measure, vote, and submit.

The chapter's story, told by :mod:`aimo2.learner`'s tiny Qwen2 on the curriculum (see there for the base and
the training stages), with the chapter's own commands:

- **training ladder**: base → sft-cot, sft-tir → grpo (from sft-cot) → the 0.3/0.7 merge, each evaluated on
  the held-out problems (greedy and sampled, CoT and, for the TIR and merged models, TIR);
- **inference ladder** on the more accurate CoT model (sft-cot or grpo, sampled accuracy), one problem at a time through the gateway: single sample → vote
  over N → early-stopped vote → under a budget of decoding steps (a clock that counts the longest sample of
  each batch, :class:`~aimo2.learner.MeteredBackend`), a fixed N sized to fit it, early stopping without
  allocation, and early stopping with the budget shared among the problems (:class:`~aimo2.solver.Solver`'s
  ``token_budget``, never exceeded);
- **submission**: the early-stopped vote of that model over ``test.csv`` through the gateway, with the model
  and its inference settings saved under ``models/`` for ``aimo2-predict --config models/inference.yaml``.

The claims are decided on these measurements (``evidence: "model"``), paired problem by problem.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import yaml

from aimo2 import claims as claim_rules
from aimo2 import learner, sft, train_grpo
from aimo2.backends import SimulatedClock
from aimo2.configs import parse_run
from aimo2.data import load_competition
from aimo2.gateway import LocalGateway
from aimo2.kaggle import InferenceSettings, build_solver
from aimo2.learner import CurriculumPreset, Evaluation
from aimo2.merge import linear_merge
from aimo2.paths import RECIPES
from aimo2.rungs import Rung, fitted_samples, run_rung, seconds_per_batch
from aimo2.solver import Solver
from aimo2.synth import make_curriculum
from shared.report import Claim

__all__ = ["GRPO_MARGIN_POINTS", "MERGE_KEEPS", "ModelLadder", "best_cot_model", "evaluations", "fine_tune",
           "inference_ladder", "model_claims", "run", "submit", "train"]

GRPO_MARGIN_POINTS = 5.0  # GRPO may lose at most 5 points of sampled accuracy to count as "equal accuracy"
MERGE_KEEPS = 0.9  # "keeps most of a parent's accuracy": at least 90 % of it
CANDIDATES = (
    "sft-cot",
    "grpo",
)  # the CoT models; the inference ladder and the submission use the more accurate


@dataclass
class ModelLadder:
    """Everything the cpu preset measured on its model, for the report and results.json."""

    curriculum: Path
    models: dict[str, Path]
    logs: dict
    evaluations: list[Evaluation]
    rungs: dict[str, Rung]  # by role (aimo2.claims.ROLES)
    claims: list[Claim]
    submission: pd.DataFrame  # test.csv's answers, Kaggle's layout
    settings: InferenceSettings  # those of the submission (models/inference.yaml)
    chosen: str  # the model of the inference ladder and the submission


def fine_tune(
    preset: CurriculumPreset, stage: str, curriculum: Path, model: Path, out: Path
) -> tuple[Path, dict]:
    """One stage (``sft-cot``, ``sft-tir`` or ``grpo``) from ``model``: its recipe, on the curriculum, sized by
    the preset's flags; returns the trained model's folder and the trainer's log (losses, or rewards)."""
    argv = ["--config", str(RECIPES / f"{stage}.yaml"), "--output_dir", str(out / stage), "--data_dir", str(curriculum),
            "--preset", "cpu", "--model_name_or_path", str(model), *learner.stage_flags(preset, stage)]  # fmt: skip
    trainer, log = (train_grpo, "rewards.json") if stage == "grpo" else (sft, "log.json")
    run = parse_run(trainer.make_parser, argv, lambda _: dict(trainer.CPU_FIELDS), announce=False)
    folder = trainer.train(run)
    return Path(run.training.output_dir), json.loads((folder / log).read_text())


def train(preset: CurriculumPreset, curriculum: Path, base: Path, out: Path) -> tuple[dict[str, Path], dict]:
    """sft-cot and sft-tir from ``base``, grpo from sft-cot, the 0.3/0.7 merge; returns every model's folder
    (``base`` included) and the trainers' logs."""
    models, logs = {"base": base}, {}
    for stage, start in (("sft-cot", "base"), ("sft-tir", "base"), ("grpo", "sft-cot")):
        models[stage], logs[stage] = fine_tune(preset, stage, curriculum, models[start], out)
    models["merge-0.3cot-0.7tir"] = linear_merge([models["sft-cot"], models["sft-tir"]], [0.3, 0.7],
                                                 out / "merge-0.3cot-0.7tir", dtype="float32")  # fmt: skip
    return models, logs


# (model, style) pairs evaluated: each model in the style it was trained for; the merge in both
EVALUATED = (("base", "cot"), ("sft-cot", "cot"), ("grpo", "cot"), ("sft-tir", "tir"),
             ("merge-0.3cot-0.7tir", "cot"), ("merge-0.3cot-0.7tir", "tir"))  # fmt: skip


def evaluations(
    models: dict[str, Path], problems: pd.DataFrame, preset: CurriculumPreset
) -> list[Evaluation]:
    """Every (model, style) of :data:`EVALUATED`, greedy and sampled."""
    out, sandbox = [], learner.sandbox()
    for name in dict.fromkeys(model for model, _ in EVALUATED):
        backend = learner.load(models[name])
        for style in (s for m, s in EVALUATED if m == name):
            for mode in ("greedy", "sampled"):
                out.append(learner.evaluate(backend, problems, model=name, style=style, mode=mode,
                                            samples=preset.eval_samples, preset=preset, sandbox=sandbox))  # fmt: skip
    return out


def _find(found: list[Evaluation], model: str, style: str, mode: str = "sampled") -> Evaluation:
    return next(e for e in found if (e.model, e.style, e.mode) == (model, style, mode))


def _accuracy(evaluation: Evaluation) -> float:
    return float(pd.DataFrame(evaluation.records)["correct"].mean())


def model_claims(found: list[Evaluation]) -> list[Claim]:
    """The training ladder's claims, on sampled accuracy in points of 100 (each problem's samples paired
    with the other model's samples of the same index) and on tokens per completion."""
    base, cot, grpo = (_find(found, m, "cot") for m in ("base", "sft-cot", "grpo"))
    tir, merge_cot, merge_tir = _find(found, "sft-tir", "tir"), _find(found, "merge-0.3cot-0.7tir", "cot"), \
        _find(found, "merge-0.3cot-0.7tir", "tir")  # fmt: skip
    points = dict(evidence="model", scale=100.0)
    keep_cot, keep_tir = ((1 - MERGE_KEEPS) * 100 * _accuracy(e) for e in (cot, tir))
    return [
        claim_rules.compare("SFT on the curriculum's CoT traces raises accuracy over the base (points of 100)",
                            base, cot, **points),
        claim_rules.compare(f"GRPO keeps the SFT model's accuracy: non-inferior with a margin of "
                            f"{GRPO_MARGIN_POINTS:g} points", cot, grpo, margin=GRPO_MARGIN_POINTS, **points),
        claim_rules.compare("GRPO shortens completions (tokens per completion)", cot, grpo, evidence="model",
                            column="tokens", per_run=False, higher_is_better=False),
        claim_rules.compare(f"the 0.3/0.7 merge keeps at least {MERGE_KEEPS:.0%} of the CoT parent's accuracy "
                            f"(CoT prompts; margin {keep_cot:.3g} points)", cot, merge_cot, margin=keep_cot,
                            **points),
        claim_rules.compare(f"the 0.3/0.7 merge keeps at least {MERGE_KEEPS:.0%} of the TIR parent's accuracy "
                            f"(TIR prompts; margin {keep_tir:.3g} points)", tir, merge_tir, margin=keep_tir,
                            **points),
    ]  # fmt: skip


def best_cot_model(found: list[Evaluation]) -> str:
    """The CoT model a practitioner would serve: the most accurate on the held-out problems (sampled, as it
    will be served), of :data:`CANDIDATES`; a tie goes to the later stage (GRPO: shorter answers)."""
    return max(reversed(CANDIDATES), key=lambda m: _accuracy(_find(found, m, "cot")))


def inference_ladder(backend, problems: pd.DataFrame, preset: CurriculumPreset) -> dict[str, Rung]:
    """The voting rungs by role (:data:`aimo2.claims.ROLES` plus ``blind``), with a budget in decoding steps:
    ``budget_batches`` batches per problem at the pilot vote-N's mean steps per batch."""
    n, batch = preset.n_samples, preset.ladder_batch_size

    def factory(repeat: int, token_budget: int | None = None, **solver_kwargs):
        clock = SimulatedClock()
        solver = Solver(learner.MeteredBackend(backend, clock), clock=clock, seed=repeat,
                        max_new_tokens=preset.max_new_tokens, temperature=preset.temperature,
                        token_budget=token_budget, n_problems=len(problems) if token_budget is not None else None,
                        **solver_kwargs)  # fmt: skip
        return solver, clock

    def rung(name, budget=float("inf"), note="", **solver_kwargs):
        return run_rung(name, problems, lambda r: factory(r, **solver_kwargs), budget, preset.repeats, note)

    voting = dict(n_samples=n, batch_size=batch)
    early = voting | dict(min_agree=preset.min_agree, margin=preset.margin)
    ladder = {"single": rung("single-sample", n_samples=1, batch_size=1), "vote": rung(f"vote-{n}", **voting),
              "early": rung(f"vote-{n}-early-stop", **early)}  # fmt: skip
    per_problem = preset.budget_batches * seconds_per_batch(ladder["vote"])
    budget = int(per_problem * len(problems))
    fitted, note = fitted_samples(ladder["vote"], per_problem, batch, n, unit="decoding steps")
    ladder["fitted"] = rung(f"vote-{fitted}-fits-budget", budget, note, **voting | dict(n_samples=fitted))
    ladder["early_budget"] = rung(f"vote-{n}-early-stop-step-budget", budget,
                                  "early stopping, no allocation, under the budget", **early)  # fmt: skip
    ladder["allocation"] = rung("early-stop-step-allocation", budget,
                                f"{budget} decoding steps shared among the problems, never exceeded",
                                token_budget=budget, **early)  # fmt: skip
    return ladder


def submit(backend, model: Path, test: pd.DataFrame, preset: CurriculumPreset, out: Path):
    """The early-stopped vote over test.csv through the gateway; the model and the settings go to ``out``
    (``models/``), from which ``aimo2-predict --config out/inference.yaml`` gives the same answers."""
    saved = out / "model"
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(model, saved, ignore=shutil.ignore_patterns("checkpoint-*", "training_args.bin"))
    settings = InferenceSettings(model=str(saved.resolve()), backend="transformers", n_samples=preset.n_samples,
                                 batch_size=preset.ladder_batch_size, min_agree=preset.min_agree,
                                 margin=preset.margin, max_new_tokens=preset.max_new_tokens,
                                 temperature=preset.temperature, n_problems=len(test), seed=0)  # fmt: skip
    (out / "inference.yaml").write_text(yaml.safe_dump(asdict(settings), sort_keys=False))
    solver = build_solver(settings, backend=backend)
    result = LocalGateway(test, time_budget_s=settings.budget_s).run(solver.predict, show_progress=False)
    return result.submission(), settings


def run(preset: CurriculumPreset, out: Path) -> ModelLadder:
    """Write the curriculum into ``out/curriculum``, train, evaluate, run the inference ladder, submit."""
    curriculum = make_curriculum(out / "curriculum", seed=preset.seed, n_train=preset.n_train,
                                 n_reference=preset.n_reference, n_test=preset.n_test)  # fmt: skip
    competition = load_competition(curriculum)
    problems = learner.levels(competition.reference, competition.metadata)
    base = learner.base_model(curriculum, preset)
    models, logs = train(preset, curriculum, base, out / "training")
    found = evaluations(models, problems, preset)
    chosen = best_cot_model(found)
    backend = learner.load(models[chosen])
    subset = problems.groupby("level", sort=True).head(preset.ladder_per_level)[["id", "problem", "answer"]]
    rungs = inference_ladder(backend, subset.reset_index(drop=True), preset)
    found_claims = model_claims(found) + claim_rules.claims(
        rungs, evidence="model", budget="budget of decoding steps"
    )
    submission, settings = submit(backend, models[chosen], competition.test, preset, out / "models")
    return ModelLadder(curriculum, models, logs, found, rungs, found_claims, submission, settings, chosen)
