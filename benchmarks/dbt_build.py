"""dbt build: the analytics models over a large events table in DuckDB, and what it costs.

The emulator serves a backlog of the tenant's log (200,000 events of 5,000 users over 24 hours,
see ``TenantSpec.backlog_events``); `meltano run tap-auth0-userlogs target-duckdb` fills a
DuckDB file with it in one pass (``strategy: tenant_scan``), and its time is reported beside
the build's: loading is most of the wait. Then `dbt build` (the dbt-duckdb plugin's dbt, models
and data tests) runs over it. New events arrive, the same Meltano command loads them, and
`dbt build` runs again, incrementally: it reads only the look-back before the newest event it
holds. Peak RSS is the process's (DuckDB runs inside dbt); for Meltano, that of Meltano, the tap
and the loader, whichever was largest. Figures, not tests.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from benchmarks.measure import REPO_ROOT, EmulatorProcess, Figures, Options, Workspace, run_measured
from benchmarks.report import Report, Row, Target, count, number

NAME = "dbt_build"
EVENTS = 200_000
QUICK_EVENTS = 40_000
TINY_EVENTS = 2_000
NEW_EVENTS = 2_000
QUICK_NEW_EVENTS = 500
TINY_NEW_EVENTS = 50
BACKLOG_USERS = 5000
BACKLOG_HOURS = 24
SEED = 83
MELTANO = REPO_ROOT / ".venv-meltano" / "bin" / "meltano"
DBT = REPO_ROOT / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "dbt"
TARGET_BUILD_S = 60
STAGING_MODEL = ".stg_auth0__log_events"


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    """These environment variables for the children started meanwhile."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def measured(workspace: Workspace, label: str, command: list[str], events: int) -> Figures:
    folder = workspace.run_dir(label)
    print(f"   .. {label}", flush=True)
    process = run_measured(
        command,
        stdout=folder / "stdout.log",
        stderr=folder / "stderr.log",
        timeout=workspace.timeout,
    )
    figures = Figures(
        label, events=events, wall=process.wall, cpu=process.cpu, peak_rss_mb=process.peak_rss_mb
    )
    figures.sync = process.wall
    if process.timed_out:
        figures.status = f"failed: killed after {workspace.timeout:.0f} s"
    elif process.returncode != 0:
        log = (folder / "stdout.log").read_text(errors="replace")
        log += (folder / "stderr.log").read_text(errors="replace")
        figures.status = f"failed: exit {process.returncode}: {log.strip().splitlines()[-1:]}"
    else:
        workspace.discard(folder)
    return figures


def staging_seconds(target: Path) -> float | None:
    """How long the last build spent on the incremental staging model (dbt's run_results)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    times = [r["execution_time"] for r in results if r["unique_id"].endswith(STAGING_MODEL)]
    return times[0] if times else None


def rows_in(warehouse: Path, table: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        found = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return found[0] if found else 0


def run(options: Options) -> Report:
    events = options.pick(EVENTS, QUICK_EVENTS, TINY_EVENTS)
    new_events = options.pick(NEW_EVENTS, QUICK_NEW_EVENTS, TINY_NEW_EVENTS)
    workspace = options.workspace
    report = Report(
        f"dbt build: the analytics models over {events:,} events in DuckDB",
        f"emulator backlog of {events:,} events of {BACKLOG_USERS:,} users over "
        f"{BACKLOG_HOURS} h, loaded by Meltano (tap-auth0-userlogs, target-duckdb); then "
        f"{new_events:,} new events, loaded and built incrementally",
        rows=ROWS,
    )
    if not options.full:
        report.notes.append(options.scaled(f"{events:,} events instead of {EVENTS:,}"))
    folder = workspace.run_dir("warehouse")
    warehouse = folder / "warehouse.duckdb"
    settings = {
        "MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TARGET_DUCKDB_FILEPATH": str(warehouse),
        "DBT_TARGET_PATH": str(folder / "dbt-target"),
        "DBT_LOG_PATH": str(folder / "dbt-logs"),
    }
    pipeline = [str(MELTANO), "run", "tap-auth0-userlogs", "target-duckdb"]
    build = [str(DBT), "build", "--project-dir", str(REPO_ROOT / "transform"),
             "--profiles-dir", str(REPO_ROOT / "transform" / "profiles")]  # fmt: skip
    with environment(**settings):
        install = measured(workspace, "meltano install", [str(MELTANO), "install"], 0)
        if not install.ok:
            report.notes.append(f"meltano install {install.status}")
            return report
        with EmulatorProcess(
            users=0,
            events_per_user=0,
            seed=SEED,
            backlog_events=events,
            backlog_users=BACKLOG_USERS,
            backlog_hours=BACKLOG_HOURS,
        ) as emulator:
            start = datetime.now(timezone.utc) - timedelta(hours=BACKLOG_HOURS, minutes=30)
            tap = tap_environment(emulator, start)
            with environment(**tap):
                fill = measured(workspace, "tap + loader, first run", pipeline, events)
                full = measured(workspace, "dbt build", build, events)
                staging = {"full": staging_seconds(folder / "dbt-target") if full.ok else None}
                emulator.call("add_events", count=new_events)
                next_run = measured(workspace, "tap + loader, next run", pipeline, new_events)
                incremental = measured(workspace, "dbt build, incremental", build, new_events)
                if incremental.ok:
                    staging["incremental"] = staging_seconds(folder / "dbt-target")
    report.columns = [fill, full, next_run, incremental]
    if all(column.ok for column in report.columns):
        loaded = rows_in(warehouse, "auth0.user_logs")
        staged = rows_in(warehouse, "analytics_staging.stg_auth0__log_events")
        report.notes += [
            f"after both runs: {loaded:,} events in user_logs, {staged:,} in "
            "stg_auth0__log_events (they must be equal)",
            "the incremental build reads only the look-back into staging; the marts are tables "
            "rebuilt from staging on every build, so they cost the same both times",
            "wall times include dbt's own start (several seconds) and, for `dbt build`, the "
            "data tests",
        ]
        full_s, incremental_s = staging.get("full") or 0.0, staging.get("incremental") or 0.0
        report.targets = [
            Target(
                f"dbt build over {events:,} events within {TARGET_BUILD_S} s",
                f"{full.wall:,.1f} s",
                (full.wall or 0) < TARGET_BUILD_S,
            ),
            Target(
                "incremental staging faster than a full one",
                f"stg_auth0__log_events {incremental_s:.2f} s against {full_s:.2f} s",
                incremental_s < full_s,
            ),
        ]
    return report


def tap_environment(emulator: EmulatorProcess, start: datetime) -> dict[str, str]:
    """The extractor's settings for one pass over the emulator's whole log."""
    return {
        "TAP_AUTH0_USERLOGS_DOMAIN": emulator.info["domain"],
        "TAP_AUTH0_USERLOGS_API_URL": emulator.info["base_url"],
        "TAP_AUTH0_USERLOGS_ACCESS_TOKEN": emulator.info["token"],
        "TAP_AUTH0_USERLOGS_STRATEGY": "tenant_scan",
        "TAP_AUTH0_USERLOGS_START_DATE": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _per_second(figures: Figures) -> float | None:
    if not figures.events or not figures.wall:
        return None
    return figures.events / figures.wall


def _row(name: str, value: Callable[[Figures], str]) -> Row:
    return (name, lambda figures, baseline: value(figures))


ROWS: list[Row] = [
    _row("events (read / built)", lambda f: count(f.events)),
    _row("wall time, s", lambda f: number(f.wall)),
    _row("events/s (wall)", lambda f: number(_per_second(f), 0)),
    _row("CPU time, s", lambda f: number(f.cpu)),
    _row("peak RSS, MB", lambda f: number(f.peak_rss_mb, 0)),
]
