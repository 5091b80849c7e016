"""strategy: tenant_scan serves bookmarked users from one pass over the tenant's log."""

from __future__ import annotations

import datetime
import logging
import math

from tests.emulator import TenantSpec
from tests.tap_support import bookmarks, run_sync, tap_config

UTC = datetime.timezone.utc


def add_new_events(emulator, users: list[str], count: int) -> set[str]:
    added = set()
    for i in range(count):
        added.add(emulator.tenant.add_event(users[i % len(users)])["log_id"])
    return added


def test_tenant_scan_loads_exactly_what_per_user_loads(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=40, events_per_user=(0, 30), seed=41))
    users = emulator.tenant.user_ids()
    per_user_1 = run_sync(tap_config(emulator, strategy="per_user"))
    scan_1 = run_sync(tap_config(emulator, strategy="tenant_scan"))
    add_new_events(emulator, users[::3], 250)
    mark = datetime.datetime.fromisoformat(bookmarks(scan_1.final_state)[users[5]])
    late = emulator.tenant.add_event(users[5], date=mark - datetime.timedelta(minutes=4))

    per_user_2 = run_sync(tap_config(emulator, strategy="per_user"), state=per_user_1.final_state)
    scan_2 = run_sync(tap_config(emulator, strategy="tenant_scan"), state=scan_1.final_state)

    per_user_target = set(per_user_1.log_ids()) | set(per_user_2.log_ids())
    scan_target = set(scan_1.log_ids()) | set(scan_2.log_ids())
    assert scan_target == per_user_target == emulator.tenant.expected_log_ids()
    assert late["log_id"] in scan_2.log_ids()
    assert len(scan_2.log_ids()) == len(set(scan_2.log_ids()))
    assert bookmarks(scan_2.final_state) == bookmarks(per_user_2.final_state)


def test_bookmarked_users_cost_no_request_of_their_own(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=300, events_per_user=(0, 3), seed=42))
    users = emulator.tenant.user_ids()
    first = run_sync(tap_config(emulator, strategy="tenant_scan"))
    new = add_new_events(emulator, users, 500)
    emulator.reset_counters()

    second = run_sync(tap_config(emulator, strategy="tenant_scan"), state=first.final_state)

    assert new <= set(second.log_ids())
    assert emulator.counters.requests(endpoint="user_logs") == 0
    # 500 new events (and the few inside the look-back overlap) at 100 a request.
    assert emulator.counters.requests(endpoint="logs") <= 2 * math.ceil(500 / 100)


def test_users_the_pass_does_not_cover_are_read_one_by_one(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=60, events_per_user=2, seed=43))
    first = run_sync(tap_config(emulator, user_ids=None, strategy="tenant_scan"))
    newcomer = emulator.tenant.add_user()["user_id"]
    joined = {emulator.tenant.add_event(newcomer)["log_id"] for _ in range(3)}
    emulator.reset_counters()

    second = run_sync(
        tap_config(emulator, user_ids=None, strategy="tenant_scan"), state=first.final_state
    )

    assert joined <= set(second.log_ids())
    assert emulator.counters.requests(endpoint="user_logs") == 1
    user_log_paths = {r.user_id for r in emulator.request_log if r.endpoint == "user_logs"}
    assert user_log_paths == {newcomer}


def test_refused_checkpoint_falls_back_to_reading_every_user(emulator_factory, caplog):
    emulator = emulator_factory(TenantSpec(users=55, events_per_user=3, seed=44))
    first = run_sync(tap_config(emulator, strategy="tenant_scan"))
    state = first.final_state
    ancient = "900" + "20200101000000" + "0" * 39
    state["bookmarks"]["user_logs"]["log_checkpoint"] = ancient
    for partition in state["bookmarks"]["user_logs"]["partitions"]:
        partition["log_checkpoint"] = ancient
    new = add_new_events(emulator, emulator.tenant.user_ids(), 20)
    emulator.reset_counters()
    caplog.set_level(logging.WARNING)

    second = run_sync(tap_config(emulator, strategy="tenant_scan"), state=state)

    assert new <= set(second.log_ids())
    assert emulator.counters.requests(endpoint="user_logs") == 55
    assert any("refused the log checkpoint" in r.getMessage() for r in caplog.records)
    assert second.final_state["bookmarks"]["user_logs"]["log_checkpoint"] != ancient


def test_auto_never_scans_a_handful_of_users(emulator):
    first = run_sync(tap_config(emulator))
    run_sync(tap_config(emulator), state=first.final_state)

    assert emulator.counters.requests(endpoint="logs") == 0
