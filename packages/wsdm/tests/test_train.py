"""``wsdm-train``: one recipe cross-validated with its soft labels, models and submission; a second recipe
distils from the first one's soft labels (the teacher → student hand-off of the full recipes); bad recipe
values and bad soft-label files stop with one line."""

import json

import numpy as np
import pandas as pd
import pytest

from wsdm import predict, train
from wsdm.configs import ExperimentConfig
from wsdm.data import DataError
from wsdm.experiment import prepare, read_teacher
from wsdm.sample.synth import make_sample

TINY = ["--backbone", "tiny:qwen2", "--n_folds", "2", "--max_length", "128", "--lora_r", "0", "--load_in_4bit", "false",
        "--bf16", "false", "--epochs", "1", "--batch_size", "8", "--gradient_accumulation_steps", "1"]  # fmt: skip


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("wsdm") / "sample", n_train=40, n_test=16, n_extra=20, seed=2)


@pytest.mark.slow
def test_a_teacher_run_feeds_a_distilled_student(sample_dir, tmp_path):
    teacher = tmp_path / "teacher"
    train.main(["--name", "teacher", "--data-dir", str(sample_dir), "--output-dir", str(teacher),
                "--extra", "extra/lmsys_arena.csv", *TINY])  # fmt: skip
    soft = pd.read_parquet(teacher / train.SOFT_LABELS)
    oof = pd.read_parquet(teacher / "teacher" / "oof.parquet")
    assert soft["id"].tolist() == oof["id"].tolist()
    # tta is on by default: the soft labels are the swap-averaged out-of-fold probabilities
    np.testing.assert_allclose(soft["p_model_a"], (oof["p_model_a"] + 1 - oof["p_model_a_swapped"]) / 2)
    student = tmp_path / "student"
    train.main(["--name", "student", "--data-dir", str(sample_dir), "--output-dir", str(student),
                "--teacher_file", str(teacher / train.SOFT_LABELS), "--tta", "false", *TINY])  # fmt: skip
    manifest = json.loads((student / "models" / "manifest.json").read_text())
    assert manifest["experiment"] == "student" and manifest["tta"] is False
    predict.main(
        [
            "--models",
            str(student / "models"),
            "--data-dir",
            str(sample_dir),
            "--output",
            str(tmp_path / "s.csv"),
        ]
    )
    assert (tmp_path / "s.csv").read_text() == (student / "submission.csv").read_text()


def test_a_bad_recipe_value_is_one_line(sample_dir, capsys):
    with pytest.raises(SystemExit, match=r"command line: head: 'regression' is not one of"):
        train.main(["--data-dir", str(sample_dir), "--head", "regression"])
    with pytest.raises(SystemExit, match=r"teacher_file: .* needs a trained head"):
        train.main(["--data-dir", str(sample_dir), "--head", "judge", "--teacher_file", "x.parquet"])
    with pytest.raises(SystemExit, match=r"extra: .* cannot be combined with teacher_file"):
        train.main(["--data-dir", str(sample_dir), "--extra", "e.csv", "--teacher_file", "x.parquet"])


def test_soft_labels_must_cover_every_training_pair_with_a_probability(sample_dir, tmp_path):
    from wsdm.data import load_competition

    prep = prepare(load_competition(sample_dir), 2, 0, sample_dir)
    ids = prep.train["id"]
    pd.DataFrame({"id": ids[1:], "p_model_a": 0.5}).to_parquet(tmp_path / "short.parquet")
    with pytest.raises(
        DataError, match=rf"short.parquet: no soft label for train id '{ids.iloc[0]}' \(1 missing\)"
    ):
        read_teacher(ExperimentConfig(teacher_file=str(tmp_path / "short.parquet")), prep)
    pd.DataFrame({"id": ids, "p_model_a": [0.5, 1.5] + [0.5] * (len(ids) - 2)}).to_parquet(
        tmp_path / "bad.parquet"
    )
    with pytest.raises(
        DataError, match=r"bad.parquet: row 2: column 'p_model_a': .*1.5.* is not a probability"
    ):
        read_teacher(ExperimentConfig(teacher_file=str(tmp_path / "bad.parquet")), prep)
    pd.DataFrame({"id": ids, "p_model_a": ["0.5", ""] + ["0.5"] * (len(ids) - 2)}).to_csv(
        tmp_path / "b.csv", index=False
    )
    with pytest.raises(DataError, match=r"b.csv: row 2: column 'p_model_a': .* is not a probability"):
        read_teacher(ExperimentConfig(teacher_file=str(tmp_path / "b.csv")), prep)
    pd.DataFrame({"id": [*ids, ids.iloc[3]], "p_model_a": 0.5}).to_parquet(tmp_path / "twice.parquet")
    with pytest.raises(
        DataError, match=rf"twice.parquet: row {len(ids) + 1}: column 'id': '{ids.iloc[3]}' appears twice"
    ):
        read_teacher(ExperimentConfig(teacher_file=str(tmp_path / "twice.parquet")), prep)
    pd.DataFrame({"id": ids}).to_csv(tmp_path / "nop.csv", index=False)
    with pytest.raises(DataError, match=r"nop.csv: missing column 'p_model_a'"):
        read_teacher(ExperimentConfig(teacher_file=str(tmp_path / "nop.csv")), prep)
