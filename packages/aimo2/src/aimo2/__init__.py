"""AI Mathematical Olympiad Progress Prize 2 (book ch.13)."""

from shared.console import quiet_imports

quiet_imports()  # before any submodule imports torch, bitsandbytes or deepspeed, so even --help starts clean
