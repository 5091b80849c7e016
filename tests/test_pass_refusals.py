"""Auth0 refusing to read its log in checkpoint mode, anywhere in a pass: one WARNING, exit 0,
every event, and never a traceback.

Each case runs the tap as a real process (exit code and stderr are what a user sees), over a
busy tenant read by several slices, with the users listed and for every user:

- a 400 to every checkpoint read from the pass's start (and only there);
- a 400 to every checkpoint read: listed users are read one by one, a pass over every user
  searches the log and leaves a position from which the next run tries checkpoint mode again;
- one 400 in the middle of a slice, and 400s over a stretch of the log;
- a 403 on /api/v2/logs: a token with `read:logs_users` (and `read:users`, to list every user).
"""

from __future__ import annotations

import datetime

import pytest

from tap_auth0_userlogs.events.dates import parse_date
from tap_auth0_userlogs.events.log_ids import log_id_at, log_id_time
from tests.pool_support import (
    NewestDates,
    backlog_tenant,
    bookmarks_past_the_position,
    checkpoint_reads,
    log_checkpoint,
    order,
    search_reads,
    slice_starts,
    states_of,
)
from tests.reliability_support import KeyedTarget, run_tap_process
from tests.tap_support import tap_config

pytest_plugins = ["tests.reliability_support"]

UTC = datetime.timezone.utc
# Three hours of a busy tenant's log: several slices at 50 requests a second and 50 ms.
TENANT = backlog_tenant(3000, hours=3, seed=186, users=30)
LOOKBACK = datetime.timedelta(minutes=15)  # lookback_minutes' default
# The first slice's third read starts after its second page (events 100-199): from event 199.
MIDWAY = 199


# ------------------------------------------------------------------ the refusals


def refuse_the_start(emulator) -> None:
    """400 to checkpoint reads from any position before the oldest event: a pass's start."""
    oldest = min(parse_date(e["date"]) for e in emulator.tenant.all_events())
    emulator.refuse_checkpoints_from = (log_id_at(datetime.datetime(2000, 1, 1, tzinfo=UTC)),
                                        log_id_at(oldest))  # fmt: skip


def refuse_every_read(emulator) -> None:
    emulator.refuse_checkpoints = True


def refuse_the_first_slice_midway(emulator) -> None:
    """400 to the first slice's third page: the read from the 200th event's log_id.

    The first slice holds the first quarter of the log at least (a pass is cut in halves,
    then quarters), so this read is its, after two pages read in checkpoint mode.
    """
    log_ids = [e["log_id"] for e in emulator.tenant.all_events()]
    emulator.refuse_checkpoints_from = (log_ids[MIDWAY - 20], log_ids[MIDWAY + 20])


def refuse_a_stretch(emulator) -> None:
    """400 to checkpoint reads from any log_id in the second quarter of the log."""
    log_ids = [e["log_id"] for e in emulator.tenant.all_events()]
    quarter = len(log_ids) // 4
    emulator.refuse_checkpoints_from = (log_ids[quarter], log_ids[2 * quarter])


REFUSALS = {
    "400 at the start": refuse_the_start,
    "400 on every checkpoint read": refuse_every_read,
    "400 in the middle of a slice": refuse_the_first_slice_midway,
    "400 over a stretch of the log": refuse_a_stretch,
}


def config_for(emulator, who: str, **settings) -> dict:
    users = emulator.tenant.user_ids() if who == "listed users" else None
    return tap_config(emulator, user_ids=users, strategy="tenant_scan", **settings)


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| WARNING" in line]


def assert_one_warning_and_a_clean_exit(run) -> None:
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 0, run.stderr[-3000:]
    warnings = warnings_of(run.stderr)
    assert len(warnings) == 1, warnings
    assert "refuse" in warnings[0]


def assert_every_event_once(run, expected: set[str]) -> None:
    delivered = run.log_ids()
    assert len(delivered) == len(set(delivered)), "an event was sent twice in one run"
    assert set(delivered) == expected, (
        f"{len(expected - set(delivered))} missing, {len(set(delivered) - expected)} not expected"
    )


def refused(emulator) -> list:
    return [r for r in checkpoint_reads(emulator) if r.status == 400]


@pytest.mark.parametrize("who", ["listed users", "every user"])
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_refused_checkpoint_read_costs_one_warning_and_no_event(
    refusal, who, emulator_factory, tmp_path, transcript
):
    emulator = transcript.watch(emulator_factory(TENANT, rate_limit=50, burst=50, latency_ms=50))
    REFUSALS[refusal](emulator)
    log_ids = [e["log_id"] for e in emulator.tenant.all_events()]

    run = run_tap_process(tmp_path, config_for(emulator, who))
    run.record_into(transcript)

    assert_one_warning_and_a_clean_exit(run)
    assert_every_event_once(run, emulator.tenant.expected_log_ids())
    assert refused(emulator), "the refusal never happened"
    if refusal == "400 in the middle of a slice":
        # Refused after an event's log_id: in the middle of a slice, not at its start.
        assert [r.query["from"] for r in refused(emulator)] == [log_ids[MIDWAY]]
    if refusal == "400 on every checkpoint read" and who == "listed users":
        # Refused at the pass's start and near now: the listed users are read one by one.
        assert emulator.counters.requests(endpoint="user_logs") >= len(emulator.tenant.user_ids())
        assert len(checkpoint_reads(emulator)) <= 2
    if refusal != "400 on every checkpoint read":
        # However a slice was read, its bookmarks wait for the position (a run read user by
        # user after a kill trusts them). Refused everywhere, the position stands the
        # look-back before the run on purpose, below events read already: not checked here.
        newest = NewestDates(emulator.tenant.all_events())
        assert bookmarks_past_the_position(states_of(run.messages), None, newest) == []


def test_refused_everywhere_every_user_run_leaves_a_position_the_next_run_reads_from(
    emulator_factory, tmp_path, transcript
):
    emulator = transcript.watch(emulator_factory(TENANT, rate_limit=50, burst=50, latency_ms=50))
    emulator.refuse_checkpoints = True
    target = KeyedTarget()
    started = datetime.datetime.now(UTC)

    first = run_tap_process(tmp_path, config_for(emulator, "every user"))
    first.record_into(transcript)
    target.receive(first.messages)

    assert_one_warning_and_a_clean_exit(first)
    assert_every_event_once(first, emulator.tenant.expected_log_ids())
    position = log_checkpoint(target.state)
    # Searched up to now; the position stands the look-back before the run began.
    assert log_id_time(position) >= started.replace(microsecond=0) - LOOKBACK
    assert log_id_time(position) <= datetime.datetime.now(UTC) - LOOKBACK + datetime.timedelta(
        seconds=1
    )

    emulator.refuse_checkpoints = False
    users = emulator.tenant.user_ids()
    new = {emulator.tenant.add_event(users[n % len(users)])["log_id"] for n in range(30)}
    emulator.reset_counters()
    second = run_tap_process(tmp_path, config_for(emulator, "every user"), state=target.state)
    second.record_into(transcript)

    assert "Traceback" not in second.stderr
    assert second.returncode == 0
    assert warnings_of(second.stderr) == []
    # Checkpoint mode again, from the position: what is new, and what the look-back re-reads.
    again = {
        log_id for log_id in emulator.tenant.expected_log_ids() if order(log_id) > order(position)
    }
    assert new <= again
    assert_every_event_once(second, again)
    assert len(checkpoint_reads(emulator)) >= 1
    assert len(search_reads(emulator)) == 1  # the survey's look at the newest events
    assert refused(emulator) == []


@pytest.mark.parametrize("who", ["listed users", "every user"])
def test_a_token_without_read_logs_reads_users_one_by_one(
    who, emulator_factory, tmp_path, transcript
):
    emulator = transcript.watch(emulator_factory(TENANT, rate_limit=50, burst=50, latency_ms=50))
    scopes = ["read:logs_users"] + (["read:users"] if who == "every user" else [])
    users = emulator.tenant.user_ids() if who == "listed users" else None
    config = tap_config(emulator, user_ids=users, access_token=emulator.issue_token(scopes))

    run = run_tap_process(tmp_path, config)
    run.record_into(transcript)

    assert_one_warning_and_a_clean_exit(run)
    assert_every_event_once(run, emulator.tenant.expected_log_ids())
    assert emulator.counters.requests(endpoint="logs", status=403) >= 1
    assert emulator.counters.requests(endpoint="user_logs") >= len(emulator.tenant.user_ids())


def test_a_pass_forced_without_read_logs_fails_in_one_line(emulator_factory, tmp_path, transcript):
    # strategy tenant_scan asks for the tenant's log; the token cannot read it: say so, once.
    emulator = transcript.watch(emulator_factory(TENANT))
    config = config_for(
        emulator, "listed users", access_token=emulator.issue_token(["read:logs_users"])
    )

    run = run_tap_process(tmp_path, config)
    run.record_into(transcript)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert len(errors) == 1
    assert "403" in errors[0]
    assert "read:logs" in errors[0]
    assert run.log_ids() == []


def test_a_run_user_by_user_after_a_kill_while_a_slice_is_searched_skips_nothing(
    emulator_factory, tmp_path, transcript
):
    # The first slice is refused after two pages and searched to its end, newest first, while
    # the other slices read on. Killed right after the first STATE that follows a searched
    # page, then read user by user from that STATE: the bookmarks must skip nothing.
    emulator = transcript.watch(emulator_factory(TENANT, rate_limit=50, burst=50, latency_ms=50))
    refuse_the_first_slice_midway(emulator)
    refused_from = [e["log_id"] for e in emulator.tenant.all_events()][MIDWAY]
    run = run_tap_process(tmp_path, config_for(emulator, "every user"))
    run.record_into(transcript)
    assert_one_warning_and_a_clean_exit(run)
    first_cut = min(
        (s for s in slice_starts(emulator) if order(s) > order(refused_from)), key=order
    )
    messages = run.messages
    searched = next(
        n
        for n, m in enumerate(messages)
        if m["type"] == "RECORD"
        and order(refused_from) < order(m["record"]["log_id"]) <= order(first_cut)
    )
    killed_at = next(n for n in range(searched, len(messages)) if messages[n]["type"] == "STATE")
    target = KeyedTarget()
    target.receive(messages[: killed_at + 1])
    users = sorted(emulator.tenant.user_ids())

    per_user = run_tap_process(
        tmp_path, tap_config(emulator, user_ids=users, strategy="per_user"), state=target.state
    )
    per_user.record_into(transcript)
    target.receive(per_user.messages)

    assert per_user.returncode == 0
    missing = emulator.tenant.expected_log_ids() - set(target.rows)
    assert missing == set(), f"{len(missing)} events skipped by the bookmarks"
