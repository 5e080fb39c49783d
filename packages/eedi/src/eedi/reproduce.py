"""``eedi-reproduce``: the chapter's ladder in one command (§11.5 baselines → §11.6–11.7 top solutions).

1. ``tfidf`` and ``pretrained``: character TF-IDF and a pretrained embedder, no training (§11.5);
2. ``finetuned``: the embedder fine-tuned with MultipleNegativesRankingLoss, hard negatives mined from the
   pretrained embedder (§11.5.1);
3. ``ensemble``: the three retrievers' normalised scores, weights cross-fitted over the folds (§11.6);
4. ``pointwise``: an LLM under LoRA rescoring the ensemble's top candidates by its Yes/No logit (§11.6.1);
5. ``listwise``: an LLM under LoRA choosing among the pointwise top candidates by letter (§11.6.2);
6. ``ensemble+synthetic`` and ``synthetic``: the embedder fine-tuned again with the synthetic questions for
   misconceptions that have none, then the same fold rerankers rescoring its candidates (§11.7.1);
7. ``boost``: the best rung with the unseen-misconception boost, its strength cross-fitted (§11.7.2).

Every score is MAP@25 of the out-of-fold rankings of train.csv's labelled rows (and on the sample's test
labels), also split by whether the row's misconception is unseen by its fold's models. Claims compare rungs
by a paired bootstrap over questions (``eedi.report``). ``models/`` keeps what the submitted rung needs and
``manifest.json`` says how ``eedi-predict`` runs it.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from eedi import postprocess, report
from eedi.configs import ExperimentConfig
from eedi.data import DataError, load_competition
from eedi.experiment import ExperimentResult, Prepared, prepare, run_experiment, submission_of
from eedi.paths import open_run, resolve_data_dir
from eedi.ranked import Ranked
from eedi.ranking import recall_at_k
from shared.recipes import ConfigError, FieldError, parse_config
from shared.report import print_claims, write_results

# CPU preset: the real all-MiniLM-L6-v2 (PyPI) as the embedder, a tiny Qwen2 pretrained on the sample's own
# text (names and questions, no labels) as both rerankers, fully fine-tuned (lora_r 0: LoRA on a base this
# small learnt nothing in the time; measured); 3 folds.
CPU = dict(n_folds=3, holdout_misconceptions=0.4, embedder="minilm", embedder_max_length=128,
           embedder_learning_rate=1e-4, embedder_epochs=1.0, embedder_batch_size=32, hard_negatives=1,
           hard_negative_top=20, tfidf_analyzer="char_wb", tfidf_ngram_max=5,
           pointwise_backbone="tiny:qwen2-pretrained", pointwise_candidates=12, pointwise_negatives=5,
           pointwise_max_length=192, pointwise_learning_rate=3e-3, pointwise_epochs=2.0, pointwise_batch_size=16,
           pointwise_gradient_accumulation_steps=1, listwise_backbone="tiny:qwen2-pretrained", listwise_candidates=5,
           listwise_max_length=320, listwise_learning_rate=3e-3, listwise_epochs=2.0, listwise_batch_size=8,
           listwise_gradient_accumulation_steps=1, listwise_permutations=2, lora_r=0, lora_alpha=32,
           lora_target_modules=["q_proj", "k_proj", "v_proj", "o_proj"], load_in_4bit=False, bf16=False,
           warmup_ratio=0.1)  # fmt: skip
# Full preset: the write-ups' models (competitions/eedi/recipes/*.yaml).
FULL = dict(n_folds=5, holdout_misconceptions=0.5, embedder="BAAI/bge-large-en-v1.5", embedder_max_length=256,
            query_prefix="Represent this sentence for searching relevant passages: ", embedder_learning_rate=2e-5,
            embedder_epochs=3.0, embedder_batch_size=64, hard_negatives=3, hard_negative_top=50,
            pointwise_backbone="Qwen/Qwen2.5-14B-Instruct", pointwise_candidates=32, pointwise_negatives=23,
            listwise_backbone="Qwen/Qwen2.5-32B-Instruct", listwise_candidates=5, listwise_permutations=2,
            load_in_4bit=True)  # fmt: skip
PRESETS = ("auto", "cpu", "full")
SYNTHETIC = "extra/synthetic.csv"  # the sample's stand-in for an LLM-written set; a Kaggle user adds their own
KS = (1, 5, 10, 25, 50, 100)


@dataclass
class ReproduceArguments:
    """``eedi-reproduce``'s flags; each spelled with dashes (``--data-dir``) or underscores."""

    data_dir: str | None = field(default=None, metadata={"help": "default competitions/eedi/data, else the sample"})
    output_dir: str | None = field(default=None, metadata={"help": "default outputs/eedi/reproduce-<timestamp>"})
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    synthetic: list[str] = field(
        default_factory=list,
        metadata={"help": f"synthetic question sets (train.csv layout) relative to the data dir; default {SYNTHETIC} "
                  "when it exists"},
    )  # fmt: skip
    embedder: str | None = field(default=None, metadata={"help": "replace the preset's embedder"})
    reranker: str | None = field(default=None, metadata={"help": "replace the preset's reranker LLMs"})
    seed: int = 42
    verbose: bool = field(default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"})

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise FieldError("preset", f"--preset: {self.preset!r} is not one of {' | '.join(PRESETS)}")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments, description="The chapter's ladder in one command.")


def resolve_preset(args: ReproduceArguments) -> str:
    return args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")


@dataclass
class Rung:
    """One row of the ladder: out-of-fold and test rankings, and how ``eedi-predict`` rebuilds the test's."""

    name: str
    oof: Ranked
    test: Ranked
    seconds: float
    note: str
    recipe: dict  # manifest.json of this rung
    evidence: str = "model"


class Ladder:
    def __init__(self, prep: Prepared, out: Path, base: ExperimentConfig, evidence: str, llm_evidence: str):
        self.prep, self.out, self.base = prep, out, base
        self.evidence, self.llm_evidence = evidence, llm_evidence
        self.rungs: dict[str, Rung] = {}
        self.results: dict[str, ExperimentResult] = {}
        self.boost_lines: list[str] = []
        self.boosted: dict[str, str] = {}  # boosted rung -> the rung it boosts

    def experiment(self, name: str, note: str, stages: dict[str, str] | None = None, reuse: str | None = None,
                   evidence: str | None = None, **changes) -> ExperimentResult:  # fmt: skip
        """Cross-validate one experiment into ``out/<name>``; ``stages`` names extra rungs taken from its
        pointwise stage (``{"pointwise": note}``); ``reuse`` an earlier experiment whose fold rerankers rescore
        this one's candidates."""
        config = replace(self.base, name=name, **changes)
        rerankers = self.results[reuse].rerankers if reuse else None
        result = run_experiment(config, self.prep, self.out / name, self.out / "models", desc=name, rerankers=rerankers)
        self.results[name] = result
        reranker_dir = reuse or name
        recipe = {"config": asdict(config), "retrievers": [{"kind": k, "path": s.saved} for k, s in result.retrieval.items()],
                  "weights": None if result.fused is None else result.fused.weights,
                  "pointwise": f"{reranker_dir}/pointwise" if config.reranks else None,
                  "listwise": f"{reranker_dir}/listwise" if config.listwise else None, "boost": None}  # fmt: skip
        evidence = self.llm_evidence if config.reranks else (evidence or self.evidence)
        for stage, stage_note in (stages or {}).items():
            stage_recipe = recipe | {"config": asdict(replace(config, rerank="pointwise")), "listwise": None}
            self.rungs[stage] = Rung(stage, result.pointwise_oof, result.pointwise_test, result.seconds, stage_note,
                                     stage_recipe, evidence)  # fmt: skip
        self.rungs[name] = Rung(name, result.oof, result.test, result.seconds, note, recipe, evidence)
        return result

    def boost(self, source: str, name: str = "boost") -> Rung:
        """``source`` with the unseen boost, each fold's strength tuned on the other folds' rows, as rung ``name``."""
        prep, rung, config = self.prep, self.rungs[source], self.base
        self.boosted[name] = source
        strengths = postprocess.grid(config.boost_max, config.boost_step)
        oof, per_fold, final = postprocess.cross_fitted(rung.oof, prep.unseen, prep.truth, prep.fold, strengths)
        test = postprocess.boost(rung.test, prep.test_unseen, final)
        share = postprocess.top1_unseen_share(test, prep.test_unseen)
        self.boost_lines.append(f"`{name}`, the boost on `{source}`: strength {final:g} for the test (a factor e^{final:g} = {np.exp(final):.2f} "
                           f"on an unseen misconception's probability), folds' strengths {per_fold} tuned on the other "
                           f"folds; unseen misconceptions are {share:.0%} of the test's first predictions after it "
                           f"({postprocess.top1_unseen_share(rung.test, prep.test_unseen):.0%} before).")  # fmt: skip
        recipe = rung.recipe | {"boost": final}
        self.rungs[name] = Rung(name, oof, test, rung.seconds, f"{source} + unseen boost {final:g}", recipe,
                                rung.evidence)  # fmt: skip
        return self.rungs[name]

    @property
    def boost_line(self) -> str:
        return "\n\n".join(self.boost_lines) or "Not run."


def run_ladder(args: ReproduceArguments, preset: str, data_dir: Path, out: Path, sample: bool) -> tuple[Ladder, dict]:
    """Every rung on ``data_dir``; ``sample``: the data is the generated sample, whose synthetic set is written
    by the templates that wrote its test questions (a simulator of an LLM writer, not one)."""
    synthetic = args.synthetic or ([SYNTHETIC] if (data_dir / SYNTHETIC).is_file() else [])
    templated = sample and synthetic == [SYNTHETIC]
    data = load_competition(data_dir, extra=synthetic)
    settings = dict(CPU if preset == "cpu" else FULL)
    if args.embedder:
        settings.update(embedder=args.embedder, embedder_num_layers=0)
    if args.reranker:
        settings.update(pointwise_backbone=args.reranker, listwise_backbone=args.reranker)
    base = ExperimentConfig(name="base", seed=args.seed, rerank="none", **settings)
    prep = prepare(data, base.n_folds, base.holdout_misconceptions, args.seed)
    evidence = "mechanics" if base.embedder.startswith("tiny:") else "model"
    llm_evidence = "mechanics" if base.pointwise_backbone.startswith("tiny:") else evidence
    ladder = Ladder(prep, out, base, evidence, llm_evidence)

    ladder.experiment("tfidf", "character n-gram TF-IDF of the misconception names", retrievers=["tfidf"])
    ladder.experiment("pretrained", f"`{base.embedder}` with no training", retrievers=["pretrained"])
    ladder.experiment("finetuned", f"MNRL, {base.hard_negatives} hard negative(s) from the pretrained embedder",
                      retrievers=["finetuned"])  # fmt: skip
    all3 = ["tfidf", "pretrained", "finetuned"]
    ladder.experiment("ensemble", "the three retrievers fused, weights cross-fitted", retrievers=all3)
    ladder.experiment("listwise", f"pointwise top {base.listwise_candidates} reordered by a listwise LLM",
                      stages={"pointwise": f"ensemble top {base.pointwise_candidates} rescored by a Yes/No LLM"},
                      retrievers=all3, rerank="pointwise+listwise")  # fmt: skip
    if len(prep.synthetic):
        writer = "the sample's templates" if templated else "an LLM"
        ladder.experiment("ensemble+synthetic", f"the ensemble, its embedder trained also on synthetic questions "
                          f"({writer}) for misconceptions the fold has none of", retrievers=all3, synthetic=synthetic,
                          evidence="simulated" if templated else None)  # fmt: skip
        ladder.experiment("synthetic", "ensemble+synthetic's candidates, listwise's fold rerankers", retrievers=all3,
                          synthetic=synthetic, rerank="pointwise+listwise", reuse="listwise")  # fmt: skip
    best = max(ladder.rungs.values(), key=lambda r: score(r, prep))
    if best.name != "ensemble":  # the boost where the retriever never saw a question of the unseen ones too
        ladder.boost("ensemble", "ensemble+boost")
    ladder.boost(best.name)
    artefacts = {"recall": recall_table(ladder), "base": base, "data": data, "synthetic": synthetic,
                 "boost_line": ladder.boost_line, "templated": templated}  # fmt: skip
    return ladder, artefacts


def score(rung: Rung, prep: Prepared) -> float:
    return float(rung.oof.average_precision(prep.truth).mean())


def recall_table(ladder: Ladder):
    """Recall@k of each retrieval rung's out-of-fold scores: how many candidates a reranker must see."""
    rows = []
    for name, result in ladder.results.items():
        if result.config.reranks or result.fused is None:
            continue
        found = recall_at_k(result.fused.oof, ladder.prep.truth, [k for k in KS if k <= ladder.prep.n_columns])
        rows.append({"retriever": name, **{f"recall@{k}": v for k, v in found.items()}})
    return pd.DataFrame(rows)


def write_models(out: Path, best: Rung, prep: Prepared) -> None:
    """Keep in ``models/`` only what ``best`` needs, and write its manifest."""
    models = out / "models"
    recipe = dict(best.recipe)
    needed = {p for p in (recipe["pointwise"], recipe["listwise"]) if p}
    needed |= {r["path"] for r in recipe["retrievers"]}
    for path in sorted(models.glob("*/*")):
        rel = f"{path.parent.name}/{path.name}"
        if path.is_dir() and rel not in needed:
            shutil.rmtree(path)
    for path in models.iterdir():
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    ids = prep.data.misconceptions["MisconceptionId"].to_numpy()
    manifest = {"rung": best.name, **recipe, "n_misconceptions": len(ids),
                "seen": sorted(int(i) for i in np.unique(ids[prep.truth]))}  # fmt: skip
    (models / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    try:
        (args,) = parse_config(make_parser(), argv)
        preset = resolve_preset(args)
        data_dir, data_name = resolve_data_dir(args.data_dir)
        out = open_run(args.output_dir, "reproduce", args.verbose)
        print(f"eedi-reproduce: {data_name} data, {preset} preset; library logs in {out / 'run.log'}")
        ladder, artefacts = run_ladder(args, preset, data_dir, out, sample=data_name == "sample")
    except (ConfigError, DataError) as err:
        sys.exit(f"error: {err}")
    prep = ladder.prep
    rungs = list(ladder.rungs.values())
    best = max(rungs, key=lambda r: score(r, prep))
    submission_of(prep, best.test).to_csv(out / "submission.csv", index=False)
    write_models(out, best, prep)
    found = report.claims(ladder.rungs, prep, args.seed, ladder.boosted)
    results = report.write(out, rungs, found, prep, artefacts, data=data_name, preset=preset, settings=asdict(args))
    write_results(out / "results.json", results)
    print(report.markdown(report.ladder_table(rungs, prep)))
    print_claims(found)
    print(f"wrote {out}: report.md, results.json, recall.png, submission.csv (from {best.name}), models/, run.log")
