"""Right under each reading of what Auth0 leaves undocumented (auth0-api.md, section 8)."""

from __future__ import annotations

import datetime
import logging

import pytest

from tests.emulator import TenantSpec
from tests.tap_support import bookmarks, run_sync, tap_config


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("reading", ["empty", "404"])
def test_a_deleted_users_log_skips_the_user_with_a_warning_under_either_answer(
    emulator_factory, caplog, reading
):
    emulator = emulator_factory(TenantSpec(users=3, events_per_user=5, seed=61))
    emulator.deleted_user_logs = reading
    first = run_sync(tap_config(emulator))
    gone, kept = emulator.tenant.user_ids()[:2]
    emulator.tenant.delete_user(gone)
    new = emulator.tenant.add_event(kept)["log_id"]
    caplog.set_level(logging.WARNING)

    second = run_sync(tap_config(emulator, user_ids=[gone, kept]), state=first.final_state)

    assert new in second.log_ids()
    assert bookmarks(second.final_state)[gone] == bookmarks(first.final_state)[gone]
    assert [w for w in warnings_in(caplog) if gone in w and "no longer exists" in w]
    assert emulator.counters.requests(status=404) == (2 if reading == "404" else 1)


def test_a_configured_user_whose_log_answers_404_is_a_warning_not_a_failure(
    emulator_factory, caplog
):
    emulator = emulator_factory(TenantSpec(users=2, events_per_user=4, seed=62))
    emulator.deleted_user_logs = "404"
    stranger = "auth0|000000000000000000000000"
    caplog.set_level(logging.WARNING)

    result = run_sync(tap_config(emulator, user_ids=[stranger, *emulator.tenant.user_ids()]))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert [w for w in warnings_in(caplog) if stranger in w and "no longer exists" in w]


def test_log_search_dates_are_whole_seconds_and_lose_no_event(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=0, heavy_users={0: 2300}))

    result = run_sync(tap_config(emulator))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    queries = [r.query["q"] for r in emulator.request_log if r.endpoint == "logs"]
    assert queries
    # date:[* TO 2026-11-20T10:11:12] only: no milliseconds, no zone.
    assert all("." not in q.split("date:", 1)[1] for q in queries)


def test_a_checkpoint_pass_ends_on_an_empty_page(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=60, events_per_user=(0, 3), seed=63))
    users = emulator.tenant.user_ids()
    first = run_sync(tap_config(emulator, strategy="tenant_scan"))
    new = {emulator.tenant.add_event(users[i % 60])["log_id"] for i in range(150)}
    emulator.reset_counters()

    second = run_sync(tap_config(emulator, strategy="tenant_scan"), state=first.final_state)

    assert new <= set(second.log_ids())
    passes = [r for r in emulator.request_log if r.endpoint == "logs" and "from" in r.query]
    assert passes[-1].bytes == len(b"[]")
    assert all(r.bytes > len(b"[]") for r in passes[:-1])


@pytest.mark.parametrize(
    ("reading", "warning"),
    [("400", "refused to read its log"), ("oldest", "retention has passed")],
)
def test_a_checkpoint_older_than_retention_is_warned_under_either_answer(
    emulator_factory, caplog, reading, warning
):
    emulator = emulator_factory(TenantSpec(users=55, events_per_user=3, seed=44))
    emulator.expired_checkpoint = reading
    first = run_sync(tap_config(emulator, strategy="tenant_scan"))
    state = first.final_state
    ancient = "900" + "20200101000000" + "0" * 39
    state["bookmarks"]["user_logs"]["log_checkpoint"] = ancient
    for partition in state["bookmarks"]["user_logs"]["partitions"]:
        partition["log_checkpoint"] = ancient
    users = emulator.tenant.user_ids()
    new = {emulator.tenant.add_event(users[i % 55])["log_id"] for i in range(20)}
    caplog.set_level(logging.WARNING)

    second = run_sync(tap_config(emulator, strategy="tenant_scan"), state=state)

    assert new <= set(second.log_ids())
    assert [w for w in warnings_in(caplog) if warning in w]
    assert second.final_state["bookmarks"]["user_logs"]["log_checkpoint"] != ancient


def test_a_start_date_before_the_first_event_is_no_retention_warning(emulator_factory, caplog):
    # The tenant's events span the last days; start_date is long before, well within a
    # retention of 30 days: the gap is no loss, and the tap must not call it one.
    emulator = emulator_factory(TenantSpec(users=15, events_per_user=4, seed=45))
    oldest = min(e["date"] for e in emulator.tenant.all_events())
    start = datetime.datetime.fromisoformat(oldest.replace("Z", "+00:00")) - datetime.timedelta(
        days=2
    )
    caplog.set_level(logging.WARNING)

    result = run_sync(tap_config(emulator, strategy="tenant_scan", start_date=start.isoformat()))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    assert not [w for w in warnings_in(caplog) if "retention" in w]


@pytest.mark.parametrize("retry_after", [False, True], ids=["no-retry-after", "retry-after"])
@pytest.mark.parametrize("reset", ["next_token", "bucket_full"])
def test_a_free_bucket_delivers_everything_under_either_reset_reading(
    emulator_factory, reset, retry_after
):
    emulator = emulator_factory(
        TenantSpec(users=12, events_per_user=(0, 5), seed=64),
        plan="free",
        ratelimit_reset=reset,
        retry_after=retry_after,
    )

    result = run_sync(tap_config(emulator, strategy="per_user"))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    assert emulator.counters.requests(endpoint="user_logs", status=200) == 12
    assert emulator.counters.rate_limited <= 1
