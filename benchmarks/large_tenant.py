"""Large tenant: 100,000 users in one sync, and the memory it takes.

Most users of a big tenant have had no event lately: each has 0 or 1, so the sync is one
request per user and its cost is per-user bookkeeping (partitions, bookmarks, STATE). No
latency and no rate limit, so the figure is the tap's own; at Auth0's 16/s the requests alone
would take hours.
"""

from __future__ import annotations

from benchmarks.measure import (
    Conditions,
    EmulatorProcess,
    Options,
    bookmarks,
    measure_tap,
    naive_baseline,
)
from benchmarks.report import Report, Target

NAME = "large_tenant"
CONDITIONS = Conditions()
TARGET_RSS_MB = 300
FULL_USERS = 100_000


def run(options: Options) -> Report:
    users = options.pick(full=FULL_USERS, quick=5000, tiny=50)
    report = Report(
        f"Large tenant: {users:,} users (0-1 events each) in one sync",
        f"emulator: {CONDITIONS.describe()}",
    )
    if not options.full:
        report.notes.append(options.scaled(f"{users:,} users instead of {FULL_USERS:,}"))
    with EmulatorProcess(users=users, events_per_user=[0, 1], seed=31) as emulator:
        user_ids = emulator.user_ids
        minimum = emulator.call("minimum", user_ids=user_ids)
        tap = measure_tap(
            emulator,
            options.workspace,
            "tap (defaults)",
            emulator.tap_config(user_ids),
            CONDITIONS,
            minimum=minimum["per_user"],
        )
        report.baseline = naive_baseline(emulator, options, user_ids, CONDITIONS, minimum)
    report.columns = [tap]
    if tap.ok:
        report.notes.append(
            f"tap (defaults): {len(bookmarks(tap.final_state)):,} bookmarks in the final state "
            f"({minimum['events']:,} users have an event)"
        )
    time_text = f"one sync of {users:,} users: time"
    rss_text = f"peak RSS under {TARGET_RSS_MB} MB"
    if tap.ok and tap.wall is not None and tap.peak_rss_mb is not None:
        report.targets = [
            Target(time_text, f"{tap.wall:,.0f} s", None),
            Target(rss_text, f"{tap.peak_rss_mb:,.0f} MB", tap.peak_rss_mb < TARGET_RSS_MB),
        ]
    else:
        report.targets = [Target.unmeasured(time_text, tap), Target.unmeasured(rss_text, tap)]
    return report
