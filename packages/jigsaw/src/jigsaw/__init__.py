"""Jigsaw Unintended Bias in Toxicity Classification (book ch.6)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers/bitsandbytes are imported, so that even --help starts clean
