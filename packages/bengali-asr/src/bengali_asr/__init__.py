"""Bengali.AI Speech Recognition (book ch.9)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers load, so even --help starts clean
