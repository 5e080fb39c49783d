"""``bengali-asr-reproduce``: the chapter's ladder in one command (§9.5 baseline → §9.6–9.8 top solutions).

1. ``ctc-greedy``: a CTC model over the data's characters (indicwav2vec; on CPU a tiny w2v-BERT), trained on the ``train`` split, greedy decoding (§9.5);
2. ``ctc+lm``: the same emissions decoded by beam search with an n-gram LM (modified Kneser–Ney ARPA built from the
   train split's sentences plus the extra text) over a lexicon; LM weight and word score tuned on ``valid``;
3. ``ctc+lm+filter``: a second model trained only on the train clips the first one transcribes with a WER at most
   ``--filter-threshold`` (the 3rd place's 0.75), decoded like 2 (§9.6);
   ``ctc-augmented``: the same with speed, reverberation and noise augmentation (when the preset does not already
   augment: the CPU one), for the out-of-domain test;
4. ``whisper`` / ``whisper+lm``: Whisper fine-tuned on the kept clips, alone and with the LM rescoring its beams;
5. ``...+punct``: a token-classification punctuation model puts the marks back (the 1st/2nd places);
6. ``...+denoise``: spectral gating before recognition, kept per clip only when the model is more confident on the
   denoised audio (the 3rd place's rule, with demucs in their case);
7. ``...+llm``: the n-best of the LM beam search rescored by a causal LLM (§9.8);
8. ``choice``: the system with the lowest valid WER is submitted;
9. ``whisper+lm-int8``: the Whisper decoder reloaded in bitsandbytes int8, its size, speed and WER.

Every score is the competition's mean per-clip WER on the clean ``valid`` split (settings tuned on valid are
cross-fitted over its two halves) and on the out-of-domain test when its transcripts are known (the sample's).
Claims compare rungs by a paired bootstrap over clips (``bengali_asr.report``). ``models/`` keeps what the chosen
system needs and ``manifest.json`` says how ``bengali-asr-predict`` runs it.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from transformers import HfArgumentParser

from bengali_asr import model as acoustic
from bengali_asr import report, whisper
from bengali_asr.audio import SAMPLE_RATE, AudioError
from bengali_asr.configs import TINY, AcousticConfig, DecoderConfig
from bengali_asr.ctc import greedy_decode
from bengali_asr.data import DataError, load_competition, read_extra_text
from bengali_asr.experiment import Split, clip_wers, halves, read_splits
from bengali_asr.filtering import filter_by_wer
from bengali_asr.language_model import (
    LanguageModel,
    build_language_model,
    decode_cross_fitted,
    decode_lm,
    nbest_lm,
    tune_cross_fitted,
)
from bengali_asr.normalize import end_with_dari, normalize, strip_punctuation
from bengali_asr.paths import open_run, resolve_data_dir
from bengali_asr.pipeline import (
    DECODER,
    MANIFEST,
    NBEST,
    RESCORE,
    denoised_emissions,
    transcribe_whisper,
    whisper_footprint,
)
from bengali_asr.postcorrect import LMScorer, RescoreSettings, best_weight, hypothesis_scores
from bengali_asr.postcorrect import choose as choose_texts
from bengali_asr.punctuation import PunctuationModel
from bengali_asr.vocab import build_vocab
from shared.recipes import ConfigError, FieldError, parse_config
from shared.report import print_claims, write_results
from shared.tiny import resolve_backbone

PRESETS = ("auto", "cpu", "full")
# CPU preset: a small w2v-BERT (conformer over filterbanks, stride-2 adapter) from scratch on the sample, the same
# Trainer as the full recipe. Measured on the sample (one core, seed 42): it leaves CTC's blank plateau by step 150
# and reaches greedy valid WER 0.59 (CER 0.19) at 400 steps, where a small wav2vec2 learning from the waveform was
# still on the plateau at 1,500. The sample's clips are short, so windows of 8 s exercise the chunked inference on
# its long test clips.
CPU_ACOUSTIC = dict(name="ctc", backbone="tiny", hidden_size=144, num_hidden_layers=3, num_attention_heads=4,
                    conv_kernel=15, dropout=0.1, mask_time_prob=0.1, mask_time_length=5, max_steps=400,
                    batch_size=16, gradient_accumulation_steps=1, learning_rate=3e-3, warmup_ratio=0.1,
                    lr_scheduler_type="cosine", augment=False, eval_batch_size=32, chunk_seconds=8.0,
                    chunk_overlap=1.0, max_train_seconds=12.0, bf16=False)  # fmt: skip
# Full preset: indicwav2vec fine-tuned as the 2nd/3rd places did (competition/recipes/indicwav2vec-ctc.yaml).
FULL_ACOUSTIC = dict(name="ctc", backbone="ai4bharat/indicwav2vec_v1_bengali", freeze_feature_encoder=False,
                     lr_scheduler_type="cosine", max_steps=30000, batch_size=16,
                     gradient_accumulation_steps=2, learning_rate=3e-5, augment=True, mask_time_prob=0.1,
                     mask_feature_prob=0.05, chunk_seconds=14.0, chunk_overlap=3.0, max_train_seconds=15.0)  # fmt: skip
CPU_DECODER = dict(lm_order=3, beam_size=50)
FULL_DECODER = dict(lm_order=5, beam_size=1024, lm_weights=[0.25, 0.375, 0.5, 0.75, 1.0],
                    word_scores=[0.0, 0.5, 1.0, 1.5], tune_clips=2000)  # fmt: skip
# LLM rescoring: a tiny Qwen2 pretrained on the LM text on CPU; a Bengali-capable 7B LLM in the full preset.
CPU_LLM, FULL_LLM = "tiny:qwen2-pretrained", "Qwen/Qwen2.5-7B"
LLM_WEIGHTS = [0.0, 0.1, 0.25, 0.5, 1.0]
# Whisper: a tiny one from scratch with a 5 s window on CPU (it learns nothing in the time: mechanics; an 8 s window
# is slower and learns less); whisper-medium as the 1st place in the full preset.
CPU_WHISPER = dict(backbone="tiny", chunk_seconds=5, size=dict(d_model=128, layers=2), max_steps=150,
                   batch_size=16, learning_rate=2e-3, bf16=False)  # fmt: skip
FULL_WHISPER = dict(backbone="openai/whisper-medium", chunk_seconds=30, size={}, max_steps=50000, batch_size=8,
                    learning_rate=1e-5, bf16=True)  # fmt: skip
WHISPER_BEAMS, WHISPER_LM_WEIGHT = 4, 0.5
CPU_PUNCTUATION = dict(backbone="tiny:deberta-v2", epochs=5.0, learning_rate=1e-3, batch_size=32)
FULL_PUNCTUATION = dict(
    backbone="xlm-roberta-large", epochs=2.0, learning_rate=2e-5, batch_size=32, max_length=256
)


@dataclass
class ReproduceArguments:
    """``bengali-asr-reproduce``'s flags; each spelled with dashes (``--data-dir``) or underscores."""

    data_dir: str | None = field(
        default=None, metadata={"help": "default competitions/bengali-asr/data, else the sample"}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "default outputs/bengali-asr/reproduce-<timestamp>"}
    )
    preset: str = field(default="auto", metadata={"help": "auto | cpu | full (auto: full with CUDA)"})
    filter_threshold: float = field(
        default=0.75,
        metadata={"help": "train clips whose first-model WER is above this are dropped (3rd place)"},
    )
    seed: int = 42
    verbose: bool = field(
        default=False, metadata={"help": "show the libraries' own output instead of <run>/run.log"}
    )

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise FieldError("preset", f"--preset: {self.preset!r} is not one of {' | '.join(PRESETS)}")
        if self.filter_threshold < 0:
            raise FieldError("filter_threshold", f"--filter-threshold: {self.filter_threshold} must be >= 0")


def make_parser() -> HfArgumentParser:
    return HfArgumentParser(ReproduceArguments, description="The chapter's ladder in one command.")


def resolve_preset(args: ReproduceArguments) -> str:
    return args.preset if args.preset != "auto" else ("full" if torch.cuda.is_available() else "cpu")


@dataclass
class Rung:
    """One row of the ladder: each split's transcripts, and how ``bengali-asr-predict`` rebuilds them (``recipe``,
    the manifest's steps)."""

    name: str
    hypotheses: dict[str, list[str]]
    seconds: float
    note: str
    recipe: dict | None = None  # None: not a system predict can run (a diagnostic row)
    evidence: str = "model"


class Ladder:
    def __init__(
        self, splits: dict[str, Split], out: Path, preset: str, args: ReproduceArguments, card: dict
    ):
        self.splits, self.out, self.preset, self.args, self.card = splits, out, preset, args, card
        full = preset == "full"
        self.acoustic_config = AcousticConfig(**(FULL_ACOUSTIC if full else CPU_ACOUSTIC), seed=args.seed)
        self.decoder_config = DecoderConfig(**(FULL_DECODER if full else CPU_DECODER))
        self.punctuation_settings = FULL_PUNCTUATION if full else CPU_PUNCTUATION
        self.llm_backbone = FULL_LLM if full else CPU_LLM
        self.rungs: dict[str, Rung] = {}
        self.decoder_settings: dict = {}  # per CTC model, the LM settings tuned on valid
        self.per_half: dict = {}  # per CTC model, the settings each half of valid is decoded with (cross-fitting)
        self.extras: dict = {}
        self.halves = halves(len(splits["valid"]), args.seed)

    def add(self, rung: Rung) -> Rung:
        self.rungs[rung.name] = rung
        return rung

    @property
    def scored(self) -> list[str]:
        """The splits whose transcripts are known."""
        return [name for name in ("valid", "test") if self.splits[name].references is not None]

    def train_acoustic(self, name: str, train: Split, vocab: dict, **changes) -> acoustic.AcousticModel:
        config = replace(self.acoustic_config, name=name, **changes)
        fits = acoustic.trainable(train.waves, config)
        if not fits.all():
            self.extras.setdefault("too_long", {})[name] = int((~fits).sum())
        train = train.subset(fits)
        model = acoustic.fit(config, train.waves, train.references, vocab, desc=name)
        model.save(self.out / name / "model")
        return model

    def emissions(self, model: acoustic.AcousticModel, name: str, splits=("valid", "test")) -> dict:
        return {s: model.log_probs(self.splits[s].waves, desc=f"{name} {s}") for s in splits}

    def ctc_rungs(
        self, name: str, model, lm: LanguageModel, emissions: dict, note: str, train_seconds: float
    ):
        """``name``-greedy and ``name``+lm from one model's emissions; returns the LM settings tuned on valid."""
        vocab = model.vocab
        start = time.time()
        greedy = {s: [greedy_decode(lp, vocab) for lp in emissions[s]] for s in emissions}
        self.add(Rung(f"{name}-greedy", greedy, train_seconds + time.time() - start, f"{note}, greedy decoding",
                      {"system": "ctc", "model": name, "lm": False}))  # fmt: skip
        start = time.time()
        valid = self.splits["valid"]
        settings, crossfit, table, per_half = tune_cross_fitted(lm, emissions["valid"], valid.references, self.halves,
                                                                self.decoder_config, seed=self.args.seed,
                                                                desc=f"{name}+lm tuning")  # fmt: skip
        self.per_half[name] = per_half
        table.to_csv(self.out / name / "lm_tuning.csv", index=False)
        self.decoder_settings[name] = settings
        hyps = {"valid": crossfit, "test": decode_lm(lm, emissions["test"], settings, desc=f"{name}+lm test")}
        self.add(Rung(f"{name}+lm", hyps, train_seconds + time.time() - start,
                      f"{note}, beam search with the {lm.order}-gram LM (weight {settings.lm_weight:g}, word score "
                      f"{settings.word_score:g})", {"system": "ctc", "model": name, "lm": True}))  # fmt: skip
        return settings

    def run(self, comp) -> None:
        train = self.splits["train"]
        vocab = build_vocab(train.references)
        extra = read_extra_text(comp.extra_text)
        lm = build_language_model(list(train.references) + extra, vocab, self.out / "lm",
                                  order=self.decoder_config.lm_order, arpa=self.decoder_config.arpa)  # fmt: skip
        self.extras["lm"] = lm.stats
        self.lm = lm

        # 1-2: the baseline and its LM decoding
        start = time.time()
        first = self.train_acoustic("ctc", train, vocab)
        seconds = time.time() - start
        emissions = self.emissions(first, "ctc")
        backbone = self.acoustic_config.backbone
        acoustic_name = "tiny w2v-BERT" if backbone == TINY else backbone
        self.ctc_rungs("ctc", first, lm, emissions, f"CTC ({acoustic_name}) on the train split", seconds)

        # 3: WER filter of the train split by the first model's greedy transcripts, then a second model
        train_greedy = first.greedy(train.waves, desc="ctc train")
        kept = filter_by_wer(train.references, train_greedy, self.args.filter_threshold)
        corrupted = np.isin(train.ids, list(self.card.get("corrupted", {})))
        self.extras["filter"] = {"threshold": kept.threshold, "clips": len(train), **kept.caught(corrupted)}
        pd.DataFrame({"id": train.ids, "wer": kept.wers, "kept": kept.keep, "corrupted": corrupted}).to_csv(
            self.out / "ctc" / "train_wer.csv", index=False
        )
        start = time.time()
        second = self.train_acoustic("ctc-filtered", train.subset(kept.keep), vocab)
        seconds = time.time() - start
        emissions = self.emissions(second, "ctc-filtered")
        settings = self.ctc_rungs("ctc-filtered", second, lm, emissions,
                                  f"CTC ({acoustic_name}) on the {int(kept.keep.sum())} train clips "
                                  + ("of lowest WER (the floor: the threshold kept fewer)" if kept.floored
                                     else f"with WER <= {kept.threshold:g}"), seconds)  # fmt: skip
        self.filtered = (second, settings, emissions)

        # 3b: the same kept clips, each read with a random speed change, room and noise (the 2nd place's
        # augmentation), for the out-of-domain test; the full recipe augments from the start
        if not self.acoustic_config.augment:
            start = time.time()
            augmented = self.train_acoustic("ctc-augmented", train.subset(kept.keep), vocab, augment=True)
            seconds = time.time() - start
            self.ctc_rungs("ctc-augmented", augmented, lm, self.emissions(augmented, "ctc-augmented"),
                           "the filtered model's recipe with speed/reverb/noise augmentation", seconds)  # fmt: skip

        # 5: punctuation restored on the best CTC system; the rule it must beat: a dari at the end
        base = self.rungs["ctc-filtered+lm"]
        self.add(Rung("ctc-filtered+lm+dari", {s: [end_with_dari(t) for t in h] for s, h in base.hypotheses.items()},
                      base.seconds, "a dari after the last word (the rule before any punctuation model)",
                      base.recipe | {"dari": True}))  # fmt: skip
        start = time.time()
        punct_model = PunctuationModel(**self.punctuation_settings, seed=self.args.seed)
        punct_model.fit([normalize(s) for s in list(train.references) + extra], desc="punctuation")
        punct_model.save(self.out / "punctuation")
        hyps = {s: punct_model.predict(base.hypotheses[s]) for s in base.hypotheses}
        self.add(Rung("ctc-filtered+lm+punct", hyps, base.seconds + time.time() - start,
                      "the marks put back by a token-classification model",
                      base.recipe | {"punctuation": True}))  # fmt: skip
        self.punctuation = punct_model

        # 6: denoising, kept per clip where the model is more confident on the gated audio
        self.denoise_rung(base.seconds)
        # 7: the LM beam's n-best rescored by a causal LLM
        self.llm_rung(base.seconds, list(train.references) + extra)
        # 4 and 9: Whisper on the kept clips, with the LM rescoring its beams, and its decoder in int8
        self.whisper_rungs(train.subset(kept.keep), extra)

    def whisper_rungs(self, train: Split, extra: list[str]) -> None:
        settings = dict(FULL_WHISPER if self.preset == "full" else CPU_WHISPER)
        folder, start = self.out / "whisper", time.time()
        backbone, window = settings.pop("backbone"), settings.pop("chunk_seconds")
        if backbone == "tiny":
            tokenizer = whisper.build_tokenizer([normalize(s) for s in list(train.references) + extra],
                                                folder / "base")  # fmt: skip
            backbone = whisper.tiny_whisper(folder / "base", tokenizer, self.args.seed, chunk_seconds=window,
                                            **settings.pop("size"))  # fmt: skip
        else:
            settings.pop("size")
        fits = train.waves.lengths <= window * SAMPLE_RATE
        if not fits.all():
            self.extras.setdefault("too_long", {})["whisper"] = int((~fits).sum())
        train = train.subset(fits)
        model_dir = whisper.train_whisper(backbone, train.waves, [normalize(s) for s in train.references],
                                          folder / "model", seed=self.args.seed, **settings)  # fmt: skip
        seconds = time.time() - start
        for name, recipe, note in (
            ("whisper", {"num_beams": 1}, "Whisper fine-tuned on the kept clips, greedy, its own punctuation"),
            ("whisper+lm", {"num_beams": WHISPER_BEAMS, "lm": True, "lm_weight": WHISPER_LM_WEIGHT},
             f"its {WHISPER_BEAMS} beams rescored with the n-gram LM (weight {WHISPER_LM_WEIGHT:g})"),
            ("whisper+lm-int8", {"num_beams": WHISPER_BEAMS, "lm": True, "lm_weight": WHISPER_LM_WEIGHT, "int8": True},
             "the same, the decoder's linear layers in bitsandbytes int8"),
        ):  # fmt: skip
            start = time.time()
            recipe = {"system": "whisper", "model": "whisper", "int8": False, **recipe}
            hyps = transcribe_whisper(whisper.load(model_dir, int8=recipe["int8"]), recipe, self.lm.arpa,
                                      {s: self.splits[s].waves for s in ("valid", "test")}, desc=name)  # fmt: skip
            self.add(Rung(name, hyps, seconds + time.time() - start, note, recipe))
        self.extras["whisper_int8"] = whisper_footprint(model_dir)

    def denoise_rung(self, seconds: float) -> Rung:
        model, settings, emissions = self.filtered
        start, hyps, used = time.time(), {}, {}
        for s in ("valid", "test"):
            mixed, keep = denoised_emissions(model, self.splits[s].waves, emissions[s], desc=f"denoise {s}")
            used[s] = float(keep.mean())
            if s == "valid":
                texts = decode_cross_fitted(
                    self.lm, mixed, self.halves, self.per_half["ctc-filtered"], "denoised valid"
                )
            else:
                texts = decode_lm(self.lm, mixed, settings, desc=f"denoised {s}")
            hyps[s] = self.punctuation.predict(texts)
        self.extras["denoise"] = {f"{s}_share_denoised": v for s, v in used.items()}
        return self.add(Rung("ctc-filtered+lm+punct+denoise", hyps, seconds + time.time() - start,
                             f"spectral gating where the model is more confident (valid {used['valid']:.0%}, "
                             f"test {used['test']:.0%} of clips)",
                             self.rungs["ctc-filtered+lm+punct"].recipe | {"denoise": True}))  # fmt: skip

    def llm_rung(self, seconds: float, texts: list[str]) -> Rung:
        """The n-best of the LM beam search rescored by a causal LLM: the weight cross-fitted on valid's halves
        like the LM's, then tuned on all of valid for the test."""
        _, settings, emissions = self.filtered
        start = time.time()
        self.llm_dir = resolve_backbone(self.llm_backbone, [strip_punctuation(t) for t in texts])
        scorer = LMScorer(self.llm_dir)
        valid_settings = [self.per_half["ctc-filtered"][h] for h in self.halves]  # cross-fitted LM settings
        nbest = {"valid": nbest_lm(self.lm, emissions["valid"], valid_settings, NBEST, desc="n-best valid"),
                 "test": nbest_lm(self.lm, emissions["test"], settings, NBEST, desc="n-best test")}  # fmt: skip
        scores = {s: hypothesis_scores(nbest[s], scorer) for s in nbest}  # the LLM reads each hypothesis once
        refs = self.splits["valid"].references
        crossfit = [""] * len(refs)
        for h in (0, 1):
            tune_on, apply_to = np.flatnonzero(self.halves != h), np.flatnonzero(self.halves == h)
            weight, _ = best_weight([nbest["valid"][i] for i in tune_on], [scores["valid"][i] for i in tune_on],
                                    [refs[i] for i in tune_on], LLM_WEIGHTS)  # fmt: skip
            chosen = choose_texts(
                [nbest["valid"][i] for i in apply_to], [scores["valid"][i] for i in apply_to], weight
            )
            for i, text in zip(apply_to, chosen, strict=True):
                crossfit[i] = text
        weight, table = best_weight(nbest["valid"], scores["valid"], refs, LLM_WEIGHTS)
        table.to_csv(self.out / "llm_tuning.csv", index=False)
        self.rescore_settings = RescoreSettings(weight=weight)
        hyps = {"valid": crossfit, "test": choose_texts(nbest["test"], scores["test"], weight)}
        hyps = {s: self.punctuation.predict(h) for s, h in hyps.items()}
        return self.add(Rung("ctc-filtered+lm+llm+punct", hyps, seconds + time.time() - start,
                             f"the beam's {NBEST}-best rescored by {self.llm_backbone} (weight {weight:g})",
                             self.rungs["ctc-filtered+lm+punct"].recipe | {"llm": True}))  # fmt: skip

    def choose(self) -> Rung:
        """The system with the lowest valid WER (marks included) among those predict can run."""
        candidates = [r for r in self.rungs.values() if r.recipe is not None]
        return min(candidates, key=lambda r: self.score(r, "valid")["wer"])

    def score(self, rung: Rung, split: str) -> dict:
        refs = self.splits[split].references
        if refs is None:
            return {"wer": float("nan"), "wer_plain": float("nan")}
        hyps = rung.hypotheses[split]
        return {
            "wer": float(clip_wers(refs, hyps).mean()),
            "wer_plain": float(clip_wers(refs, hyps, False).mean()),
        }


def save_models(ladder: Ladder, chosen: Rung) -> Path:
    """``models/``: the chosen system's acoustic model, LM and decoder settings, punctuation model, manifest."""
    models = ladder.out / "models"
    if models.exists():
        shutil.rmtree(models)
    models.mkdir(parents=True)
    recipe = dict(chosen.recipe)
    if recipe["system"] == "whisper":
        shutil.copytree(ladder.out / "whisper" / "model", models / "whisper")
    else:
        shutil.copytree(ladder.out / recipe["model"] / "model", models / "acoustic")
    if recipe.get("lm"):
        shutil.copytree(ladder.out / "lm", models / "lm")
        if recipe["system"] == "ctc":
            ladder.decoder_settings[recipe["model"]].save(models / "lm" / DECODER)
    if recipe.get("punctuation"):
        shutil.copytree(ladder.out / "punctuation", models / "punctuation")
    if recipe.get("llm"):
        llm = LMScorer(ladder.llm_dir)
        llm.model.save_pretrained(models / "llm")
        llm.tokenizer.save_pretrained(models / "llm")
        ladder.rescore_settings.save(models / "llm" / RESCORE)
    (models / MANIFEST).write_text(json.dumps({"rung": chosen.name, **recipe}, indent=2) + "\n")
    return models


def main(argv: list[str] | None = None) -> int:
    try:
        (args,) = parse_config(make_parser(), argv)
    except ConfigError as err:
        print(f"bengali-asr-reproduce: {err}", file=sys.stderr)
        return 2
    preset = resolve_preset(args)
    out = open_run(args.output_dir, "reproduce", args.verbose)
    try:
        data_dir, source = resolve_data_dir(args.data_dir)
        comp = load_competition(data_dir)
        card_path = Path(data_dir) / "card.json"
        card = json.loads(card_path.read_text()) if card_path.is_file() else {}
        splits = read_splits(comp)
    except (DataError, AudioError) as err:
        print(f"bengali-asr-reproduce: {err}", file=sys.stderr)
        return 1
    start = time.time()
    ladder = Ladder(splits, out, preset, args, card)
    ladder.run(comp)
    chosen = ladder.choose()
    models = save_models(ladder, chosen)
    submission = pd.DataFrame({"id": splits["test"].ids, "sentence": chosen.hypotheses["test"]})
    submission.to_csv(out / "submission.csv", index=False)
    claims = report.claims(ladder)
    report.write(ladder, chosen, claims, out, source, time.time() - start)
    write_results(out / "results.json", report.results_of(ladder, chosen, claims, source))
    print(report.summary(ladder, chosen))
    print_claims(claims)
    print(
        f"submission: {out / 'submission.csv'} (from {chosen.name}); models: {models}; report: {out / 'report.md'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
