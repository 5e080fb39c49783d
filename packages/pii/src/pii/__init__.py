"""PII Data Detection (book ch.10)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers/bitsandbytes load, so even --help starts clean
