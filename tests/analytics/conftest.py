"""The analytics fixture built in DuckDB and in PostgreSQL, once per session.

Both warehouses go through the same two runs: the loader (target-duckdb or target-postgres,
through Meltano) loads batch 1 of tests/analytics/data/raw_events.jsonl and dbt builds the
models; the loader loads batch 2 and `dbt build` runs incrementally, data tests included; then
`dbt run --full-refresh` rebuilds everything from scratch. The marts are read after each of
the last two builds. The two warehouses are built side by side: each step is a process.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.analytics.dbt_runner import Dbt, RunResults
from tests.analytics.marts import DuckDBMarts, Marts, PostgresMarts, snapshot
from tests.analytics.raw_events import load_batch, tap_messages
from tests.e2e.meltano_cli import Meltano
from tests.e2e.pipeline import duckdb_settings, postgres_settings
from tests.e2e.postgres import ThrowawayCluster

# The first test waits for `meltano install`, which on a fresh machine installs dbt too.
ANALYTICS_TIMEOUT_SECONDS = 900
ROLE, PASSWORD, DATABASE = "analyst", "analyst-password", "analytics_fixture"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(ANALYTICS_TIMEOUT_SECONDS))


@dataclass
class BuiltFixture:
    """The fixture in one warehouse, after both runs."""

    marts: Marts
    dbt: Dbt
    build: RunResults  # the incremental `dbt build` after batch 2
    incremental_sql: str  # what that build ran for the incremental staging model
    incremental: dict[str, list[tuple[Any, ...]]]
    full_refresh: dict[str, list[tuple[Any, ...]]]


@dataclass
class Warehouse:
    loader: str
    dbt: Dbt
    marts: Marts
    settings: dict[str, Any]


def build_fixture(meltano: Meltano, warehouse: Warehouse) -> BuiltFixture:
    dbt = warehouse.dbt
    pipeline = meltano.pipeline(dbt.work_dir / "meltano.db", **warehouse.settings)
    load_batch(pipeline, warehouse.loader, batch=1)
    dbt("build", "--exclude-resource-type", "test")
    load_batch(pipeline, warehouse.loader, batch=2)
    build = dbt("build")
    incremental_sql = dbt.compiled_sql("stg_auth0__log_events")
    incremental = snapshot(warehouse.marts)
    dbt("run", "--full-refresh")
    return BuiltFixture(
        warehouse.marts, dbt, build, incremental_sql, incremental, snapshot(warehouse.marts)
    )


@pytest.fixture(scope="session")
def built_fixtures(
    meltano: Meltano,
    postgres_cluster: ThrowawayCluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, BuiltFixture]]:
    """adapter name -> the fixture built there."""
    duckdb_work = tmp_path_factory.mktemp("analytics-duckdb")
    duckdb_path = duckdb_work / "warehouse.duckdb"
    postgres_work = tmp_path_factory.mktemp("analytics-postgres")
    database = postgres_cluster.create_database(ROLE, PASSWORD, DATABASE)
    warehouses = {
        "duckdb": Warehouse(
            "target-duckdb",
            Dbt("duckdb", duckdb_work, duckdb_settings(duckdb_path)),
            DuckDBMarts(duckdb_path),
            duckdb_settings(duckdb_path),
        ),
        "postgres": Warehouse(
            "target-postgres",
            Dbt("postgres", postgres_work, postgres_settings(database)),
            PostgresMarts(database),
            postgres_settings(database),
        ),
    }
    tap_messages()  # one sync of the tap for both, before the threads start
    with ThreadPoolExecutor(max_workers=len(warehouses)) as pool:
        futures = {name: pool.submit(build_fixture, meltano, w) for name, w in warehouses.items()}
        yield {name: future.result() for name, future in futures.items()}
    postgres_cluster.drop_database(DATABASE, owner=ROLE)


@pytest.fixture(scope="session")
def duckdb_fixture(built_fixtures: dict[str, BuiltFixture]) -> BuiltFixture:
    return built_fixtures["duckdb"]


@pytest.fixture(scope="session")
def postgres_fixture(built_fixtures: dict[str, BuiltFixture]) -> BuiltFixture:
    return built_fixtures["postgres"]
