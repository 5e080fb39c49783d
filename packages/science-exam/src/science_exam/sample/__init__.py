"""The generated LLM Science Exam sample (an invented encyclopaedia and questions about it), kept apart from
the solution code; ``science-exam-make-sample`` writes it."""

from science_exam.sample.synth import make_sample

__all__ = ["make_sample"]
