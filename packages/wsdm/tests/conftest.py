"""Fixtures shared by the wsdm tests."""

from shared.testing import one_thread  # noqa: F401 (an autouse fixture: importing registers it)
