"""LLM-generated data: prompts parsed, every drop counted, ids new, seeded output, the vLLM guard."""

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
from transformers import AutoTokenizer, HfArgumentParser

from commonlit import generate as gen
from commonlit.generate import COLUMNS, GenerateConfig, copied_ratio, generate, make_backend, parse_prompt
from shared.recipes import ConfigError, FieldError, parse_config
from shared.tiny import pretrained_causal_lm

RECIPE = Path(__file__).parents[3] / "competitions" / "commonlit" / "recipes" / "generate.yaml"
WORDS = ["river", "town", "bridge", "farmer", "winter", "harvest", "engine", "market", "school", "letter",
         "garden", "storm", "lantern", "island", "mountain", "painter", "doctor", "village"]  # fmt: skip


def passage(seed: int, n: int = 150) -> str:
    """``n`` words of distinct-enough prose: word i depends on (seed, i)."""
    return " ".join(f"{WORDS[(seed * 7 + i * 5 + i // 9) % len(WORDS)]}{i % 13}" for i in range(n)) + "."


def training_frame() -> pd.DataFrame:
    rows = []
    for p, pid in enumerate(["p1", "p2"]):
        for s in range(3):
            rows.append(dict(student_id=f"s{p}{s}", prompt_id=pid, text=f"real summary {p} {s} about the text here",
                             content=0.1 * s, wording=-0.1 * s, prompt_question=f"Summarize text {p}.",
                             prompt_title=f"Title {p}", prompt_text=passage(p)))  # fmt: skip
    return pd.DataFrame(rows)


def data(train: pd.DataFrame | None = None):
    return SimpleNamespace(train=training_frame() if train is None else train)


NEW_PASSAGE = passage(5, 130)
PROMPT_ANSWERS = [
    # continuations of "Title:"
    f" The Lantern Maker\n**Question:** Summarize how the town changed.\n\n**Passage:**\n{NEW_PASSAGE}",
    " I am sorry, I cannot write that.",  # unparseable
    " Short\nQuestion: Summarize it.\nPassage:\nToo short to be a passage.",
    f" Again\nQuestion: Summarize it.\nPassage:\n{passage(0)}",  # the passage of training prompt p1
]


class Scripted:
    """A backend that answers by rule: per prompt, the 7 summaries are good, empty, short, a real summary,
    a copy of the passage, a partial copy (kept), and one text shared by all prompts."""

    def __init__(self):
        self.calls = []

    def generate(self, prompts, *, max_new_tokens, seed, desc):
        self.calls.append((desc, len(prompts), max_new_tokens, seed))
        if desc == "generate prompts":
            return PROMPT_ANSWERS[: len(prompts)]
        out = []
        for k, messages in enumerate(prompts):
            text = re.search(r"Text:\n(.*)\n\nAssignment:", messages[-1]["content"], re.S).group(1).split()
            out.append([
                f"Summary number {k} says the passage tells of change and people in it.",
                "   ",
                "too short",
                "Real summary 0 1 about the text here!",  # a training summary, up to case and punctuation
                " ".join(text[:40]),
                " ".join(text[:20]) + " and so the people learned a lesson",
                "Every prompt gets this same summary from the scripted model today.",
            ][k % 7])  # fmt: skip
        return out


CONFIG = dict(generator="unused", backend="transformers", n_new_prompts=4, summaries_per_prompt=7,
              min_passage_words=100, seed=3)  # fmt: skip


def test_every_drop_is_counted_and_the_rows_are_well_formed():
    backend = Scripted()
    frame, counts = generate(GenerateConfig(**CONFIG), data(), backend=backend)
    assert counts == {
        "prompts_generated": 4, "prompts_kept": 1, "prompts_dropped_unparseable": 1,
        "prompts_dropped_passage_too_short": 1, "prompts_dropped_copy_of_known_passage": 1,
        # 3 prompts x 7: per prompt good + partial copy kept, empty + short, the real summary, the full copy;
        # the shared text is kept once and a duplicate twice
        "generated": 21, "kept": 7, "dropped_empty_or_short": 6, "dropped_duplicate": 5,
        "dropped_copy_of_passage": 3,
    }  # fmt: skip
    assert counts["generated"] == counts["kept"] + sum(
        v for k, v in counts.items() if k.startswith("dropped_")
    )
    assert [c[0] for c in backend.calls] == ["generate prompts", "generate summaries"]
    assert backend.calls[1][1:3] == (21, 256)
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 7
    assert frame["student_id"].is_unique and frame["student_id"].str.match(r"^gen[0-9a-f]{12}$").all()
    new = frame[frame["origin"] == "new-prompt"]
    assert set(frame.loc[frame["origin"] == "train-prompt", "prompt_id"]) == {"p1", "p2"}
    assert new["prompt_id"].nunique() == 1 and new["prompt_id"].iloc[0].startswith("g")
    assert new["prompt_title"].iloc[0] == "The Lantern Maker"
    assert new["prompt_question"].iloc[0] == "Summarize how the town changed."
    assert new["prompt_text"].iloc[0] == NEW_PASSAGE
    # instructions cycle over each prompt's summaries: the kept ones are the 1st and the 6th
    p2 = frame[frame["prompt_id"] == "p2"]
    assert p2["instruction"].tolist() == [gen.INSTRUCTIONS[0], gen.INSTRUCTIONS[5]]


def test_new_ids_never_collide_with_training_ids():
    frame, _ = generate(GenerateConfig(**CONFIG), data(), backend=Scripted())
    new_prompt = frame.loc[frame["origin"] == "new-prompt", "prompt_id"].iloc[0]
    student = frame.loc[frame["prompt_id"] == "p1", "student_id"].iloc[0]
    train = training_frame()
    train.loc[train["prompt_id"] == "p2", "prompt_id"] = new_prompt  # a real prompt now has that id
    train.loc[0, "student_id"] = student  # and a real student that id
    again, _ = generate(GenerateConfig(**CONFIG), data(train), backend=Scripted())
    assert new_prompt in set(again["prompt_id"])  # the real prompt's rows...
    assert set(again.loc[again["origin"] == "new-prompt", "prompt_id"]).isdisjoint(train["prompt_id"])
    assert set(again["student_id"]).isdisjoint(train["student_id"]) and again["student_id"].is_unique
    # unchanged inputs give unchanged ids
    assert generate(GenerateConfig(**CONFIG), data(), backend=Scripted())[0].equals(frame)


def test_copied_ratio_and_prompt_parsing_on_hand_made_cases():
    matcher = gen._passage_matcher("The old farmer planted ten apple trees near the river.")
    assert copied_ratio(gen.words("the old farmer planted ten apple trees, my friend"), matcher) == 7 / 9
    assert copied_ratio(gen.words("Apple trees near the river"), matcher) == 1.0
    assert copied_ratio([], matcher) == 0.0
    parsed = parse_prompt("## Title: A Storm\nQuestion: What happened?\nPassage: First line.\n\nSecond para.")
    assert parsed == {"prompt_title": "A Storm", "prompt_question": "What happened?",
                      "prompt_text": "First line.\n\nSecond para."}  # fmt: skip
    assert parse_prompt("Title: A Storm\nQuestion: What happened?") is None
    assert parse_prompt("Title: \nQuestion: What?\nPassage: text") is None


@pytest.fixture(scope="module")
def tiny_generator(tmp_path_factory):
    texts = [passage(i) for i in range(6)] + [f"real summary {i} about the text here" for i in range(30)]
    return str(pretrained_causal_lm(texts, steps=5, seq_len=32, batch_size=4, vocab_size=300, hidden_size=32,
                                    intermediate_size=64, cache_dir=tmp_path_factory.mktemp("tiny")))  # fmt: skip


def tiny_config(generator, **overrides):
    return GenerateConfig(**{**dict(generator=generator, backend="transformers", n_new_prompts=2,
                                    summaries_per_prompt=3, max_new_tokens=12, prompt_max_new_tokens=12,
                                    batch_size=4, min_words=1, max_copy_ratio=1.0, seed=0), **overrides})  # fmt: skip


def test_the_transformers_backend_is_seeded_and_uses_the_chat_template(tiny_generator):
    config = tiny_config(tiny_generator)
    first = generate(config, data())
    second = generate(config, data())
    assert first[0].equals(second[0]) and first[1] == second[1]
    assert first[1]["generated"] == 3 * (2 + first[1]["prompts_kept"])
    backend = make_backend(config, ["unused: the generator is a path"])
    asks = [gen.summary_messages("T", "Summarize.", passage(0, 30), how) for how in gen.INSTRUCTIONS[:5]]
    torch.manual_seed(11)
    a = backend.generate(asks, max_new_tokens=12, seed=1, desc="test")
    after = torch.rand(2)
    torch.manual_seed(11)
    assert torch.equal(after, torch.rand(2))  # the caller's RNG did not move
    assert a == backend.generate(asks, max_new_tokens=12, seed=1, desc="test")
    assert a != backend.generate(asks, max_new_tokens=12, seed=2, desc="test")
    tok = AutoTokenizer.from_pretrained(tiny_generator)
    text, templated = gen.render(tok, asks[0])
    assert templated and text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    ask_prompt = gen.prompt_messages(training_frame().iloc[0], gen.GENRES[0])
    assert gen.render(tok, ask_prompt)[0].endswith("<|im_end|>\n<|im_start|>assistant\nTitle:")  # continued
    tok.chat_template = None
    text, templated = gen.render(tok, asks[0])
    assert not templated and text.startswith("You are a student") and text.endswith("heading.\n\n")
    assert gen.render(tok, ask_prompt)[0].endswith("long.\n\nTitle:")
    # the tiny generator learns prompts in the format it is asked to write them in
    assert (
        gen.pretraining_texts(training_frame())[0]
        == f"Title: Title 0\nQuestion: Summarize text 0.\nPassage:\n{passage(0)}"
    )


def test_vllm_without_cuda_says_to_use_transformers(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = GenerateConfig(generator="Qwen/Qwen2.5-7B-Instruct", backend="vllm")
    with pytest.raises(ConfigError, match=r"vllm needs a CUDA GPU.*use --backend transformers"):
        make_backend(config, ["some text"])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("backend", "tgi", "backend: 'tgi' is not one of transformers | vllm"),
        ("summaries_per_prompt", 0, "summaries_per_prompt: 0 must be >= 1"),
        ("top_p", 1.5, r"top_p: 1.5 must be in \(0, 1\]"),
        ("max_copy_ratio", 0.0, r"max_copy_ratio: 0.0 must be in \(0, 1\]"),
        (
            "instructions",
            ["good", " "],
            "instructions: .* must be a non-empty list of non-empty instructions",
        ),
        ("gpu_memory_utilization", 0.0, r"gpu_memory_utilization: 0.0 must be in \(0, 1\]"),
        ("dtype", "fp8", "dtype: 'fp8' is not one of auto"),
    ],
)
def test_bad_fields_are_refused_one_by_one(field, value, message):
    with pytest.raises(FieldError, match=message) as err:
        GenerateConfig(**{field: value})
    assert err.value.field == field


def test_a_bad_flag_names_the_command_line():
    with pytest.raises(ConfigError, match=r"command line: temperature: -1.0 must be >= 0"):
        parse_config(HfArgumentParser(GenerateConfig), ["--temperature", "-1"])


def test_the_command_writes_the_rows_and_the_counts(sample_dir, tiny_generator, tmp_path):
    out = tmp_path / "run"
    gen.main(["--config", str(RECIPE), "--data-dir", str(sample_dir), "--output-dir", str(out),
              "--generator", tiny_generator, "--backend", "transformers", "--n_new_prompts", "1",
              "--summaries_per_prompt", "1", "--max_new_tokens", "8", "--prompt_max_new_tokens", "8",
              "--batch_size", "8", "--min_words", "1"])  # fmt: skip
    counts = json.loads((out / "counts.json").read_text())
    frame = pd.read_csv(out / "generated.csv", dtype=str, keep_default_na=False)
    assert counts["generated"] == 8 + counts["prompts_kept"]  # 8 training prompts, 1 summary each
    assert len(frame) == counts["kept"] and list(frame.columns) == list(COLUMNS)
    assert (out / "generated_prompts.csv").is_file() and (out / "run.log").is_file()
    assert "backend: transformers" in (out / "config.yaml").read_text()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is visible: vllm would start")
def test_the_command_on_cpu_with_vllm_exits_with_the_message(sample_dir, tmp_path):
    with pytest.raises(SystemExit, match="error: backend: vllm needs a CUDA GPU"):
        gen.main(["--config", str(RECIPE), "--data-dir", str(sample_dir), "--output-dir", str(tmp_path)])
