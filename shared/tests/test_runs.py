"""Default data and output locations: the given folder, else the Kaggle download, else the sample."""

from pathlib import Path

import pytest

from shared.runs import output_root, resolve_data_dir, run_dir


def test_data_dir_prefers_the_given_folder_then_kaggle_then_a_sample_made_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = []

    def make_sample(out: Path):
        made.append(out)
        out.mkdir(parents=True)
        (out / "train.csv").write_text("id\n")

    sample = Path("competitions/demo/data/sample")
    assert resolve_data_dir(None, "demo", "train.csv", make_sample) == (sample, "sample")
    assert resolve_data_dir(None, "demo", "train.csv", make_sample) == (sample, "sample")
    assert made == [sample]
    assert resolve_data_dir("mine", "demo", "train.csv", make_sample) == (Path("mine"), "mine")
    (sample / "train.csv").unlink()  # an interrupted sample (marker missing) is made again
    made.clear()
    (sample / "train.csv").parent.rmdir()
    assert resolve_data_dir(None, "demo", "train.csv", make_sample) == (sample, "sample") and made == [sample]
    Path("competitions/demo/data/train.csv").write_text("id\n")
    assert resolve_data_dir(None, "demo", "train.csv", make_sample) == (
        Path("competitions/demo/data"),
        "kaggle",
    )
    assert len(made) == 1


def test_run_dir_is_the_given_folder_or_a_timestamped_one_under_outputs():
    assert run_dir("mine", "demo", "train") == Path("mine")
    auto = run_dir(None, "demo", "train")
    assert auto.parent == output_root("demo") == Path("outputs/demo")
    assert auto.name.startswith("train-") and len(auto.name) == len("train-20261125-230000")


def test_open_run_makes_the_folder_and_sends_the_logs_to_its_run_log(tmp_path, monkeypatch):
    import shared.console
    from shared.runs import open_run

    calls = []  # log_to_file changes process-wide logging (tested in test_console): record the call only
    monkeypatch.setattr(shared.console, "log_to_file", lambda path, verbose: calls.append((path, verbose)))
    out = open_run(str(tmp_path / "run"), "chapter", "reproduce", verbose=True)
    assert out == tmp_path / "run" and out.is_dir()
    assert calls == [(out / "run.log", True)]


def test_chapter_paths_import_the_sample_maker_only_when_the_sample_is_made(tmp_path, monkeypatch):
    import sys
    import types

    import shared.console
    from shared.runs import ChapterPaths

    monkeypatch.chdir(tmp_path)
    made = []

    def make_sample(out: Path):
        made.append(out)
        out.mkdir(parents=True)
        (out / "train.csv").write_text("id\n")

    paths = ChapterPaths("demo", marker="train.csv", sample_maker="demo_sample_maker:make")
    assert paths.sample_dir == Path("competitions/demo/data/sample")
    assert paths.output_root == Path("outputs/demo") == paths.run_dir(None, "train").parent
    assert paths.resolve_data_dir("mine") == (Path("mine"), "mine")  # nothing imported: the module is absent
    monkeypatch.setitem(sys.modules, "demo_sample_maker", types.SimpleNamespace(make=make_sample))
    assert paths.resolve_data_dir(None) == (paths.sample_dir, "sample") and made == [paths.sample_dir]
    monkeypatch.setattr(shared.console, "log_to_file", lambda path, verbose: made.append((path, verbose)))
    assert paths.open_run(str(tmp_path / "run"), "train", verbose=True) == tmp_path / "run"
    assert made[-1] == (tmp_path / "run" / "run.log", True)


def test_every_predict_command_shares_its_flags_and_writes_its_log_beside_the_submission(
    tmp_path, monkeypatch
):
    import shared.console
    from shared.runs import open_prediction, predict_parser

    monkeypatch.setattr(
        shared.console, "log_to_file", lambda path, verbose=False: path
    )  # no global logging change

    parser = predict_parser("x", "test.csv")
    args = parser.parse_args(["--models", "m", "--data_dir", "d"])  # the underscore spelling works too
    assert (args.models, args.data_dir, args.output, args.verbose) == ("m", "d", "submission.csv", False)
    assert "folder with test.csv" in parser.format_help()
    output, log = open_prediction(str(tmp_path / "deep" / "sub.csv"))
    assert (
        output == tmp_path / "deep" / "sub.csv"
        and output.parent.is_dir()
        and log == tmp_path / "deep" / "sub.log"
    )


def test_a_manifest_is_read_back_and_checked_member_by_member(tmp_path):
    from shared.runs import read_manifest, write_manifest

    class Broken(ValueError):
        pass

    models = tmp_path / "models"
    with pytest.raises(Broken, match=r"manifest\.json: not found \(models/ is written by x-train\)$"):
        read_manifest(models, "x-train", Broken)
    write_manifest(models, {"members": ["a"], "blend": None})
    with pytest.raises(Broken, match=r"member 'a': folder .*models/a is missing$"):
        read_manifest(models, "x-train", Broken)
    (models / "a").mkdir()
    assert read_manifest(models, "x-train", Broken) == {"members": ["a"], "blend": None}
    write_manifest(models, {"members": []})
    with pytest.raises(Broken, match="'members' is empty"):
        read_manifest(models, "x-train", Broken)
    (models / "manifest.json").write_text("{not json")
    with pytest.raises(Broken, match=r"manifest\.json: not valid JSON \(.*line 1\)$"):
        read_manifest(models, "x-train", Broken)
