"""`make demo`: Auth0 user logs -> Meltano -> DuckDB -> dbt, run twice, then the answers.

Without TAP_AUTH0_USERLOGS_DOMAIN in the environment the tap reads a sample tenant served by the
local Auth0 emulator: four weeks of ordinary logins with a few attacks planted in them, so the
answers have something to find. With it, the same pipeline reads that real tenant (see the
README for the other variables). Both event streams are selected: user_logs and tenant_logs
(the events of no user, where most of an attack shows). Each run is
`meltano run tap-auth0-userlogs target-duckdb dbt-duckdb:build`, so the second one also shows
target-duckdb writing into a file dbt wrote. The demo ends with a few answers from the marts
and output/report.html. Each demo starts afresh: its own DuckDB file and its own Meltano state.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The emulator lives in the test package; make it importable when run as a script.
sys.path.insert(0, str(REPO_ROOT))

import duckdb  # noqa: E402

from tests.emulator import Emulator, planted_tenant  # noqa: E402
from transform.report.figures import Figures, read_figures  # noqa: E402
from transform.report.page import render  # noqa: E402

OUTPUT = REPO_ROOT / "output"
WAREHOUSE = OUTPUT / "demo.duckdb"
REPORT = OUTPUT / "report.html"
PIPELINE = ["run", "tap-auth0-userlogs", "target-duckdb", "dbt-duckdb:build"]
DBT_SUMMARY = "Done. PASS="
SYSTEM_DB = REPO_ROOT / ".meltano" / "demo" / "meltano.db"
SAMPLE_SEED = 42
EVENT_STREAMS = ["user_logs.*", "log_event_types.*", "tenant_logs.*"]
# A failed login, a successful one and a logout arrive for a few users between the runs.
NEW_EVENT_TYPES = ("f", "s", "slo")


def meltano_executable() -> str:
    for candidate in (os.environ.get("MELTANO"), str(REPO_ROOT / ".venv-meltano/bin/meltano")):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("meltano")
    if found:
        return found
    sys.exit("meltano not found: run `make demo`, which installs it into .venv-meltano/")


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def meltano(args: list[str], env: dict[str, str], log_name: str) -> str:
    """Run Meltano in the repository root, its log kept in output/; exits on failure."""
    log_path = OUTPUT / log_name
    done = subprocess.run(  # noqa: S603
        [meltano_executable(), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = done.stderr + done.stdout
    log_path.write_text(log)
    if done.returncode != 0:
        print("\n".join(log.splitlines()[-25:]), file=sys.stderr)
        sys.exit(f"meltano {' '.join(args)} failed; its full log is in {log_path}")
    return log


def sync_summary(log: str) -> str:
    """The tap's own account of the run: its `Sync finished:` line."""
    for line in reversed(log.splitlines()):
        if "Sync finished:" in line:
            return line[line.index("Sync finished:") :]
    return "(the tap logged no 'Sync finished:' line)"


def start_sample_tenant() -> Emulator:
    tenant, truth = planted_tenant(SAMPLE_SEED)
    emulator = Emulator(tenant)
    emulator.start()
    print(
        f"   {truth.users} users, {truth.events:,} events over four weeks, among them a "
        f"credential-stuffing burst from {truth.stuffing.ip}, a signup flood, MFA push "
        "fatigue and a login from two continents an hour apart"
    )
    return emulator


def tap_environment(emulator: Emulator | None) -> dict[str, str]:
    if emulator is None:
        return {}
    return {
        "TAP_AUTH0_USERLOGS_DOMAIN": emulator.domain,
        "TAP_AUTH0_USERLOGS_API_URL": emulator.base_url,
        "TAP_AUTH0_USERLOGS_ACCESS_TOKEN": emulator.static_token,
    }


def dbt_summary(log: str) -> str:
    """dbt's own account of the build: its `Done. PASS=...` line."""
    for line in reversed(log.splitlines()):
        if DBT_SUMMARY in line:
            return "dbt build: " + line[line.index(DBT_SUMMARY) + len("Done. ") :]
    return "(dbt logged no summary line)"


def run_pipeline(env: dict[str, str], label: str, emulator: Emulator | None) -> None:
    before = emulator.counters.by_endpoint() if emulator else {}
    started = time.monotonic()
    log = meltano(PIPELINE, env, f"demo-{label}.log")
    print(f"   took {time.monotonic() - started:.1f}s; the tap says:")
    print(f"   {sync_summary(log)}")
    print(f"   {dbt_summary(log)}")
    if emulator is not None:
        made = {
            endpoint: n - before.get(endpoint, 0)
            for endpoint, n in sorted(emulator.counters.by_endpoint().items())
            if n > before.get(endpoint, 0)
        }
        print(f"   the emulator counted these requests: {json.dumps(made)}")
    print(f"   DuckDB now holds {stored_events()} events (one row per log_id)")


def stored_events() -> int:
    with duckdb.connect(str(WAREHOUSE), read_only=True) as conn:
        return sum(_count(conn, table) for table in ("user_logs", "tenant_logs"))


def _count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows of one of the tap's tables; 0 before the loader has created it."""
    found = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'auth0' AND table_name = ?",
        [table],
    ).fetchone()
    if not found or not found[0]:
        return 0
    row = conn.sql(f"SELECT count(*) FROM auth0.{table}").fetchone()  # noqa: S608 - a known table
    return row[0] if row else 0


def add_new_events(emulator: Emulator) -> int:
    users = emulator.tenant.user_ids()[:3]
    for user_id in users:
        for event_type in NEW_EVENT_TYPES:
            emulator.tenant.add_event(user_id, type=event_type)
    return len(users) * len(NEW_EVENT_TYPES)


def show_what_landed() -> None:
    with duckdb.connect(str(WAREHOUSE), read_only=True) as conn:
        heading("The ten users with the most events (from DuckDB)")
        conn.sql(
            """
            SELECT user_id, count(*) AS events, max(date) AS newest_event
            FROM auth0.user_logs GROUP BY user_id ORDER BY events DESC, user_id LIMIT 10
            """
        ).show(max_width=160)
        tables = [t for t in ("user_logs", "tenant_logs") if _count(conn, t)]
        events = " UNION ALL ".join(f"SELECT type FROM auth0.{t}" for t in tables)  # noqa: S608
        heading(f"Events per event type in {' and '.join(tables)}, joined to log_event_types")
        conn.sql(
            f"""
            SELECT l.type,
                   left(coalesce(t.description, '(a type this tap does not know yet)'), 60)
                       AS description,
                   coalesce(t.category, 'other') AS category, count(*) AS events
            FROM ({events}) AS l
            LEFT JOIN auth0.log_event_types AS t ON t.code = l.type
            GROUP BY ALL ORDER BY events DESC, l.type
            """  # noqa: S608 - the table names are this script's own
        ).show(max_rows=40, max_width=160)


def printable(value: object) -> str:
    """A value for the terminal: log fields are attacker-written, so no control characters."""
    text = "" if value is None else str(value)
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def print_rows(headers: list[str], rows: list[list[object]]) -> None:
    """A plain text table, each value cut at 40 characters."""
    cells = [headers, *[[printable(v) for v in row] for row in rows]]
    widths = [min(40, max(len(row[i]) for row in cells)) for i in range(len(headers))]
    for row in cells:
        print(
            "   "
            + "  ".join(value[:40].ljust(width) for value, width in zip(row, widths, strict=True))
        )
    if not rows:
        print("   (none)")


def show_answers(figures: Figures) -> None:
    heading(f"Answers for {figures.tenant} (from the dbt marts)")
    print("Active users (Auth0's billing code set), the last 7 days:")
    print_rows(
        ["day", "daily", "7 days", "30 days", "calendar month"],
        [
            [r["activity_date"], r["daily_active_users"], r["active_users_7d"],
             r["active_users_30d"], r["monthly_active_users"]]
            for r in figures.active_users[-7:]
        ],
    )  # fmt: skip
    print("\nTop failing IPs:")
    print_rows(
        ["ip", "country", "failed logins", "blocks", "last username"],
        [
            [r["ip"], r["country_code"], r["failed_logins"], r["blocks"], r["last_user_name"]]
            for r in figures.top_ips[:5]
        ],
    )
    print("\nThreats by hour (Security Center's classes), the busiest hours:")
    busiest = sorted(figures.threats, key=lambda r: r["threat_events"], reverse=True)[:5]
    print_rows(
        ["hour", "credential stuffing", "signup attack", "MFA bypass", "share of traffic"],
        [
            [r["event_hour"], r["credential_stuffing_events"], r["signup_attack_events"],
             r["mfa_bypass_events"], f"{r['threat_share']:.0%}"]
            for r in busiest
        ],
    )  # fmt: skip
    passed, failed = figures.mfa.get("successes", 0), figures.mfa.get("failures", 0)
    rate = f"{passed / (passed + failed):.0%}" if passed + failed else "n/a (no challenges)"
    print(f"\nMFA success rate: {rate} ({passed} passed, {failed} failed)")


def write_report(figures: Figures) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    REPORT.write_text(render(figures, now), encoding="utf-8")
    print(f"\nReport: {REPORT.relative_to(REPO_ROOT)} (one page, opens offline in any browser)")


def main() -> None:
    real_tenant = bool(os.environ.get("TAP_AUTH0_USERLOGS_DOMAIN"))
    OUTPUT.mkdir(exist_ok=True)
    for stale in (WAREHOUSE, WAREHOUSE.with_suffix(".duckdb.wal"), SYSTEM_DB):
        stale.unlink(missing_ok=True)
    SYSTEM_DB.parent.mkdir(parents=True, exist_ok=True)

    env = {
        **os.environ,
        "MELTANO_DATABASE_URI": f"sqlite:///{SYSTEM_DB}",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TARGET_DUCKDB_FILEPATH": str(WAREHOUSE),
        # dbt's compiled SQL and logs go with the demo's other output.
        "DBT_TARGET_PATH": str(OUTPUT / "dbt" / "target"),
        "DBT_LOG_PATH": str(OUTPUT / "dbt" / "logs"),
    }
    # Both event streams, unless the caller chose the streams.
    env.setdefault("TAP_AUTH0_USERLOGS__SELECT", json.dumps(EVENT_STREAMS))

    heading("Installing the Meltano plugins (quick once installed)")
    meltano(["install"], env, "demo-install.log")

    emulator = None
    if real_tenant:
        heading(f"Reading the tenant {os.environ['TAP_AUTH0_USERLOGS_DOMAIN']}")
    else:
        heading(f"Starting the Auth0 emulator with the sample tenant (seed {SAMPLE_SEED})")
        emulator = start_sample_tenant()
        print(f"   serving at {emulator.base_url} as {emulator.domain}")
    try:
        env.update(tap_environment(emulator))
        heading(f"First run: meltano {' '.join(PIPELINE)} (full sync, then the models)")
        run_pipeline(env, "run-1", emulator)
        if emulator is not None:
            added = add_new_events(emulator)
            heading(f"{added} new events arrive for 3 users")
        heading(
            "Second run: the same command, incremental from where the first run stopped "
            "(events inside the look-back are read again and replace themselves), "
            "into the file dbt wrote, and dbt builds incrementally"
        )
        run_pipeline(env, "run-2", emulator)
    finally:
        if emulator is not None:
            emulator.stop()
    show_what_landed()
    figures = read_figures(WAREHOUSE)
    show_answers(figures)
    write_report(figures)
    print(f"Warehouse: {WAREHOUSE.relative_to(REPO_ROOT)}; logs of each step: output/demo-*.log")
    if not real_tenant:
        print("To read a real tenant instead, see 'Run it against your tenant' in the README.")


if __name__ == "__main__":
    main()
