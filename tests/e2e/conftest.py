"""Session fixtures of the end-to-end tests: Meltano with its plugins installed, and PostgreSQL.

Both are required: when Meltano or PostgreSQL is missing these tests fail, they never skip.
`make test` installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.meltano_cli import Meltano, find_meltano
from tests.e2e.postgres import PostgresUnavailable, ThrowawayCluster
from tests.e2e.tenants import FIGURES

# The first test to ask for Meltano waits for `meltano install`, which on a fresh machine
# downloads every plugin; the per-command timeouts of tests.e2e.meltano_cli still apply.
E2E_TIMEOUT_SECONDS = 900
INSTALL_TIMEOUT_SECONDS = 600


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


@pytest.fixture(scope="session")
def meltano() -> Meltano:
    """Meltano, after `meltano install` has put every plugin of meltano.yml into .meltano/."""
    try:
        executable = find_meltano()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    command = Meltano(executable)
    command("install", timeout=INSTALL_TIMEOUT_SECONDS)
    return command


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[ThrowawayCluster]:
    """A PostgreSQL server on 127.0.0.1 for this session, removed at the end."""
    try:
        cluster = ThrowawayCluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))
    try:
        cluster.start()
    except PostgresUnavailable as exc:
        cluster.stop()
        pytest.fail(str(exc))
    yield cluster
    cluster.stop()
