"""A Meltano state written by a released version resumes in this one (issue 12).

The fixtures are the last STATE message of released code, run once against the emulator's
TENANT below (the current emulator, fixed `--now`, so this module rebuilds the same tenant),
from the repository's root ($PWD), each run on its own from no state:

    git worktree add /tmp/wt-010 9f6671b   # 0.1.0: the last commit dated 2026-11-26
    git worktree add /tmp/wt-de9 de9acd3
    git worktree add /tmp/wt-9e3 9e3c89b   # the last pass read by one reader
    .venv/bin/python -m tests.emulator --port 0 --users 12 --events-per-user 100 --seed 1012 \
        --now 2026-11-28T12:00:00Z --retention-days 36500 --write-env emulator.env &
    # cfg.json: domain, api_url, access_token from emulator.env, plus the settings below
    (cd /tmp/wt-010 && PYTHONPATH=/tmp/wt-010 $PWD/.venv/bin/python \
        -m tap_auth0_userlogs.tap --config cfg.json > out)   # /tmp/wt-de9 for de9acd3
    # fixture = the "value" of the last STATE line of out; then `git worktree remove` both

    state-0.1.0.json              0.1.0, strategy per_user, user_ids: every user (0.1.0's
                                  `auto` writes the same state under 50 users)
    state-0.1.0-tenant-scan.json  0.1.0, strategy tenant_scan, user_ids: every user
                                  (log_checkpoint on the stream and on each user)
    state-de9acd3.json            de9acd3, strategy auto, no user_ids: a pass over every user
                                  (log_checkpoint and log_checkpoint_every_user)
    state-de9acd3-per-user.json   de9acd3, strategy per_user, user_ids: every user
    state-9e3c89b-pass.json       9e3c89b, strategy auto, no user_ids: a pass over every user
    state-9e3c89b-pass-listed.json  9e3c89b, strategy tenant_scan, user_ids: every user
    state-9e3c89b-pass-killed.json  9e3c89b, strategy auto, no user_ids: the fourth STATE
                                  line of that pass (a run killed after it), not the last
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from tests.emulator import TenantSpec
from tests.tap_support import advertised_settings, bookmarks, run_sync, tap_config

UTC = datetime.timezone.utc
FIXTURES = Path(__file__).parent / "fixtures"
TENANT = TenantSpec(
    users=12, events_per_user=100, seed=1012, now=datetime.datetime(2026, 11, 28, 12, tzinfo=UTC)
)
# Past any date this test runs on: the tenant's history must not expire.
RETENTION_DAYS = 36500
# lookback_minutes' default, in every release.
LOOKBACK = datetime.timedelta(minutes=15)
# A pass from the start of this tenant's log reads its 1,200 events, 100 a page.
FIRST_PASS_PAGES = 12
# Every setting 0.1.0 advertised (`--about` at 9f6671b): a Meltano project may set any of them,
# and this tap refuses a setting it does not know.
SETTINGS_OF_0_1_0 = {
    "access_token", "api_url", "audience", "batch_config", "client_id", "client_secret",
    "domain", "event_types", "faker_config", "flattening_enabled", "flattening_max_depth",
    "flattening_max_key_length", "flattening_separator", "lookback_minutes", "max_concurrency",
    "max_requests_per_second", "page_size", "request_timeout", "start_date", "strategy",
    "stream_map_config", "stream_maps", "user_discovery", "user_ids", "user_query",
}  # fmt: skip

# The keys the released versions wrote and read, at the stream level and on each user.
STREAM_KEYS = {"partitions", "log_checkpoint", "log_checkpoint_every_user"}
PARTITION_KEYS = {"context", "replication_key", "replication_key_value", "log_checkpoint"}

# Every state the releases wrote, and those that hold a position in the tenant's log.
RELEASED_STATES = [
    pytest.param("state-0.1.0.json", id="0.1.0-per-user"),
    pytest.param("state-0.1.0-tenant-scan.json", id="0.1.0-tenant-scan"),
    pytest.param("state-de9acd3.json", id="de9acd3-pass"),
    pytest.param("state-de9acd3-per-user.json", id="de9acd3-per-user"),
    pytest.param("state-9e3c89b-pass.json", id="9e3c89b-pass"),
    pytest.param("state-9e3c89b-pass-listed.json", id="9e3c89b-pass-listed"),
]
STATES_WITH_A_POSITION = [
    pytest.param("state-0.1.0-tenant-scan.json", False, id="0.1.0-tenant-scan"),
    pytest.param("state-de9acd3.json", True, id="de9acd3-pass"),
    pytest.param("state-de9acd3-per-user.json", False, id="de9acd3-per-user"),
    pytest.param("state-9e3c89b-pass.json", True, id="9e3c89b-pass"),
    pytest.param("state-9e3c89b-pass-listed.json", False, id="9e3c89b-pass-listed"),
]


@pytest.fixture
def released_tenant(emulator_factory):
    """The tenant the fixtures were written against, served by a fresh emulator."""
    return emulator_factory(TENANT, retention_days=RETENTION_DAYS)


def released_state(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def parse(date: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(date.replace("Z", "+00:00"))


def add_events_after_the_release(emulator, marks: dict[str, str]) -> dict[str, dict]:
    """New events, log_id -> event: four users log in now, two get events indexed late.

    Auth0's search index may show an event minutes after newer ones: one late event is dated
    within the look-back before its user's bookmark, the other just beyond it.
    """
    users = emulator.tenant.user_ids()
    events = [emulator.tenant.add_event(user) for user in users[::3]]
    for user, age in ((users[1], LOOKBACK / 3), (users[2], LOOKBACK * 4 / 3)):
        events.append(emulator.tenant.add_event(user, date=parse(marks[user]) - age))
    return {event["log_id"]: event for event in events}


def within_lookback(events: dict[str, dict], marks: dict[str, str]) -> set[str]:
    """The log_ids dated at or after their user's bookmark less the look-back."""
    return {
        log_id
        for log_id, event in events.items()
        if parse(event["date"]) >= parse(marks[event["user_id"]]) - LOOKBACK
    }


def bookmarks_after(marks: dict[str, str], new: dict[str, dict]) -> dict[str, str]:
    """Each user's bookmark once the new events are out: later dates only, never earlier."""
    expected = dict(marks)
    for event in new.values():
        user = event["user_id"]
        if parse(event["date"]) > parse(expected[user]):
            expected[user] = event["date"]
    return expected


def assert_in_the_released_shape(state: dict, *, every_user: bool) -> None:
    """The keys the released versions read: a later release's state must stay readable too."""
    user_logs = state["bookmarks"]["user_logs"]
    assert {"partitions", "log_checkpoint"} <= set(user_logs) <= STREAM_KEYS
    assert user_logs.get("log_checkpoint_every_user", False) is every_user
    for partition in user_logs["partitions"]:
        assert {"context", "replication_key", "replication_key_value"} <= set(partition)
        assert set(partition) <= PARTITION_KEYS
        assert partition["replication_key"] == "date"
        assert set(partition["context"]) == {"user_id"}


def test_every_setting_of_0_1_0_is_still_accepted():
    settings = advertised_settings()

    assert set(settings) >= SETTINGS_OF_0_1_0
    assert {"auto", "per_user", "tenant_scan"} <= set(settings["strategy"]["enum"])
    assert {"auto", "search", "export"} <= set(settings["user_discovery"]["enum"])


@pytest.mark.parametrize("fixture", RELEASED_STATES)
def test_the_fixtures_were_written_against_this_tenant(released_tenant, fixture):
    tenant = released_tenant.tenant
    state = released_state(fixture)

    newest = {user: tenant.events_for(user)[0]["date"] for user in tenant.user_ids()}
    assert bookmarks(state) == newest
    position = state["bookmarks"]["user_logs"].get("log_checkpoint")
    if position is not None:  # after every event the release read
        assert position >= tenant.all_events()[-1]["log_id"]


@pytest.mark.parametrize("fixture", RELEASED_STATES)
def test_a_per_user_run_reads_from_each_released_bookmark(released_tenant, fixture):
    tenant = released_tenant.tenant
    state = released_state(fixture)
    marks = bookmarks(state)
    new = add_events_after_the_release(released_tenant, marks)

    result = run_sync(tap_config(released_tenant, strategy="per_user"), state=state)

    # Back to each bookmark less the look-back, and not one event older.
    every_event = {e["log_id"]: e for user in marks for e in tenant.events_for(user)}
    assert sorted(result.log_ids()) == sorted(within_lookback(every_event, marks))
    assert len(new) - len(within_lookback(new, marks)) == 1  # the one beyond the look-back
    # One page a user: a user read from the start would take two (100 events, then none).
    assert released_tenant.counters.requests(endpoint="user_logs") == len(marks)
    assert released_tenant.counters.requests(endpoint="logs") == 0
    assert bookmarks(result.final_state) == bookmarks_after(marks, new)
    assert_in_the_released_shape(result.final_state, every_user=False)
    old_position = state["bookmarks"]["user_logs"].get("log_checkpoint", "")
    assert result.final_state["bookmarks"]["user_logs"]["log_checkpoint"] > old_position


@pytest.mark.parametrize("strategy", ["auto", "tenant_scan"])
@pytest.mark.parametrize(("fixture", "every_user"), STATES_WITH_A_POSITION)
def test_a_pass_resumes_from_the_released_log_checkpoint(
    released_tenant, fixture, every_user, strategy
):
    state = released_state(fixture)
    marks = bookmarks(state)
    new = add_events_after_the_release(released_tenant, marks)
    user_ids = None if every_user else released_tenant.tenant.user_ids()

    config = tap_config(released_tenant, strategy=strategy, user_ids=user_ids)
    result = run_sync(config, state=state)

    # Every event after the stored log_checkpoint is a new one: a pass that ignored it would
    # read the tenant's whole log again.
    assert sorted(result.log_ids()) == sorted(new)
    assert released_tenant.counters.requests(endpoint="logs") <= 4 < FIRST_PASS_PAGES
    assert released_tenant.counters.requests(endpoint="user_logs") == 0
    assert bookmarks(result.final_state) == bookmarks_after(marks, new)
    assert_in_the_released_shape(result.final_state, every_user=every_user)
    position = result.final_state["bookmarks"]["user_logs"]["log_checkpoint"]
    assert position == max(new)
    assert position > state["bookmarks"]["user_logs"]["log_checkpoint"]


def test_the_default_strategy_loses_nothing_after_0_1_0(released_tenant):
    # 0.1.0 under 50 users stored no position: `auto` may read users or the whole log once.
    state = released_state("state-0.1.0.json")
    marks = bookmarks(state)
    new = add_events_after_the_release(released_tenant, marks)

    result = run_sync(tap_config(released_tenant), state=state)

    assert within_lookback(new, marks) <= set(result.log_ids())
    assert bookmarks(result.final_state) == bookmarks_after(marks, new)
    assert_in_the_released_shape(result.final_state, every_user=False)


def test_a_pass_after_0_1_0_starts_at_the_oldest_bookmark_not_the_oldest_event(released_tenant):
    # 0.1.0 read user by user and stored no position: a pass reads from where those reads
    # would, the oldest bookmark less the look-back, and not the whole retained log again.
    state = released_state("state-0.1.0.json")
    marks = bookmarks(state)
    new = add_events_after_the_release(released_tenant, marks)
    since = min(parse(mark) for mark in marks.values()) - LOOKBACK

    result = run_sync(tap_config(released_tenant, strategy="tenant_scan"), state=state)

    assert within_lookback(new, marks) <= set(result.log_ids())
    assert all(parse(record["date"]) >= since for record in result.records())
    retained_since = [
        e
        for user in marks
        for e in released_tenant.tenant.events_for(user)
        if parse(e["date"]) >= since
    ]
    # The pages since then, the closing empty page, and the look at the newest events.
    assert released_tenant.counters.requests(endpoint="logs") <= len(retained_since) // 100 + 3
    assert len(retained_since) // 100 + 3 < FIRST_PASS_PAGES
    assert bookmarks(result.final_state) == bookmarks_after(marks, new)


@pytest.mark.parametrize("strategy", ["auto", "tenant_scan"])
def test_a_pass_killed_midway_by_the_last_release_resumes_where_it_stopped(
    released_tenant, strategy
):
    state = released_state("state-9e3c89b-pass-killed.json")
    position = state["bookmarks"]["user_logs"]["log_checkpoint"]
    events = released_tenant.tenant.all_events()
    rest = {e["log_id"] for e in events if e["log_id"] > position}
    assert 0 < len(rest) < len(events)  # the fixture stopped midway

    config = tap_config(released_tenant, strategy=strategy, user_ids=None)
    result = run_sync(config, state=state)

    delivered = result.log_ids()
    assert len(delivered) == len(set(delivered))
    if strategy == "tenant_scan":  # from the position on, and not one event before it
        assert sorted(delivered) == sorted(rest)
    else:  # `auto` may read these twelve users one by one, from their bookmarks
        assert rest <= set(delivered)
    assert_in_the_released_shape(result.final_state, every_user=True)
    assert bookmarks(result.final_state) == {
        user: released_tenant.tenant.events_for(user)[0]["date"]
        for user in released_tenant.tenant.user_ids()
    }
