"""CPU: events per second to /dev/null with no latency, against singer-sdk's defaults.

Two syncs of the same users in the same run: the tap as shipped, and the tap with
singer-sdk's record path put back (``benchmarks.sdk_defaults``). Every user has 950 events,
so each costs ten full-ish pages and no request is spent on anything but events.
"""

from __future__ import annotations

from benchmarks.measure import (
    Conditions,
    EmulatorProcess,
    Figures,
    Options,
    measure_tap,
    naive_baseline,
)
from benchmarks.report import Report, Target

NAME = "cpu"
EVENTS_PER_USER = 950
# 100 until bucket_share came: fewer, to keep `make bench` under 15 minutes.
FULL_USERS = 60


def run(options: Options) -> Report:
    users = options.pick(full=FULL_USERS, quick=20, tiny=3)
    conditions = Conditions()
    report = Report(
        f"CPU: {users} users x {EVENTS_PER_USER} events to /dev/null",
        f"emulator: {conditions.describe()}; stdout to /dev/null, events counted from the "
        "summary line",
    )
    if not options.full:
        report.notes.append(options.scaled(f"{users} users instead of {FULL_USERS}"))
    with EmulatorProcess(users=users, events_per_user=EVENTS_PER_USER, seed=41) as emulator:
        user_ids = emulator.user_ids
        minimum = emulator.call("minimum", user_ids=user_ids)
        config = emulator.tap_config(user_ids)
        shipped = measure_tap(
            emulator,
            options.workspace,
            "tap as shipped",
            config,
            conditions,
            minimum=minimum["per_user"],
            to_devnull=True,
        )
        defaults = measure_tap(
            emulator,
            options.workspace,
            "SDK defaults",
            config,
            conditions,
            minimum=minimum["per_user"],
            to_devnull=True,
            module="benchmarks.sdk_defaults",
        )
        report.baseline = naive_baseline(emulator, options, user_ids, conditions, minimum)
    report.columns = [shipped, defaults]
    report.targets = targets(shipped, defaults)
    return report


def targets(shipped: Figures, defaults: Figures) -> list[Target]:
    # Issue 18 replaced issue 11's absolute 50,000 events/s by a ratio measured in the same
    # run: backlog_pass judges the tap against the minimal pass; this figure is reported.
    rate_text = "events/s (sync time); judged as a ratio to the minimal pass in backlog_pass"
    ratio_text = "ratio to singer-sdk's defaults: events/s, events per CPU second"
    rate, base = shipped.events_per_s, defaults.events_per_s
    if not shipped.ok or rate is None:
        return [Target.unmeasured(rate_text, shipped), Target.unmeasured(ratio_text, shipped)]
    found = [Target(rate_text, f"{rate:,.0f} events/s", None)]
    if not defaults.ok or not base:
        found.append(Target.unmeasured(ratio_text, defaults))
        return found
    ratio = f"{rate / base:.2f}x"
    if shipped.events and shipped.cpu and defaults.events and defaults.cpu:
        ratio += f", {(shipped.events / shipped.cpu) / (defaults.events / defaults.cpu):.2f}x"
    found.append(Target(ratio_text, ratio, None))
    return found
