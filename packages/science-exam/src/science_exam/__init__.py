"""Kaggle LLM Science Exam (book ch.8)."""
