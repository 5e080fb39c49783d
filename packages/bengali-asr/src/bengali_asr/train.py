"""``bengali-asr-train --config recipe.yaml [--field value ...]``: one system trained at full scale.

The recipe's acoustic model (:class:`bengali_asr.configs.AcousticConfig`) is trained on the ``train`` split —
only on the clips a first model transcribes with a WER at most ``filter_threshold`` when ``filter_models`` names
that model's ``models/`` folder (the 3rd place's two stages) — the LM (:class:`~bengali_asr.configs.DecoderConfig`)
is built from the train sentences plus the extra text and its weights tuned on ``valid``, and a punctuation model
is trained when ``punctuation_backbone`` is set. It writes ``models/`` for ``bengali-asr-predict`` and the valid
WER of each decoding. Multi-GPU: ``accelerate launch --config_file competitions/bengali-asr/recipes/accelerate/
ddp.yaml -m bengali_asr.train --config ...``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from accelerate import PartialState
from transformers import HfArgumentParser

from bengali_asr import model as acoustic
from bengali_asr.audio import AudioError
from bengali_asr.configs import AcousticConfig, DecoderConfig
from bengali_asr.ctc import greedy_decode
from bengali_asr.data import DataError, load_competition, read_extra_text
from bengali_asr.experiment import clip_wers, halves, read_splits
from bengali_asr.filtering import filter_by_wer
from bengali_asr.language_model import build_language_model, tune_cross_fitted
from bengali_asr.normalize import normalize
from bengali_asr.paths import open_run, resolve_data_dir
from bengali_asr.pipeline import DECODER, MANIFEST
from bengali_asr.punctuation import PunctuationModel
from bengali_asr.vocab import build_vocab
from shared.recipes import ConfigError, FieldError, parse_config


@dataclass
class TrainArguments:
    """Where to read and write, and the steps around the acoustic model."""

    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/bengali-asr/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/bengali-asr/train-<timestamp>"}
    )
    filter_models: str | None = field(default=None, metadata={"help":
        "models/ of a first model: train clips it transcribes (greedy) with a WER above filter_threshold are "
        "left out"})  # fmt: skip
    filter_threshold: float = field(
        default=0.75, metadata={"help": "WER above which a train clip is dropped"}
    )
    punctuation_backbone: str | None = field(default=None, metadata={"help":
        "token-classification backbone of the punctuation model (e.g. xlm-roberta-large); none: no marks"})  # fmt: skip
    punctuation_epochs: float = 2.0
    punctuation_learning_rate: float = 2e-5
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        if self.filter_threshold < 0:
            raise FieldError("filter_threshold", f"filter_threshold: {self.filter_threshold} must be >= 0")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(
        (TrainArguments, AcousticConfig, DecoderConfig), description=__doc__.split("\n")[0]
    )


def main(argv: list[str] | None = None) -> int:
    try:
        args, config, decoder_config = parse_config(make_parser(), argv)
    except ConfigError as err:
        print(f"bengali-asr-train: {err}", file=sys.stderr)
        return 2
    state = PartialState()
    if state.num_processes > 1 and not args.output_dir:
        print("bengali-asr-train: --output-dir: required under accelerate launch (each rank would otherwise pick its "
              "own timestamped folder)", file=sys.stderr)  # fmt: skip
        return 2
    out = open_run(args.output_dir, "train", args.verbose)
    try:
        with state.main_process_first():  # the sample, when it is made on first use, is written by one rank
            data_dir, source = resolve_data_dir(args.data_dir)
        comp = load_competition(data_dir)
        splits = read_splits(comp)
    except (DataError, AudioError) as err:
        print(f"bengali-asr-train: {err}", file=sys.stderr)
        return 1
    start = time.time()
    train, valid = splits["train"], splits["valid"]
    summary = {
        "data": source,
        "config": asdict(config),
        "decoder": asdict(decoder_config),
        "clips": len(train),
    }
    if args.filter_models:
        # every rank filters (the same clips, deterministically) on its own device
        first = acoustic.load(Path(args.filter_models) / "acoustic", device=str(state.device))
        greedy = first.greedy(train.waves, desc="filter: train")
        kept = filter_by_wer(train.references, greedy, args.filter_threshold)
        summary["filter"] = {"threshold": kept.threshold, "dropped": kept.dropped}
        train = train.subset(kept.keep)
    fits = acoustic.trainable(train.waves, config)
    summary["too_long"] = int((~fits).sum())
    train = train.subset(fits)
    vocab = build_vocab(train.references)
    extra = read_extra_text(comp.extra_text)
    model = acoustic.fit(config, train.waves, train.references, vocab, desc=config.name)
    if not state.is_main_process:  # under accelerate launch: every rank trained, one writes
        return 0
    models = out / "models"
    model.save(models / "acoustic")
    lm = build_language_model(list(train.references) + extra, vocab, models / "lm", order=decoder_config.lm_order,
                              arpa=decoder_config.arpa)  # fmt: skip
    emissions = model.log_probs(valid.waves, desc="valid")
    greedy = [greedy_decode(lp, vocab) for lp in emissions]
    settings, crossfit, table, _ = tune_cross_fitted(lm, emissions, valid.references, halves(len(valid), config.seed),
                                                  decoder_config, seed=config.seed)  # fmt: skip
    settings.save(models / "lm" / DECODER)
    table.to_csv(out / "lm_tuning.csv", index=False)
    manifest = {"rung": config.name, "system": "ctc", "model": config.name, "lm": True, "punctuation": False}
    texts = crossfit
    if args.punctuation_backbone:
        punct = PunctuationModel(backbone=args.punctuation_backbone, epochs=args.punctuation_epochs,
                                 learning_rate=args.punctuation_learning_rate, seed=config.seed)  # fmt: skip
        punct.fit([normalize(s) for s in list(train.references) + extra], desc="punctuation")
        punct.save(models / "punctuation")
        manifest["punctuation"] = True
        texts = punct.predict(crossfit)
    (models / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    summary |= {
        "valid_wer_greedy_no_marks": float(clip_wers(valid.references, greedy, False).mean()),
        "valid_wer_lm_no_marks": float(clip_wers(valid.references, crossfit, False).mean()),
        "valid_wer": float(clip_wers(valid.references, texts).mean()),
        "decoder": settings.to_dict(), "seconds": time.time() - start,
    }  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(pd.Series({k: v for k, v in summary.items() if k.startswith("valid")}).to_string())
    print(f"models: {models}; summary: {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
