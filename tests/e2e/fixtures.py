"""Session fixtures for every suite that runs Meltano or a warehouse: Meltano with its plugins
installed, and PostgreSQL. A pytest plugin (tests/conftest.py loads it), so that the
end-to-end and the analytics tests share one `meltano install` and one cluster per session.

Both are required: when Meltano or PostgreSQL is missing these tests fail, they never skip.
`make test` installs both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.meltano_cli import Meltano, find_meltano
from tests.e2e.postgres import PostgresUnavailable, ThrowawayCluster

# On a fresh machine `meltano install` downloads every plugin (the dbt ones too).
INSTALL_TIMEOUT_SECONDS = 600


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
