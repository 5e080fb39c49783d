"""Question generation: the MCQ parser accepts the format and names what is wrong with each malformed
generation, the filters' counts add up, and a tiny Qwen2 runs through the real transformers backend."""

import json
import shutil

import pandas as pd
import pytest
import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer

from science_exam import qgen
from shared.recipes import FieldError
from shared.tiny import resolve_backbone

GOOD = "Question: Which organelle makes most of\nthe cell's energy?\nA) Nucleus\nB) Mitochondrion\nC) Ribosome\nD) Golgi body\nE) Vacuole\nAnswer: B"  # fmt: skip
PASSAGES = pd.DataFrame({
    "passage_id": [0, 1, 2, 3],
    "title": ["Cell", "Cell", "Plant", "Stub"],
    "text": [
        "The mitochondrion is the organelle that makes most of the energy of a eukaryotic cell, by respiration.",
        "The nucleus holds the cell's DNA and controls which genes are read and when they are read.",
        "Photosynthesis in the leaves of green plants turns light, water and carbon dioxide into sugar.",
        "Too short.",
    ],
})  # fmt: skip


def config(**changes) -> qgen.QgenConfig:
    values = dict(generator="stub", backend="transformers", n_passages=0, per_passage=2, min_passage_words=5,
                  max_new_tokens=64, temperature=0.0, batch_size=4, seed=0)  # fmt: skip
    return qgen.QgenConfig(**(values | changes))


def test_parser_reads_a_well_formed_generation_and_ignores_what_follows():
    parsed = qgen.parse_mcq(GOOD + " (the mitochondrion)\nExplanation: ...\nQuestion: another one?")
    assert parsed == {"prompt": "Which organelle makes most of the cell's energy?", "A": "Nucleus",
                      "B": "Mitochondrion", "C": "Ribosome", "D": "Golgi body", "E": "Vacuole", "answer": "B"}  # fmt: skip
    dotted = GOOD.replace("A) ", "A. ").replace("E) ", "e: ").replace("Answer: B", "answer: (b)")
    assert qgen.parse_mcq(dotted) == {**parsed, "answer": "B"}


def test_format_mcq_round_trips_through_the_parser():
    row = {"prompt": "What is 2 + 2?", "A": "3", "B": "4", "C": "5", "D": "22", "E": "0", "answer": "B"}
    assert qgen.parse_mcq(qgen.format_mcq(row)) == row


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Here is a question about cells.", "no_question"),
        (
            GOOD.replace("Question: Which organelle makes most of\nthe cell's energy?", "Question:"),
            "no_question",
        ),
        (GOOD.replace("\nE) Vacuole", ""), "too_few_options"),
        (GOOD.replace("E) Vacuole", "E) Vacuole\nF) Cell wall"), "too_many_options"),
        (GOOD.replace("C) Ribosome", "X) Ribosome"), "bad_option_letters"),
        (GOOD.replace("D) Golgi body", "D)"), "empty_option"),
        (GOOD.replace("E) Vacuole", "E) nucleus."), "duplicate_options"),
        (GOOD.replace("\nAnswer: B", ""), "no_answer"),
        (GOOD.replace("Answer: B", "Answer:"), "no_answer"),
        (GOOD.replace("Answer: B", "Answer: F"), "bad_answer"),
        (GOOD.replace("Answer: B", "Answer: Mitochondrion"), "bad_answer"),
    ],
)
def test_parser_rejects_each_malformed_kind_with_its_reason(text, reason):
    assert reason in qgen.PARSE_REASONS
    assert qgen.parse_mcq(text) == reason


class Scripted:
    """A backend that answers the requests with the given texts in turn and records what it was asked."""

    def __init__(self, texts):
        self.texts, self.asked = list(texts), []

    def complete(self, requests, seed, desc):
        self.asked += [(r, seed) for r in requests]
        return [self.texts[i % len(self.texts)] for i in range(len(requests))]


def strip(text: str) -> str:
    """A generation as the backend returns it: the continuation of the ``Question:`` the prompt ends with."""
    return text.removeprefix(qgen.ANSWER_START)


def test_filters_count_every_drop_and_keep_only_valid_questions():
    # asked in turn about passages 0, 0, 1, 1, 2, 2: kept, empty, duplicate, copied from passage 1, bad answer, kept
    copied = "Question: The nucleus holds the cell's DNA\nA) a\nB) b\nC) c\nD) d\nE) e\nAnswer: A"
    texts = [GOOD, "", GOOD, copied, GOOD.replace("Answer: B", "Answer: Z"),
             GOOD.replace("energy", "fuel")]  # fmt: skip
    backend = Scripted([strip(t) for t in texts])
    frame, counts = qgen.generate_questions(config(), PASSAGES, backend, known=["What is the cell?"])
    assert counts == {
        "passages": 3, "asked": 6, "parsed": 4, "dropped_no_question": 1, "dropped_too_few_options": 0,
        "dropped_too_many_options": 0, "dropped_bad_option_letters": 0, "dropped_empty_option": 0,
        "dropped_duplicate_options": 0, "dropped_no_answer": 0, "dropped_bad_answer": 1,
        "dropped_copied_question": 1, "dropped_duplicate_question": 1, "kept": 2,
    }  # fmt: skip
    assert counts["asked"] == counts["kept"] + sum(v for k, v in counts.items() if k.startswith("dropped_"))
    assert frame["id"].tolist() == ["gen-0-0", "gen-2-1"] and frame["passage_id"].tolist() == [0, 2]
    assert frame["prompt"].tolist() == ["Which organelle makes most of the cell's energy?",
                                        "Which organelle makes most of the cell's fuel?"]  # fmt: skip
    assert [seed for _, seed in backend.asked] == [0] * 6
    assert "The nucleus holds the cell's DNA" in backend.asked[2][0][1]["content"]  # passage 1, first ask


def test_known_questions_count_as_duplicates():
    frame, counts = qgen.generate_questions(
        config(per_passage=1), PASSAGES.iloc[:1], Scripted([strip(GOOD)]),
        known=["Which organelle makes most of the cell's ENERGY"],
    )  # fmt: skip
    assert frame.empty and counts["dropped_duplicate_question"] == 1


def test_passages_are_a_seeded_sample_of_the_long_enough_ones():
    picked = qgen.pick_passages(config(n_passages=2, seed=3), PASSAGES)
    assert len(picked) == 2 and 3 not in set(picked["passage_id"])
    assert picked.equals(qgen.pick_passages(config(n_passages=2, seed=3), PASSAGES))
    assert list(picked["passage_id"]) == sorted(picked["passage_id"])
    with pytest.raises(ValueError, match="none has 500 words or more"):
        qgen.generate_questions(config(min_passage_words=500), PASSAGES, Scripted([GOOD]))


def test_config_rejects_out_of_range_fields():
    with pytest.raises(FieldError, match=r"backend: 'tgi' is not one of transformers \| vllm"):
        config(backend="tgi")
    with pytest.raises(FieldError, match="chunk_overlap: 3 must be in"):
        config(chunk_overlap=3)
    with pytest.raises(FieldError, match="chat_template: True with a tiny: generator"):
        config(generator="tiny:qwen2-pretrained", chat_template=True)


def test_pretraining_texts_show_each_question_as_the_answer_to_a_request_about_its_passage():
    articles = pd.DataFrame({"title": ["Cell", "Plant"], "text": ["Cells are small.", "Leaves are green."]})
    questions = pd.DataFrame([
        {"id": "q1", "prompt": "What makes most of the energy?", "A": "Nucleus", "B": "Mitochondrion",
         "C": "Ribosome", "D": "Golgi body", "E": "Vacuole", "answer": "B"},
        {"id": "q2", "prompt": "What is 2 + 2?", "A": "3", "B": "4", "C": "5", "D": "22", "E": "0", "answer": "B"},
    ])  # fmt: skip
    gold = pd.DataFrame({"id": ["q1"], "evidence": ["The mitochondrion is the organelle that makes most"]})
    texts = qgen.pretraining_texts(articles, questions, PASSAGES, gold, repeat=2)
    assert len(texts) == 2 + 2 * 2 and texts[2:4] == texts[4:6]
    assert texts[:2] == ["Cells are small.", "Leaves are green."]
    shown, _ = qgen.render(None, qgen.request("Cell", PASSAGES["text"][0]), chat_template=False)
    assert texts[2] == shown + qgen.format_mcq(questions.iloc[0]).removeprefix("Question:")
    assert texts[3] == qgen.format_mcq(questions.iloc[1])  # no gold evidence: the question alone
    assert (
        qgen.parse_mcq(texts[2][len(shown) - len("Question:") :])["prompt"]
        == "What makes most of the energy?"
    )


@pytest.fixture(scope="module")
def parrot(tmp_path_factory):
    """A tiny random Qwen2 trained for a few steps to answer every request with the same MCQ (greedy): the
    real transformers backend must then emit valid rows."""
    requests = [qgen.request(p.title, p.text) for p in PASSAGES.itertuples()]
    texts = [m["content"] for r in requests for m in r] + [GOOD] * 4
    path = resolve_backbone("tiny:qwen2", texts)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    prompts = [qgen.render(tokenizer, r)[0] for r in requests]
    answer = strip(GOOD) + "<|im_end|>"
    batch = [tokenizer(p + answer, add_special_tokens=False)["input_ids"] for p in prompts]
    starts = [len(tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(60):
        for ids, start in zip(batch, starts, strict=True):
            ids = torch.tensor([ids])
            labels = ids.clone()
            labels[:, :start] = -100
            model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    out = tmp_path_factory.mktemp("parrot")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def test_transformers_backend_emits_valid_rows_and_counts_add_up(parrot):
    cfg = config(generator=parrot, per_passage=2, max_new_tokens=80)
    frame, counts = qgen.generate_questions(cfg, PASSAGES, qgen.make_backend(cfg))
    assert counts["asked"] == counts["passages"] * cfg.per_passage == 6
    assert counts["asked"] == counts["kept"] + sum(v for k, v in counts.items() if k.startswith("dropped_"))
    # greedy: every passage gets the memorised question; the first is kept, the others are duplicates
    assert counts["kept"] == 1 and counts["dropped_duplicate_question"] == 5
    row = frame.iloc[0]
    assert len({row[x] for x in "ABCDE"}) == 5 and all(row[x] for x in "ABCDE") and row["answer"] in "ABCDE"
    assert row["prompt"] == "Which organelle makes most of the cell's energy?"


def test_transformers_backend_samples_reproducibly_under_a_seed(parrot):
    cfg = config(generator=parrot, temperature=1.0, max_new_tokens=24, batch_size=2)
    backend = qgen.make_backend(cfg)
    requests = [qgen.request(p.title, p.text) for p in PASSAGES.itertuples()]
    first = backend.complete(requests, 7, "a")
    assert backend.complete(requests, 7, "b") == first
    assert backend.complete(requests, 8, "c") != first


def test_vllm_backend_says_what_it_needs_without_a_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible")
    from shared.recipes import ConfigError

    with pytest.raises(ConfigError, match="vllm needs a CUDA GPU"):
        qgen.VllmBackend("unused", config(backend="vllm"))


@pytest.fixture
def keep_logging(monkeypatch):
    """The command sends the libraries' logging to its run.log process-wide: leave this process' alone."""
    monkeypatch.setenv("KLS_VERBOSE", "1")


def test_command_writes_the_questions_counts_and_config(sample_dir, tmp_path, capsys, keep_logging):
    target = tmp_path / "extra" / "llm.csv"
    qgen.main([
        "--data-dir", str(sample_dir), "--generator", "tiny:qwen2", "--chat_template", "false", "--backend", "transformers",
        "--n_passages", "3", "--per_passage", "2", "--max_new_tokens", "12", "--temperature", "1.0",
        "--output", str(target), "--output_dir", str(tmp_path / "run"),
    ])  # fmt: skip
    frame = pd.read_csv(target)
    assert list(frame.columns) == list(qgen.COLUMNS)
    counts = json.loads((tmp_path / "run" / "counts.json").read_text())
    assert counts["passages"] == 3 and counts["asked"] == 6 == counts["kept"] + sum(
        v for k, v in counts.items() if k.startswith("dropped_")
    )
    assert yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["n_passages"] == 3
    assert f"{counts['kept']}/6 questions kept from 3 passages" in capsys.readouterr().out


def test_command_without_a_corpus_says_so(sample_dir, tmp_path, keep_logging):
    bare = tmp_path / "kaggle"
    shutil.copytree(sample_dir, bare, ignore=shutil.ignore_patterns("corpus"))
    with pytest.raises(SystemExit, match=r"error: .*kaggle: no corpus .*nothing to ask about"):
        qgen.main(["--data-dir", str(bare), "--generator", "tiny:qwen2", "--chat_template", "false",
                   "--output_dir", str(tmp_path / "run")])  # fmt: skip
