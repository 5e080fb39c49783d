"""Console output for people: one named progress bar per long step, a summary at the end, and the libraries'
chatter (weight-loading reports, per-step metric dicts, "Writing model shards", deprecation warnings) in the
run folder's log file instead of the terminal.

- :func:`quiet_imports` runs from each chapter's ``__init__`` before any heavy import, so that even
  ``--help`` starts clean (bitsandbytes' kernels-community warning, DeBERTa's ``torch.jit.script``
  FutureWarning);
- :func:`log_to_file` sends the libraries' loggers and Python warnings to ``run.log``;
- :func:`progress` is a named bar; :func:`quiet_trainer` gives a ``transformers.Trainer`` (or a TRL
  trainer) one named bar instead of its bar plus a printed dict per logging step.

``--verbose`` on the command line (or passed to :func:`log_to_file`), or ``KLS_VERBOSE=1``, leaves everything
as the libraries print it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import warnings
from pathlib import Path

LIBRARIES = (
    "transformers",
    "accelerate",
    "peft",
    "trl",
    "datasets",
    "bitsandbytes",
    "deepspeed",
    "DeepSpeed",  # deepspeed's own logger, with its own level and stdout handler
    "torch",
    "huggingface_hub",
    "sentence_transformers",
    "optuna",
    "mergekit",
    "vllm",
    "py.warnings",
)
TRAIN_LOG = "kls.train"


def is_verbose() -> bool:
    """True when the user asked to see the libraries' own output."""
    return "--verbose" in sys.argv or os.environ.get("KLS_VERBOSE", "") not in ("", "0")


def quiet_imports() -> None:
    """Silence what the libraries print while they are imported (call before importing them)."""
    if is_verbose():
        return
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=FutureWarning)
    # bitsandbytes warns at import that its optional CPU kernel package is missing; the CPU path works.
    logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
    # DeepSpeed sets its logger's level when imported and prints "Setting accelerator to CPU" to stdout.
    logging.getLogger("DeepSpeed").addFilter(_errors_only)
    # auto-round (wsdm's AutoRound quantiser) gives its logger a stderr handler when imported and warns about
    # its own argument style on every call.
    logging.getLogger("autoround").addFilter(_errors_only)
    # textstat 0.7.3 (the last release that works offline) imports setuptools' deprecated pkg_resources.
    warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated", category=UserWarning)


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def log_to_file(path: Path, *, verbose: bool = False) -> Path:
    """Send the libraries' log records and Python warnings to ``path`` (appending), not the terminal;
    their download/loading progress bars are switched off. ``verbose`` (the command's ``--verbose`` field)
    keeps everything on the terminal, for this call and for :func:`quiet_trainer` later in the run, also
    when the command was called with an ``argv`` of its own rather than from the shell."""
    if verbose:
        os.environ["KLS_VERBOSE"] = "1"
    if is_verbose():
        return Path(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.captureWarnings(True)
    for name in (*LIBRARIES, TRAIN_LOG):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, logging.FileHandler)]:
            logger.removeHandler(old)
            old.close()
        logger.addHandler(handler)
        # torch's INFO records also reach its own stderr handlers (TorchDynamo metrics at exit): keep it quiet
        logger.setLevel(logging.WARNING if name == "torch" else logging.INFO)
        logger.propagate = False
    from transformers.utils import logging as hf_logging  # imported here: quiet_imports must run first

    hf_logging.disable_default_handler()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_info()
    for module in ("huggingface_hub.utils", "datasets"):  # download and "Tokenizing train dataset" bars
        with contextlib.suppress(ImportError):  # a chapter without datasets
            importlib.import_module(module).disable_progress_bars()
    return path


def progress(iterable=None, *, desc: str, total: int | None = None, unit: str = "it", leave: bool = True):
    """A named tqdm bar on stderr."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave, dynamic_ncols=True)


def _trainer_progress_class():
    from transformers import TrainerCallback

    class TrainerProgress(TrainerCallback):
        """One named bar over the optimizer steps; the logged metrics go to the ``kls.train`` logger."""

        def __init__(self, desc: str):
            self.desc, self.bar = desc, None

        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                self.bar = progress(desc=self.desc, total=state.max_steps, unit="step")

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                logging.getLogger(TRAIN_LOG).info("%s step %d: %s", self.desc, state.global_step,
                                                  json.dumps(logs, default=str))  # fmt: skip

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return TrainerProgress


def quiet_trainer(trainer, desc: str):
    """Replace the trainer's own bar and printed metric dicts by one bar named ``desc`` (a no-op under
    ``--verbose``); returns the trainer."""
    if is_verbose():
        return trainer
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(_trainer_progress_class()(desc))
    return trainer
