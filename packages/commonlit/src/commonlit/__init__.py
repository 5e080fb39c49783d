"""CommonLit Evaluate Student Summaries (book ch.7)."""
