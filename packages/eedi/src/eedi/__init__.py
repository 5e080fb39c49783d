"""Eedi Mining Misconceptions in Mathematics (book ch.11)."""
