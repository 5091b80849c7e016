"""Plans: a first sync on each Auth0 plan's buckets, sized to take about 25 seconds.

Free (2/s, bucket 2, shared by every endpoint), Essentials (reading logs 100/min with a bucket
of 10, reading users 500/min with a bucket of 40) and Enterprise (16/s, bucket 50). Each plan
gets a tenant of the busy profile's shape, scaled so that a first sync, a request per user,
takes about 25 seconds at that plan's bucket: most users idle, a few active, one user past the
1,000 cap, some events of no user and some indexed late. The tap is given no ``user_ids``.
150 ms per request, as against a real tenant.

Baseline: ``benchmarks.naive_tenant_log``, which reads the tenant's log like the Meltano Hub's
default Auth0 tap and retries 429s blindly (singer-sdk's default backoff).
"""

from __future__ import annotations

from benchmarks.measure import (
    Conditions,
    EmulatorProcess,
    Figures,
    Options,
    measure_tap,
    measure_tenant_log,
)
from benchmarks.report import COMPLETENESS_ROWS, Report, Target, days, percent, time_ratio

NAME = "plans"
LATENCY_MS = 150
# Users per plan for a first sync of about 25 s at its bucket when the tap reads user by user:
# a request per user plus about 20 for discovery and the user past the cap; a pass over the
# tenant's log costs fewer (a request per 100 events) and ends sooner. Free: 2/s; Essentials'
# logs: 100/min and 10; Enterprise: 16/s and 50. Halved from about 50 s when bucket_share came
# (it measures these buckets too, behind 2,000 users), to keep `make bench` under 15 minutes.
USERS = {"free": 38, "essentials": 35, "enterprise": 300}
QUICK_USERS = {"free": 6, "essentials": 6, "enterprise": 100}
# Tiny: two plans, one of each kind of bucket (per endpoint; tenant-wide, the one whose burst
# holds the whole run).
TINY_USERS = {"essentials": 3, "enterprise": 3}
HEAVY_USER_EVENTS = 1200
EVENTS_PER_MINUTE_PER_USER = 40 / 3000  # the busy profile's traffic
TARGET_SHARE = 0.90
TARGET_429_SHARE = 0.02
SEED = 61


def run(options: Options) -> list[Report]:
    sizes = options.pick(full=USERS, quick=QUICK_USERS, tiny=TINY_USERS)
    return [sync_on(plan, users, options) for plan, users in sizes.items()]


def sync_on(plan: str, users: int, options: Options) -> Report:
    conditions = Conditions.of_plan(plan, latency_ms=LATENCY_MS)
    # Quick: no user past the cap, whose pages alone take Free's bucket 7 s.
    heavy_events = HEAVY_USER_EVENTS if options.full else 0
    with EmulatorProcess(
        users=users,
        profile="busy",
        events_per_minute=EVENTS_PER_MINUTE_PER_USER * users,
        heavy_users={str(users // 2): heavy_events} if heavy_events else {},
        seed=SEED,
        plan=plan,
    ) as emulator:
        # Read user by user, the sync is all pacing: its share of the bucket is the governor's.
        per_user = measure_tap(
            emulator,
            options.workspace,
            f"tap per_user, {plan}",
            emulator.tap_config(None, strategy="per_user"),
            conditions,
            check_events=True,
        )
        tap = measure_tap(
            emulator,
            options.workspace,
            f"tap auto, {plan}",
            emulator.tap_config(None),
            conditions,
            check_events=True,
        )
        tap.versus = measure_tenant_log(emulator, options.workspace, conditions)
        per_user.versus = tap.versus
        info = emulator.info
    report = Report(
        f"Plan {info['plan']}: a first sync of {users:,} users (busy shape), users discovered",
        f"emulator: {conditions.describe()}; {days(info['retention_days'])} of logs",
        columns=[per_user, tap],
        baseline=tap.versus,
        rows=COMPLETENESS_ROWS,
    )
    if not options.full:
        report.notes.append(
            options.scaled(
                f"{users} users instead of {USERS[plan]:,}, none past the cap; a run this short "
                "is mostly the bucket's burst, so judge the share of the limit on the full run"
            )
        )
    report.notes.append(
        f"tenant: {info['events']:,} events, {heavy_events:,} of them of one user; "
        "share of rate limit: answered requests / (burst + rate x time) of the bucket that "
        "binds, its time from the first request drawing on it to the last answer"
    )
    if tap.bucket_shares and len(tap.bucket_shares) > 1:
        report.notes.append(
            "tap: share of each bucket: "
            + ", ".join(f"{name} {percent(share)}" for name, share in tap.bucket_shares.items())
        )
    report.notes.append(
        "tap auto reads the tenant's log in one pass, one request at a time: fewer requests, "
        "and at 150 ms a request it cannot fill a bucket faster than about 6.7/s"
    )
    report.targets = targets(per_user) + completeness(tap)
    return report


def completeness(tap: Figures) -> list[Target]:
    text = "tap auto: every user with an event, every event found"
    found = tap.completeness
    if not tap.ok or found is None:
        return [Target.unmeasured(text, tap)]
    complete = (
        found["users_with_events_found"] == found["users_with_events"] and found["missing"] == 0
    )
    return [Target(text, f"events {found['found']:,} / {found['expected']:,}", complete)]


def targets(tap: Figures) -> list[Target]:
    share_text = f"uses >= {TARGET_SHARE:.0%} of the bucket that binds"
    rate_limited_text = f"429s under {TARGET_429_SHARE:.0%} of requests"
    complete_text = "every user with an event, every event found"
    found = tap.completeness
    if not tap.ok or found is None or tap.limit_share is None or not tap.requests:
        texts = (share_text, rate_limited_text, complete_text)
        return [Target.unmeasured(text, tap) for text in texts]
    rate_limited = (tap.rate_limited or 0) / tap.requests
    complete = (
        found["users_with_events_found"] == found["users_with_events"] and found["missing"] == 0
    )
    ratio = time_ratio(tap)
    return [
        Target(share_text, percent(tap.limit_share), tap.limit_share >= TARGET_SHARE),
        Target(rate_limited_text, percent(rate_limited), rate_limited < TARGET_429_SHARE),
        Target(
            complete_text,
            f"users {found['users_with_events_found']:,} / {found['users_with_events']:,}, "
            f"events {found['found']:,} / {found['expected']:,}",
            complete,
        ),
        Target(
            "time: the naive tenant-log reader's / the tap's",
            "-" if ratio is None else f"{ratio:.2f}x",
            None,
        ),
    ]
