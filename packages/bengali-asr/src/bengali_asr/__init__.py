"""Bengali.AI Speech Recognition (book ch.9)."""
