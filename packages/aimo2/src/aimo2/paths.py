"""Where the aimo2 commands read data and write outputs by default (``shared.runs.ChapterPaths``)."""

from pathlib import Path

from shared.runs import ChapterPaths

PATHS = ChapterPaths("aimo2", marker="reference.csv", sample_maker="aimo2.synth:make_sample")
SAMPLE_DIR, OUTPUT_ROOT = PATHS.sample_dir, PATHS.output_root  # synth's default --out; tests
resolve_data_dir, run_dir = PATHS.resolve_data_dir, PATHS.run_dir


def recipes_dir() -> Path:
    """The chapter's recipes: those of the workspace this package is installed from (editable, as ``uv sync``
    installs it), so the command runs from any folder; else ``competitions/aimo2/recipes`` under the working
    directory (a wheel install run from a checkout)."""
    here = Path(__file__).resolve().parents[4] / "competitions" / "aimo2" / "recipes"
    return here if here.is_dir() else Path("competitions/aimo2/recipes")


RECIPES = recipes_dir()
