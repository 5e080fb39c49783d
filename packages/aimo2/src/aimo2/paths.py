"""Where the aimo2 commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from shared.runs import ChapterPaths

PATHS = ChapterPaths("aimo2", marker="reference.csv", sample_maker="aimo2.synth:make_sample")
SAMPLE_DIR, OUTPUT_ROOT = PATHS.sample_dir, PATHS.output_root  # synth's default --out; tests
resolve_data_dir, run_dir = PATHS.resolve_data_dir, PATHS.run_dir
