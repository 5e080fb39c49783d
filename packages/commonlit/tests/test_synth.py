"""The sample is deterministic and in the Kaggle layout; its targets carry the signal the module docstring
describes: content follows this prompt's key points (not off-target sentences), wording falls with copying
and errors, the two correlate as in the original, and the test prompts are unseen in training."""

import hashlib
import re

import numpy as np
import pytest

from commonlit.data import load_competition
from commonlit.sample.prompts import PARAGRAPH_BREAK, PROMPTS
from commonlit.sample.synth import generate, main, make_sample, split_prompts

FILES = {"summaries_train.csv", "prompts_train.csv", "summaries_test.csv", "prompts_test.csv",
         "sample_submission.csv", "summaries_test_labels.csv"}  # fmt: skip


def digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def summaries():
    """The default sample (8 x 250 training and 2 x 100 test summaries) with what each summary contains."""
    return generate(seed=0)[2]


def test_same_seed_same_bytes(tmp_path):
    a = make_sample(tmp_path / "a", per_prompt=20, per_test_prompt=5, seed=3)
    b = make_sample(tmp_path / "b", per_prompt=20, per_test_prompt=5, seed=3)
    c = make_sample(tmp_path / "c", per_prompt=20, per_test_prompt=5, seed=4)
    assert set(digest(a)) == FILES
    assert digest(a) == digest(b)
    assert digest(a)["summaries_train.csv"] != digest(c)["summaries_train.csv"]
    assert digest(a)["prompts_train.csv"] == digest(c)["prompts_train.csv"]  # the passages are fixed
    newest = max(a.iterdir(), key=lambda p: p.stat().st_mtime_ns)
    assert newest.stat().st_mtime_ns == (a / "summaries_train.csv").stat().st_mtime_ns  # written last


def test_hand_written_prompts():
    assert len(PROMPTS) >= 10
    assert len({p.prompt_id for p in PROMPTS}) == len(PROMPTS)
    for prompt in PROMPTS:
        assert re.fullmatch(r"[0-9a-f]{6}", prompt.prompt_id)
        assert prompt.question.startswith("Summarize") and prompt.question.endswith(
            "Use key details from the text."
        )
        assert 4 <= len(prompt.plain_paragraphs) <= 6 and PARAGRAPH_BREAK in prompt.text
        assert 220 <= len(prompt.text.split()) <= 400
        assert 5 <= len(prompt.key_points) <= 7 and len(prompt.details) >= 2
        assert not re.search(r"[\[\]{}]", prompt.text)  # the markers are gone
        for sentence, paraphrases in zip(prompt.key_points, prompt.paraphrases, strict=True):
            assert sentence in prompt.text
            assert 2 <= len(paraphrases) <= 3
            assert all(p not in prompt.text for p in paraphrases)
        assert all(detail in prompt.text for detail in prompt.details)


def test_layout_and_unseen_test_prompts(sample_dir):
    data = load_competition(sample_dir)
    train_prompts, test_prompts = split_prompts(8, 2)
    assert set(data.train["prompt_id"]) == {p.prompt_id for p in train_prompts}
    assert set(data.test["prompt_id"]) == {p.prompt_id for p in test_prompts}
    assert test_prompts == list(PROMPTS[-2:])
    assert not set(data.train["prompt_id"]) & set(data.test["prompt_id"])
    assert data.train["prompt_id"].value_counts().tolist() == [60] * 8
    assert all("\r\n" in text for text in data.test["prompt_text"])
    ids = data.train["student_id"].tolist() + data.test["student_id"].tolist()
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)
    submission = (sample_dir / "sample_submission.csv").read_text().splitlines()
    assert submission[0] == "student_id,content,wording"
    assert [line.split(",")[0] for line in submission[1:]] == data.test["student_id"].tolist()
    assert {line.split(",", 1)[1] for line in submission[1:]} == {"0.0,0.0"}
    assert data.test_labels[["content", "wording"]].std().min() > 0.5  # the true targets, not zeros


def test_targets_on_the_original_scale(summaries):
    for column, low in (("content", -1.7), ("wording", -1.9)):
        values = summaries[column]
        assert abs(values.mean()) < 0.25 and 0.8 < values.std() < 1.3
        assert low - 0.01 < values.min() < low + 0.1 and values.max() > 2.3
    assert 0.6 <= summaries["content"].corr(summaries["wording"]) <= 0.9
    assert summaries.groupby("prompt_id")["content"].mean().std() > 0.15  # prompts differ in difficulty
    assert 20 <= summaries["words"].median() <= 100 and (summaries["text"] == "").sum() >= 1


def test_content_follows_this_prompts_key_points_not_off_target_sentences(summaries):
    s = summaries
    design = np.column_stack([np.ones(len(s)), s["n_key"], s["n_off_target"], s["n_filler"]])
    per_key, per_off, per_filler = np.linalg.lstsq(design, s["content"], rcond=None)[0][1:]
    assert per_key > 0.35  # each of this prompt's key points adds about 3.2 / K
    assert abs(per_off) < 0.1 and abs(per_filler) < 0.1
    assert (s["n_off_target"] > 0).mean() > 0.1  # off-target sentences are common enough to matter
    means = s.groupby("n_key")["content"].mean()
    assert means.is_monotonic_increasing and means.iloc[-1] - means.iloc[0] > 2.5


def test_off_target_sentences_read_like_key_points_of_another_prompt(summaries):
    borrowed = 0
    for row in summaries[summaries["n_off_target"] > 0].itertuples():
        others = [p for p in PROMPTS if p.prompt_id != row.prompt_id]
        borrowed += any(k in row.text for p in others for k in p.key_points + sum(p.paraphrases, ()))
    assert borrowed > 0.2 * (summaries["n_off_target"] > 0).sum()  # the rest are invented or misspelt
    on_target = summaries[summaries["n_off_target"] == 0]
    assert not any(k in t for t in on_target["text"] for p in PROMPTS[8:10] for k in p.key_points)


def test_wording_falls_with_copying_and_errors(summaries):
    s = summaries[summaries["n_key"] >= 3]
    copied = s["copied_words"] / s["words"]
    assert s.loc[copied > 0.6, "wording"].mean() < s.loc[copied < 0.2, "wording"].mean() - 0.8
    # holding the others fixed: error rates lower wording (copiers make no errors, so compare by regression)
    spelling, slips = s["n_spelling"] / s["words"], s["n_grammar"] / s["n_sentences"]
    design = np.column_stack([np.ones(len(s)), 1 - copied, spelling, slips, np.log1p(s["words"])])
    _, per_own, per_spelling, per_slip, _ = np.linalg.lstsq(design, s["wording"], rcond=None)[0]
    assert per_own > 1.5 and per_spelling < -4 and per_slip < -0.5


def test_bad_prompt_counts_are_refused():
    with pytest.raises(ValueError, match="n_prompts=11, n_test_prompts=2"):
        split_prompts(11, 2)
    with pytest.raises(ValueError, match="n_test_prompts=0"):
        split_prompts(8, 0)


def test_command_line(tmp_path, capsys):
    main(["--out", str(tmp_path / "s"), "--seed", "1", "--per-prompt", "12", "--per-test-prompt", "3"])
    assert "96 training summaries on 8 prompts, 6 test summaries" in capsys.readouterr().out
    data = load_competition(tmp_path / "s")
    assert len(data.train) == 96 and len(data.test) == 6
