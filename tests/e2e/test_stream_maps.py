"""A stream map set in Meltano reshapes events before they reach the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.meltano_cli import Meltano
from tests.e2e.pipeline import TENANT, duckdb_settings, selected_users, tap_settings
from tests.e2e.warehouses import DuckDBWarehouse
from tests.emulator import Emulator

# Keep client IP addresses out of the warehouse, for privacy.
DROP_IP_ADDRESSES = {"user_logs": {"ip": None, "client_ip": None}}


@dataclass
class MappedRun:
    warehouse: DuckDBWarehouse
    expected: set[str]


@pytest.fixture(scope="module")
def mapped_run(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MappedRun]:
    tmp = tmp_path_factory.mktemp("stream-maps")
    with Emulator(TENANT) as emulator:
        users = selected_users(emulator)
        pipeline = meltano.pipeline(
            tmp / "meltano.db",
            **tap_settings(emulator, users),
            **duckdb_settings(tmp / "warehouse.duckdb"),
            TAP_AUTH0_USERLOGS_STREAM_MAPS=DROP_IP_ADDRESSES,
        )
        pipeline.run("target-duckdb")
        yield MappedRun(
            DuckDBWarehouse(tmp / "warehouse.duckdb"),
            emulator.tenant.expected_log_ids(user_ids=users),
        )


def test_stream_map_drops_the_ip_columns(mapped_run: MappedRun) -> None:
    columns = mapped_run.warehouse.column_kinds("user_logs")
    assert "ip" not in columns
    assert "client_ip" not in columns
    assert "location_info" in columns


def test_stream_map_keeps_every_event(mapped_run: MappedRun) -> None:
    assert mapped_run.warehouse.log_ids() == mapped_run.expected
    assert mapped_run.warehouse.row_count("user_logs") == len(mapped_run.expected)
