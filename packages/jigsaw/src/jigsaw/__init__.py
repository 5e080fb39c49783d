"""Jigsaw Unintended Bias in Toxicity Classification (book ch.6)."""
