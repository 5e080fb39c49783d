"""CommonLit – Evaluate Student Summaries (book ch.7)."""

from shared.console import quiet_imports

quiet_imports()  # before torch/transformers/textstat load, so even --help starts clean
