"""Pytest fixtures every chapter's tests share: a chapter's ``tests/conftest.py`` imports them
(``from shared.testing import one_thread``), which registers them for its tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run far faster on one thread than on two busy cores (threads spin-wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
