"""An incremental build gives the marts a full refresh gives, on both warehouses.

Batch 2 brings new events, one re-sent event, two late ones dated inside the look-back (a
user's and one of no user) and, in tenant_logs, copies of two user events (one loaded by
batch 1): the incremental build must take them all, and keep the user_logs copies.
"""

from __future__ import annotations

import pytest

ADAPTERS = ["duckdb", "postgres"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_second_build_was_incremental(built_fixtures, adapter):
    # Only an incremental build reads from the look-back before the newest event held.
    assert "reread_from" in built_fixtures[adapter].incremental_sql


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_incremental_build_equals_full_refresh(built_fixtures, adapter):
    built = built_fixtures[adapter]
    assert len(built.incremental) == 11  # ten marts and the incremental staging table
    for table, rows in built.full_refresh.items():
        assert built.incremental[table] == rows, f"{table} differs after a full refresh"
