"""Incremental sync of user_logs: what is emitted, what it costs, and what state is kept."""

from __future__ import annotations

import datetime
import logging
from collections import Counter

import pytest

from tap_auth0_userlogs.events.dates import parse_date
from tests.emulator import TenantSpec
from tests.tap_support import bookmarks, run_sync, tap_config

UTC = datetime.timezone.utc


def test_first_run_emits_every_retained_event_exactly_once(emulator):
    result = run_sync(tap_config(emulator))

    log_ids = result.log_ids()
    assert len(log_ids) == len(set(log_ids))
    assert set(log_ids) == emulator.tenant.expected_log_ids()


def test_state_holds_one_bookmark_per_user_at_their_newest_event(emulator):
    result = run_sync(tap_config(emulator))

    state = result.final_state
    marks = bookmarks(state)
    assert set(marks) == set(emulator.tenant.user_ids())
    for user_id, mark in marks.items():
        newest = max(parse_date(e["date"]) for e in emulator.tenant.events_for(user_id))
        assert parse_date(mark) == newest
    partition = state["bookmarks"]["user_logs"]["partitions"][0]
    assert partition["replication_key"] == "date"
    assert "progress_markers" not in partition


def test_unchanged_user_costs_one_request(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=4, events_per_user=250, seed=3))
    first = run_sync(tap_config(emulator))
    emulator.reset_counters()

    second = run_sync(tap_config(emulator), state=first.final_state)

    assert emulator.counters.requests(endpoint="user_logs") == 4
    assert bookmarks(second.final_state) == bookmarks(first.final_state)


def test_new_events_arrive_on_the_next_run(emulator):
    first = run_sync(tap_config(emulator))
    user_id = emulator.tenant.user_ids()[0]
    added = [emulator.tenant.add_event(user_id, type="s") for _ in range(3)]

    second = run_sync(tap_config(emulator), state=first.final_state)

    new_ids = {e["log_id"] for e in added}
    assert new_ids <= set(second.log_ids())
    assert not new_ids & set(first.log_ids())


def test_lookback_delivers_a_late_indexed_event_without_duplicates(emulator):
    first = run_sync(tap_config(emulator, lookback_minutes=30))
    user_id = emulator.tenant.user_ids()[1]
    mark = parse_date(bookmarks(first.final_state)[user_id])
    late = emulator.tenant.add_event(user_id, date=mark - datetime.timedelta(minutes=5), type="f")
    emulator.reset_counters()

    second = run_sync(tap_config(emulator, lookback_minutes=30), state=first.final_state)

    assert late["log_id"] in second.log_ids()
    assert len(second.log_ids()) == len(set(second.log_ids()))
    # The look-back is served by the page the quiet users needed anyway.
    assert emulator.counters.requests(endpoint="user_logs") == len(emulator.tenant.user_ids())


def test_event_older_than_the_lookback_is_not_fetched_again(emulator):
    first = run_sync(tap_config(emulator, lookback_minutes=0))
    second = run_sync(tap_config(emulator, lookback_minutes=0), state=first.final_state)

    # Only each user's newest event (at the bookmark itself) is read again.
    assert Counter(r["user_id"] for r in second.records()) == Counter(
        {u: 1 for u in emulator.tenant.user_ids()}
    )


def test_start_date_excludes_older_events(emulator):
    dates = sorted(parse_date(e["date"]) for e in emulator.tenant.all_events())
    start = dates[len(dates) // 2]

    result = run_sync(tap_config(emulator, start_date=start.isoformat()))

    assert result.records()
    assert all(parse_date(r["date"]) >= start for r in result.records())
    assert set(result.log_ids()) == emulator.tenant.expected_log_ids(since=start)


def test_event_types_keeps_only_the_listed_codes(emulator):
    result = run_sync(tap_config(emulator, event_types=["s", "f"]))

    expected = {
        e["log_id"]
        for u in emulator.tenant.user_ids()
        for e in emulator.tenant.events_for(u)
        if e["type"] in {"s", "f"}
    }
    assert expected
    assert set(result.log_ids()) == expected


def test_paging_stops_at_the_bookmark(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=880, seed=5))
    first = run_sync(tap_config(emulator, page_size=50))
    assert emulator.counters.requests(endpoint="user_logs") == 18  # 17 full pages and a short one
    user_id = emulator.tenant.user_ids()[0]
    for _ in range(60):
        emulator.tenant.add_event(user_id)
    emulator.reset_counters()

    run_sync(tap_config(emulator, page_size=50, lookback_minutes=0), state=first.final_state)

    # 60 new events and the one at the bookmark: two pages of 50, never the full history.
    assert emulator.counters.requests(endpoint="user_logs") == 2


def test_never_asks_past_the_cap(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=2, events_per_user=10, heavy_users={0: 1300}))

    run_sync(tap_config(emulator))

    assert emulator.counters.requests(endpoint="user_logs", status=400) == 0
    assert emulator.counters.requests(endpoint="logs", status=400) == 0
    assert emulator.counters.requests(endpoint="user_logs") == 10 + 1


@pytest.mark.parametrize(
    "user_id",
    [
        "samlp|acme-corp|jane.doe@acme.com",
        "waad|AbC/dE+fG==",
        "auth0|with space",
        "email|üñíçødé-用户",
        "oauth2|a/../b",
        "sms|+15551234567",
    ],
)
def test_odd_user_ids_are_escaped_as_one_path_segment(emulator, user_id):
    emulator.tenant.add_user(user_id=user_id)
    added = {emulator.tenant.add_event(user_id)["log_id"] for _ in range(3)}

    result = run_sync(tap_config(emulator, user_ids=[user_id]))

    assert set(result.log_ids()) == added
    assert bookmarks(result.final_state).keys() == {user_id}


def test_unknown_fields_and_type_codes_reach_the_target(emulator):
    user_id = emulator.tenant.user_ids()[0]
    event = emulator.tenant.add_event(
        user_id, type="zz_brand_new_type", risk_score={"level": "high"}, new_flag=True
    )

    result = run_sync(tap_config(emulator, user_ids=[user_id]))

    record = next(r for r in result.records() if r["log_id"] == event["log_id"])
    assert record["type"] == "zz_brand_new_type"
    assert record["extra_fields"]["risk_score"] == {"level": "high"}
    assert record["extra_fields"]["new_flag"] is True


def test_scope_is_always_emitted_as_a_list(emulator):
    user_id = emulator.tenant.user_ids()[0]
    as_text = emulator.tenant.add_event(user_id, type="seccft", scope="read:logs read:users")
    as_list = emulator.tenant.add_event(user_id, type="seccft", scope=["openid", "profile"])

    result = run_sync(tap_config(emulator, user_ids=[user_id]))

    by_id = {r["log_id"]: r for r in result.records()}
    assert by_id[as_text["log_id"]]["scope"] == ["read:logs", "read:users"]
    assert by_id[as_list["log_id"]]["scope"] == ["openid", "profile"]


def test_state_is_checkpointed_after_each_user(emulator_factory, fast_retries):
    emulator = emulator_factory(TenantSpec(users=3, events_per_user=5, seed=9))
    first, second, third = emulator.tenant.user_ids()
    # A permanent failure on the third user: the first two must already be checkpointed.
    emulator.faults.add("500", endpoint="user_logs", user_id=third, count=None)

    result = run_sync(tap_config(emulator), allow_failure=True)

    assert result.error is not None
    assert "after 6 tries" in str(result.error)
    marks = bookmarks(result.final_state)
    assert marks[first]
    assert marks[second]
    assert not marks.get(third)


def test_sync_ends_with_a_one_line_summary(emulator, caplog):
    caplog.set_level(logging.INFO)

    result = run_sync(tap_config(emulator))

    summaries = [r.getMessage() for r in caplog.records if "Sync finished" in r.getMessage()]
    assert len(summaries) == 1
    users = len(emulator.tenant.user_ids())
    assert f"{users}/{users} users" in summaries[0]
    assert f"{len(result.log_ids())} events" in summaries[0]
    assert f"user_logs={users}" in summaries[0]


def test_integers_of_any_size_pass_through_exactly(emulator):
    user_id = emulator.tenant.user_ids()[0]
    huge = 123456789012345678901234567890
    event = emulator.tenant.add_event(
        user_id, type="s", details={"prompts": [{"name": "login", "identity": huge}]}
    )

    result = run_sync(tap_config(emulator, user_ids=[user_id]))

    record = next(r for r in result.records() if r["log_id"] == event["log_id"])
    assert record["details"]["prompts"][0]["identity"] == huge
