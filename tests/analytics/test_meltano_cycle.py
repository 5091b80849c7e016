"""The one-line Meltano commands: tap -> loader -> dbt, on DuckDB twice and on PostgreSQL.

target-duckdb pins duckdb 1.0.0 and the dbt-duckdb plugin pins the same, so the file dbt wrote
opens in the loader on the next run: the second run loads the new events into it and dbt
builds again. The tap here writes only user_logs (tenant_logs is not selected), so the models
also show they build without that table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.analytics.marts import MART_SCHEMA, STAGING_SCHEMA
from tests.e2e.meltano_cli import EXTRACTOR, Meltano
from tests.e2e.pipeline import (
    TENANT,
    duckdb_settings,
    postgres_settings,
    selected_users,
    tap_settings,
)
from tests.emulator import Emulator

DBT_SUMMARY = re.compile(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)")
RUN = ("target-duckdb", EXTRACTOR, "dbt-duckdb:build")


@dataclass
class Cycle:
    warehouse: Path
    logs: list[str]
    new_events: set[str]
    expected: set[str]


def pipeline_into(meltano: Meltano, emulator: Emulator, work: Path, **warehouse: Any) -> Meltano:
    """Meltano reading the emulator's selected users into a warehouse, state kept in `work`."""
    return meltano.pipeline(
        work / "meltano.db",
        **tap_settings(emulator, selected_users(emulator)),
        **warehouse,
        # dbt's own files stay out of the repository's transform/.
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
    )


@pytest.fixture(scope="module")
def cycle(meltano, tmp_path_factory) -> Cycle:
    work = tmp_path_factory.mktemp("meltano-cycle")
    warehouse = work / "warehouse.duckdb"
    with Emulator(TENANT) as emulator:
        users = selected_users(emulator)
        pipeline = pipeline_into(meltano, emulator, work, **duckdb_settings(warehouse))
        logs = [pipeline.run(*RUN)]
        tenant = emulator.tenant
        new = [tenant.add_event(users[0], type="s"), tenant.add_event(users[1], type="fp")]
        logs.append(pipeline.run(*RUN))
        expected = tenant.expected_log_ids(user_ids=users)
    return Cycle(warehouse, logs, {e["log_id"] for e in new}, expected)


def dbt_outcome(log: str) -> tuple[int, int, int]:
    """(passed, errors, skipped) from dbt's summary line in a Meltano log."""
    (summary,) = DBT_SUMMARY.findall(log)
    passed, _warned, errors, skipped = map(int, summary)
    return passed, errors, skipped


def query(cycle: Cycle, sql: str) -> list[tuple]:
    with duckdb.connect(str(cycle.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize("run", [0, 1])
def test_each_run_ends_with_a_green_dbt_build(cycle, run):
    passed, errors, skipped = dbt_outcome(cycle.logs[run])
    assert (errors, skipped) == (0, 0)
    assert passed > 100


def test_the_loader_writes_into_the_file_dbt_wrote(cycle):
    loaded = {r[0] for r in query(cycle, "SELECT log_id FROM auth0.user_logs")}
    assert cycle.new_events <= loaded
    assert loaded == cycle.expected


def test_models_hold_every_loaded_event_from_user_logs_alone(cycle):
    tables = {
        r[0]
        for r in query(
            cycle, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'auth0'"
        )
    }
    assert "tenant_logs" not in tables
    staged = query(
        cycle, f"SELECT log_id, source_stream FROM {STAGING_SCHEMA}.stg_auth0__log_events"
    )
    assert {log_id for log_id, _ in staged} == cycle.expected
    assert {stream for _, stream in staged} == {"user_logs"}


def test_marts_count_what_landed(cycle):
    ((overview_events,),) = query(
        cycle, f"SELECT sum(events) FROM {MART_SCHEMA}.auth0__daily_overview"
    )
    ((users,),) = query(cycle, f"SELECT count(*) FROM {MART_SCHEMA}.auth0__users")
    assert overview_events == len(cycle.expected)
    assert users == len(
        {r[0] for r in query(cycle, "SELECT DISTINCT user_id FROM auth0.user_logs")}
    )


def test_the_postgresql_line_loads_and_builds(meltano, postgres_cluster, tmp_path_factory):
    work = tmp_path_factory.mktemp("meltano-postgres")
    database = postgres_cluster.create_database("pipeline", "pipeline-password", "pipeline")
    try:
        with Emulator(TENANT) as emulator:
            pipeline = pipeline_into(meltano, emulator, work, **postgres_settings(database))
            log = pipeline.run("target-postgres", EXTRACTOR, "dbt-postgres:build")
            expected = emulator.tenant.expected_log_ids(user_ids=selected_users(emulator))
        passed, errors, skipped = dbt_outcome(log)
        assert (errors, skipped) == (0, 0)
        assert passed > 100
        with database.connect() as conn:
            staged = conn.execute(
                f"SELECT log_id FROM {STAGING_SCHEMA}.stg_auth0__log_events"
            ).fetchall()
        assert {r[0] for r in staged} == expected
    finally:
        postgres_cluster.drop_database("pipeline", owner="pipeline")
