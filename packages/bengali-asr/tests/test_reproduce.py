"""``bengali-asr-reproduce`` end to end on a small sample with tiny models (mechanics, not quality), and
``bengali-asr-predict`` writing the same submission again from ``models/`` and the test files alone."""

import json

import pandas as pd
import pytest

from bengali_asr import predict, reproduce
from bengali_asr.pipeline import MANIFEST, Pipeline

TINY_ACOUSTIC = dict(max_steps=12, batch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                     conv_kernel=5, eval_batch_size=16)  # fmt: skip
TINY_WHISPER = dict(max_steps=4, batch_size=8)


@pytest.fixture(scope="module")
def sample_dir(small_sample):
    return small_sample


@pytest.fixture(scope="module")
def run(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "run"
    patch = pytest.MonkeyPatch()
    patch.setattr(reproduce, "CPU_ACOUSTIC", {**reproduce.CPU_ACOUSTIC, **TINY_ACOUSTIC})
    patch.setattr(reproduce, "CPU_WHISPER", {**reproduce.CPU_WHISPER, **TINY_WHISPER})
    patch.setattr(reproduce, "CPU_DECODER", {**reproduce.CPU_DECODER, "beam_size": 8,
                                             "lm_weights": [0.0, 1.0], "word_scores": [0.0]})  # fmt: skip
    patch.setattr(reproduce, "CPU_PUNCTUATION", {**reproduce.CPU_PUNCTUATION, "epochs": 1.0})
    patch.setattr(reproduce, "CPU_LLM", "tiny:qwen2")
    kept = {}
    save_models = reproduce.save_models

    def keep_ladder(ladder, chosen):
        kept["ladder"] = ladder
        return save_models(ladder, chosen)

    patch.setattr(reproduce, "save_models", keep_ladder)
    patch.chdir(sample_dir.parent)  # a relative --data-dir, as a user types it
    try:
        code = reproduce.main(["--data-dir", sample_dir.name, "--output-dir", str(out), "--preset", "cpu"])
    finally:
        patch.undo()
    assert code == 0
    RUNS[out] = kept["ladder"]
    return out


RUNS = {}  # run folder -> its Ladder


@pytest.mark.slow
def test_the_ladder_writes_a_valid_submission_report_and_results(run, sample_dir):
    submission = pd.read_csv(run / "submission.csv", dtype=str, keep_default_na=False)
    expected = pd.read_csv(sample_dir / "sample_submission.csv", dtype=str)
    assert submission.columns.tolist() == ["id", "sentence"]
    assert submission["id"].tolist() == expected["id"].tolist()
    results = json.loads((run / "results.json").read_text())
    names = [e["name"] for e in results["experiments"]]
    assert names[:4] == ["ctc-greedy", "ctc+lm", "ctc-filtered-greedy", "ctc-filtered+lm"]
    assert {"ctc-augmented-greedy", "ctc-augmented+lm", "ctc-filtered+lm+dari", "ctc-filtered+lm+punct", "ctc-filtered+lm+punct+denoise", "ctc-filtered+lm+llm+punct", "whisper",
            "whisper+lm"} <= set(names)  # fmt: skip
    assert results["higher_is_better"] is False and results["submitted"] in names
    claims = {c["text"]: c for c in results["claims"]}
    assert "LM decoding lowers WER (valid, marks stripped)" in claims
    assert "denoising lowers WER out of domain (test)" in claims
    assert "speed/noise/reverb augmentation lowers WER out of domain (test, marks stripped)" in claims
    for c in claims.values():
        lo, hi = c["interval"]
        assert lo <= c["delta"] <= hi
        assert c["evidence"] == "mechanics"  # 12 steps of a tiny model learn nothing
    filt = results["filter"]
    assert filt["clips"] == 30 and 0 <= filt["caught"] <= filt["dropped"] <= filt["clips"]
    report = (run / "report.md").read_text()
    assert "## Ladder" in report and (run / "wer_distribution.png").stat().st_size > 0


@pytest.mark.slow
def test_predict_writes_the_submitted_rungs_transcripts_again(run, sample_dir, tmp_path):
    manifest = json.loads((run / "models" / MANIFEST).read_text())
    assert manifest["rung"] == json.loads((run / "results.json").read_text())["submitted"]
    output = tmp_path / "submission.csv"
    predict.main(["--models", str(run / "models"), "--data-dir", str(sample_dir), "--output", str(output)])
    again = pd.read_csv(output, dtype=str, keep_default_na=False)
    first = pd.read_csv(run / "submission.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(again, first)


@pytest.mark.slow
def test_every_rung_predict_can_run_is_rebuilt_exactly_from_its_models(run):
    ladder = RUNS[run]
    waves = ladder.splits["test"].waves
    rungs = [r for r in ladder.rungs.values() if r.recipe is not None]
    assert len(rungs) == len(ladder.rungs)  # every rung is a system
    for rung in rungs:
        models = reproduce.save_models(ladder, rung)
        assert Pipeline(models).transcribe(waves) == rung.hypotheses["test"], rung.name
