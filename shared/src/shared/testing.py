"""Pytest fixtures every chapter's tests share: a chapter's ``tests/conftest.py`` imports them
(``from shared.testing import one_thread``), which registers them for its tests."""

import os

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# The `gpu`-marked tests (the GPU checks) run on CUDA. A machine without one skips them, unless this variable
# names another device: `KLS_GPU_CHECKS_DEVICE=cpu uv run pytest -m gpu` is their dry run, which checks their
# mechanics (the CUDA code paths stay unproven until a GPU runs them).
DEVICE_VARIABLE = "KLS_GPU_CHECKS_DEVICE"


def gpu_checks_device() -> torch.device | None:
    """The device the GPU checks run on: the one ``KLS_GPU_CHECKS_DEVICE`` names, else CUDA when there is
    one; None (skip them) otherwise."""
    named = os.environ.get(DEVICE_VARIABLE)
    if named:
        return torch.device(named)
    return torch.device("cuda") if torch.cuda.is_available() else None


def gpu_skip_reason() -> str | None:
    """Why the GPU checks are skipped here, or None when they run."""
    if gpu_checks_device() is not None:
        return None
    return f"needs a CUDA device ({DEVICE_VARIABLE}=cpu runs the GPU checks on CPU as a dry run)"


@pytest.fixture
def gpu() -> torch.device:
    """The device of a ``gpu``-marked test (see :func:`gpu_checks_device`); skips the test when there is none."""
    device = gpu_checks_device()
    if device is None:
        pytest.skip(gpu_skip_reason())
    return device


def needs(module: str, why: str = "") -> object:
    """Import an optional library a GPU check needs, or skip the test naming it (vLLM, DeepSpeed and
    bitsandbytes are absent from some GPU images)."""
    return pytest.importorskip(
        module, reason=f"needs {module}{f' ({why})' if why else ''}, which is not installed"
    )


def spy(monkeypatch, owner: object, name: str, keep=lambda out: out) -> list:
    """``keep`` of what each call of ``owner.name`` returns, collected while the code under test calls it as
    usual (a GPU check reads what a chapter built: its Trainer, its loaded models)."""
    seen, real = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.append(keep(out))
        return out

    monkeypatch.setattr(owner, name, wrapper)
    return seen
