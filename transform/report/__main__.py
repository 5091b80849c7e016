"""``python -m transform.report``: the marts of a DuckDB warehouse as one HTML page."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from transform.report.figures import read_figures
from transform.report.page import render


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(
        prog="python -m transform.report",
        description="Write a one-page HTML report (charts included, opens offline) of the "
        "analytics marts dbt built in a DuckDB warehouse.",
    )
    parser.add_argument("--duckdb", type=Path, required=True, help="the warehouse file")
    parser.add_argument("--out", type=Path, default=Path("output/report.html"))
    parser.add_argument("--schema", default="analytics", help="the marts' schema")
    parser.add_argument("--tenant", help="tenant_domain to report on (default: the busiest)")
    args = parser.parse_args(argv)
    figures = read_figures(args.duckdb, args.schema, args.tenant)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(figures, now), encoding="utf-8")
    return args.out


if __name__ == "__main__":
    print(main())
