"""Every event of every user: discovery, past the 1,000 cap, late events, retention, deletions."""

from __future__ import annotations

import datetime
import logging

import pytest

from tap_auth0_userlogs.auth0.errors import TapUserError
from tests.emulator import TenantSpec
from tests.tap_support import bookmarks, run_sync, tap_config

UTC = datetime.timezone.utc


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# Past the per-user cap.


def test_user_with_5000_events_arrives_complete_with_near_minimum_requests(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=0, heavy_users={0: 5000}))

    result = run_sync(tap_config(emulator))

    log_ids = result.log_ids()
    assert len(log_ids) == 5000
    assert set(log_ids) == emulator.tenant.expected_log_ids()
    user_logs = emulator.counters.requests(endpoint="user_logs")
    search = emulator.counters.requests(endpoint="logs")
    assert user_logs == 10
    # 50 requests is the minimum for 5,000 events at 100 a page; one more ends the last window.
    assert 50 <= user_logs + search <= 51
    assert emulator.counters.requests(status=400) == 0


def test_incremental_run_past_the_cap_reads_only_the_new_events(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=50, seed=3))
    first = run_sync(tap_config(emulator))
    user_id = emulator.tenant.user_ids()[0]
    added = emulator.tenant.add_events(
        user_id, 2500, start=datetime.datetime.now(UTC) - datetime.timedelta(minutes=5)
    )
    emulator.reset_counters()

    second = run_sync(tap_config(emulator, lookback_minutes=0), state=first.final_state)

    assert {e["log_id"] for e in added} <= set(second.log_ids())
    assert len(second.log_ids()) == len(set(second.log_ids()))
    assert emulator.counters.requests() <= 27  # 2,501 events: 26 pages at the minimum


def test_search_past_the_cap_needs_read_logs(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=0, heavy_users={0: 1200}))
    token = emulator.issue_token(scopes=["read:logs_users"])

    with pytest.raises(TapUserError, match="read:logs"):
        run_sync(tap_config(emulator, access_token=token))


# Late events, retention, deletions.


def test_late_event_is_delivered_next_sync_at_no_extra_request(emulator):
    first = run_sync(tap_config(emulator))
    user_id = emulator.tenant.user_ids()[0]
    mark = datetime.datetime.fromisoformat(bookmarks(first.final_state)[user_id])
    late = emulator.tenant.add_event(user_id, date=mark - datetime.timedelta(minutes=3))
    emulator.reset_counters()

    second = run_sync(tap_config(emulator), state=first.final_state)

    assert late["log_id"] in second.log_ids()
    assert late["log_id"] not in first.log_ids()
    assert emulator.counters.requests() == len(emulator.tenant.user_ids())


def test_bookmark_older_than_retention_is_warned_with_user_and_dates(emulator_factory, caplog):
    emulator = emulator_factory(
        TenantSpec(users=2, events_per_user=10, seed=17, history_days=5), retention_days=10
    )
    stale, fresh = emulator.tenant.user_ids()
    old = (datetime.datetime.now(UTC) - datetime.timedelta(days=25)).isoformat()
    state = {
        "bookmarks": {
            "user_logs": {
                "partitions": [
                    {
                        "context": {"user_id": stale},
                        "replication_key": "date",
                        "replication_key_value": old,
                    }
                ]
            }
        }
    }
    caplog.set_level(logging.WARNING)

    result = run_sync(tap_config(emulator), state=state)

    gaps = [w for w in warnings_in(caplog) if "may be missing" in w]
    assert len(gaps) == 1
    assert stale in gaps[0]
    assert old[:10] in gaps[0]
    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert fresh not in " ".join(gaps)


def test_user_deleted_mid_run_is_skipped_with_a_warning(emulator_factory, caplog):
    emulator = emulator_factory(TenantSpec(users=4, events_per_user=5, seed=18))
    first = run_sync(tap_config(emulator))
    victim = emulator.tenant.user_ids()[2]
    for user_id in emulator.tenant.user_ids():
        emulator.tenant.add_event(user_id)
    emulator.faults.add("delete_user", endpoint="user_logs", user_id=victim)
    caplog.set_level(logging.INFO)

    second = run_sync(tap_config(emulator), state=first.final_state)

    deleted = [w for w in warnings_in(caplog) if "deleted" in w]
    assert len(deleted) == 1
    assert victim in deleted[0]
    survivors = emulator.tenant.user_ids()
    assert victim not in survivors
    assert {r["user_id"] for r in second.records()} == set(survivors)
    assert bookmarks(second.final_state)[victim] == bookmarks(first.final_state)[victim]
    summary = [r.getMessage() for r in caplog.records if "Sync finished" in r.getMessage()]
    assert "1 deleted users skipped" in summary[-1]


# All of it at once.


def test_mixed_tenant_delivers_every_retained_event_exactly_once(emulator_factory, caplog):
    emulator = emulator_factory(
        TenantSpec(
            users=1500, events_per_user=(0, 3), heavy_users={7: 3000}, seed=19, history_days=8
        ),
        retention_days=10,
    )
    caplog.set_level(logging.WARNING)
    # Per user, so the hand-aged bookmark below is read from (a scan would not look back).
    config = tap_config(emulator, user_ids=None, strategy="per_user")
    first = run_sync(config)
    users = emulator.tenant.user_ids()
    # Between runs: new and late events, a deleted user, an expired bookmark.
    for user_id in users[:50]:
        emulator.tenant.add_event(user_id)
    mark = datetime.datetime.fromisoformat(bookmarks(first.final_state)[users[7]])
    emulator.tenant.add_event(users[7], date=mark - datetime.timedelta(minutes=2))
    emulator.tenant.delete_user(users[3])
    state = first.final_state
    expired = next(
        p
        for p in state["bookmarks"]["user_logs"]["partitions"]
        if p["context"]["user_id"] == users[9]
    )
    expired["replication_key_value"] = (
        datetime.datetime.now(UTC) - datetime.timedelta(days=30)
    ).isoformat()

    second = run_sync(config, state=state)

    # Each run emits an event once; together they hold every retained event of every user.
    for result in (first, second):
        assert len(result.log_ids()) == len(set(result.log_ids()))
    delivered = set(first.log_ids()) | set(second.log_ids())
    assert emulator.tenant.expected_log_ids() <= delivered
    assert any(users[9] in w and "may be missing" in w for w in warnings_in(caplog))
