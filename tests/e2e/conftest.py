"""Hooks of the end-to-end tests; their Meltano and PostgreSQL fixtures are in fixtures.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.tenants import FIGURES

# The first test to ask for Meltano waits for `meltano install`, which on a fresh machine
# downloads every plugin; the per-command timeouts of tests.e2e.meltano_cli still apply.
E2E_TIMEOUT_SECONDS = 900


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The many-tenants runs' pace against each tenant's rate limit, for docs/many-tenants.md."""
    if FIGURES:
        terminalreporter.section("many tenants figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_SECONDS))
