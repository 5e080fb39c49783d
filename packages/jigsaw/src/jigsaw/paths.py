"""Where the jigsaw commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from shared.runs import ChapterPaths

PATHS = ChapterPaths("jigsaw", marker="train.csv", sample_maker="jigsaw.synth:make_sample")
resolve_data_dir, run_dir = PATHS.resolve_data_dir, PATHS.run_dir
