"""Reading back what a loader wrote: the same questions asked of DuckDB and of PostgreSQL.

Every answer comes from querying the database, never from a loader's log. Column types are
reported as one of a few kinds (timestamp, json, number, boolean, array, text) so that a test
can state what it expects once for both warehouses.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb

from tests.e2e.postgres import Database

SCHEMA = "auth0"
# Written over every loaded row's description to tell later loads apart: loaders upsert on
# log_id, so a row the next run writes, new or read again, loses the mark.
MARK = "loaded before the mark"

_KINDS = {
    "timestamp": "timestamp",
    "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp",
    "json": "json",
    "jsonb": "json",
    "double": "number",
    "double precision": "number",
    "numeric": "number",
    "decimal": "number",
    "bigint": "number",
    "integer": "number",
    "ubigint": "number",
    "number": "number",
    "boolean": "boolean",
    "array": "array",
    "varchar": "text",
    "text": "text",
    "string": "text",
    "character varying": "text",
}


def kind_of(sql_type: str) -> str:
    """`timestamp`, `json`, `number`, `boolean`, `array` or `text` for a column's SQL type."""
    name = sql_type.lower()
    if name.endswith("[]"):
        return "array"
    return _KINDS.get(name.split("(")[0].strip(), name)


class Warehouse(Protocol):
    name: str

    def row_count(self, table: str) -> int: ...

    def log_ids(self) -> set[str]: ...

    def log_ids_by_tenant(self) -> dict[str, set[str]]: ...

    def primary_key(self, table: str) -> list[str]: ...

    def column_kinds(self, table: str) -> dict[str, str]: ...

    def dates(self) -> dict[str, datetime.datetime]: ...

    def coordinate_kinds(self) -> set[str]: ...

    def mark_every_row(self) -> None: ...

    def log_ids_written_since_marked(self) -> set[str]: ...

    def type_and_extra_fields(self, log_id: str) -> tuple[str, dict[str, Any]]: ...


def _by_tenant(rows: list[tuple[Any, ...]]) -> dict[str, set[str]]:
    """tenant_domain -> its log_ids, from (tenant_domain, log_id) rows."""
    tenants: dict[str, set[str]] = {}
    for tenant, log_id in rows:
        tenants.setdefault(tenant, set()).add(log_id)
    return tenants


def _utc(moment: datetime.datetime) -> datetime.datetime:
    # Both loaders store `date` as a timestamp without zone, holding the UTC time.
    return moment.replace(tzinfo=datetime.timezone.utc) if moment.tzinfo is None else moment


@dataclass
class DuckDBWarehouse:
    """A DuckDB file written by target-duckdb; opened read-only, and only while asking."""

    path: Path
    name: str = "duckdb"

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            return conn.execute(sql, list(params)).fetchall()

    def row_count(self, table: str) -> int:
        return self._query(f'SELECT count(*) FROM {SCHEMA}."{table}"')[0][0]

    def log_ids(self) -> set[str]:
        return {r[0] for r in self._query(f"SELECT log_id FROM {SCHEMA}.user_logs")}

    def log_ids_by_tenant(self) -> dict[str, set[str]]:
        return _by_tenant(self._query(f"SELECT tenant_domain, log_id FROM {SCHEMA}.user_logs"))

    def primary_key(self, table: str) -> list[str]:
        rows = self._query(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE schema_name = ? AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
            SCHEMA,
            table,
        )
        return list(rows[0][0]) if rows else []

    def column_kinds(self, table: str) -> dict[str, str]:
        rows = self._query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            SCHEMA,
            table,
        )
        return {name: kind_of(sql_type) for name, sql_type in rows}

    def dates(self) -> dict[str, datetime.datetime]:
        rows = self._query(f"SELECT log_id, date FROM {SCHEMA}.user_logs")
        return {log_id: _utc(date) for log_id, date in rows}

    def coordinate_kinds(self) -> set[str]:
        rows = self._query(
            "SELECT DISTINCT json_type(location_info, '$.latitude'), "
            f"json_type(location_info, '$.longitude') FROM {SCHEMA}.user_logs "
            "WHERE location_info IS NOT NULL"
        )
        return {kind_of(k) for row in rows for k in row if k is not None}

    def mark_every_row(self) -> None:
        with duckdb.connect(str(self.path)) as conn:
            conn.execute(f"UPDATE {SCHEMA}.user_logs SET description = ?", [MARK])

    def log_ids_written_since_marked(self) -> set[str]:
        rows = self._query(
            f"SELECT log_id FROM {SCHEMA}.user_logs WHERE description IS DISTINCT FROM ?", MARK
        )
        return {r[0] for r in rows}

    def type_and_extra_fields(self, log_id: str) -> tuple[str, dict[str, Any]]:
        ((kind, extra),) = self._query(
            f"SELECT type, extra_fields FROM {SCHEMA}.user_logs WHERE log_id = ?", log_id
        )
        return kind, json.loads(extra)


@dataclass
class PostgresWarehouse:
    """A PostgreSQL database written by target-postgres, read over TCP as the loader's role."""

    database: Database
    name: str = "postgres"

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.database.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def row_count(self, table: str) -> int:
        return self._query(f'SELECT count(*) FROM {SCHEMA}."{table}"')[0][0]

    def log_ids(self) -> set[str]:
        return {r[0] for r in self._query(f"SELECT log_id FROM {SCHEMA}.user_logs")}

    def log_ids_by_tenant(self) -> dict[str, set[str]]:
        return _by_tenant(self._query(f"SELECT tenant_domain, log_id FROM {SCHEMA}.user_logs"))

    def primary_key(self, table: str) -> list[str]:
        rows = self._query(
            "SELECT a.attname FROM pg_index AS i "
            "JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            f"{SCHEMA}.{table}",
        )
        return [name for (name,) in rows]

    def column_kinds(self, table: str) -> dict[str, str]:
        rows = self._query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            SCHEMA,
            table,
        )
        # Compare names the way DuckDB folds them, so one expectation serves both.
        return {name.lower(): kind_of(sql_type) for name, sql_type in rows}

    def dates(self) -> dict[str, datetime.datetime]:
        rows = self._query(f"SELECT log_id, date FROM {SCHEMA}.user_logs")
        return {log_id: _utc(date) for log_id, date in rows}

    def coordinate_kinds(self) -> set[str]:
        rows = self._query(
            "SELECT DISTINCT jsonb_typeof(location_info->'latitude'), "
            f"jsonb_typeof(location_info->'longitude') FROM {SCHEMA}.user_logs "
            "WHERE location_info IS NOT NULL"
        )
        return {kind_of(k) for row in rows for k in row if k is not None}

    def mark_every_row(self) -> None:
        with self.database.connect() as conn:
            conn.execute(f"UPDATE {SCHEMA}.user_logs SET description = %s", (MARK,))

    def log_ids_written_since_marked(self) -> set[str]:
        rows = self._query(
            f"SELECT log_id FROM {SCHEMA}.user_logs WHERE description IS DISTINCT FROM %s", MARK
        )
        return {r[0] for r in rows}

    def type_and_extra_fields(self, log_id: str) -> tuple[str, dict[str, Any]]:
        ((kind, extra),) = self._query(
            f"SELECT type, extra_fields FROM {SCHEMA}.user_logs WHERE log_id = %s", log_id
        )
        return kind, extra
