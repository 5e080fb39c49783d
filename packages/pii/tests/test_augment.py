"""LLM augmentation (§10.5.3): placeholders are found in their spelling variants, filled and labelled token
by token as the competition labels; unusable generations are dropped and counted by reason; the output is
a valid extra data set whose ids never clash with train."""

import json
from pathlib import Path

import numpy as np
import pytest
import spacy
import torch
from transformers import AutoTokenizer

from pii.augment import (
    DROP_REASONS,
    PII_PLACEHOLDERS,
    PLACEHOLDERS,
    AugmentConfig,
    FakerValues,
    Unusable,
    augment_generations,
    build_prompts,
    chat_texts,
    fill,
    find_placeholders,
    label_tokens,
    main,
    make_parser,
    model_path,
    resolve_preset,
    to_document,
)
from pii.data import load_competition, load_documents
from pii.labels import bio_to_spans

RECIPE = Path(__file__).resolve().parents[3] / "competitions/pii/recipes/augment.yaml"
VALUES = {
    "NAME_STUDENT": "Ana María López",
    "NAME_TEAMMATE": "Jean-Luc Picard",
    "EMAIL": "ana.lopez@gmail.com",
    "USERNAME": "ana_l99",
    "STREET_ADDRESS": "12 Oak Street\nSpringfield, IL 62704",
    "CITED_AUTHOR": "Tim Brown",
    "INSTRUCTOR": "Mary Shaw",
}


def fixed():
    return VALUES.__getitem__


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def test_placeholder_spelling_variants_are_found():
    text = "{ name_student }, {Email}; {{ID_NUM}} at {street address} / {Phone-Num} {URL_PERSONAL}"
    found = find_placeholders(text)
    assert [f.name for f in found] == [
        "NAME_STUDENT",
        "EMAIL",
        "ID_NUM",
        "STREET_ADDRESS",
        "PHONE_NUM",
        "URL_PERSONAL",
    ]
    assert [text[f.start : f.end] for f in found] == [
        "{ name_student }",
        "{Email}",
        "{{ID_NUM}}",
        "{street address}",
        "{Phone-Num}",
        "{URL_PERSONAL}",
    ]


def test_hand_written_generation_gets_exact_tokens_and_labels(nlp):
    generation = (
        "  My name is { name_student } and my email is {EMAIL}.\nI live at {Street Address}; write to me.\n"
        "According to {CITED_AUTHOR}, {NAME_TEAMMATE}'s map helped.\n"
    )
    doc = to_document(generation, 7, fixed(), nlp)
    assert doc.document == 7
    assert doc.full_text == (
        "My name is Ana María López and my email is ana.lopez@gmail.com.\nI live at 12 Oak Street\n"
        "Springfield, IL 62704; write to me.\nAccording to Tim Brown, Jean-Luc Picard's map helped."
    )
    assert doc.tokens == [
        "My", "name", "is", "Ana", "María", "López", "and", "my", "email", "is", "ana.lopez@gmail.com", ".",
        "\n", "I", "live", "at", "12", "Oak", "Street", "\n", "Springfield", ",", "IL", "62704", ";", "write",
        "to", "me", ".", "\n", "According", "to", "Tim", "Brown", ",", "Jean", "-", "Luc", "Picard", "'s",
        "map", "helped", ".",
    ]  # fmt: skip
    joined = "".join(t + " " * s for t, s in zip(doc.tokens, doc.trailing_whitespace, strict=True))
    assert joined == doc.full_text
    expected = ["O"] * len(doc.tokens)
    expected[3:6] = ["B-NAME_STUDENT", "I-NAME_STUDENT", "I-NAME_STUDENT"]
    expected[10] = "B-EMAIL"
    expected[16:24] = ["B-STREET_ADDRESS"] + ["I-STREET_ADDRESS"] * 7  # the address' "\n" included
    expected[35:39] = ["B-NAME_STUDENT"] + ["I-NAME_STUDENT"] * 3  # Jean - Luc Picard; "'s" and Tim Brown: O
    assert doc.labels == expected


def test_email_next_to_punctuation_is_one_labelled_token(nlp):
    doc = to_document("(contact: {EMAIL}) or {{ email }}, thanks", 1, fixed(), nlp)
    assert doc.tokens == [
        "(",
        "contact",
        ":",
        "ana.lopez@gmail.com",
        ")",
        "or",
        "ana.lopez@gmail.com",
        ",",
        "thanks",
    ]
    assert doc.labels == ["O", "O", "O", "B-EMAIL", "O", "O", "B-EMAIL", "O", "O"]
    # a token that only partly is the email still overlaps it, so it carries the label
    glued = to_document("Email:{EMAIL}!", 2, fixed(), nlp)
    assert glued.tokens == ["Email:ana.lopez@gmail.com", "!"]
    assert glued.labels == ["B-EMAIL", "O"]


def test_an_email_over_two_tokens_or_two_entities_in_one_token_are_invalid(nlp):
    with pytest.raises(Unusable, match="spreads over 2 tokens") as err:
        to_document("Mail me at {EMAIL} today", 1, {"EMAIL": "ana lopez@gmail.com"}.__getitem__, nlp)
    assert err.value.reason == "invalid"
    with pytest.raises(Unusable, match="EMAIL and USERNAME share the token") as err:
        to_document("Reach me at {EMAIL}{USERNAME} please", 1, fixed(), nlp)
    assert err.value.reason == "invalid"


def test_unusable_generations_are_dropped_and_counted_by_reason(tmp_path, sample_dir):
    generations = [
        "My name is {NAME_STUDENT}.",
        "",
        "   \n ",
        "Write to {EMAIL",
        "My name is {NAME_STUDENT}} and that is all",
        "Contact {COURSE_CODE} or {EMAIL}",
        "An essay without any placeholder at all.",
        "Reach me at {EMAIL}{USERNAME} please",
        "{INSTRUCTOR} taught us, said {NAME_TEAMMATE}.",
    ]
    stats = augment_generations(generations, tmp_path, essay_values=fixed, first_document_id=500_000)
    assert stats["requested"] == 9 and stats["kept"] == 2
    assert stats["dropped"] == {
        "empty": 2,
        "unbalanced_braces": 2,
        "unknown_placeholder": 1,
        "no_placeholder": 1,
        "invalid": 1,
    }
    assert stats["entities"]["NAME_STUDENT"] == 2 and sum(stats["entities"].values()) == 2
    assert json.loads((tmp_path / "augment_stats.json").read_text()) == stats
    records = [json.loads(line) for line in (tmp_path / "generations.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == [
        "kept", "empty", "empty", "unbalanced_braces", "unbalanced_braces", "unknown_placeholder",
        "no_placeholder", "invalid", "kept",
    ]  # fmt: skip
    assert [r["document"] for r in records if r["status"] == "kept"] == [500_000, 500_001]
    assert "COURSE_CODE" in records[5]["detail"]
    documents, _ = load_documents(tmp_path / "augment.json", labelled=True)
    assert [d.full_text for d in documents] == [
        "My name is Ana María López.",
        "Mary Shaw taught us, said Jean-Luc Picard.",
    ]
    assert documents[1].labels == ["O", "O", "O", "O", "O", "O", "B-NAME_STUDENT", "I-NAME_STUDENT", "I-NAME_STUDENT", "I-NAME_STUDENT", "O"]  # fmt: skip
    # usable as an extra data set next to the competition files, without id clashes
    data = load_competition(sample_dir, extra=[str(tmp_path / "augment.json")])
    extra = data.extra[str(tmp_path / "augment.json")]
    assert [d.document for d in extra] == [500_000, 500_001]
    assert not {d.document for d in extra} & {d.document for d in data.train}


def test_faker_values_are_one_student_per_essay_and_labels_match_them(nlp):
    generation = (
        "I am {NAME_STUDENT} and again {name_student} here. Mail {EMAIL} or call {PHONE_NUM} now. "
        "Visit {URL_PERSONAL} now, user {USERNAME} here, id {ID_NUM} here, home {STREET_ADDRESS} here. "
        "Team: {NAME_TEAMMATE} and {NAME_TEAMMATE} here. See {CITED_AUTHOR} and {URL_PUBLIC} with {INSTRUCTOR} ok"
    )
    values = FakerValues(3)
    texts = []
    for _ in range(20):
        text, entities = fill(generation, values.essay())
        texts.append(text)
        doc = nlp.make_doc(text)
        labels, located = label_tokens(doc, entities)
        names = [e.value for e in located if e.kind == "NAME_STUDENT"]
        assert names[0] == names[1]  # the same student each time {NAME_STUDENT} appears
        pii = [e for e in located if e.label != "O"]
        assert [(s.entity, s.start, s.end) for s in bio_to_spans(labels)] == [
            (e.label, e.token_start, e.token_end) for e in pii
        ]
        for entity in located:
            assert text[entity.start : entity.end] == entity.value
            assert doc[entity.token_start : entity.token_end].text == entity.value
    assert len(set(texts)) == 20  # a new student per essay
    again = FakerValues(3)
    assert [fill(generation, again.essay())[0] for _ in range(20)] == texts
    assert fill(generation, FakerValues(4).essay())[0] != texts[0]


def test_prompts_vary_and_ask_exactly_for_their_placeholders():
    prompts = build_prompts(40, np.random.default_rng(0))
    assert len({p.text for p in prompts}) == 40
    for p in prompts:
        assert [f.name for f in find_placeholders(p.text)] == list(p.placeholders)
        assert 1 <= sum(name in PII_PLACEHOLDERS for name in p.placeholders) <= 3
        assert len(set(p.placeholders)) == len(p.placeholders)
    assert {name for p in prompts for name in p.placeholders} == set(PLACEHOLDERS)
    assert build_prompts(40, np.random.default_rng(0)) == prompts
    single = build_prompts(10, np.random.default_rng(1), max_pii=1, negative_rate=0.0)
    assert all(len(p.placeholders) == 1 and p.placeholders[0] in PII_PLACEHOLDERS for p in single)


def test_chat_template_comes_from_the_tokenizer():
    tokenizer = AutoTokenizer.from_pretrained(model_path("tiny"))
    prompts = build_prompts(2, np.random.default_rng(0))
    texts = chat_texts(tokenizer, prompts)
    assert texts == [f"<|im_start|>user\n{p.text}<|im_end|>\n<|im_start|>assistant\n" for p in prompts]


def test_cpu_preset_replaces_the_generator_and_caps_the_run(tmp_path, monkeypatch):
    config, changes = resolve_preset(AugmentConfig(preset="cpu"))
    assert (config.model, config.backend, config.n_essays, config.max_new_tokens) == (
        "tiny",
        "transformers",
        8,
        48,
    )
    assert changes[1:] == [
        "backend: vllm -> transformers",
        "n_essays: 5000 -> 8",
        "max_new_tokens: 1536 -> 48",
    ]
    assert changes[0].startswith("model: mistralai/Mistral-7B-Instruct-v0.2 -> tiny")
    small, _ = resolve_preset(
        AugmentConfig(preset="cpu", n_essays=3, model=str(tmp_path), backend="transformers")
    )
    assert (small.model, small.n_essays) == (str(tmp_path), 3)  # a local checkpoint and a small run stay
    full = AugmentConfig(preset="full")
    assert resolve_preset(full) == (full, [])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_preset(AugmentConfig())[0].preset == "cpu"


def test_tiny_model_end_to_end_counts_every_generation_and_is_deterministic(tmp_path, capsys):
    runs = []
    for name in ("a", "b"):
        argv = [
            "--config",
            str(RECIPE),
            "--preset",
            "cpu",
            "--n_essays",
            "5",
            "--output_dir",
            str(tmp_path / name),
        ]
        main(argv)
        runs.append(tmp_path / name)
    printed = capsys.readouterr().out
    assert "PRESET CPU" in printed and "backend: vllm -> transformers" in printed
    stats = json.loads((runs[0] / "augment_stats.json").read_text())
    assert stats["requested"] == 5 and stats["kept"] + sum(stats["dropped"].values()) == 5
    documents, _ = load_documents(runs[0] / "augment.json", labelled=True)  # raises on any invalid document
    assert len(documents) == stats["kept"]
    assert [d.document for d in documents] == list(range(1_000_000, 1_000_000 + stats["kept"]))
    records = [json.loads(line) for line in (runs[0] / "generations.jsonl").read_text().splitlines()]
    assert len(records) == 5 and {r["status"] for r in records} <= {"kept", *DROP_REASONS}
    assert all(r["generation"] and r["placeholders_asked"] for r in records)
    for name in ("augment.json", "generations.jsonl", "augment_stats.json"):
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes()


def test_bad_recipe_values_stop_with_a_one_line_error(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("backend: openai\n")
    with pytest.raises(SystemExit) as err:
        main(["--config", str(recipe)])
    assert err.value.code == f"error: {recipe}: backend: 'openai' is not one of vllm | transformers"
    recipe.write_text("n_essay: 10\n")
    with pytest.raises(SystemExit) as err:
        main(["--config", str(recipe)])
    assert err.value.code == f"error: {recipe}: unknown field(s) ['n_essay']"
    with pytest.raises(SystemExit) as err:
        main(["--max_pii", "9"])
    assert err.value.code == "error: command line: max_pii: 9 must be in 1..8"


def test_recipe_is_full_scale():
    assert RECIPE.read_text().splitlines()[0] == "# entry point: pii-augment"
    (config,) = make_parser().parse_yaml_file(str(RECIPE), allow_extra_keys=False)
    assert "Instruct" in config.model and config.backend == "vllm" and config.n_essays >= 1000
