"""Kaggle – LLM Science Exam (book ch.8)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers load, so even --help starts clean
