"""Cross-validation of one recipe: folds, extra data kept out of validation, artefacts and their scores,
the recipes themselves and one-line errors for bad values."""

import json
import re
import shlex
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pii import experiment, predict
from pii.data import DataError, Document, PiiData, label_frame, load_competition
from pii.decode import decode_documents
from pii.experiment import ExperimentConfig, folded, run_experiment
from pii.labels import ENTITY_TYPES, LABEL2ID, LABELS
from pii.submission import submission_rows, validate_submission
from pii.synth import generate, make_sample
from pii.train import main, make_parser, parse_config
from shared.metrics import pii_fbeta

RECIPES = Path(__file__).parents[3] / "competitions" / "pii" / "recipes"
BASELINE = RECIPES / "deberta-v3-large.yaml"
TRAIN_RECIPES = [p for p in RECIPES.glob("*.yaml") if p.read_text().startswith("# entry point: pii-train\n")]
# what each technique recipe changes in the baseline recipe (besides its name)
TECHNIQUES = {
    "deberta-v3-large-threshold.yaml": {"decoding"},
    "deberta-v3-large-oweight.yaml": {"o_weight"},
    "deberta-v3-large-plain.yaml": {"prefix_free"},
    "deberta-v3-large-extdata.yaml": {"extra_data"},
}


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory):
    return make_sample(tmp_path_factory.mktemp("pii-exp") / "sample", n_train=16, n_test=4, seed=2)


def cpu_flags(recipe: Path) -> list[str]:
    """The flags of a recipe's ``# CPU run: add ...`` header line."""
    match = re.search(r"^# CPU run: add (.+)$", recipe.read_text(), re.MULTILINE)
    assert match, f"{recipe} has no CPU run header"
    return shlex.split(match[1])


def one_hot(doc) -> np.ndarray:
    probs = np.zeros((len(doc.tokens), len(LABELS)), dtype=np.float32)
    probs[np.arange(len(doc.tokens)), [LABEL2ID[label] for label in doc.labels]] = 1.0
    return probs


def test_folds_hold_every_document_once_and_spread_each_entity_type():
    docs = [essay.document for essay in generate(60, seed=3)]
    fold = folded(docs, 4, seed=1)
    assert fold.shape == (60,) and set(fold) == {0, 1, 2, 3}
    np.testing.assert_array_equal(fold, folded(docs, 4, seed=1))  # deterministic
    spread = 0
    for entity in ENTITY_TYPES:
        holders = [i for i, doc in enumerate(docs) if any(label[2:] == entity for label in doc.labels)]
        if len(holders) >= 4:  # stratified: every fold validates on this type
            assert set(fold[holders]) == {0, 1, 2, 3}, entity
            spread += 1
    assert spread >= 2
    with pytest.raises(DataError, match="n_folds: 4 folds need at least 4 training documents, got 3"):
        folded(docs[:3], 4, seed=1)


def test_folds_stratify_on_a_single_entity_type():
    docs = [Document(i, "a b", ["a", "b"], [True, False], ["B-NAME_STUDENT" if i % 2 else "O", "O"])
            for i in range(8)]  # fmt: skip
    fold = folded(docs, 2, seed=0)
    assert sorted(fold[1::2]) == [0, 0, 1, 1] and sorted(fold[::2]) == [0, 0, 1, 1]


def test_extra_data_only_trains_and_oof_scores_come_from_the_validation_folds(
    small_dir, tmp_path, monkeypatch
):
    data = load_competition(small_dir)
    extra = [essay.document for essay in generate(3, seed=9)]
    data = PiiData(data.train, data.test, data.sample_submission, {"extra.json": extra}, data.test_labels)
    truth = {doc.document: doc for doc in data.test_labels}
    fitted, predicted = [], []

    def fake_fit(config, docs, desc):
        fitted.append([id(doc) for doc in docs])
        return "model", "tokenizer"

    def fake_predict(model, tokenizer, docs, config):  # an oracle: probability 1 on the true label
        predicted.append([id(doc) for doc in docs])
        return [one_hot(doc if doc.labels is not None else truth[doc.document]) for doc in docs]

    monkeypatch.setattr(experiment, "fit", fake_fit)
    monkeypatch.setattr(experiment, "predict", fake_predict)
    config = ExperimentConfig(backbone="some/model", n_folds=3)
    result = run_experiment(config, data, tmp_path / "run")

    assert len(fitted) == 3 and len(predicted) == 6
    for k in range(3):
        valid = [id(doc) for doc, f in zip(data.train, result.fold, strict=True) if f == k]
        rest = [id(doc) for doc, f in zip(data.train, result.fold, strict=True) if f != k]
        assert sorted(fitted[k]) == sorted(rest + [id(doc) for doc in extra])  # all extra data in every fold
        assert predicted[2 * k] == valid  # validation: this fold's documents, never extra data
        assert predicted[2 * k + 1] == [id(doc) for doc in data.test]
    assert result.cv == 1.0 and result.folds == [1.0, 1.0, 1.0] and result.test_score == 1.0
    oof = np.load(tmp_path / "run" / "oof_probs.npz")
    assert sorted(oof.files) == sorted(str(doc.document) for doc in data.train)
    for doc in data.train:
        np.testing.assert_array_equal(oof[str(doc.document)], one_hot(doc))


def test_a_cpu_run_writes_artefacts_whose_scores_recompute_from_the_probabilities(
    small_dir, tmp_path, capsys
):
    recipe = RECIPES / "deberta-v3-large-threshold.yaml"
    out = tmp_path / "run"
    main(["--config", str(recipe), *cpu_flags(recipe), "--n_folds", "2", "--data_dir", str(small_dir), "--output_dir", str(out)])  # fmt: skip
    assert "CV F5" in capsys.readouterr().out
    data = load_competition(small_dir)
    config = json.loads((out / "config.json").read_text())
    assert (
        config["backbone"] == "tiny:deberta-v2"
        and config["decoding"] == "threshold"
        and config["n_folds"] == 2
    )
    scores = json.loads((out / "scores.json").read_text())
    folds = pd.read_csv(out / "folds.csv").set_index("document")["fold"]
    oof, test = np.load(out / "oof_probs.npz"), np.load(out / "test_probs.npz")

    def f5(docs, probs):
        return pii_fbeta(label_frame(docs), submission_rows(docs, decode_documents(probs, docs, 0.99)))

    for doc in data.train:
        probs = oof[str(doc.document)]
        assert probs.shape == (len(doc.tokens), len(LABELS))
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert scores["cv"] == pytest.approx(f5(data.train, [oof[str(d.document)] for d in data.train]))
    assert scores["cv"] > 0
    for k in range(2):
        docs = [doc for doc in data.train if folds[doc.document] == k]
        assert scores["folds"][k] == pytest.approx(f5(docs, [oof[str(d.document)] for d in docs]))
    test_probs = [test[str(doc.document)] for doc in data.test]
    for probs in test_probs:  # a mean of the two fold models' distributions
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    by_id = {doc.document: doc for doc in data.test_labels}
    assert scores["test"] == pytest.approx(f5([by_id[d.document] for d in data.test], test_probs))
    submission = pd.read_csv(out / "submission.csv")
    validate_submission(submission, data.test)
    expected = submission_rows(data.test, decode_documents(test_probs, data.test, 0.99))
    pd.testing.assert_frame_equal(submission, expected, check_dtype=False)
    # pii-predict, from models/ and test.json alone, writes the same submission
    test_only = tmp_path / "kaggle-input"
    test_only.mkdir()
    (test_only / "test.json").write_bytes((small_dir / "test.json").read_bytes())
    predict.main(
        ["--models", str(out / "models"), "--data-dir", str(test_only), "--output", str(tmp_path / "p.csv")]
    )
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "p.csv"), submission)


def test_predict_refuses_a_broken_models_folder_in_one_line(small_dir, tmp_path):
    models = tmp_path / "models"
    argv = ["--models", str(models), "--data-dir", str(small_dir), "--output", str(tmp_path / "s.csv")]
    with pytest.raises(
        SystemExit, match=r"^pii-predict: .*manifest\.json: not found \(models/ is written by"
    ):
        predict.main(argv)
    predict.write_manifest(models, ["m"], "thresholds", rules=True)
    with pytest.raises(SystemExit, match=r"member 'm': folder .*models/m is missing$"):
        predict.main(argv)
    (models / "m").mkdir()
    with pytest.raises(SystemExit, match=r"decoding 'thresholds' needs 'thresholds'$"):
        predict.main(argv)
    predict.write_manifest(models, ["m"], "experiment", rules=False)
    with pytest.raises(SystemExit, match=r"m/experiment\.json: not found"):
        predict.main(argv)


@pytest.mark.parametrize(
    ("recipe_text", "flags", "message"),
    [
        ("decoding: beam\n", [], r"^error: \S+bad\.yaml: decoding: 'beam' is not one of argmax \| threshold$"),
        ("o_wieght: 0.1\n", [], r"^error: \S+bad\.yaml: unknown field\(s\) \['o_wieght'\]$"),
        ("o_weight: 0.5\n", ["--o_weight", "0"], r"^error: command line: o_weight: 0\.0 must be > 0$"),
        ("max_length: 128\nstride: 200\n", [], r"^error: \S+bad\.yaml: stride: 200 must be >= 0 and below max_length - 2$"),
        ("threshold: 1.5\n", [], r"^error: \S+bad\.yaml: threshold: 1\.5 must be in \(0, 1\]$"),
        ("negative_ratio: 0\n", [], r"^error: \S+bad\.yaml: negative_ratio: 0 must be in \(0, 1\]$"),
        ("num_layers: 2\n", ["--num_layers", "-1"], r"^error: command line: num_layers: -1 must be >= 0$"),
        ("extra_data: [missing.json]\n", [], r"^error: \S+missing\.json: file not found$"),
    ],
)  # fmt: skip
def test_bad_recipe_values_stop_with_one_line(recipe_text, flags, message, small_dir, tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("# entry point: pii-train\nbackbone: some/model\n" + recipe_text)
    with pytest.raises(SystemExit) as stop:
        main(
            [
                "--config",
                str(recipe),
                *flags,
                "--data_dir",
                str(small_dir),
                "--output_dir",
                str(tmp_path / "o"),
            ]
        )
    assert re.match(message, str(stop.value.code)), stop.value.code
    assert not (tmp_path / "o").exists()


def test_each_technique_recipe_changes_only_its_own_fields_and_takes_its_cpu_flags():
    baseline = asdict(make_parser().parse_yaml_file(str(BASELINE), allow_extra_keys=False)[0])
    assert set(TECHNIQUES) | {BASELINE.name} == {p.name for p in TRAIN_RECIPES}
    for name, fields in TECHNIQUES.items():
        recipe = asdict(make_parser().parse_yaml_file(str(RECIPES / name), allow_extra_keys=False)[0])
        changed = {key for key in baseline if baseline[key] != recipe[key]}
        assert changed == fields | {"name"}, name
        assert recipe["name"] == name.removesuffix(".yaml")
    for recipe in TRAIN_RECIPES:
        config, _ = parse_config(make_parser(), ["--config", str(recipe), *cpu_flags(recipe)])
        assert config.backbone == "tiny:deberta-v2" and config.max_length == 128
