"""``report.md`` and results.json's content for ``bengali-asr-reproduce``, with the write-ups' claims decided beyond
their noise.

A claim compares two rungs' mean per-clip WER on the same clips: ``delta`` is the technique's change (negative is a
gain: lower is better) and ``interval`` its 90 % paired bootstrap interval over clips. The LM, filter and
punctuation claims are read on the clean ``valid`` split (cross-fitted where settings were tuned on it), the
denoising claim on the out-of-domain test, which only the sample has transcripts for.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bengali_asr.experiment import clip_wers
from shared.report import EVIDENCE, Claim, bootstrap, claims_markdown, markdown_table, results

METRIC = "mean per-clip WER on the valid split, after bengali_asr.normalize (marks attached to their words)"
# The acoustic model has learned the task when its greedy transcripts miss fewer than this share of words on valid;
# below that, every comparison is a comparison of noise (evidence "mechanics").
LEARNED = 0.9
LM_SUMMARY = (
    "sentences",
    "tokens",
    "vocab",
    "ngrams",
    "lexicon",
    "unspellable",
    "fallback",
)  # results.json has all
NON_INFERIORITY = 0.01  # one point of WER: what int8 weights may cost
# (claim, baseline rung, technique rung, split, marks counted[, margin: a non-inferiority claim])
SPECS = [
    ("LM decoding lowers WER", "ctc-greedy", "ctc+lm", "valid", False),
    ("LM decoding lowers WER out of domain", "ctc-greedy", "ctc+lm", "test", False),
    ("WER filtering of noisy labels lowers WER", "ctc+lm", "ctc-filtered+lm", "valid", False),
    ("speed/noise/reverb augmentation lowers WER out of domain", "ctc-filtered+lm", "ctc-augmented+lm", "test",
     False),
    ("a punctuation model beats ending every sentence with a dari", "ctc-filtered+lm+dari", "ctc-filtered+lm+punct",
     "valid", True),
    ("denoising lowers WER out of domain", "ctc-filtered+lm+punct", "ctc-filtered+lm+punct+denoise", "test", True),
    ("LLM rescoring of the n-best lowers WER", "ctc-filtered+lm+punct", "ctc-filtered+lm+llm+punct", "valid", True),
    ("Whisper beats wav2vec2 CTC + LM", "ctc-filtered+lm+punct", "whisper+lm", "valid", True),
    ("an int8 Whisper decoder costs less than 1 point of WER", "whisper+lm", "whisper+lm-int8", "valid", True,
     NON_INFERIORITY),
]  # fmt: skip


def weighted_mean(values: np.ndarray):
    """``score(weights)`` for ``shared.report.bootstrap(batched=True)``: the weighted mean of ``values``."""

    def score(weights: np.ndarray) -> np.ndarray:
        w = np.atleast_2d(weights)
        return (w @ values) / w.sum(axis=1)

    return score


def learned(ladder, rung: str) -> bool:
    """Whether the system behind ``rung`` learned anything: its plainest decoding (greedy CTC, or Whisper alone)
    misses fewer than :data:`LEARNED` of the valid words."""
    plain = "whisper" if rung.startswith("whisper") else "ctc-greedy"
    return ladder.score(ladder.rungs[plain], "valid")["wer_plain"] < LEARNED


def claims(ladder, seed: int = 0) -> list[Claim]:
    """The write-ups' findings, each checked on this run (a claim whose rungs or transcripts are missing is left
    out)."""
    out = []
    for text, baseline, technique, split, marks, *margin in SPECS:
        refs = ladder.splits[split].references
        if refs is None or baseline not in ladder.rungs or technique not in ladder.rungs:
            continue
        base = weighted_mean(clip_wers(refs, ladder.rungs[baseline].hypotheses[split], marks))
        tech = weighted_mean(clip_wers(refs, ladder.rungs[technique].hypotheses[split], marks))
        learnt = learned(ladder, baseline) and learned(ladder, technique)
        evidence = max((ladder.rungs[baseline].evidence, ladder.rungs[technique].evidence,
                        "model" if learnt else "mechanics"), key=EVIDENCE.index)  # fmt: skip
        out.append(bootstrap(f"{text} ({split}{'' if marks else ', marks stripped'})", baseline, technique,
                             lambda w, b=base, t=tech: (b(w), t(w)), len(refs), higher_is_better=False,
                             evidence=evidence, margin=margin[0] if margin else 0.0, seed=seed,
                             batched=True))  # fmt: skip
    return out


def ladder_table(ladder) -> pd.DataFrame:
    rows = []
    for rung in ladder.rungs.values():
        valid, test = ladder.score(rung, "valid"), ladder.score(rung, "test")
        rows.append({"experiment": rung.name, "valid WER": valid["wer"], "valid WER (no marks)": valid["wer_plain"],
                     "test WER": test["wer"], "test WER (no marks)": test["wer_plain"],
                     "seconds": round(rung.seconds, 1), "what": rung.note})  # fmt: skip
    return pd.DataFrame(rows)


def plot(ladder, path: Path) -> Path:
    """Each rung's distribution of per-clip WER (marks attached) on valid and, when known, the test."""
    splits = ladder.scored
    fig, axes = plt.subplots(1, len(splits), figsize=(6 * len(splits), 4), squeeze=False)
    bins = np.linspace(0, 1.5, 31)
    for ax, split in zip(axes[0], splits, strict=True):
        refs = ladder.splits[split].references
        for rung in ladder.rungs.values():
            wers = np.clip(clip_wers(refs, rung.hypotheses[split]), 0, 1.5)
            ax.hist(wers, bins=bins, histtype="step", label=f"{rung.name} ({wers.mean():.3f})")
        ax.set(title=f"per-clip WER, {split}", xlabel="WER (clipped at 1.5)", ylabel="clips")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write(ladder, chosen, claim_list: list[Claim], out: Path, source: str, seconds: float) -> Path:
    table = ladder_table(ladder)
    plot(ladder, out / "wer_distribution.png")
    filt = ladder.extras.get("filter", {})
    lines = [
        "# bengali-asr-reproduce",
        "",
        f"Data: {source}; preset: {ladder.preset}; {seconds / 60:.1f} min. Clips: "
        + ", ".join(f"{name} {len(split)}" for name, split in ladder.splits.items()) + ".",
        "",
        f"Metric: {METRIC}; the test columns are the out-of-domain test, scored when its transcripts are known.",
        "Valid WERs of rungs whose settings were tuned on valid (LM weight, word score, rescoring weight) are "
        "cross-fitted: each half of valid is decoded with the settings that did best on the other half.",
        "",
        "## Ladder",
        "",
        markdown_table(table),
        "",
        f"Submitted: **{chosen.name}** (lowest valid WER among the systems bengali-asr-predict can run).",
        "",
        "![per-clip WER](wer_distribution.png)",
        "",
        "## WER filter",
        "",
        f"Threshold {filt.get('threshold')}: {filt.get('dropped')} of {filt.get('clips')} train clips dropped"
        + (f"; {filt.get('caught')} of the {filt.get('corrupted')} clips whose transcripts were corrupted on purpose "
           f"among them (recall {filt.get('recall', float('nan')):.2f}, precision "
           f"{filt.get('precision', float('nan')):.2f})" if filt.get("corrupted") else
           " (which transcripts are wrong is unknown here: only the sample's card.json says)")
        + ("; the threshold kept fewer than half the clips (a first model too weak to judge the labels), so the "
           "half with the lowest WER was kept." if filt.get("floored") else "."),
        "",
        "## Whisper int8",
        "",
        ", ".join(f"{k}: {v:.2f}" for k, v in ladder.extras.get("whisper_int8", {}).items())
        + " (the weights' memory as loaded; the int8 rung's seconds are in the ladder).",
        "",
        "## Language model",
        "",
        ", ".join(f"{k}: {v}" for k, v in ladder.extras.get("lm", {}).items() if k in LM_SUMMARY),
        "",
        *claims_markdown(claim_list),
    ]  # fmt: skip
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n")
    table.to_csv(out / "ladder.csv", index=False)
    return path


def results_of(ladder, chosen, claim_list: list[Claim], source: str) -> dict:
    experiments = []
    for rung in ladder.rungs.values():
        valid, test = ladder.score(rung, "valid"), ladder.score(rung, "test")
        experiments.append({"name": rung.name, "cv": valid["wer"], "folds": [], "seconds": rung.seconds,
                            "valid_wer_no_marks": valid["wer_plain"], "test_wer": test["wer"],
                            "test_wer_no_marks": test["wer_plain"], "evidence": rung.evidence})  # fmt: skip
    return results(chapter="bengali-asr", metric=METRIC, higher_is_better=False, data=source, preset=ladder.preset,
                   experiments=experiments, claims=claim_list, submitted=chosen.name,
                   filter=ladder.extras.get("filter"), language_model=ladder.extras.get("lm"))  # fmt: skip


def summary(ladder, chosen) -> str:
    table = ladder_table(ladder).drop(columns=["what"])
    return table.to_string(index=False, float_format=lambda v: f"{v:.4f}") + f"\nsubmitted: {chosen.name}"
