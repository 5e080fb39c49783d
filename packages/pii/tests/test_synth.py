"""The sample is deterministic, its labels match the Faker values, and it has the imbalance and the hard
cases (non-student names, public URLs, non-personal numbers, names not in title case) the winners
discuss; the generated external set is another family of essays."""

import hashlib
import re
from collections import Counter

import numpy as np
import pytest
import spacy

from pii.data import load_competition
from pii.labels import ENTITY_TYPES, LABEL2ID, bio_to_spans
from pii.postprocess import apply_rules
from pii.synth import generate, main, make_sample
from pii.synth_external import generate_external


def digest(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def essays():
    return generate(400, seed=0)


def test_same_seed_same_bytes(tmp_path):
    a = make_sample(tmp_path / "a", n_train=30, n_test=5, seed=3)
    b = make_sample(tmp_path / "b", n_train=30, n_test=5, seed=3)
    c = make_sample(tmp_path / "c", n_train=30, n_test=5, seed=4)
    assert set(digest(a)) == {"train.json", "test.json", "test_labels.json", "sample_submission.csv"}
    assert digest(a) == digest(b)
    assert digest(a)["train.json"] != digest(c)["train.json"]


def test_tokens_are_spacy_english_tokens(essays):
    nlp = spacy.blank("en")
    for essay in essays[:50]:
        doc = nlp(essay.document.full_text)
        assert essay.document.tokens == [t.text for t in doc]
        assert essay.document.trailing_whitespace == [bool(t.whitespace_) for t in doc]


def test_every_labelled_span_is_the_faker_value_it_was_built_from(essays):
    for essay in essays:
        doc = essay.document
        pii = sorted((e for e in essay.entities if e.label != "O"), key=lambda e: e.token_start)
        spans = bio_to_spans(doc.labels)
        # one BIO span per PII entity, same type and tokens, nothing labelled elsewhere
        assert [(s.entity, s.start, s.end) for s in spans] == [
            (e.label, e.token_start, e.token_end) for e in pii
        ]
        for entity in pii:
            text = "".join(
                t + " " * s
                for t, s in zip(
                    doc.tokens[entity.token_start : entity.token_end],
                    doc.trailing_whitespace[entity.token_start : entity.token_end],
                    strict=True,
                )
            )
            assert text.rstrip(" ") == entity.value == doc.full_text[entity.start : entity.end]


def test_all_types_present_with_the_real_imbalance(essays):
    docs_with = Counter()
    for essay in essays:
        docs_with.update({label[2:] for label in essay.document.labels if label != "O"})
    assert set(docs_with) == set(ENTITY_TYPES)
    assert docs_with.most_common(1)[0][0] == "NAME_STUDENT"
    assert docs_with["NAME_STUDENT"] > 5 * max(docs_with["PHONE_NUM"], docs_with["STREET_ADDRESS"])
    without_pii = sum(all(label == "O" for label in e.document.labels) for e in essays)
    assert without_pii > len(essays) / 2  # most essays carry no PII at all


def test_hard_cases_present_and_labelled_o(essays):
    kinds = Counter()
    for essay in essays:
        labels = essay.document.labels
        for entity in essay.entities:
            kinds[entity.kind] += 1
            if entity.label == "O":
                assert set(labels[entity.token_start : entity.token_end]) == {"O"}, entity
    for kind in ["cited_author", "cited_last", "instructor", "famous", "public_url", "isbn", "big"]:
        assert kinds[kind] > 0, kind
    public = [e.value for essay in essays for e in essay.entities if e.kind == "public_url"]
    assert any("wikipedia.org" in url for url in public)
    assert {"student", "teammate", "username", "id_num", "personal_url"} <= set(kinds)


def test_multi_token_names_and_newlines_inside_addresses(essays):
    name_lengths, newline_labels = [], []
    for essay in essays:
        doc = essay.document
        for entity in essay.entities:
            if entity.label == "NAME_STUDENT":
                name_lengths.append(entity.token_end - entity.token_start)
            if entity.label == "STREET_ADDRESS":
                newline_labels += [
                    label
                    for token, label in zip(
                        doc.tokens[entity.token_start : entity.token_end],
                        doc.labels[entity.token_start : entity.token_end],
                        strict=True,
                    )
                    if token == "\n"
                ]
    assert max(name_lengths) >= 3 and min(name_lengths) == 1
    assert newline_labels and set(newline_labels) == {"I-STREET_ADDRESS"}


def test_realistic_lengths(essays):
    lengths = np.array([len(e.document.tokens) for e in essays])
    assert 550 < lengths.mean() < 850
    assert lengths.max() > 3 * np.median(lengths)  # a long tail
    assert all("\n\n" in e.document.tokens for e in essays)


def test_sample_layout_and_cli(sample_dir, tmp_path, capsys):
    data = load_competition(sample_dir)
    assert [d.tokens for d in data.test] == [d.tokens for d in data.test_labels]
    assert any(label != "O" for d in data.test_labels for label in d.labels)
    main(["--out", str(tmp_path / "cli"), "--n-train", "8", "--n-test", "2", "--seed", "1"])
    assert "wrote the PII sample" in capsys.readouterr().out
    cli = load_competition(tmp_path / "cli")
    assert len(cli.train) == 8 and len(cli.test) == 2


def test_some_student_names_are_lower_case_or_capitals_so_the_name_rule_costs_true_names(essays):
    people = [e.value for essay in essays for e in essay.entities if e.label == "NAME_STUDENT"]
    lower = sum(name == name.lower() for name in people)
    upper = sum(name == name.upper() for name in people)
    assert lower > 0 and upper > 0 and 0.05 < (lower + upper) / len(people) < 0.25
    others = [e.value for essay in essays for e in essay.entities if e.kind in ("cited_author", "instructor")]
    assert all(name != name.lower() and name != name.upper() for name in others)  # as printed: title case
    docs = [essay.document for essay in essays]
    truth = [np.array([LABEL2ID[label] for label in d.labels]) for d in docs]
    _, table = apply_rules(docs, truth, ["name_format"])
    row = table.iloc[0]
    assert row["removed_fp"] == 0 and row["removed_tp"] == row["removed"] > 0


def test_the_external_family_differs_from_the_sample_and_is_deterministic(essays):
    external = generate_external(200, seed=1)
    texts = [e.document.full_text for e in generate_external(5, seed=1)]
    assert texts == [e.document.full_text for e in generate_external(5, seed=1)]
    assert texts != [e.document.full_text for e in generate_external(5, seed=2)]
    assert all(any(label != "O" for label in e.document.labels) for e in external)
    lengths = [len(e.document.tokens) for e in external]
    assert np.mean(lengths) < 0.5 * np.mean([len(e.document.tokens) for e in essays])
    values = {kind: [e.value for essay in external for e in essay.entities if e.label == kind]
              for kind in ("NAME_STUDENT", "EMAIL", "URL_PERSONAL", "ID_NUM")}  # fmt: skip
    assert all(name not in (name.lower(), name.upper()) for name in values["NAME_STUDENT"])
    assert values["EMAIL"] and all(".edu" in email for email in values["EMAIL"])
    assert all(
        url.split("/")[2] in ("medium.com", "www.behance.net", "x.com") for url in values["URL_PERSONAL"]
    )
    assert all(re.fullmatch(r"STU-20\d\d-\d{5}|A00\d{6}", v) for v in values["ID_NUM"])
    sample_text = " ".join(e.document.full_text for e in essays)
    assert "In today's fast-paced world" not in sample_text
    for essay in external:  # one BIO span per PII value, on exactly its tokens, as in the sample
        pii = sorted((e for e in essay.entities if e.label != "O"), key=lambda e: e.token_start)
        spans = bio_to_spans(essay.document.labels)
        assert [(s.entity, s.start, s.end) for s in spans] == [
            (e.label, e.token_start, e.token_end) for e in pii
        ]
        assert all(essay.document.full_text[e.start : e.end] == e.value for e in pii)
