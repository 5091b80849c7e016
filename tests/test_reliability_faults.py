"""Random fault schedules: transient faults never cost an event, permanent ones fail fast.

Hypothesis draws the faults (kind, endpoint, how many requests pass first, how many fail), the
users, the start date, the page size, the concurrency and the credentials. After each sync the
target (keyed on log_id) must hold exactly the emulator's events of the selected users since
the start date; where a permanent fault fails the sync, a second run resumes from the last
STATE and the union must be exact.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tap_auth0_userlogs.auth0.errors import TapUserError
from tap_auth0_userlogs.auth0.retries import TRANSIENT_TRIES
from tap_auth0_userlogs.events.dates import parse_date
from tests.emulator import Emulator, TenantSpec
from tests.emulator.faults import KINDS
from tests.reliability_support import (
    FIGURES,
    NEEDED_ENDPOINTS,
    KeyedTarget,
    outside_lookback,
    run_tap_process,
)
from tests.tap_support import run_sync, tap_config

pytest_plugins = ["tests.reliability_support"]

TENANT = TenantSpec(users=5, events_per_user=(10, 45), seed=31)
# More users than the workers can have started or queued, so that stopping early shows;
# two days of events, so that the look-back re-reads some on the resume.
LARGER_TENANT = TenantSpec(users=14, events_per_user=(5, 25), seed=37, history_days=2)
LOOKBACK_MINUTES = 120
# A hang outlasts the timeout by far; the timeout is short so that a hang costs little.
REQUEST_TIMEOUT = 0.5
HANG_SECONDS = 3.0
# Kinds that fail one request and leave the next one alone.
PAGE_FAULTS = (
    "429",
    "500",
    "502",
    "503",
    "504",
    "html",
    "reset",
    "hang",
    "truncated",
    "invalid_json",
)
TOKEN_FAULTS = ("429", "500", "503", "html", "reset", "hang", "truncated", "invalid_json")
# Consecutive failures one request may meet and still succeed on its last try. 429s do not
# count: they are waited out separately.
RETRY_BUDGET = TRANSIENT_TRIES - 1

# Seeded (derandomize) and bounded, so that every run tries the same schedules.
SCHEDULE_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class FaultSpec:
    kind: str
    endpoint: str
    after: int
    count: int


@dataclass(frozen=True)
class Schedule:
    """One drawn sync: who is selected, how the tap authenticates, and what goes wrong."""

    user_indexes: tuple[int, ...] | None  # None: discover every user of the tenant
    start_fraction: float | None  # where start_date falls between the oldest and newest event
    page_size: int
    max_concurrency: int
    client_credentials: bool
    token_ttl: float
    faults: tuple[FaultSpec, ...]


def _within_retry_budget(faults: list[FaultSpec]) -> tuple[FaultSpec, ...]:
    """The faults, trimmed so that even all stacked on one request leave it a last try."""
    kept, budget = [], RETRY_BUDGET
    for fault in faults:
        if fault.kind in ("429", "revoke_token", "delete_user"):
            kept.append(fault)
            continue
        count = min(fault.count, budget)
        if count:
            kept.append(FaultSpec(fault.kind, fault.endpoint, fault.after, count))
            budget -= count
    return tuple(kept)


def faults_on(
    endpoint: str, kinds: tuple[str, ...], *, after: int, count: int
) -> st.SearchStrategy[FaultSpec]:
    """A fault of one of `kinds` on `endpoint`, after up to `after` requests, `count` times."""
    return st.builds(
        FaultSpec,
        kind=st.sampled_from(kinds),
        endpoint=st.just(endpoint),
        after=st.integers(0, after),
        count=st.integers(1, count),
    )


@st.composite
def transient_schedules(draw: st.DrawFn) -> Schedule:
    client_credentials = draw(st.booleans())
    discover = draw(st.booleans())
    faults = draw(
        st.lists(faults_on("user_logs", PAGE_FAULTS, after=6, count=3), min_size=1, max_size=4)
    )
    if discover:
        # Discovering a few users takes one or two requests: strike those.
        faults += draw(st.lists(faults_on("users", PAGE_FAULTS, after=1, count=2), max_size=1))
    if client_credentials:
        faults += draw(st.lists(faults_on("token", TOKEN_FAULTS, after=2, count=2), max_size=1))
        # Auth0 tokens cannot be revoked, but a 401 for one must cost only a refresh.
        if draw(st.booleans()):
            faults.append(FaultSpec("revoke_token", "user_logs", draw(st.integers(0, 6)), 1))
    if draw(st.booleans()):
        faults.append(FaultSpec("delete_user", "user_logs", draw(st.integers(0, 6)), 1))
    users = st.lists(st.integers(0, TENANT.users - 1), min_size=1, max_size=4, unique=True)
    return Schedule(
        user_indexes=None if discover else tuple(draw(users)),
        start_fraction=draw(st.one_of(st.none(), st.floats(0, 1))),
        page_size=draw(st.integers(5, 40)),
        max_concurrency=draw(st.integers(1, 4)),
        client_credentials=client_credentials,
        token_ttl=draw(st.sampled_from([86400.0, 2.0, 0.5])) if client_credentials else 86400.0,
        faults=_within_retry_budget(faults),
    )


def start_date(emulator: Emulator, fraction: float | None) -> str | None:
    if fraction is None:
        return None
    dates = sorted(e["date"] for e in emulator.tenant.all_events())
    oldest, newest = parse_date(dates[0]), parse_date(dates[-1])
    return (oldest + (newest - oldest) * fraction).isoformat(timespec="milliseconds")


def configure(emulator: Emulator, schedule: Schedule) -> tuple[dict, list[str]]:
    """The tap's config for `schedule`, and the user ids it selects."""
    every_user = emulator.tenant.user_ids()
    if schedule.user_indexes is None:
        user_ids, selected = None, every_user
    else:
        selected = [every_user[i] for i in schedule.user_indexes]
        user_ids = selected
    credentials = (
        {
            "access_token": None,
            "client_id": emulator.client_id,
            "client_secret": emulator.client_secret,
        }
        if schedule.client_credentials
        else {}
    )
    config = tap_config(
        emulator,
        user_ids=user_ids,
        start_date=start_date(emulator, schedule.start_fraction),
        page_size=schedule.page_size,
        max_concurrency=schedule.max_concurrency,
        lookback_minutes=LOOKBACK_MINUTES,
        request_timeout=REQUEST_TIMEOUT,
        # The fault schedules aim at reading user by user; passes have their own tests.
        strategy="per_user",
        **credentials,
    )
    return config, selected


def inject(emulator: Emulator, faults: tuple[FaultSpec, ...]) -> None:
    for fault in faults:
        emulator.faults.add(
            fault.kind,
            endpoint=fault.endpoint,
            after=fault.after,
            count=fault.count,
            hang_seconds=HANG_SECONDS,
        )


def unexpected_endpoints(emulator: Emulator) -> list[str]:
    return [r.raw_path for r in emulator.request_log if r.endpoint not in NEEDED_ENDPOINTS]


@given(schedule=transient_schedules())
@SCHEDULE_SETTINGS
def test_transient_fault_schedule_loses_no_event(schedule, transcript, fast_waits):
    with Emulator(TENANT, token_ttl=schedule.token_ttl) as emulator:
        transcript.watch(emulator)
        config, selected = configure(emulator, schedule)
        inject(emulator, schedule.faults)
        for fault in schedule.faults:
            event(f"{fault.kind} on {fault.endpoint}")

        result = run_sync(config, allow_failure=True)

        transcript.record(result.messages)
        transcript.record_error(result.error)
        FIGURES.fault_schedules += 1
        FIGURES.syncs += 1
        FIGURES.count_faults(emulator)
        assert result.error is None, f"{schedule}: {result.error}"
        since = config.get("start_date")
        deleted = set(selected) - set(emulator.tenant.user_ids())
        expected = emulator.tenant.expected_log_ids(user_ids=set(selected) - deleted, since=since)
        allowed = emulator.tenant.expected_log_ids(user_ids=selected, since=since)
        received = set(result.log_ids())
        FIGURES.count_outcome(expected, received)
        # A user deleted mid-run has only the events read before the deletion.
        assert expected - received == set(), schedule
        assert received - allowed == set(), schedule
        assert unexpected_endpoints(emulator) == []


@dataclass(frozen=True)
class PermanentFault:
    name: str
    remedy: str  # what the one error line must name
    after: int  # user_logs requests that succeed before it strikes


@st.composite
def permanent_faults(draw: st.DrawFn) -> tuple[PermanentFault, Schedule]:
    name, remedy = draw(
        st.sampled_from(
            [
                ("revoked static token", "'access_token'"),
                ("token without read:logs", "read:logs or read:logs_users"),
                ("rejected client secret", "'client_secret'"),
                ("outage", f"after {TRANSIENT_TRIES} tries"),
            ]
        )
    )
    schedule = Schedule(
        user_indexes=tuple(range(LARGER_TENANT.users)),
        start_fraction=draw(st.one_of(st.none(), st.floats(0, 0.9))),
        page_size=draw(st.integers(5, 40)),
        max_concurrency=draw(st.integers(1, 4)),
        client_credentials=name == "rejected client secret",
        token_ttl=86400.0,
        faults=(),
    )
    return PermanentFault(name, remedy, draw(st.integers(0, 12))), schedule


def strike(emulator: Emulator, fault: PermanentFault, config: dict) -> dict:
    """Make `fault` happen in the next sync; returns the config that sync must use."""
    if fault.name == "revoked static token":
        emulator.faults.add("revoke_token", endpoint="user_logs", after=fault.after)
    elif fault.name == "token without read:logs":
        return {**config, "access_token": emulator.issue_token(scopes=["read:users"])}
    elif fault.name == "rejected client secret":
        return {**config, "client_secret": "not-" + emulator.client_secret}
    else:
        emulator.faults.add("503", endpoint="user_logs", after=fault.after, count=None)
    return config


def repair(emulator: Emulator, config: dict) -> dict:
    """The config after the user's fix: a new token, since a revoked one stays revoked."""
    if "access_token" not in config:
        return config
    return {**config, "access_token": emulator.issue_token()}


def last_state(result) -> dict | None:
    return result.states[-1] if result.states else None


def refused_requests(emulator: Emulator) -> int:
    return sum(1 for r in emulator.request_log if r.status in (401, 403))


@given(drawn=permanent_faults())
@settings(SCHEDULE_SETTINGS, max_examples=40)
def test_permanent_fault_fails_fast_with_one_line_and_the_resume_loses_nothing(
    drawn, transcript, fast_waits
):
    fault, schedule = drawn
    with Emulator(LARGER_TENANT) as emulator:
        transcript.watch(emulator)
        config, _ = configure(emulator, schedule)

        started = time.monotonic()
        failed = run_sync(strike(emulator, fault, config), allow_failure=True)
        elapsed = time.monotonic() - started
        emulator.faults.clear()
        resumed = run_sync(repair(emulator, config), state=copy.deepcopy(last_state(failed)))

        for result in (failed, resumed):
            transcript.record(result.messages)
            transcript.record_error(result.error)
        FIGURES.fault_schedules += 1
        FIGURES.syncs += 2
        FIGURES.count_faults(emulator)
        assert isinstance(failed.error, TapUserError), f"{fault}: {failed.error!r}"
        message = str(failed.error)
        assert "\n" not in message
        assert fault.remedy in message
        assert elapsed < 10
        # It stops instead of trying user after user: only those already under way are refused.
        assert refused_requests(emulator) < LARGER_TENANT.users
        target = KeyedTarget()
        target.receive(failed.messages)
        again = target.receive(resumed.messages)
        expected = emulator.tenant.expected_log_ids(since=config.get("start_date"))
        FIGURES.count_outcome(expected, set(target.rows))
        assert set(target.rows) == expected
        assert outside_lookback(again, last_state(failed), LOOKBACK_MINUTES) == []
        assert unexpected_endpoints(emulator) == []


def test_revoked_token_ends_the_cli_with_a_clear_line_and_a_resumable_state(
    emulator, tmp_path, transcript
):
    transcript.watch(emulator)
    emulator.faults.add("revoke_token", endpoint="user_logs", after=4)
    config = tap_config(emulator, page_size=10, max_concurrency=1)

    failed = run_tap_process(tmp_path, config)
    target = KeyedTarget()
    target.receive(failed.messages)
    resumed = run_tap_process(tmp_path, repair(emulator, config), state=target.state)
    target.receive(resumed.messages)

    failed.record_into(transcript)
    resumed.record_into(transcript)
    assert failed.returncode == 1
    assert "'access_token'" in failed.error_lines()[-1]
    assert "Traceback" not in failed.stderr
    assert resumed.returncode == 0
    FIGURES.count_outcome(emulator.tenant.expected_log_ids(), set(target.rows))
    assert set(target.rows) == emulator.tenant.expected_log_ids()


def test_permanent_fault_prints_exactly_one_error_line(emulator, tmp_path, transcript):
    transcript.watch(emulator)
    emulator.faults.add("revoke_token", endpoint="user_logs", after=4)

    failed = run_tap_process(tmp_path, tap_config(emulator, page_size=10, max_concurrency=1))

    failed.record_into(transcript)
    assert failed.returncode == 1
    assert len(failed.error_lines()) == 1


def test_every_fault_kind_is_drawn():
    kinds = set(PAGE_FAULTS) | set(TOKEN_FAULTS) | {"revoke_token", "delete_user"}

    assert kinds == set(KINDS)
