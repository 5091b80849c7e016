"""Real tenant: a busy production tenant, its users not listed, every event checked by log_id.

The emulator's busy profile (``TenantSpec.busy``): 3,000 users, about 40 events a minute
tenant-wide over the past 24 hours, most users idle and a few very active, three users with
more events than one listing reaches (1,000), a tenth of the events client-credentials
exchanges that belong to no user, some indexed minutes late. User search reports ``total`` as
at most 1,000, as Auth0 does. The tap is given no ``user_ids``: it has to find every user.

The same tenant is served on two plans that behave differently: Enterprise (users-export jobs,
30 days of logs) and Free (the export job is refused with a 403, so the tap must fall back to
searching users in created_at windows; 1 day of logs, so the oldest events expire while the
run goes on). Both buckets are lifted to the same roomy one: a first sync costs a request per
user, and 3,000 requests take 25 minutes at Free's 2/s. The ``plans`` scenario measures pacing
at the real buckets.

Baseline: ``benchmarks.naive_tenant_log``, a reader of the tenant's log like the Meltano Hub's
default Auth0 tap, measured on the same tenant and plan.
"""

from __future__ import annotations

from typing import Any

from benchmarks.measure import (
    Conditions,
    EmulatorProcess,
    Figures,
    Options,
    measure_tap,
    measure_tenant_log,
)
from benchmarks.report import COMPLETENESS_ROWS, Report, Target, days

NAME = "real_tenant"
PLANS = ("enterprise", "free")
LIFTED = Conditions(rate_limit=100, burst=100)
BUSY_USERS = 3000
BUSY_EVENTS_PER_MINUTE = 40
# User search reports `total` as at most 1,000, as Auth0 does (the emulator's default too).
BEHAVIOUR = {"cap_user_totals": True}
SEED = 51


def run(options: Options) -> list[Report]:
    # Quick: a tenth of the users and of the traffic, the heavy users as they are.
    users = BUSY_USERS // 10 if options.quick else BUSY_USERS
    per_minute = BUSY_EVENTS_PER_MINUTE * users / BUSY_USERS
    reports = []
    with EmulatorProcess(
        users=users,
        profile="busy",
        events_per_minute=per_minute,
        seed=SEED,
        plan=PLANS[0],
        behaviour=BEHAVIOUR,
    ) as emulator:
        for plan in PLANS:
            if plan != PLANS[0]:
                emulator.restart(plan, **BEHAVIOUR)
            tap = measure_tap(
                emulator,
                options.workspace,
                f"tap, {plan}",
                emulator.tap_config(None),
                LIFTED,
                check_events=True,
            )
            tap.versus = measure_tenant_log(emulator, options.workspace, LIFTED)
            reports.append(report(emulator.info, tap, options.quick, per_minute))
    return reports


def report(info: dict[str, Any], tap: Figures, quick: bool, per_minute: float) -> Report:
    users = len(info["user_ids"])
    # What the tenant holds is in either comparison, should one run have failed.
    found = tap.completeness or (tap.versus.completeness if tap.versus else None) or {}
    result = Report(
        f"Real tenant, {info['plan']} plan: {users:,} users (busy profile), users discovered",
        f"emulator: plan {info['plan']} ({days(info['retention_days'])} of logs), its bucket "
        f"lifted to {LIFTED.rate_limit:g}/s (burst {LIFTED.burst}), no latency; "
        "user search totals capped at 1,000",
        columns=[tap],
        baseline=tap.versus,
        rows=COMPLETENESS_ROWS,
    )
    if quick:
        result.notes.append(
            f"quick: {users:,} users instead of {BUSY_USERS:,}: fewer than user search's cap, "
            "so the tap searches and tries no export job"
        )
    result.notes += [
        f"tenant: {info['events']:,} events ({per_minute:g} a minute over 24 h), "
        f"{found.get('users_with_events', 0):,} users with retained events, "
        f"{found.get('heavy_users', 0)} of them past the 1,000 cap",
        "expected: every retained event of every current user when the run ended, as a set "
        "of log_ids; events of no user are never expected",
        "naive tenant log: the Meltano Hub's default Auth0 tap's way (oldest event, then "
        "the log from its log_id, 429s retried blindly); it finds only users with events",
    ]
    result.targets = targets(tap)
    return result


def targets(tap: Figures) -> list[Target]:
    users_text = "the tap finds every user with an event"
    events_text = "the tap delivers every expected event"
    clean_text = "nothing else: no event of no user, none twice"
    found = tap.completeness
    if not tap.ok or found is None:
        return [Target.unmeasured(text, tap) for text in (users_text, events_text, clean_text)]
    unexpected = found["extra_no_user"] + found["extra_other"] + found["extra_unknown_user"]
    return [
        Target(
            users_text,
            f"{found['users_with_events_found']:,} / {found['users_with_events']:,} "
            f"(all users: {found['users_found']:,} / {found['users']:,})",
            found["users_with_events_found"] == found["users_with_events"],
        ),
        Target(
            events_text,
            f"{found['found']:,} / {found['expected']:,}",
            found["missing"] == 0,
        ),
        Target(
            clean_text,
            f"{unexpected:,} unexpected, {found['duplicates']:,} twice",
            unexpected == 0 and found["duplicates"] == 0,
        ),
    ]
