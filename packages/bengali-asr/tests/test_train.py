"""``bengali-asr-train`` from a recipe with tiny flags writes a ``models/`` that ``bengali-asr-predict`` runs
offline; a second stage filtered by the first stage's models drops train clips and says so."""

import json
from pathlib import Path

import pandas as pd
import pytest

from bengali_asr import clips, experiment, predict, train

RECIPE = Path(__file__).parents[3] / "competitions" / "bengali-asr" / "recipes" / "indicwav2vec-ctc.yaml"
TINY = ["--backbone", "tiny", "--hidden_size", "32", "--num_hidden_layers", "1", "--num_attention_heads", "2",
        "--conv_kernel", "5", "--max_steps", "8", "--batch_size", "8", "--gradient_accumulation_steps", "1",
        "--learning_rate", "3e-3", "--augment", "false", "--chunk_seconds", "8", "--bf16", "false", "--lm_order", "2",
        "--beam_size", "8", "--lm_weights", "0", "1", "--word_scores", "0", "--punctuation_backbone",
        "tiny:deberta-v2", "--punctuation_epochs", "1", "--punctuation_learning_rate", "1e-3"]  # fmt: skip


@pytest.fixture(scope="module")
def first(small_sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "first"
    assert (
        train.main(
            ["--config", str(RECIPE), "--data-dir", str(small_sample), "--output-dir", str(out), *TINY]
        )
        == 0
    )
    return out


@pytest.mark.slow
def test_train_writes_models_that_predict_runs_offline(first, small_sample, tmp_path):
    manifest = json.loads((first / "models" / "manifest.json").read_text())
    assert manifest == {"rung": "indicwav2vec-ctc", "system": "ctc", "model": "indicwav2vec-ctc", "lm": True,
                        "punctuation": True}  # fmt: skip
    summary = json.loads((first / "summary.json").read_text())
    assert summary["clips"] == 30 and summary["valid_wer_lm_no_marks"] >= 0
    output = tmp_path / "submission.csv"
    predict.main(
        ["--models", str(first / "models"), "--data-dir", str(small_sample), "--output", str(output)]
    )
    submission = pd.read_csv(output, dtype=str, keep_default_na=False)
    expected = pd.read_csv(small_sample / "sample_submission.csv", dtype=str)
    assert submission["id"].tolist() == expected["id"].tolist()


@pytest.mark.slow
def test_a_second_stage_filtered_by_the_first_drops_clips(first, small_sample, tmp_path):
    out = tmp_path / "second"
    argv = ["--config", str(RECIPE), "--data-dir", str(small_sample), "--output-dir", str(out), *TINY,
            "--filter_models", str(first / "models"), "--filter_threshold", "0.0"]  # fmt: skip
    assert train.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    # an 8-step model reproduces no label: the threshold would drop all, the floor keeps the better half
    assert summary["filter"]["dropped"] == 15


@pytest.mark.slow
def test_a_corpus_that_does_not_fit_in_memory_is_read_from_disk_throughout(first, small_sample, tmp_path,
                                                                           monkeypatch):  # fmt: skip
    """With no memory budget every split is read from disk (the competition's scale): the filter, the training on
    header lengths, the valid decoding and the saved models all run on clips that are never held."""
    monkeypatch.setattr(clips, "MEMORY_BYTES", 0)
    read = []
    monkeypatch.setattr(
        experiment, "read_clips", lambda *a, **k: read.append(clips.read_clips(*a, **k)) or read[-1]
    )
    out = tmp_path / "lazy"
    argv = ["--config", str(RECIPE), "--data-dir", str(small_sample), "--output-dir", str(out), *TINY,
            "--filter_models", str(first / "models"), "--filter_threshold", "0.0"]  # fmt: skip
    assert train.main(argv) == 0
    assert len(read) == 3 and not any(c.in_memory for c in read)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["filter"]["dropped"] == 15 and 0 <= summary["valid_wer_lm_no_marks"] <= 1.5
    assert (out / "models" / "acoustic" / "model.safetensors").is_file()


def test_a_bad_flag_is_one_line_naming_it(capsys):
    assert train.main(["--config", str(RECIPE), "--mask_time_prob", "2"]) == 2
    assert "mask_time_prob" in capsys.readouterr().err


def test_under_accelerate_launch_an_output_dir_is_required(monkeypatch, capsys):
    class TwoRanks:
        num_processes = 2

    monkeypatch.setattr(train, "PartialState", TwoRanks)
    assert train.main(["--config", str(RECIPE), *TINY]) == 2
    assert "--output-dir: required under accelerate launch" in capsys.readouterr().err
