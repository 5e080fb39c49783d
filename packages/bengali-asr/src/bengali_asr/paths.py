"""Where the bengali-asr commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from shared.runs import ChapterPaths

PATHS = ChapterPaths("bengali-asr", marker="train.csv", sample_maker="bengali_asr.sample.synth:make_sample")
CHAPTER, resolve_data_dir, open_run = PATHS.chapter, PATHS.resolve_data_dir, PATHS.open_run
