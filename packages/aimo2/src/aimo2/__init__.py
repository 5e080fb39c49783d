"""AI Mathematical Olympiad Progress Prize 2 (book ch.13)."""
