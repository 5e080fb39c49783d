"""The generated WSDM Cup sample (multilingual prompts whose better response is visible on the surface:
right facts, the prompt's language, the asked format, a sensible length), kept apart from the solution
code; ``wsdm-make-sample`` writes it."""

from wsdm.sample.synth import make_sample

__all__ = ["make_sample"]
