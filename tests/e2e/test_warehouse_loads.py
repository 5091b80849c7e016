"""`meltano run tap-auth0-userlogs <loader>` into DuckDB and into PostgreSQL, twice.

Each warehouse gets a fresh emulated tenant and its own Meltano state. The first run is a full
sync of four of the tenant's six users; new events are then added and a second, incremental run
follows. Every expectation is checked in the database itself, against the emulator's events.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tap_auth0_userlogs.events.type_codes import load_event_types
from tests.e2e.meltano_cli import Meltano, user_bookmarks
from tests.e2e.pipeline import (
    LOOKBACK_MINUTES,
    TENANT,
    duckdb_settings,
    postgres_settings,
    selected_users,
    tap_settings,
    unselected_users,
)
from tests.e2e.warehouses import DuckDBWarehouse, PostgresWarehouse, Warehouse
from tests.emulator import Emulator

LOADERS = ["target-duckdb", "target-postgres"]


@dataclass
class Pipeline:
    loader: str
    emulator: Emulator
    users: list[str]
    meltano: Meltano
    warehouse: Warehouse


@dataclass
class FirstRun:
    """What the warehouse and Meltano held right after the first run."""

    pipeline: Pipeline
    expected: set[str]
    event_dates: dict[str, datetime.datetime]
    newest_event: dict[str, datetime.datetime]
    loaded: set[str]
    row_count: int
    state: dict[str, Any]
    requests: int


@dataclass
class SecondRun:
    """What changed with the second run, after new events were added to the tenant."""

    first: FirstRun
    new_events: set[str]
    unforeseen_event: str
    expected: set[str]
    loaded: set[str]
    row_count: int
    written_by_this_run: set[str]
    requests: int


def _user_log_requests(emulator: Emulator) -> int:
    return emulator.counters.requests(endpoint="user_logs")


@pytest.fixture(scope="module", params=LOADERS)
def pipeline(
    request: pytest.FixtureRequest, meltano: Meltano, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    loader: str = request.param
    tmp: Path = tmp_path_factory.mktemp(loader)
    cluster = request.getfixturevalue("postgres_cluster") if loader == "target-postgres" else None
    if cluster is None:
        warehouse: Warehouse = DuckDBWarehouse(tmp / "warehouse.duckdb")
        target = duckdb_settings(tmp / "warehouse.duckdb")
    else:
        database = cluster.create_database("loader", "loader-password", "auth0")
        warehouse = PostgresWarehouse(database)
        target = postgres_settings(database)
    with Emulator(TENANT) as emulator:
        users = selected_users(emulator)
        configured = meltano.pipeline(tmp / "meltano.db", **tap_settings(emulator, users), **target)
        yield Pipeline(loader, emulator, users, configured, warehouse)
    if cluster is not None:
        cluster.drop_database("auth0", owner="loader")


@pytest.fixture(scope="module")
def first_run(pipeline: Pipeline) -> FirstRun:
    pipeline.meltano.run(pipeline.loader)
    warehouse = pipeline.warehouse
    tenant = pipeline.emulator.tenant
    events = {u: tenant.events_for(u) for u in pipeline.users}
    return FirstRun(
        pipeline=pipeline,
        expected=tenant.expected_log_ids(user_ids=pipeline.users),
        event_dates={e["log_id"]: _parse(e["date"]) for es in events.values() for e in es},
        newest_event={u: max(_parse(e["date"]) for e in es) for u, es in events.items()},
        loaded=warehouse.log_ids(),
        row_count=warehouse.row_count("user_logs"),
        state=pipeline.meltano.state(pipeline.loader),
        requests=_user_log_requests(pipeline.emulator),
    )


@pytest.fixture(scope="module")
def second_run(first_run: FirstRun) -> SecondRun:
    pipeline = first_run.pipeline
    tenant = pipeline.emulator.tenant
    pipeline.warehouse.mark_every_row()
    new_events = [
        tenant.add_event(pipeline.users[0], type="s"),
        tenant.add_event(pipeline.users[0], type="f"),
        tenant.add_event(pipeline.users[1], type="slo"),
    ]
    # A type code no list knows, with a field no schema knows: both must land.
    unforeseen = tenant.add_event(
        pipeline.users[1], type="zz_brand_new_type", brand_new_field={"level": 3}
    )
    new_events.append(unforeseen)
    tenant.add_event(unselected_users(pipeline.emulator)[0], type="s")
    requests_before = _user_log_requests(pipeline.emulator)

    pipeline.meltano.run(pipeline.loader)

    warehouse = pipeline.warehouse
    return SecondRun(
        first=first_run,
        new_events={e["log_id"] for e in new_events},
        unforeseen_event=unforeseen["log_id"],
        expected=tenant.expected_log_ids(user_ids=pipeline.users),
        loaded=warehouse.log_ids(),
        row_count=warehouse.row_count("user_logs"),
        written_by_this_run=warehouse.log_ids_written_since_marked(),
        requests=_user_log_requests(pipeline.emulator) - requests_before,
    )


def _parse(moment: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


# ---------------------------------------------------------------- first run


def test_first_run_loads_exactly_the_selected_users_events(first_run: FirstRun) -> None:
    assert first_run.loaded == first_run.expected


def test_first_run_row_count_equals_the_emulators_event_count(first_run: FirstRun) -> None:
    assert (
        first_run.row_count
        == len(first_run.expected)
        == TENANT.events_per_user * len(first_run.pipeline.users)
    )


def test_user_logs_are_keyed_on_tenant_and_log_id(first_run: FirstRun) -> None:
    warehouse = first_run.pipeline.warehouse
    assert warehouse.primary_key("user_logs") == ["tenant_domain", "log_id"]
    assert warehouse.column_kinds("user_logs")["tenant_domain"] == "text"
    assert set(warehouse.log_ids_by_tenant()) == {first_run.pipeline.emulator.domain}


def test_every_event_type_code_lands(first_run: FirstRun) -> None:
    warehouse = first_run.pipeline.warehouse
    assert warehouse.row_count("log_event_types") == len(load_event_types())


def test_event_dates_land_as_timestamps_of_the_events_utc_time(first_run: FirstRun) -> None:
    warehouse = first_run.pipeline.warehouse
    assert warehouse.column_kinds("user_logs")["date"] == "timestamp"
    dates = warehouse.dates()
    landed = {log_id: dates.get(log_id) for log_id in first_run.event_dates}
    assert landed == first_run.event_dates


def test_nested_objects_land_as_json(first_run: FirstRun) -> None:
    kinds = first_run.pipeline.warehouse.column_kinds("user_logs")
    nested = ("details", "location_info", "security_context", "auth0_client", "extra_fields")
    assert {name: kinds[name] for name in nested} == dict.fromkeys(nested, "json")


def test_latitude_and_longitude_are_numbers(first_run: FirstRun) -> None:
    assert first_run.pipeline.warehouse.coordinate_kinds() == {"number"}


def test_flags_and_scopes_keep_their_types(first_run: FirstRun) -> None:
    kinds = first_run.pipeline.warehouse.column_kinds("user_logs")
    assert kinds["ismobile"] == "boolean"
    assert kinds["scope"] in {"array", "json"}


def test_state_holds_one_bookmark_per_selected_user(first_run: FirstRun) -> None:
    bookmarks = user_bookmarks(first_run.state)
    assert {user_id: _parse(date) for user_id, date in bookmarks.items()} == (
        first_run.newest_event
    )


# ---------------------------------------------------------------- second run


def test_second_run_adds_the_new_events_without_duplicates(second_run: SecondRun) -> None:
    assert second_run.new_events <= second_run.loaded
    assert second_run.loaded == second_run.expected
    assert second_run.row_count == len(second_run.expected)


def test_unknown_type_codes_and_fields_reach_the_warehouse(second_run: SecondRun) -> None:
    warehouse = second_run.first.pipeline.warehouse
    kind, extra = warehouse.type_and_extra_fields(second_run.unforeseen_event)
    assert kind == "zz_brand_new_type"
    assert extra["brand_new_field"] == {"level": 3}


def test_second_run_loads_only_events_since_each_bookmark_less_the_lookback(
    second_run: SecondRun,
) -> None:
    tenant = second_run.first.pipeline.emulator.tenant
    lookback = datetime.timedelta(minutes=LOOKBACK_MINUTES)
    since_bookmarks: set[str] = set()
    for user_id, bookmark in user_bookmarks(second_run.first.state).items():
        since = _parse(bookmark) - lookback
        since_bookmarks |= tenant.expected_log_ids(user_ids=[user_id], since=since)
    assert second_run.written_by_this_run == since_bookmarks
    assert len(second_run.written_by_this_run) < len(second_run.first.expected)


def test_second_run_reads_only_the_newest_page_of_each_user(second_run: SecondRun) -> None:
    users = len(second_run.first.pipeline.users)
    assert second_run.first.requests > users
    assert second_run.requests == users
