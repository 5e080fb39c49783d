"""Where the commonlit commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from shared.runs import ChapterPaths

PATHS = ChapterPaths(
    "commonlit", marker="summaries_train.csv", sample_maker="commonlit.sample.synth:make_sample"
)
resolve_data_dir, open_run = PATHS.resolve_data_dir, PATHS.open_run
