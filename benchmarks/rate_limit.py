"""Rate limit: how much of Auth0's 16/s Enterprise limit a first sync uses, and a lower cap.

150 ms per request and a 16/s bucket of 50, as on an Enterprise tenant. Every user has 0 to 3
events, so each costs exactly one request and the sync is all about pacing: a sync that keeps
16 requests a second going without tripping 429s is as fast as the tenant allows. A second
sync sets ``max_requests_per_second: 8`` (headroom for the tenant's own apps) on fewer users.
"""

from __future__ import annotations

from benchmarks.measure import (
    Conditions,
    EmulatorProcess,
    Figures,
    Options,
    measure_tap,
    naive_baseline,
    offers,
    tap_settings,
    unavailable,
)
from benchmarks.report import Report, Target, percent

NAME = "rate_limit"
CONDITIONS = Conditions(latency_ms=150, rate_limit=16, burst=50)
CAP = 8
TARGET_SHARE = 0.95
TARGET_429_SHARE = 0.01


# Halved from 2,000 and 600 when the `plans` scenario came, and cut again to 600 and 200 when
# bucket_share came: both measure this bucket too, and `make bench` has to stay under 15
# minutes.
FULL_USERS = 600
FULL_CAPPED_USERS = 200


def run(options: Options) -> Report:
    users = options.pick(full=FULL_USERS, quick=100, tiny=10)
    capped_users = options.pick(full=FULL_CAPPED_USERS, quick=48, tiny=6)
    report = Report(
        f"Rate limit: a first sync of {users:,} users (0-3 events each)",
        f"emulator: {CONDITIONS.describe()}",
    )
    if not options.full:
        report.notes.append(
            options.scaled(
                f"{users} users instead of {FULL_USERS:,}; a run this short is mostly ramp-up, "
                "so judge the share of the limit on the full run"
            )
        )
    else:
        report.notes.append(
            f"{FULL_USERS:,} users and {FULL_CAPPED_USERS} at max {CAP}/s, fewer than before "
            "the plans and bucket_share scenarios, which measure this bucket too, to keep the "
            "whole run under 15 minutes"
        )
    report.notes.append(
        "share of rate limit used: requests answered (not 429) / (burst + limit x time from "
        "the first request to the last answer), i.e. of all the bucket could give"
    )
    report.notes.append(
        f"the max {CAP}/s sync reads the first {capped_users:,} users only, to keep the run short"
    )
    settings = tap_settings()
    with EmulatorProcess(users=users, events_per_user=[0, 3], seed=11) as emulator:
        user_ids = emulator.user_ids
        minimum = emulator.call("minimum", user_ids=user_ids)
        tap = measure_tap(
            emulator,
            options.workspace,
            "tap (defaults)",
            emulator.tap_config(user_ids, strategy="per_user"),
            CONDITIONS,
            minimum=minimum["per_user"],
        )
        if offers(settings, "max_requests_per_second"):
            subset = user_ids[:capped_users]
            capped = measure_tap(
                emulator,
                options.workspace,
                f"tap, max {CAP}/s",
                emulator.tap_config(subset, strategy="per_user", max_requests_per_second=CAP),
                CONDITIONS,
                minimum=emulator.call("minimum", user_ids=subset)["per_user"],
            )
        else:
            capped = unavailable(f"tap, max {CAP}/s", "max_requests_per_second")
        report.baseline = naive_baseline(emulator, options, user_ids, CONDITIONS, minimum)
    report.columns = [tap, capped]
    report.targets = targets(tap, capped)
    return report


def targets(tap: Figures, capped: Figures) -> list[Target]:
    share_text = f"uses >= {TARGET_SHARE:.0%} of the {CONDITIONS.rate_limit:g}/s limit"
    rate_limited_text = f"429s under {TARGET_429_SHARE:.0%} of requests"
    cap_text = f"max_requests_per_second {CAP}: at most {CAP}/s over any 10 s"
    found = []
    if tap.ok and tap.limit_share is not None and tap.requests and tap.rate_limited is not None:
        rate_limited = tap.rate_limited / tap.requests
        found += [
            Target(share_text, percent(tap.limit_share), tap.limit_share >= TARGET_SHARE),
            Target(rate_limited_text, percent(rate_limited), rate_limited < TARGET_429_SHARE),
        ]
    else:
        found += [Target.unmeasured(share_text, tap), Target.unmeasured(rate_limited_text, tap)]
    if capped.ok and capped.busiest_10s is not None:
        found.append(Target(cap_text, f"{capped.busiest_10s:.1f}/s", capped.busiest_10s <= CAP))
    else:
        found.append(Target.unmeasured(cap_text, capped))
    return found
