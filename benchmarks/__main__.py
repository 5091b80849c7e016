"""``python -m benchmarks``: every scenario against the emulator, one table each."""

from __future__ import annotations

import argparse
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks import (
    backlog_pass,
    bucket_share,
    cpu,
    dbt_build,
    large_tenant,
    plans,
    rate_limit,
    real_tenant,
)
from benchmarks.measure import Options, Workspace, offers, tap_settings

SCENARIOS = {
    module.NAME: module
    for module in (
        cpu,
        rate_limit,
        backlog_pass,
        large_tenant,
        real_tenant,
        plans,
        bucket_share,
        dbt_build,
    )
}
# How long the naive baseline may run per scenario before its figures are extrapolated.
# 15 s (20 until bucket_share came, to keep `make bench` under 15 minutes).
BASELINE_SECONDS = {"full": 15.0, "quick": 3.0, "tiny": 0.5}
# The settings the scenarios exercise, and a value each must accept.
WATCHED_SETTINGS = {
    "max_concurrency": None,
    "max_requests_per_second": None,
    "strategy": "tenant_scan",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the tap against the local Auth0 emulator with set latency and rate "
        "limits and print, per scenario, users, events, requests (and their ratio to the "
        "fewest possible), wall time, events/s, requests/s, share of the rate limit, 429s and "
        "peak RSS, next to a naive baseline measured in the same run (a sequential per-user "
        "client, or a reader of the tenant's log like the Meltano Hub's default Auth0 tap), "
        "and the targets met or missed. The real_tenant and plans scenarios let the tap "
        "discover the users and check every event it delivers against the tenant's, by "
        "log_id; backlog_pass reads a million events of the tenant's log in one pass; "
        "bucket_share measures the share of each plan's bucket a first run uses, 150 ms from "
        "Auth0, by default and with one request at a time. "
        "Figures, not tests: nothing fails on a missed target (a run that fails exits 1). "
        "The full run takes about 13 minutes on two cores.",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="every scenario small, in about two minutes"
    )
    size.add_argument(
        "--tiny",
        action="store_true",
        help="every scenario at a handful of users and events, to check that each runs to its "
        "report (its figures mean nothing at that size); `make test` runs this",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        metavar="SCENARIO",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        metavar="S",
        help="time the naive baseline may take per scenario before extrapolating "
        "(default: " + ", ".join(f"{s:g} {size}" for size, s in BASELINE_SECONDS.items()) + ")",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        metavar="S",
        help="kill a sync that takes longer (default: %(default)s)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep every run's config, stdout and stderr in DIR",
    )
    return parser


def main() -> int:
    args = build_parser().parse_args()
    names = args.only or list(SCENARIOS)
    size = "tiny" if args.tiny else "quick" if args.quick else "full"
    budget = args.baseline_seconds or BASELINE_SECONDS[size]
    started = time.monotonic()
    settings = tap_settings()
    print(
        "Tap settings: "
        + ", ".join(
            f"{name} {'yes' if offers(settings, name, value) else 'not available yet'}"
            for name, value in WATCHED_SETTINGS.items()
        )
        + ("" if size == "full" else f"; {size} run")
        + "\n",
        flush=True,
    )
    failed = []
    with tempfile.TemporaryDirectory(prefix="tap-auth0-bench-") as scratch:
        root = args.keep or Path(scratch)
        workspace = Workspace(root, timeout=args.timeout, keep=args.keep is not None)
        options = Options(size=size, baseline_seconds=budget, workspace=workspace)
        for name in names:
            scenario_started = time.monotonic()
            try:
                reports = SCENARIOS[name].run(options)
            except Exception:
                failed.append(name)
                print(f"== {name}: the benchmark itself failed\n{traceback.format_exc()}")
                continue
            # A scenario run under several conditions prints one table for each.
            for report in reports if isinstance(reports, list) else [reports]:
                print(report.render(), flush=True)
                failed += [f"{name}: {label}" for label in report.failed_runs()]
            print(f"   ({name} took {time.monotonic() - scenario_started:.0f} s)\n", flush=True)
    print(f"Benchmarks took {time.monotonic() - started:.0f} s.")
    if failed:
        # A run that failed is a figure missing: `make bench` (and the tiny run in `make test`)
        # says so in its exit code. A missed target is a figure, not a failure.
        print(f"Failed: {'; '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
