"""A warehouse keyed on log_id before `tenant_domain` migrates as docs/many-tenants.md says.

The earlier table is made the way the earlier version made it, through the loaders: a stream
map drops `tenant_domain` and keys `user_logs` on `log_id` alone. The next run, with the
tenant column, fails on the old primary key and loses nothing; the page's SQL migrates the
table; the run after it loads every event, and a second tenant with the same log_ids then
loads alongside the first.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.meltano_cli import REPO_ROOT, Meltano, MeltanoFailed, user_bookmarks
from tests.e2e.pipeline import (
    TENANT,
    duckdb_settings,
    postgres_settings,
    selected_users,
    tap_settings,
)
from tests.e2e.tenants import documented_sql_blocks, documented_tenant_extractors, parse_moment
from tests.e2e.warehouses import DuckDBWarehouse, PostgresWarehouse, Warehouse
from tests.emulator import Emulator

LOADERS = ["target-duckdb", "target-postgres"]
# What the earlier version emitted: no tenant column, a key on log_id alone.
EARLIER_VERSION = {"user_logs": {"__key_properties__": ["log_id"], "tenant_domain": None}}
# Where the documented migration says what each loader failed with.
KEY_ERRORS = {
    "target-duckdb": "violates primary key constraint",
    "target-postgres": 'violates unique constraint "user_logs_pkey"',
}
# The loader's own duckdb (1.0.0) runs the documented DuckDB statements, as the page says.
LOADER_PYTHON = REPO_ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"


@dataclass
class Migration:
    loader: str
    emulator: Emulator
    users: list[str]
    earlier_rows: int
    failure: str
    rows_after_failure: int
    warehouse: Warehouse
    expected: set[str]
    bookmarks: dict[str, str]
    second_tenant: str


def _migrate_duckdb(path: Path, sql: str) -> None:
    script = "import duckdb, sys\nwith duckdb.connect(sys.argv[1]) as c: c.execute(sys.argv[2])"
    subprocess.run([str(LOADER_PYTHON), "-c", script, str(path), sql], check=True, timeout=60)


@pytest.fixture(scope="module", params=LOADERS)
def migration(
    request: pytest.FixtureRequest, meltano: Meltano, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Migration]:
    loader: str = request.param
    tmp: Path = tmp_path_factory.mktemp(f"migration-{loader}")
    cluster = request.getfixturevalue("postgres_cluster") if loader == "target-postgres" else None
    if cluster is None:
        warehouse: Warehouse = DuckDBWarehouse(tmp / "warehouse.duckdb")
        target = duckdb_settings(tmp / "warehouse.duckdb")
    else:
        database = cluster.create_database("migrating", "migrating-password", "auth0_migrating")
        warehouse = PostgresWarehouse(database)
        target = postgres_settings(database)
    # The page's SQL names the first tenant of its meltano.yml.
    domain = documented_tenant_extractors()[0]["config"]["domain"]
    postgres_sql, duckdb_before_run, duckdb_after_run = documented_sql_blocks()
    with Emulator(TENANT, domain=domain) as emulator:
        users = selected_users(emulator)
        settings = {**tap_settings(emulator, users), **target}
        earlier = meltano.pipeline(
            tmp / "meltano.db", **settings, TAP_AUTH0_USERLOGS_STREAM_MAPS=EARLIER_VERSION
        )
        earlier.run(loader)
        earlier_rows = warehouse.row_count("user_logs")
        assert warehouse.primary_key("user_logs") == ["log_id"]

        emulator.tenant.add_event(users[0], type="s")
        current = meltano.pipeline(tmp / "meltano.db", **settings)
        with pytest.raises(MeltanoFailed) as failed:
            current.run(loader)
        rows_after_failure = warehouse.row_count("user_logs")

        if cluster is None:
            _migrate_duckdb(tmp / "warehouse.duckdb", duckdb_before_run)
            current.run(loader)
            _migrate_duckdb(tmp / "warehouse.duckdb", duckdb_after_run)
        else:
            with database.connect() as conn:
                conn.execute(postgres_sql)
            current.run(loader)
        bookmarks = user_bookmarks(current.state(loader))

        # Another tenant, the very same log_ids: the migrated key keeps both.
        second_tenant = "globex.eu.auth0.com"
        other = meltano.pipeline(
            tmp / "other-tenant.db", **{**settings, "TAP_AUTH0_USERLOGS_DOMAIN": second_tenant}
        )
        other.run(loader)
        yield Migration(
            loader=loader,
            emulator=emulator,
            users=users,
            earlier_rows=earlier_rows,
            failure=str(failed.value),
            rows_after_failure=rows_after_failure,
            warehouse=warehouse,
            expected=emulator.tenant.expected_log_ids(user_ids=users),
            bookmarks=bookmarks,
            second_tenant=second_tenant,
        )
    if cluster is not None:
        cluster.drop_database("auth0_migrating", owner="migrating")


def test_a_table_keyed_on_log_id_fails_on_its_key_and_loses_nothing(
    migration: Migration,
) -> None:
    assert KEY_ERRORS[migration.loader] in migration.failure
    assert migration.rows_after_failure == migration.earlier_rows


def test_after_the_readmes_migration_every_event_is_loaded_once(migration: Migration) -> None:
    domain = migration.emulator.domain
    assert migration.warehouse.log_ids_by_tenant()[domain] == migration.expected
    newest = {
        u: max(parse_moment(e["date"]) for e in migration.emulator.tenant.events_for(u))
        for u in migration.users
    }
    assert {u: parse_moment(d) for u, d in migration.bookmarks.items()} == newest


def test_the_migrated_table_is_keyed_on_tenant_and_log_id(migration: Migration) -> None:
    assert migration.warehouse.primary_key("user_logs") == ["tenant_domain", "log_id"]


def test_the_migrated_table_takes_another_tenant_with_the_same_log_ids(
    migration: Migration,
) -> None:
    by_tenant = migration.warehouse.log_ids_by_tenant()
    assert by_tenant == {
        migration.emulator.domain: migration.expected,
        migration.second_tenant: migration.expected,
    }
    assert migration.warehouse.row_count("user_logs") == 2 * len(migration.expected)
