"""The generated Eedi sample (templated maths questions whose wrong answers are computed from a catalogue of
misconceptions), kept apart from the solution code; ``eedi-make-sample`` writes it."""

from eedi.sample.synth import make_sample

__all__ = ["make_sample"]
