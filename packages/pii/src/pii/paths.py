"""Where the pii commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from shared.runs import ChapterPaths

PATHS = ChapterPaths("pii", marker="train.json", sample_maker="pii.synth:make_sample")
resolve_data_dir, open_run = PATHS.resolve_data_dir, PATHS.open_run
