"""`dbt build` is green on DuckDB and on PostgreSQL, and every mart holds the same rows on both.

The two warehouses were loaded from the same events by their own loaders (json against jsonb,
a JSON array against text[], lower- against mixed-case column names), so equal marts show the
per-adapter macros and dbt's cross-database ones agree.
"""

from __future__ import annotations

import pytest

# The only warning allowed: the fixture's zz_new_type, a code the event types do not know.
EXPECTED_WARNING = "test.tap_auth0_userlogs.relationships_stg_auth0__log_events_type__code"


@pytest.mark.parametrize("adapter", ["duckdb", "postgres"])
def test_dbt_build_is_green(built_fixtures, adapter):
    build = built_fixtures[adapter].build
    assert not build.with_status("error")
    assert not build.with_status("fail")
    assert not build.with_status("skipped")
    assert [node.split("__ref_")[0] for node in build.with_status("warn")] == [EXPECTED_WARNING]
    # Every model, the seed and the data tests ran.
    assert len(build.with_status("success")) == 15
    assert len(build.with_status("pass")) > 100


def test_every_mart_has_the_same_rows_on_both_warehouses(duckdb_fixture, postgres_fixture):
    assert sorted(duckdb_fixture.full_refresh) == sorted(postgres_fixture.full_refresh)
    for table, rows in duckdb_fixture.full_refresh.items():
        assert rows, f"{table} is empty: the fixture should reach every mart"
        assert postgres_fixture.full_refresh[table] == rows, f"{table} differs"
