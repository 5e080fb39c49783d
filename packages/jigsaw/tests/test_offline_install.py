"""The Kaggle path end to end on CPU: ``kls-wheels`` builds the wheel folder of this chapter from ``uv.lock``, a
fresh "image" venv (the lock's packages but three, as Kaggle's image has most of them) installs the chapter from it
with ``pip install --no-index``, and its ``jigsaw-predict`` writes a trained run's submission again."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jigsaw import train
from shared import wheels

ROOT = Path(__file__).parents[3]
LEFT_TO_THE_WHEELS = {"joblib", "tqdm", "pyyaml"}  # what the "image" lacks: the folder must bring them


def run(*command) -> str:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_the_wheel_folder_installs_offline_and_predict_runs_from_it(sample_dir, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: quick\nweighting: metric\nn_folds: 2\n")
    out = tmp_path / "run"
    train.main(["--config", str(recipe), "--data-dir", str(sample_dir), "--output-dir", str(out)])

    python = ".".join(map(str, sys.version_info[:3]))
    export = run("uv", "export", "--package", "jigsaw", "--frozen", "--no-dev", "--no-emit-workspace", "--no-hashes",
                 "--no-header", "--no-annotate")  # fmt: skip
    pins, _, _ = wheels.select(wheels.parse_export(export), wheels.target_environment(python), {})
    image = [p for p in pins if p.name not in LEFT_TO_THE_WHEELS]
    assert len(image) == len(pins) - len(LEFT_TO_THE_WHEELS)
    provided = {p.name: p.version for p in image}
    folder = tmp_path / "wheels"
    held = wheels.build_wheels("jigsaw", folder, provided=provided, python_version=python, root=ROOT)
    assert {p.name for p in held["downloaded"]} == LEFT_TO_THE_WHEELS and not held["differ"]
    names = sorted(p.name.split("-")[0].lower() for p in folder.glob("*.whl"))
    assert names == ["jigsaw", "joblib", "pyyaml", "shared", "tqdm"]

    # Kaggle's image: the lock's packages but the three. Building it is not what is tested, so it may read the
    # package index (uv's cache holds the wheels a sync installed, but not always the index pages that
    # `--offline` needs); the install from the folder below is the offline one.
    venv = tmp_path / "image"
    run("uv", "venv", "--quiet", "--seed", venv, "--python", sys.executable)
    (tmp_path / "image.txt").write_text("".join(f"{p.spec}\n" for p in image))
    run("uv", "pip", "install", "--quiet", "--python", venv / "bin" / "python", "--no-deps",
        "-r", tmp_path / "image.txt")  # fmt: skip
    run(
        venv / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        folder,
        "jigsaw",
    )
    shown = run(venv / "bin" / "python", "-m", "pip", "show", "joblib")
    assert str(venv) in shown  # joblib came from the folder, into the image

    test_only = tmp_path / "kaggle-input"
    test_only.mkdir()
    for name in ("test.csv", "sample_submission.csv"):
        (test_only / name).write_bytes((sample_dir / name).read_bytes())
    predicted = tmp_path / "submission.csv"
    run(
        venv / "bin" / "jigsaw-predict",
        "--models",
        out / "models",
        "--data-dir",
        test_only,
        "--output",
        predicted,
    )
    mine, theirs = pd.read_csv(predicted), pd.read_csv(out / "submission.csv")
    assert mine["id"].tolist() == theirs["id"].tolist()
    np.testing.assert_allclose(mine["prediction"], theirs["prediction"], atol=1e-6)
