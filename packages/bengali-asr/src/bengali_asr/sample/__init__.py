"""The generated Bengali ASR sample (grammar sentences spoken by espeak-ng, a noisy train split, a clean
valid split and an out-of-domain test split), kept apart from the solution code;
``bengali-asr-make-sample`` writes it."""

from bengali_asr.sample.synth import make_sample

__all__ = ["make_sample"]
