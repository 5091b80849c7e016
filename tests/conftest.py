"""Fixtures shared by the whole suite: the Auth0 emulator and quick retries for the tap."""

from __future__ import annotations

import pytest

from tap_auth0_userlogs.auth0 import retries

pytest_plugins = ["tests.emulator.pytest_plugin", "tests.e2e.fixtures"]


@pytest.fixture
def fast_retries(monkeypatch):
    """Back off in milliseconds instead of seconds, so retry tests stay quick."""
    monkeypatch.setattr(retries, "TRANSIENT_BACKOFF_FACTOR", 0.01)
