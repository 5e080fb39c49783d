"""Console output for people: library chatter goes to the run's log, a Trainer shows one named bar."""

import logging
import warnings

import pytest
import torch
from transformers import Trainer, TrainingArguments

from shared.console import LIBRARIES, TRAIN_LOG, is_verbose, log_to_file, quiet_imports, quiet_trainer


@pytest.fixture
def restore_logging(monkeypatch):
    """log_to_file changes process-wide logger settings: put them back after the test."""
    monkeypatch.delenv("KLS_VERBOSE", raising=False)
    monkeypatch.setattr("sys.argv", ["cmd"])
    saved = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).propagate, logging.getLogger(n).level)
             for n in (*LIBRARIES, TRAIN_LOG)}  # fmt: skip
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    yield
    for name, (handlers, propagate, level) in saved.items():
        logger = logging.getLogger(name)
        for h in logger.handlers:
            if h not in handlers:
                h.close()
        logger.handlers[:] = handlers
        logger.propagate, logger.level = propagate, level
    logging.captureWarnings(False)
    hf_logging.enable_default_handler()
    hf_logging.enable_progress_bar()
    hf_logging.set_verbosity(verbosity)


def test_quiet_imports_hides_the_known_import_noise_only(restore_logging):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_imports()
        warnings.warn(
            "`torch.jit.script` is deprecated. Please switch to `torch.compile`", FutureWarning, stacklevel=1
        )
        warnings.warn("something else is deprecated", FutureWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["something else is deprecated"]
    assert logging.getLogger("bitsandbytes").getEffectiveLevel() == logging.ERROR


def test_library_logs_and_warnings_go_to_the_run_log_not_the_terminal(restore_logging, tmp_path, capfd):
    path = log_to_file(tmp_path / "run" / "run.log")
    logging.getLogger("transformers.modeling_utils").warning("LOAD REPORT: newly initialized classifier")
    logging.getLogger("bitsandbytes.backends.cpu.ops").warning("Failed to load CPU gemm_4bit_forward")
    warnings.warn("a library warning", UserWarning, stacklevel=1)
    out, err = capfd.readouterr()
    text = path.read_text()
    assert "LOAD REPORT" in text and "gemm_4bit_forward" in text and "a library warning" in text
    assert "LOAD REPORT" not in out + err and "a library warning" not in out + err


def test_a_verbose_run_keeps_the_library_output_on_the_terminal(restore_logging, tmp_path, monkeypatch):
    # main(argv) called from Python: --verbose is in argv, not sys.argv, so the command passes its field
    monkeypatch.setenv("KLS_VERBOSE", "0")
    before = list(logging.getLogger("transformers").handlers)
    log_to_file(tmp_path / "run.log", verbose=True)
    logging.getLogger("transformers.modeling_utils").warning("LOAD REPORT")
    assert not (tmp_path / "run.log").exists()
    assert logging.getLogger("transformers").handlers == before  # its own terminal handler, untouched
    assert is_verbose()  # a Trainer built later in the run keeps its own bar and dicts too


def test_a_quiet_trainer_shows_one_named_bar_and_logs_its_metrics(restore_logging, tmp_path, capfd):
    log = log_to_file(tmp_path / "run.log")

    class Regression(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1)

        def forward(self, x, y):
            return {"loss": torch.nn.functional.mse_loss(self.linear(x).squeeze(-1), y)}

    torch.manual_seed(0)
    data = [{"x": torch.randn(2), "y": torch.tensor(1.0)} for _ in range(8)]
    args = TrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=2, num_train_epochs=1,
                             logging_steps=1, save_strategy="no", report_to=[], use_cpu=True)  # fmt: skip
    trainer = quiet_trainer(Trainer(model=Regression(), args=args, train_dataset=data), "fold 1/2")
    trainer.train()
    out, err = capfd.readouterr()
    assert "'loss'" not in out and "'loss'" not in err  # no printed metric dicts
    assert "fold 1/2" in err and "4/4" in err  # the named bar reached the last step
    logged = [line for line in log.read_text().splitlines() if "fold 1/2 step" in line]
    assert len(logged) >= 4 and '"loss"' in logged[0]
