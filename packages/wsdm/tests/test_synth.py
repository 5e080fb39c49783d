"""The generated sample: the same bytes for the same seed, the Kaggle and LMSYS layouts loading through
wsdm.data, seven languages in six scripts, responses built as specified (hand-checked), a position bias
and label noise, long rows whose decisive text is at the end, and a winner that the noiseless quality rule
predicts well but not perfectly."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from wsdm.data import TRAIN_COLUMNS, load_competition
from wsdm.sample.languages import LANGUAGES, scripts
from wsdm.sample.synth import LONG_SHARE, generate, main, make_sample, position_bias
from wsdm.sample.tasks import Query, Spec, make_pair, properties, quality, respond

FILES = [
    "card.json",
    "extra/lmsys_arena.csv",
    "sample_submission.csv",
    "test.parquet",
    "test_labels.csv",
    "train.parquet",
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("wsdm") / "sample", seed=0)


@pytest.fixture(scope="module")
def data(sample):
    return load_competition(sample, extra=["extra/lmsys_arena.csv"])


@pytest.fixture(scope="module")
def rows():
    """Many rows with their hidden truth, for the rates."""
    return generate(3000, 11)


def test_same_seed_same_bytes_other_seed_other_sample(sample, tmp_path):
    again = make_sample(tmp_path / "again", seed=0)
    for name in FILES:
        assert (again / name).read_bytes() == (sample / name).read_bytes(), name
    other = make_sample(tmp_path / "other", seed=1, n_train=50, n_test=20, n_extra=20)
    assert (other / "train.parquet").read_bytes() != (sample / "train.parquet").read_bytes()


@pytest.mark.slow
def test_same_bytes_in_another_process_with_another_hash_seed(sample, tmp_path):
    code = f"from wsdm.sample.synth import main; main(['--out', {str(tmp_path / 'cli')!r}])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    )
    assert "noiseless rule scores" in done.stdout
    for name in FILES:
        assert (tmp_path / "cli" / name).read_bytes() == (sample / name).read_bytes(), name


def test_files_have_the_kaggle_layout_and_load(sample, data):
    assert sorted(str(p.relative_to(sample)) for p in sample.rglob("*") if p.is_file()) == FILES
    assert list(pd.read_parquet(sample / "train.parquet").columns) == list(TRAIN_COLUMNS)
    assert list(pd.read_parquet(sample / "test.parquet").columns) == [
        "id",
        "prompt",
        "response_a",
        "response_b",
        "scored",
    ]
    arena = pd.read_csv(sample / "extra" / "lmsys_arena.csv")
    assert list(arena.columns) == [
        "id",
        "model_a",
        "model_b",
        "prompt",
        "response_a",
        "response_b",
        "winner_model_a",
        "winner_model_b",
        "winner_tie",
    ]
    assert (len(data.train), len(data.test), len(data.submission)) == (900, 300, 300)
    assert set(data.train["winner"]) == {"model_a", "model_b"}
    assert (data.submission["winner"] == "model_a").all()
    assert data.test_labels.index.tolist() == data.test["id"].tolist()
    ties = int(arena["winner_tie"].sum())
    assert 0.08 <= ties / len(arena) <= 0.22
    assert len(data.extra) == len(arena) - ties
    assert data.notes == [
        f"extra/lmsys_arena.csv: {len(arena) - ties} rows (LMSYS layout; {ties} ties dropped)"
    ]


def test_lmsys_rows_have_two_turns_and_null_turns(sample):
    arena = pd.read_csv(sample / "extra" / "lmsys_arena.csv")
    prompts = arena["prompt"].map(json.loads)
    assert 0.12 <= (prompts.map(len) == 2).mean() <= 0.28
    responses = pd.concat([arena["response_a"], arena["response_b"]]).map(json.loads)
    assert responses.map(lambda turns: None in turns).sum() >= 2


def test_ids_are_hex_and_train_test_disjoint(data):
    ids = pd.concat([data.train["id"], data.test["id"]])
    assert ids.str.fullmatch(r"[0-9a-f]{16}").all() and ids.is_unique


def test_seven_languages_in_six_scripts(data):
    counts = data.train["language"].value_counts(normalize=True)
    assert set(counts.index) == set(LANGUAGES)
    assert 0.33 <= counts["English"] <= 0.47
    found = {
        name: set().union(*data.train.loc[data.train["language"] == name, "prompt"].map(scripts))
        for name in LANGUAGES
    }
    assert (
        found["Russian"] >= {"Cyrillic"}
        and found["Arabic"] >= {"Arabic"}
        and found["Hindi"] >= {"Devanagari"}
    )
    assert found["Chinese"] >= {"Han"} and found["Japanese"] >= {"Kana"} and found["Spanish"] >= {"Latin"}


def test_responses_by_hand():
    rng = np.random.default_rng(0)
    france = Query("capital", index=0)
    assert france.ask("English") == "What is the capital of France?"
    assert france.ask("Russian") == "Какой город — столица страны Франция?"
    assert (
        respond(Query("capital", 0, want="json"), Spec("English", format="json"), rng)
        == '{"answer": "Paris"}'
    )
    assert respond(Query("capital", 0, want="word"), Spec("Chinese", format="word"), rng) == "巴黎"
    listed = respond(Query("symbol", 0, want="list"), Spec("Spanish", format="list"), rng).splitlines()
    assert listed[0] == "- El símbolo químico del elemento oro es Au." and listed[1].startswith("- ")
    assert respond(france, Spec("Hindi", style="curt"), rng) == "मैं इसमें मदद नहीं कर सकता।"
    assert respond(Query("sum", terms=(37, 48)), Spec("English"), rng).startswith("37 + 48 = 85.")
    wrong = respond(Query("sum", terms=(37, 48)), Spec("English", correct=False), rng)
    assert wrong.startswith("37 + 48 = ") and not wrong.startswith("37 + 48 = 85.")
    bloated = respond(france, Spec("English", style="bloated"), rng)
    assert bloated.count("The capital of France is Paris.") == 3 and len(bloated) > 150


def test_quality_by_hand():
    # correct 1.0, language 1.2, format 0.9, length 0.8
    assert quality(Spec("English"), "English", None) == 3.9
    assert quality(Spec("English", correct=False), "English", None) == 2.9
    assert quality(Spec("Russian"), "English", None) == 2.7
    assert quality(Spec("English", style="curt"), "English", "json") == 1.2  # no answer, no format, too short
    assert quality(Spec("English", format="list"), "English", "json") == 3.0
    assert quality(Spec("English", style="bloated"), "English", None) == 3.1
    assert properties(Spec("Hindi", format="json"), "Hindi", "json") == dict.fromkeys(
        ("correct", "language", "format", "length"), True
    )


def test_each_kind_differs_in_its_key_property():
    rng = np.random.default_rng(3)
    for kind in ("facts", "format", "language", "length", "arithmetic"):
        for _ in range(20):
            pair = make_pair(kind, "Spanish", rng)
            assert pair.quality_a != pair.quality_b
            assert max(pair.quality_a, pair.quality_b) == pytest.approx(3.9)
            equal = make_pair(kind, "Spanish", rng, equal=True)
            assert equal.quality_a == equal.quality_b


def _common_head(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def test_most_pairs_are_controlled_contrasts_of_one_wording(rows):
    """About four pairs in five differ in one property; those say the same thing in the same words apart
    from the flaw: a wrong capital leaves the sentence around it as it was."""
    assert 0.72 <= rows["single"].mean() <= 0.84 and not (rows["single"] & rows["equal"]).any()
    rng = np.random.default_rng(8)
    for _ in range(30):
        pair = make_pair("facts", "English", rng)
        a, b = pair.response_a, pair.response_b
        same = _common_head(a, b) + _common_head(a[::-1], b[::-1])
        assert a != b and same >= min(len(a), len(b)) - 20, (a, b)
    for seed in range(6):
        pair = make_pair("length", "Russian", np.random.default_rng(seed))
        texts = {pair.response_a, pair.response_b}
        if "Я не могу с этим помочь." not in texts:  # not a refusal: the same sentence padded out with filler
            short, long = sorted(texts, key=len)
            assert short.split(". ")[0] in long.split(". ")[1:], (short, long)


def test_long_rows_put_the_decisive_text_at_the_end():
    rng = np.random.default_rng(5)
    pair = make_pair("facts", "English", rng, long="responses")
    for text in (pair.response_a, pair.response_b):
        *reasoning, final = text.split("\n\n")
        assert final.startswith("So the answer is ") and "answer is" not in "\n\n".join(reasoning)
        assert len(text) > 1500
    pair = make_pair("format", "English", rng, long="prompt")
    *document, question = pair.prompt.split("\n\n")
    assert document[0] == "Here is a text I copied:" and question.startswith("Now my question: ")
    assert question.endswith(("Answer as a bulleted list.", "Answer in one word.", "Answer in JSON."))
    assert len(pair.prompt) > 3000 and max(len(pair.response_a), len(pair.response_b)) < 200


def test_long_rows_are_long_in_tokens_and_the_rest_short(sample):
    """Token counts from a byte-level BPE of 4000 tokens trained on the sample, as the tiny LM's is."""
    train = pd.read_parquet(sample / "train.parquet")
    texts = [text for column in ("prompt", "response_a", "response_b") for text in train[column]]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=4000, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    lengths = [len(e.ids) for e in tokenizer.encode_batch(texts)]
    tokens = np.asarray(lengths).reshape(3, -1).sum(axis=0)
    long = tokens > 3 * 256
    assert abs(long.mean() - LONG_SHARE) <= 0.04
    assert np.median(tokens[~long]) < 64 and np.quantile(tokens[~long], 0.99) <= 256


def test_position_bias_and_label_noise(rows):
    a_wins = rows["winner"] == "model_a"
    equal = rows["quality_a"] == rows["quality_b"]
    assert equal.mean() > 0.08
    assert rows.loc[equal, "rule_a"].all()  # the rule sends ties in quality to A, as the bias does
    assert 0.5 < a_wins[equal].mean() < 0.62
    assert position_bias() > 0
    assert 0.05 <= rows["flipped"].mean() <= 0.08
    assert 0.5 < a_wins.mean() < 0.56


def test_noiseless_rule_is_good_but_not_perfect(sample, rows):
    hit = (rows["winner"] == "model_a") == rows["rule_a"]
    assert 0.78 <= hit.mean() <= 0.88
    assert hit[rows["long"] != ""].mean() >= 0.78  # long rows carry as much signal
    card = json.loads((sample / "card.json").read_text(encoding="utf-8"))
    for split in ("train", "test"):
        assert 0.75 < card["ceiling"][split] < 0.92
    assert card["seed"] == 0 and card["rows"] == {"train": 900, "test": 300, "extra": 600}
    assert card["ceiling"]["train"] == card["measured"]["train"]["ceiling"]


def test_default_out_and_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["--n-train", "40", "--n-test", "20", "--n-extra", "30", "--seed", "4"])
    out = tmp_path / "competitions" / "wsdm" / "data" / "sample"
    data = load_competition(out, extra=["extra/lmsys_arena.csv"])
    assert (len(data.train), len(data.test)) == (40, 20)
    assert "wrote the WSDM sample" in capsys.readouterr().out


def test_an_interrupted_rewrite_leaves_no_marker(tmp_path, monkeypatch):
    import wsdm.sample.synth as synth

    out = make_sample(tmp_path / "s", n_train=30, n_test=10, n_extra=10)

    def broken(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(synth, "card", broken)  # fails after test.parquet, before train.parquet
    with pytest.raises(RuntimeError):
        make_sample(out, n_train=30, n_test=10, n_extra=10)
    assert (out / "test.parquet").is_file() and not (out / "train.parquet").exists()
