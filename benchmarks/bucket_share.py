"""Bucket share: how much of each plan's bucket a first run uses, 150 ms from Auth0.

Five buckets, as the emulator's rate-limit knobs set them (the bucket only: no plan's retention
or exports): Free (2/s, burst 2, every endpoint), Essentials (reading logs 100/min, burst 10),
Enterprise (16/s, burst 50), Private Cloud at 100/s (burst 100) and at 250/s (burst 250).
Behind each, two first runs, each made twice in the same run: by the tap as it is by default,
and by the single reader (``max_concurrency: 1``, one request at a time, as a pass reads today):

- log: the first run's pass over the tenant's log (``strategy: tenant_scan``, every user: no
  ``user_ids``), on a busy tenant sized so that its pages take about ``PASS_SECONDS`` at the
  bucket's rate. Its shape is the busy profile's (``TenantSpec.busy``: most users idle, a
  tenth of the events of no user), heavy users left out (they change nothing for a pass); past
  ``STORED_EVENTS`` events the rest is a backlog of the tenant's log
  (``TenantSpec.backlog_events``), derived rather than stored, so that the emulator stays small.
- per_user: 2,000 users read one by one (``strategy: per_user``, the users given as
  ``user_ids``), the same busy tenant behind every bucket.

A run that would outlast its budget (the single reader behind a fast bucket, 2,000 users
behind a slow one) is stopped with SIGTERM when the budget is spent: its share of the bucket is
a rate, measured over the part it ran; whether it delivered every event is then not judged,
only that it delivered none twice and nothing the tenant does not hold.

Share of the bucket, as in rate_limit and plans: requests answered (not 429) over what the
bucket could give from the run's first request to its last answer, burst + rate x seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.measure import Bucket, Conditions, EmulatorProcess, Figures, Options, measure_tap
from benchmarks.report import DASH, Report, Row, Target, count, number, percent

NAME = "bucket_share"
LATENCY_MS = 150
PAGE = 100
# A first pass takes about this long at its bucket's rate (its burst, then its refill): tens
# of seconds would be better figures, but `make bench` has to stay under 15 minutes.
PASS_SECONDS = 10
# What a run may take before it is stopped: the pass, the tap's start-up and its survey.
PASS_BUDGET_SECONDS = PASS_SECONDS + 5
# Per user, the same budget: 2,000 users outlast it on every bucket but 250/s, and a shorter
# run measures little but the first seconds' ramp.
PER_USER_BUDGET_SECONDS = PASS_BUDGET_SECONDS
QUICK_PASS_SECONDS = 4
# Tiny: past Essentials' burst of 10 pages, so that a pass is stopped on its budget; per_user
# runs given time to finish (a tap stopped inside its start-up ends without its state).
TINY_EVENTS = 1500
TINY_BUDGET_SECONDS = 3
PER_USER_USERS = 2000
# The busy profile: 40 events a minute over 3,000 users, kept over 24 hours.
BUSY_EVENTS_PER_MINUTE_PER_USER = 40 / 3000
HISTORY_MINUTES = 24 * 60
STORED_EVENTS = 30_000
BACKLOG_USERS = 2000
TARGET_429_SHARE = 0.01
SEED = 91

DEFAULT = "default"
SINGLE = "single"
SINGLE_SETTINGS = {"max_concurrency": 1}
# One request in flight reaches its pace (one a round trip) at once: a few seconds measure it,
# and `make bench` has to stay under 15 minutes.
SINGLE_BUDGET_SECONDS = 6
# Above this share of one core all along, a process is taken to be what holds a run back.
BUSY_CORE = 0.85
# Requests/s above this share of the bucket's rate: the tap's governor is what holds it back
# (the headroom it leaves), not how many requests it keeps in flight.
PACED = 0.75


@dataclass(frozen=True)
class PlanBucket:
    """A plan's bucket, and the share of it the tap as it is by default must use."""

    name: str
    conditions: Conditions
    target: float | None  # None: reported, with what bounds it

    @property
    def reading(self) -> Bucket:
        """The bucket reading logs draws on (the tightest, if two)."""
        buckets = [b for b in self.conditions.buckets() if "logs" in b.endpoints]
        return min(buckets, key=lambda bucket: bucket.rate)

    def pass_events(self, seconds: float) -> int:
        """Events whose pages take ``seconds`` at this bucket: its burst, then its rate."""
        return round(PAGE * (self.reading.burst + self.reading.rate * seconds))

    def met(self, figures: Figures) -> bool | None:
        """Whether a run by the tap as it is uses its share of the bucket (None: not judged)."""
        if self.target is None or figures.limit_share is None:
            return None
        return figures.limit_share >= self.target


def _private_cloud(rate: float) -> Conditions:
    """A tenant-wide bucket of ``rate`` a second, holding a second of it."""
    return Conditions(latency_ms=LATENCY_MS, rate_limit=rate, burst=round(rate))


BUCKETS = (
    PlanBucket("Free", Conditions.of_plan("free", LATENCY_MS), 0.90),
    PlanBucket("Essentials", Conditions.of_plan("essentials", LATENCY_MS), 0.90),
    PlanBucket("Enterprise", Conditions.of_plan("enterprise", LATENCY_MS), 0.90),
    PlanBucket("Private Cloud 100/s", _private_cloud(100), 0.75),
    PlanBucket("Private Cloud 250/s", _private_cloud(250), None),
)


def run(options: Options) -> list[Any]:
    # Tiny: one bucket, Essentials' (per endpoint; the others are tenant-wide).
    buckets = options.pick(full=BUCKETS, quick=BUCKETS, tiny=BUCKETS[1:2])
    users = options.pick(full=PER_USER_USERS, quick=PER_USER_USERS, tiny=5)
    # Tiny: no user past the 1,000 cap, whose pages alone would outlast the budget.
    heavy = options.size != "tiny"
    reports: list[Report] = []
    spec = busy_tenant(users, users * BUSY_EVENTS_PER_MINUTE_PER_USER, heavy=heavy)
    with EmulatorProcess(**spec) as by_user:
        for bucket in buckets:
            report = log_report(bucket, options)
            per_user_runs(report, bucket, by_user, options)
            reports.append(report)
    if not options.full:
        smaller = options.pick(
            full="",
            quick=f"a pass of about {QUICK_PASS_SECONDS} s at each bucket instead of "
            f"{PASS_SECONDS}",
            tiny=f"{TINY_EVENTS:,} events a pass, {users} users, one bucket of {len(BUCKETS)}",
        )
        reports[0].notes.append(
            options.scaled(f"{smaller}; a run this short is mostly the bucket's burst")
        )
    runs = [(bucket, f) for bucket, r in zip(buckets, reports, strict=True) for f in r.columns]
    return [*reports, Summary(runs)]


def ways() -> list[tuple[str, dict[str, int]]]:
    """The tap as it is by default, and as the single reader."""
    return [(DEFAULT, {}), (SINGLE, SINGLE_SETTINGS)]


def way_budget(way: str, budget: float) -> float:
    """Seconds a run of ``way`` may take: the single reader's are shorter."""
    return min(budget, SINGLE_BUDGET_SECONDS) if way == SINGLE else budget


def busy_tenant(users: int, per_minute: float, *, heavy: bool) -> dict[str, Any]:
    """The EmulatorProcess spec of a busy tenant (with the profile's heavy users if ``heavy``)."""
    spec: dict[str, Any] = {
        "users": users,
        "profile": "busy",
        "events_per_minute": per_minute,
        "seed": SEED,
    }
    if not heavy:
        spec["heavy_users"] = {}
    return spec


def log_tenant(events: int, most_stored: int) -> dict[str, Any]:
    """A busy tenant of about ``events`` events: stored up to ``most_stored``, a backlog beyond."""
    stored = min(events, most_stored)
    per_minute = stored / HISTORY_MINUTES
    users = max(1, round(per_minute / BUSY_EVENTS_PER_MINUTE_PER_USER))
    spec = busy_tenant(users, per_minute, heavy=False)
    if events > stored:
        backlog = events - stored
        # About a user per ten events of the backlog, as many as 2,000.
        spec |= {
            "backlog_events": backlog,
            "backlog_users": min(BACKLOG_USERS, max(1, backlog // 10)),
        }
    return spec


def log_report(bucket: PlanBucket, options: Options) -> Report:
    """The first run's pass behind ``bucket``, both ways: a report with their two columns."""
    seconds = options.pick(full=PASS_SECONDS, quick=QUICK_PASS_SECONDS, tiny=0)
    events = bucket.pass_events(seconds) if seconds else TINY_EVENTS
    budget = options.pick(
        full=PASS_BUDGET_SECONDS, quick=QUICK_PASS_SECONDS + 6, tiny=TINY_BUDGET_SECONDS
    )
    # Tiny: half of it a backlog, as the fastest buckets' tenants have.
    stored = options.pick(full=STORED_EVENTS, quick=STORED_EVENTS, tiny=TINY_EVENTS // 2)
    with EmulatorProcess(**log_tenant(events, stored)) as tenant:
        log_events = tenant.call("log_size")["events"]
        runs = {
            way: measure_tap(
                tenant,
                options.workspace,
                f"log, {way}",
                tenant.tap_config(None, strategy="tenant_scan", **settings),
                bucket.conditions,
                check_events=True,
                stop_after=way_budget(way, budget),
            )
            for way, settings in ways()
        }
        users = len(tenant.user_ids)
    report = Report(
        f"Bucket share, {bucket.name}: first runs, 150 ms from Auth0",
        f"emulator: {bucket.conditions.describe()}. Share of the bucket: requests answered "
        "(not 429) / (burst + rate x seconds from the first request to the last answer), as "
        "in rate_limit and plans",
        columns=list(runs.values()),
        rows=ROWS,
    )
    reading = bucket.reading
    sized = f" (about {seconds:g} s at {per_second(reading.rate)} after a burst of "
    report.notes.append(
        "log: the first run's pass over the tenant's log (strategy tenant_scan, every user: "
        f"no user_ids), a busy tenant of {users:,} users and {log_events:,} events in its log"
        + (f"{sized}{reading.burst})" if seconds else "")
        + f"; each run stopped after {budget:g} s if not done"
    )
    report.targets = targets(bucket, "log", runs)
    return report


def per_user_runs(
    report: Report, bucket: PlanBucket, tenant: EmulatorProcess, options: Options
) -> None:
    """Every user of ``tenant`` read one by one behind ``bucket``, both ways, into ``report``."""
    budget = options.pick(full=PER_USER_BUDGET_SECONDS, quick=4, tiny=TINY_BUDGET_SECONDS)
    runs = {
        way: measure_tap(
            tenant,
            options.workspace,
            f"per_user, {way}",
            tenant.tap_config(tenant.user_ids, strategy="per_user", **settings),
            bucket.conditions,
            check_events=True,
            stop_after=way_budget(way, budget),
        )
        for way, settings in ways()
    }
    report.columns += runs.values()
    report.targets += targets(bucket, "per_user", runs)
    report.notes += [
        f"per_user: {len(tenant.user_ids):,} users given as user_ids, a busy tenant of "
        f"{tenant.info['events']:,} events; each run stopped after {budget:g} s if not done",
        f"{SINGLE}: max_concurrency 1, one request at a time, as a pass reads today; "
        f"stopped after {way_budget(SINGLE, budget):g} s if not done (one request in flight "
        "keeps its pace from the start)",
    ]


def per_second(rate: float) -> str:
    """``16/s``, or per minute where Auth0 publishes it so (``100/min``)."""
    return f"{rate:g}/s" if float(rate).is_integer() else f"{rate * 60:g}/min"


# --------------------------------------------------------------------------- figures


def stopped(figures: Figures) -> bool:
    return figures.stopped_after is not None


def unexpected(found: dict[str, int]) -> int:
    """Events delivered that the tenant does not hold, or holds for no user."""
    return found["extra_no_user"] + found["extra_other"] + found["extra_unknown_user"]


def _delivered(figures: Figures) -> str:
    found = figures.completeness
    return DASH if found is None else f"{found['found']:,} / {found['expected']:,}"


def _twice_or_unexpected(figures: Figures) -> str:
    found = figures.completeness
    return DASH if found is None else f"{found['duplicates']:,} / {unexpected(found):,}"


def rate_limited_share(figures: Figures) -> float | None:
    if figures.rate_limited is None or not figures.requests:
        return None
    return figures.rate_limited / figures.requests


def core_share(cpu: float | None, figures: Figures) -> float | None:
    """CPU seconds over the run's wall time: 1.0 is a whole core busy all along."""
    if cpu is None or not figures.wall:
        return None
    return cpu / figures.wall


def _row(name: str, value: Callable[[Figures], str]) -> Row:
    return (name, lambda figures, baseline: value(figures))


ROWS: list[Row] = [
    _row("requests", lambda f: count(f.requests)),
    _row("wall time, s", lambda f: number(f.wall)),
    _row("stopped on its budget", lambda f: f"after {f.stopped_after:g} s" if stopped(f) else "no"),
    _row("requests/s (emulator side)", lambda f: number(f.requests_per_s)),
    _row("share of the bucket", lambda f: percent(f.limit_share)),
    _row("429s", lambda f: count(f.rate_limited)),
    _row("  share of requests", lambda f: percent(rate_limited_share(f))),
    _row("requests in flight, mean", lambda f: number(f.in_flight_mean, 2)),
    _row("events delivered / expected", _delivered),
    _row("  twice / not expected", _twice_or_unexpected),
    _row("events per tap CPU second", lambda f: number(f.events_per_cpu_s, 0)),
    _row("tap CPU / wall time", lambda f: percent(core_share(f.cpu, f))),
    _row("emulator CPU / wall time", lambda f: percent(core_share(f.server_cpu, f))),
    _row("peak RSS, MB", lambda f: number(f.peak_rss_mb, 0)),
]


def bound(bucket: PlanBucket, figures: Figures) -> str:
    """What holds a run below its bucket, read from what was measured."""
    if (figures.limit_share or 0.0) >= 0.9:
        return "the bucket"
    rate, events, requests = figures.events_per_cpu_s, figures.events, figures.requests
    if (core_share(figures.cpu, figures) or 0.0) >= BUSY_CORE and rate and events and requests:
        ceiling = rate / (events / requests)
        return (
            f"the tap's CPU: {rate:,.0f} events per CPU second at {events / requests:.0f} "
            f"events a request allow {ceiling:.0f} requests/s on one core "
            f"({ceiling / bucket.reading.rate:.0%} of the bucket)"
        )
    if (core_share(figures.server_cpu, figures) or 0.0) >= BUSY_CORE:
        return "the emulator's CPU (this machine, not the tap)"
    reading, mean, most = bucket.reading, figures.in_flight_mean, figures.peak_concurrency
    if not (requests and mean and most and figures.logged and figures.span):
        return "not known"
    if requests <= reading.burst and not stopped(figures):
        return f"none: its {requests} requests fit in the burst of {reading.burst}"
    sent = figures.logged / figures.span
    if sent >= PACED * reading.rate:
        return f"the tap's pacing: {sent:.1f}/s of the bucket's {per_second(reading.rate)}"
    each = f"{1000 * mean / sent:.0f} ms each"
    return f"the round trip: {mean:.1f} requests in flight on average (at most {most}), {each}"


def targets(bucket: PlanBucket, what: str, runs: dict[str, Figures]) -> list[Target]:
    """The issue's targets for the tap by default; the single reader's figures beside them."""
    found = []
    for way, figures in runs.items():
        judged = way == DEFAULT
        label = f"{what}, {way}:"
        if not figures.ok or figures.limit_share is None:
            found.append(Target.unmeasured(f"{label} share of the bucket", figures))
            continue
        goal = f" >= {bucket.target:.0%}" if judged and bucket.target else ""
        found.append(
            Target(
                f"{label} share of the bucket{goal}",
                f"{percent(figures.limit_share)}; bound: {bound(bucket, figures)}",
                bucket.met(figures) if judged else None,
            )
        )
        limited = rate_limited_share(figures)
        found.append(
            Target(
                f"{label} 429s under {TARGET_429_SHARE:.0%} of requests",
                percent(limited),
                limited < TARGET_429_SHARE if judged and limited is not None else None,
            )
        )
        found.append(completeness(label, figures, judged))
    return found


def completeness(label: str, figures: Figures, judged: bool) -> Target:
    """Every event once; of a run stopped on its budget, none twice and none unexpected."""
    found = figures.completeness
    if found is None:
        return Target(f"{label} every event once", "not checked", None)
    extra, twice = unexpected(found), found["duplicates"]
    if stopped(figures):
        return Target(
            f"{label} (stopped) none twice, none unexpected",
            f"{found['found']:,} of {found['expected']:,} delivered, {twice:,} twice, "
            f"{extra:,} unexpected",
            twice == 0 and extra == 0 if judged else None,
        )
    return Target(
        f"{label} every event once",
        f"{found['found']:,} / {found['expected']:,}, {twice:,} twice, {extra:,} unexpected",
        found["missing"] == 0 and twice == 0 and extra == 0 if judged else None,
    )


@dataclass
class Summary:
    """Every bucket's runs a line each, their shares side by side."""

    runs: list[tuple[PlanBucket, Figures]]

    def failed_runs(self) -> list[str]:
        return []  # each bucket's report names its own

    def render(self) -> str:
        lines = [
            "== Bucket share: every bucket and run, 150 ms from Auth0",
            "",
            f"   {'bucket':<20}{'run':<18}{'requests':>9}{'seconds':>9}{'req/s':>8}"
            f"{'share':>9}{'target':>14}{'429s':>6}{'events/CPU s':>14}",
        ]
        for bucket, f in self.runs:
            met = bucket.met(f) if f.label.endswith(DEFAULT) else None
            target = (
                "" if met is None else f">= {bucket.target:.0%} " + ("met" if met else "MISSED")
            )
            lines.append(
                f"   {bucket.name:<20}{f.label:<18}{count(f.requests):>9}{number(f.wall):>9}"
                f"{number(f.requests_per_s):>8}{percent(f.limit_share):>9}{target:>14}"
                f"{count(f.rate_limited):>6}{number(f.events_per_cpu_s, 0):>14}"
            )
        return "\n".join(lines) + "\n"
