"""Cross-validation folds, competition metrics and tiny offline checkpoints shared by every chapter."""
