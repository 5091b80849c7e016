"""The tenant's log as the engine: a pass serves every user, first run included."""

from __future__ import annotations

import datetime
import logging
import math

from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.emulator import TenantSpec
from tests.tap_support import bookmarks, run_sync, tap_config

UTC = datetime.timezone.utc


def add_new_events(emulator, users: list[str], count: int) -> set[str]:
    return {emulator.tenant.add_event(users[i % len(users)])["log_id"] for i in range(count)}


def logs_requests(emulator) -> int:
    return emulator.counters.requests(endpoint="logs")


def test_a_pass_loads_exactly_what_per_user_loads(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=40, events_per_user=(0, 30), seed=41))
    users = emulator.tenant.user_ids()
    per_user_1 = run_sync(tap_config(emulator, strategy="per_user"))
    pass_1 = run_sync(tap_config(emulator, strategy="tenant_scan"))
    add_new_events(emulator, users[::3], 250)
    mark = datetime.datetime.fromisoformat(bookmarks(pass_1.final_state)[users[5]])
    late = emulator.tenant.add_event(users[5], date=mark - datetime.timedelta(minutes=4))

    per_user_2 = run_sync(tap_config(emulator, strategy="per_user"), state=per_user_1.final_state)
    pass_2 = run_sync(tap_config(emulator, strategy="tenant_scan"), state=pass_1.final_state)

    per_user_target = set(per_user_1.log_ids()) | set(per_user_2.log_ids())
    pass_target = set(pass_1.log_ids()) | set(pass_2.log_ids())
    assert pass_target == per_user_target == emulator.tenant.expected_log_ids()
    assert late["log_id"] in pass_2.log_ids()
    for run in (pass_1, pass_2):
        assert len(run.log_ids()) == len(set(run.log_ids()))
    # Users with events have the same bookmark either way.
    with_events = {u for u in users if emulator.tenant.expected_log_ids([u])}
    per_user_marks = bookmarks(per_user_2.final_state)
    assert {u: per_user_marks[u] for u in with_events} == bookmarks(pass_2.final_state)


def test_the_first_run_over_every_user_reads_the_log_not_the_users(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=200, events_per_user=50, seed=45))
    events = emulator.tenant.event_count

    result = run_sync(tap_config(emulator, user_ids=None))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    assert emulator.counters.requests(endpoint="user_logs") == 0
    # One look at the user count, no listing of the users.
    assert emulator.counters.requests(endpoint="users") <= 1
    # The pass, its closing empty page, and the look at the newest and oldest events.
    assert emulator.counters.requests() <= 1.2 * math.ceil(events / 100) + 3


def test_the_next_run_costs_the_new_events(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=200, events_per_user=5, seed=46))
    first = run_sync(tap_config(emulator, user_ids=None))
    new = add_new_events(emulator, emulator.tenant.user_ids(), 300)
    emulator.reset_counters()

    second = run_sync(tap_config(emulator, user_ids=None), state=first.final_state)

    assert sorted(second.log_ids()) == sorted(new)
    assert emulator.counters.requests(endpoint="user_logs") == 0
    assert emulator.counters.requests() <= 1.2 * 3 + 3


def test_a_busy_tenant_gets_a_position_on_its_first_run(emulator_factory):
    spec = TenantSpec.busy(users=300, events_per_minute=60, history_hours=2, seed=47)
    emulator = emulator_factory(spec)

    first = run_sync(tap_config(emulator, user_ids=None))
    new = add_new_events(emulator, emulator.tenant.user_ids(), 120)
    emulator.reset_counters()
    second = run_sync(tap_config(emulator, user_ids=None), state=first.final_state)

    assert first.final_state["bookmarks"]["user_logs"]["log_checkpoint"]
    assert sorted(second.log_ids()) == sorted(new)
    assert emulator.counters.requests() <= 6


def test_a_handful_of_configured_users_stays_per_user(emulator):
    first = run_sync(tap_config(emulator))
    run_sync(tap_config(emulator), state=first.final_state)

    assert logs_requests(emulator) == 0
    assert emulator.counters.requests(endpoint="logs_search") == 0


def test_listed_users_the_position_does_not_cover_are_read_up_to_it(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=60, events_per_user=(1, 20), seed=48))
    users = emulator.tenant.user_ids()
    first = run_sync(tap_config(emulator, user_ids=users[:50], strategy="tenant_scan"))
    new = add_new_events(emulator, users, 120)
    emulator.reset_counters()

    second = run_sync(tap_config(emulator, strategy="tenant_scan"), state=first.final_state)

    delivered = set(first.log_ids()) | set(second.log_ids())
    assert delivered == emulator.tenant.expected_log_ids()
    assert len(second.log_ids()) == len(set(second.log_ids()))
    assert new <= set(second.log_ids())
    read_alone = {r.user_id for r in emulator.request_log if r.endpoint == "user_logs"}
    assert read_alone == set(users[50:])


def test_a_run_over_every_user_after_listed_runs_starts_again(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=40, events_per_user=(1, 10), seed=49))
    users = emulator.tenant.user_ids()
    first = run_sync(tap_config(emulator, user_ids=users[:20], strategy="tenant_scan"))

    second = run_sync(
        tap_config(emulator, user_ids=None, strategy="tenant_scan"), state=first.final_state
    )

    # Users outside the first selection were never read: their history is read now.
    assert set(second.log_ids()) >= emulator.tenant.expected_log_ids(users[20:])


def test_events_of_no_user_and_of_unselected_users_are_not_emitted(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=30, events_per_user=4, seed=50))
    users = emulator.tenant.user_ids()
    emulator.tenant.add_event(None)

    result = run_sync(tap_config(emulator, user_ids=users[:15], strategy="tenant_scan"))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids(users[:15]))


def test_a_start_date_older_than_retention_is_read_through_search(emulator_factory, caplog):
    emulator = emulator_factory(
        TenantSpec(users=30, events_per_user=(2, 12), seed=51, history_days=20),
        retention_days=5,
        expired_checkpoint="400",
    )
    caplog.set_level(logging.WARNING)
    start = (datetime.datetime.now(UTC) - datetime.timedelta(days=10)).isoformat()

    result = run_sync(tap_config(emulator, user_ids=None, start_date=start))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids(since=start))
    assert any("refused to read its log" in r.getMessage() for r in caplog.records)
    assert result.final_state["bookmarks"]["user_logs"]["log_checkpoint"]


def test_start_date_bounds_the_first_pass(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=30, events_per_user=(5, 15), seed=52))
    start = (datetime.datetime.now(UTC) - datetime.timedelta(days=3)).isoformat()

    result = run_sync(tap_config(emulator, user_ids=None, start_date=start))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids(since=start))


def test_a_quiet_tenants_first_pass_reads_its_whole_log(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=12, events_per_user=5, seed=53))

    result = run_sync(tap_config(emulator, strategy="tenant_scan"))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())


def test_an_event_filed_below_served_log_ids_needs_the_margin(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=30, events_per_user=4, seed=54))
    users = emulator.tenant.user_ids()
    emulator.tenant.add_event(users[0])  # the log now ends just now: passes stop there
    plain = run_sync(tap_config(emulator, user_ids=None))
    with_margin = run_sync(tap_config(emulator, user_ids=None, log_id_margin_seconds=7200))
    # Filed up to an hour below the end of the log, which both passes have read.
    emulator.late_log_id_seconds = 3600
    late = emulator.tenant.add_event(users[3])["log_id"]

    missed = run_sync(tap_config(emulator, user_ids=None), state=plain.final_state)
    caught = run_sync(
        tap_config(emulator, user_ids=None, log_id_margin_seconds=7200),
        state=with_margin.final_state,
    )

    # The trade: without a margin the late event is lost; with one it is read, and so is
    # every event of the margin's span, again.
    assert late not in missed.log_ids()
    assert late in caught.log_ids()


def test_a_pass_applies_stream_maps_and_field_selection_like_per_user(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=20, events_per_user=(0, 15), seed=48))
    maps = {"stream_maps": {"user_logs": {"__alias__": "auth0_logs", "ip": "__NULL__"}}}
    per_user = run_sync(tap_config(emulator, strategy="per_user", **maps))
    one_pass = run_sync(tap_config(emulator, strategy="tenant_scan", **maps))

    for run in (per_user, one_pass):
        assert run.records("user_logs") == []
        assert all("ip" not in record for record in run.records("auth0_logs"))

    def by_log_id(run):
        return {r["log_id"]: r for r in run.records("auth0_logs")}

    assert by_log_id(one_pass) == by_log_id(per_user)
    assert set(by_log_id(one_pass)) == emulator.tenant.expected_log_ids()


def test_a_pass_writes_only_the_selected_fields(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=10, events_per_user=10, seed=49))
    config = tap_config(emulator, strategy="tenant_scan")
    catalog = TapAuth0UserLogs(config=config).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == ["properties", "user_agent"]:
                item["metadata"]["selected"] = False

    result = run_sync(config, catalog=catalog)

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    assert all("user_agent" not in record for record in result.records())
    assert any("ip" in record for record in result.records())


def test_a_burst_before_the_run_does_not_hide_a_quiet_log_behind_a_refused_start(
    emulator_factory,
):
    # Quiet for a day, then 1,000 events in the last ten minutes; start_date is older than the
    # day Auth0 keeps, so it refuses to start a pass there. The rate of the newest events,
    # spread over three days, would make a pass look like thousands of requests; the oldest
    # events Auth0 keeps tell the quiet rate where the reading starts.
    spec = TenantSpec(users=150, events_per_user=2, seed=50, history_days=1)
    emulator = emulator_factory(spec, retention_days=1)
    users = emulator.tenant.user_ids()
    now = datetime.datetime.now(UTC)
    for i in range(1000):  # 100 a minute over the last ten minutes
        emulator.tenant.add_event(users[i % 150], date=now - datetime.timedelta(seconds=0.6 * i))
    start = now - datetime.timedelta(days=3)

    result = run_sync(tap_config(emulator, start_date=start.isoformat()))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    assert emulator.counters.requests(endpoint="user_logs") == 0
