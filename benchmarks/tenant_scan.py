"""Tenant scan: an incremental sync of many bookmarked users, few of whom have new events.

A first sync (not compared) bookmarks every user; then new events arrive for some of them and
a few new users appear. The second sync runs from the same state per user (one request per
user at least) and as one pass over /api/v2/logs (``strategy: tenant_scan``), whose minimum is
one request per 100 new events plus the per-user backfill of the new users.

No latency and no rate limit: the figure that matters is requests, and 10,000 per-user
requests at a 16/s limit would take 10 minutes. The notes say what each costs at 16/s.
"""

from __future__ import annotations

from benchmarks.measure import (
    Conditions,
    EmulatorProcess,
    Figures,
    Options,
    at_rate,
    bookmarks,
    measure_tap,
    naive_baseline,
    offers,
    tap_settings,
    unavailable,
)
from benchmarks.report import Report, Target

NAME = "tenant_scan"
CONDITIONS = Conditions()
ENTERPRISE_RATE = 16
NEW_USER_EVENTS = 30
FULL_USERS = 10_000


def run(options: Options) -> Report:
    # 10,000 since the real_tenant and plans scenarios came, to keep `make bench` under
    # 15 minutes; the target depends on the new events, not on the users.
    users = 2000 if options.quick else FULL_USERS
    new_events = 500 if options.quick else 5000
    new_users = 5 if options.quick else 10
    report = Report(
        f"Tenant scan: {users:,} bookmarked users, {new_events:,} new events, "
        f"{new_users} new users",
        f"emulator: {CONDITIONS.describe()}; the first sync (bookmarks) is not shown",
    )
    if options.quick:
        report.notes.append(
            f"quick: 2,000 users and 500 new events instead of {FULL_USERS:,} and 5,000"
        )
    else:
        report.notes.append(
            f"{FULL_USERS:,} users, half as many as before the real_tenant and plans scenarios "
            "came, to keep the whole run under 15 minutes"
        )
    settings = tap_settings()
    has_strategy = offers(settings, "strategy", "tenant_scan")
    with EmulatorProcess(users=users, events_per_user=1, seed=21) as emulator:
        first = measure_tap(
            emulator,
            options.workspace,
            "first sync",
            emulator.tap_config(emulator.user_ids),
            CONDITIONS,
        )
        if not first.ok or first.final_state is None:
            report.columns = [first]
            report.notes.append("the first sync failed, so there is nothing to compare")
            return report
        state = first.final_state
        emulator.call("add_events", count=new_events, user_ids=emulator.user_ids)
        added = emulator.call("add_users", count=new_users, events_each=NEW_USER_EVENTS)
        user_ids = emulator.user_ids + added["user_ids"]
        minimum = emulator.call("minimum", user_ids=user_ids, bookmarks=bookmarks(state))
        config = emulator.tap_config(user_ids)

        def second_sync(label: str, strategy: str | None) -> Figures:
            settings = {"strategy": strategy} if strategy else {}
            least = {
                "tenant_scan": minimum["scan"],
                "auto": min(minimum["scan"], minimum["per_user"]),
            }.get(strategy or "per_user", minimum["per_user"])
            figures = measure_tap(
                emulator,
                options.workspace,
                label,
                {**config, **settings},
                CONDITIONS,
                state=state,
                minimum=least,
            )
            if figures.ok and figures.events is not None and figures.events < minimum["new_events"]:
                figures.notes.append(
                    f"emitted {figures.events:,} events, fewer than the "
                    f"{minimum['new_events']:,} new ones"
                )
            if figures.ok:
                figures.notes.append(
                    f"at {ENTERPRISE_RATE}/s, at least {at_rate(figures.requests, ENTERPRISE_RATE)}"
                )
            return figures

        if has_strategy:
            columns = [
                second_sync("tap, per_user", "per_user"),
                second_sync("tap, tenant_scan", "tenant_scan"),
                second_sync("tap, auto", "auto"),
            ]
        else:
            columns = [
                second_sync("tap (per user)", None),
                unavailable("tap, tenant_scan", "strategy"),
            ]
        report.baseline = naive_baseline(emulator, options, user_ids, CONDITIONS, minimum)
    report.columns = columns
    report.notes.append("naive: reads every user's whole log (a curl loop keeps no bookmarks)")
    report.targets = [scan_target(columns[1], new_events, minimum["backfill"])]
    return report


def scan_target(scan: Figures, new_events: int, backfill: int) -> Target:
    pages = -(-new_events // 100)
    ceiling = 2 * pages + backfill
    text = f"tenant_scan: requests <= 2 x {pages} + backfill {backfill} = {ceiling}"
    if not scan.ok or scan.requests is None:
        return Target.unmeasured(text, scan)
    return Target(text, f"{scan.requests:,} requests", scan.requests <= ceiling)
