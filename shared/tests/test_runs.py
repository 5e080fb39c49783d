"""Default data and output locations: the given folder, else the Kaggle download, else the sample."""

from pathlib import Path

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
