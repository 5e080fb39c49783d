"""Preference models: training moves them toward the labels (and the teacher), saving and loading gives the
same predictions for every kind of saved model, and swap predictions read the swapped pair."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from shared.tiny import resolve_backbone
from wsdm import model as models
from wsdm.configs import ExperimentConfig

GOOD = [
    "Paris is the capital of France.",
    "Berlin is the capital of Germany.",
    "Rome is the capital of Italy.",
]
BAD = "I cannot help with that."


def planted(n: int) -> pd.DataFrame:
    """The good answer wins wherever it stands; A holds it in every other row."""
    rows = []
    for i in range(n):
        good = GOOD[i % 3]
        a_wins = i % 2 == 0
        rows.append({"id": f"r{i}", "prompt": "What is the capital?", "response_a": good if a_wins else BAD,
                     "response_b": BAD if a_wins else good, "winner": "model_a" if a_wins else "model_b"})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def backbone():
    return resolve_backbone("tiny:qwen2", [*models.PROMPT_TEXTS, *GOOD, BAD, "What is the capital?"] * 4)


CONFIG = ExperimentConfig(max_length=64, lora_r=0, load_in_4bit=False, bf16=False, batch_size=8, gradient_accumulation_steps=1, warmup_ratio=0.0, eval_batch_size=8)  # fmt: skip


# measured on this random tiny LM: the new classification head needs a small step (3e-3 diverges); the
# generation head must first learn to say "A" or "B" at all, so more steps at a larger one.
SETTINGS = {
    "classification": dict(learning_rate=3e-4, epochs=8.0),
    "generation": dict(learning_rate=3e-3, epochs=16.0),
}


@pytest.mark.parametrize("head", ["classification", "generation"])
def test_training_learns_a_planted_preference_and_saving_keeps_it(backbone, head, tmp_path):
    frame = planted(48)
    fitted = models.fit(replace(CONFIG, head=head, **SETTINGS[head]), backbone, frame)
    assert fitted.losses[-1] < fitted.losses[0]
    p = fitted.predict(frame)
    y = models.labels_of(frame["winner"])
    assert ((p <= 0.5) == y).mean() >= 0.9
    swapped = fitted.predict(frame, swap=True)
    assert ((swapped > 0.5) == y).mean() >= 0.9  # the swapped pair's A is the original B
    fitted.save(tmp_path / "m")
    again = models.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict(frame), p, atol=1e-6)
    assert again.settings["head"] == head and (tmp_path / "m" / "model").is_dir()


def test_lora_adapters_and_the_judge_reload_offline(backbone, tmp_path):
    frame = planted(8)
    lora = replace(CONFIG, head="classification", lora_r=4, lora_alpha=8, lora_target_modules=["q_proj", "v_proj"],
                   epochs=1.0)  # fmt: skip
    fitted = models.fit(lora, backbone, frame)
    fitted.save(tmp_path / "lora")
    assert (tmp_path / "lora" / "adapter").is_dir() and (
        tmp_path / "lora" / "base"
    ).is_dir()  # tiny base copied
    np.testing.assert_allclose(
        models.load(tmp_path / "lora").predict(frame), fitted.predict(frame), atol=1e-6
    )
    # the adapters (and the classifier head peft saved with them) on an 8-bit base: QLoRA-style inference
    np.testing.assert_allclose(
        models.load(tmp_path / "lora", "int8").predict(frame), fitted.predict(frame), atol=0.02
    )
    judge = models.zero_shot(replace(CONFIG, head="judge"), backbone)
    judge.save(tmp_path / "judge")
    assert not (tmp_path / "judge" / "model").exists()  # the untrained base, kept once
    np.testing.assert_allclose(
        models.load(tmp_path / "judge").predict(frame), judge.predict(frame), atol=1e-6
    )


def test_distillation_pulls_the_student_toward_the_teacher(backbone):
    """With alpha 1 the labels are ignored: a student taught by a teacher that always says B learns B, though
    the labels say A half the time."""
    frame = planted(48)
    teacher = np.full(len(frame), 0.05)
    config = replace(
        CONFIG, head="classification", distill_alpha=1.0, temperature=1.0, **SETTINGS["classification"]
    )
    fitted = models.fit(config, backbone, frame, teacher=teacher)
    assert (fitted.predict(frame) < 0.5).mean() >= 0.9


def test_swap_augment_doubles_the_rows_with_flipped_labels_and_teacher(backbone):
    from transformers import AutoTokenizer

    frame = planted(4)
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    model = models.PreferenceModel(
        None, tokenizer, models.settings_from(replace(CONFIG, head="generation"), backbone)
    )
    rows = models.training_rows(
        model, frame, models.labels_of(frame["winner"]), np.array([0.9, 0.2, 0.7, 0.4]), True
    )
    assert len(rows) == 8
    assert [r["label"] for r in rows] == [0, 1, 0, 1, 1, 0, 1, 0]
    assert [r["teacher"] for r in rows] == pytest.approx([0.9, 0.2, 0.7, 0.4, 0.1, 0.8, 0.3, 0.6])
    assert rows[4]["input_ids"] == model.encode(frame.iloc[[0]], swap=True)[0]


def test_a_referenced_base_is_found_in_an_attached_folder(tmp_path):
    (tmp_path / "gemma-2-9b-it").mkdir()
    (tmp_path / "gemma-2-9b-it" / "config.json").write_text("{}")
    (tmp_path / "Qwen--Qwen2.5-14B").mkdir()
    (tmp_path / "Qwen--Qwen2.5-14B" / "config.json").write_text("{}")
    assert models.base_path("google/gemma-2-9b-it", tmp_path) == str(tmp_path / "gemma-2-9b-it")
    assert models.base_path("Qwen/Qwen2.5-14B", tmp_path) == str(tmp_path / "Qwen--Qwen2.5-14B")
    assert models.base_path("google/gemma-2-9b-it", None) == "google/gemma-2-9b-it"
    with pytest.raises(
        FileNotFoundError, match=r"base model 'org/missing': neither .*missing nor .*org--missing"
    ):
        models.base_path("org/missing", tmp_path)
