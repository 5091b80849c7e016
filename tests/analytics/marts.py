"""Reading what dbt built, the same way from DuckDB and from PostgreSQL.

Values come back normalised so that both warehouses can be compared row by row: integers of any
width as int, floats rounded to 9 significant places (the last bits of a double depend on the
order of summing), timestamps as naive UTC datetimes.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import duckdb

from tests.e2e.postgres import Database

MART_SCHEMA = "analytics"
STAGING_SCHEMA = "analytics_staging"
MART_PREFIX = "auth0__"
INCREMENTAL_MODEL = "stg_auth0__log_events"
Row = dict[str, Any]


def normalise(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


class Marts(Protocol):
    name: str

    def select(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]: ...


def rows(marts: Marts, table: str, schema: str = MART_SCHEMA) -> list[Row]:
    """Every row of one table, as column -> normalised value."""
    columns, records = marts.select(f'SELECT * FROM {schema}."{table}"')
    return [dict(zip(columns, map(normalise, record), strict=True)) for record in records]


def only(found: list[Row], **keys: object) -> Row:
    """The one row whose columns have these values."""
    matching = [r for r in found if all(r[k] == v for k, v in keys.items())]
    assert len(matching) == 1, f"{len(matching)} rows match {keys}"
    return matching[0]


def mart_names(marts: Marts) -> list[str]:
    _, records = marts.select(
        "SELECT table_name FROM information_schema.tables "
        f"WHERE table_schema = '{MART_SCHEMA}' AND table_name LIKE '{MART_PREFIX}%'"
    )
    return sorted(r[0] for r in records)


def snapshot(marts: Marts) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart, and the incremental staging table, as sorted lists of rows (column order
    as built), to compare whole."""
    tables = [(MART_SCHEMA, name) for name in mart_names(marts)]
    tables.append((STAGING_SCHEMA, INCREMENTAL_MODEL))
    return {
        name: sorted((tuple(row.items()) for row in rows(marts, name, schema)), key=repr)
        for schema, name in tables
    }


@dataclass
class DuckDBMarts:
    path: Path
    name: str = "duckdb"

    def select(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            result = conn.execute(sql)
            return [d[0] for d in result.description], result.fetchall()


@dataclass
class PostgresMarts:
    database: Database
    name: str = "postgres"

    def select(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.database.connect() as conn:
            cursor = conn.execute(sql)
            return [d.name for d in cursor.description or []], cursor.fetchall()
