"""The submitted system, rebuilt from ``models/`` alone: what ``bengali-asr-predict`` runs offline.

``manifest.json`` names the steps of the rung ``bengali-asr-reproduce`` chose, in this order:

- ``denoise``: each clip also spectrally gated, and the gated version kept only where the acoustic model is more
  confident on it (:func:`denoised_emissions`);
- ``system: ctc``: the CTC model's emissions (``acoustic/``: model, processor, vocabulary, chunking settings);
- ``lm``: beam search with the n-gram LM (``lm/``: ARPA, lexicon, tokens and the tuned ``decoder.json``), else
  greedy decoding;
- ``llm``: the beam's n-best rescored by a causal LM (``llm/``: the model and ``rescore.json``);
- ``punctuation``: the marks put back (``punctuation/``); ``dari``: instead, a dari after the last word.

``bengali-asr-reproduce`` computes its rungs with the same functions, so predict rebuilds the chosen rung's test
transcripts exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bengali_asr import model as acoustic
from bengali_asr import whisper
from bengali_asr.clips import Clips
from bengali_asr.ctc import greedy_decode
from bengali_asr.denoise import choose, confidence, spectral_gate
from bengali_asr.language_model import ARPA, decode_lm, load_language_model, nbest_lm
from bengali_asr.lm import ArpaLM, DecoderSettings
from bengali_asr.normalize import end_with_dari
from bengali_asr.postcorrect import LMScorer, RescoreSettings, rescore
from bengali_asr.punctuation import PunctuationModel

MANIFEST = "manifest.json"
DECODER = "decoder.json"
RESCORE = "rescore.json"
SYSTEMS = ("ctc", "whisper")
NBEST = 10  # hypotheses per clip the LLM rescores


def transcribe_whisper(model, recipe: dict, arpa: Path, splits: dict, desc: str = "whisper") -> dict:
    """Each split's waves transcribed by a loaded Whisper as the manifest entry ``recipe`` says (beams, the n-gram
    LM in ``arpa`` rescoring them with ``lm_weight``)."""
    lm = ArpaLM(arpa) if recipe.get("lm") else None
    return {name: model.transcribe(waves, num_beams=recipe["num_beams"], lm=lm,
                                   lm_weight=recipe.get("lm_weight", 0.0), desc=f"{desc} {name}")
            for name, waves in splits.items()}  # fmt: skip


def whisper_footprint(model_dir: Path) -> dict:
    """Megabytes of the Whisper weights in float32 and with the decoder in int8 (bitsandbytes), as loaded: parameters,
    buffers and the int8 weights' per-row scales (``SCB``, which ``get_memory_footprint`` leaves out)."""
    sizes = {}
    for int8 in (False, True):
        model = whisper.load(model_dir, int8=int8, device="cpu").model
        tensors = [*model.parameters(), *model.buffers()]
        tensors += [p.SCB for p in model.parameters() if getattr(p, "SCB", None) is not None]
        sizes["int8_mb" if int8 else "float_mb"] = sum(t.numel() * t.element_size() for t in tensors) / 2**20
    return sizes


def denoised_emissions(model: acoustic.AcousticModel, waves: Sequence[np.ndarray], emissions: list[np.ndarray],
                       margin: float = 0.0, desc: str = "denoised") -> tuple[list[np.ndarray], np.ndarray]:  # fmt: skip
    """Each clip's emissions from its spectrally gated audio where the model is more confident there (by more
    than ``margin``), else the original ``emissions``; and which clips took the gated version."""
    gated = model.log_probs(Clips.of(waves).map(spectral_gate), desc=desc)
    keep = choose([confidence(e) for e in emissions], [confidence(g) for g in gated], margin)
    return [g if k else e for e, g, k in zip(emissions, gated, keep, strict=True)], keep


class Pipeline:
    """The chosen system's models, loaded once; :meth:`transcribe` turns waves into submission sentences."""

    def __init__(self, models: Path):
        self.models = Path(models)
        path = self.models / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: not found; run bengali-asr-reproduce (or -train) to write models/"
            )
        self.manifest = json.loads(path.read_text())
        if self.manifest.get("system") not in SYSTEMS:
            raise ValueError(f"{path}: system {self.manifest.get('system')!r} is not one of {list(SYSTEMS)}")
        self.whisper = self.acoustic = self.lm = self.settings = None
        if self.manifest["system"] == "whisper":
            self.whisper = whisper.load(self.models / "whisper", int8=self.manifest.get("int8", False))
        else:
            self.acoustic = acoustic.load(self.models / "acoustic")
            self.lm = load_language_model(self.models / "lm") if self.manifest.get("lm") else None
            self.settings = DecoderSettings.load(self.models / "lm" / DECODER) if self.lm else None
        self.punctuation = PunctuationModel.load(self.models / "punctuation") \
            if self.manifest.get("punctuation") else None  # fmt: skip
        self.rescore = (
            RescoreSettings.load(self.models / "llm" / RESCORE) if self.manifest.get("llm") else None
        )

    def transcribe(self, waves: Sequence[np.ndarray], desc: str = "transcribe") -> list[str]:
        if self.whisper is not None:
            arpa = self.models / "lm" / ARPA
            return transcribe_whisper(self.whisper, self.manifest, arpa, {"test": waves}, desc=desc)["test"]
        emissions = self.acoustic.log_probs(waves, desc=desc)
        if self.manifest.get("denoise"):
            emissions, _ = denoised_emissions(self.acoustic, waves, emissions, desc=f"{desc} denoised")
        if self.rescore is not None:
            nbest = nbest_lm(self.lm, emissions, self.settings, NBEST, desc=f"{desc} n-best")
            scorer = LMScorer(self.models / "llm", batch_size=self.rescore.batch_size)
            texts = rescore(nbest, scorer, self.rescore.weight, length_norm=self.rescore.length_norm)
        elif self.lm is not None:
            texts = decode_lm(self.lm, emissions, self.settings, desc=f"{desc} beam search")
        else:
            texts = [greedy_decode(lp, self.acoustic.vocab) for lp in emissions]
        if self.punctuation is not None:
            texts = self.punctuation.predict(texts)
        if self.manifest.get("dari"):
            texts = [end_with_dari(t) for t in texts]
        return texts
