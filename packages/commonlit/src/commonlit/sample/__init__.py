"""The generated CommonLit sample (hand-written passages, simulated student summaries), kept apart from the
solution code; ``commonlit-make-sample`` writes it."""

from commonlit.sample.synth import make_sample

__all__ = ["make_sample"]
