"""Eedi – Mining Misconceptions in Mathematics (book ch.11)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers load, so even --help starts clean
