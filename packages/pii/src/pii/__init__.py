"""PII Data Detection (book ch.10)."""
