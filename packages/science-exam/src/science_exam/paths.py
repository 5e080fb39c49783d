"""Where the science-exam commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from shared.runs import ChapterPaths

PATHS = ChapterPaths("science-exam", marker="train.csv", sample_maker="science_exam.sample.synth:make_sample")
resolve_data_dir, open_run = PATHS.resolve_data_dir, PATHS.open_run
