"""A backlog of the tenant log: events derived from their index, served with the stored ones."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from tests.emulator import Emulator, Tenant, TenantSpec
from tests.emulator.backlog import MAX_DELAY_MS, MIN_DELAY_MS, checksum
from tests.emulator.timestamps import parse_time
from tests.emulator_tests.api import (
    follow,
    get,
    log_ids,
    next_url,
    read_checkpoints,
    user_logs_path,
)

NOW = datetime.now(timezone.utc).replace(microsecond=0)
SPEC = TenantSpec(
    users=3,
    events_per_user=10,
    seed=11,
    now=NOW,
    history_days=0.2,
    client_event_share=0.1,
    backlog_events=3000,
    backlog_users=40,
    backlog_hours=2,
)


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    """One tenant for the tests that only read it: generating costs more than the tests."""
    return Tenant.generate(SPEC)


@pytest.fixture
def emulator(tenant: Tenant) -> Iterator[Emulator]:
    with Emulator(tenant) as emulator:
        yield emulator


def newest_first(events: list[dict]) -> list[str]:
    """The log_ids of ``events``, newest date first (ties: highest log_id first)."""
    return [e["log_id"] for e in sorted(events, key=_date_order, reverse=True)]


def _date_order(event: dict) -> tuple[str, str]:
    return (event["date"], event["log_id"])


def test_backlog_events_count_as_tenant_events(tenant):
    assert tenant.event_count == 3 * 10 + 3000


def test_backlog_log_ids_rise_with_their_index_and_never_repeat(tenant):
    ids = list(tenant.backlog.log_ids())
    assert ids == sorted(ids)
    assert len(set(ids)) == 3000
    assert (ids[0], ids[-1]) == (tenant.backlog.first_log_id, tenant.backlog.last_log_id)


def test_a_backlog_log_id_tells_its_index(tenant):
    backlog = tenant.backlog
    assert [backlog.index_of(backlog.log_id(i)) for i in (0, 1234, 2999)] == [0, 1234, 2999]
    ordinary_users = set(tenant.user_ids()) - {u["user_id"] for u in backlog.users}
    stored = [e for e in tenant.all_events() if e.get("user_id") in ordinary_users]
    assert stored
    assert {backlog.index_of(e["log_id"]) for e in stored} == {None}


def test_backlog_events_are_whole_auth0_events_with_their_own_ids_and_dates(tenant):
    backlog = tenant.backlog
    event = json.loads(backlog.event(1500).body)
    assert event["log_id"] == event["_id"] == backlog.log_id(1500)
    assert event.get("user_id", "") == backlog.user_id(1500)
    date = parse_time(event["date"])
    ingested = backlog.ingested_ms(1500) / 1000
    assert MIN_DELAY_MS / 1000 <= ingested - date.timestamp() <= MAX_DELAY_MS / 1000
    assert {"type", "client_id", "ip", "details", "location_info"} <= set(event)


def test_the_backlog_spans_its_hours_before_now(tenant):
    first, last = tenant.backlog.event(0), tenant.backlog.event(2999)
    start = (NOW - timedelta(hours=2)).timestamp()
    assert start - 2 <= first.ts < start + 5
    assert NOW.timestamp() - 5 < last.ts < NOW.timestamp()


def test_some_backlog_events_belong_to_no_user(tenant):
    owners = [tenant.backlog.user_id(i) for i in range(3000)]
    assert 0.05 < owners.count("") / 3000 < 0.15


def test_backlog_users_are_users_of_the_tenant(tenant):
    user_ids = tenant.user_ids()
    assert len(user_ids) == 3 + 40
    assert {tenant.backlog.user_id(i) for i in range(3000)} - {""} <= set(user_ids)


def test_same_spec_gives_the_same_backlog(tenant):
    again = Tenant.generate(SPEC).backlog
    assert again.checksum() == tenant.backlog.checksum()
    assert [again.event(i).body for i in (0, 777, 2999)] == [
        tenant.backlog.event(i).body for i in (0, 777, 2999)
    ]


def test_another_seed_gives_another_backlog(tenant):
    other = Tenant.generate(TenantSpec(seed=12, backlog_events=10, backlog_users=5, now=NOW))
    assert other.backlog.event(0).body != tenant.backlog.event(0).body


def test_checkpoint_mode_serves_the_backlog_and_stored_events_as_one_log(emulator):
    served = read_checkpoints(emulator)
    assert served == sorted(served)
    assert len(served) == len(set(served)) == emulator.tenant.event_count
    assert set(emulator.tenant.backlog.log_ids()) <= set(served)


def test_checkpoint_mode_interleaves_stored_events_with_the_backlog(emulator):
    served = read_checkpoints(emulator)
    backlog = emulator.tenant.backlog
    derived = [i for i, log_id in enumerate(served) if backlog.index_of(log_id) is not None]
    stored = set(range(len(served))) - set(derived)
    assert any(derived[0] < i < derived[-1] for i in stored)


def test_from_a_backlog_log_id_serves_the_events_after_it(emulator):
    everything = read_checkpoints(emulator)
    start = emulator.tenant.backlog.log_id(1234)
    response = get(emulator, "/api/v2/logs", **{"from": start, "take": 100})
    at = everything.index(start)
    assert log_ids(response) == everything[at + 1 : at + 101]


def test_from_between_backlog_log_ids_serves_the_events_after_it(emulator):
    everything = read_checkpoints(emulator)
    start = emulator.tenant.backlog.log_id(1234)[:-1] + "9"  # not an event's log_id
    response = get(emulator, "/api/v2/logs", **{"from": start, "take": 5})
    assert log_ids(response) == [log_id for log_id in everything if log_id > start][:5]


def test_a_backlog_pages_link_starts_after_its_last_event(emulator):
    response = get(emulator, "/api/v2/logs", take=100)
    last = log_ids(response)[-1]
    assert next_url(response) == f"{emulator.base_url}/api/v2/logs?from={last}&take=100"


def test_reading_ends_on_an_empty_page_that_links_to_itself(emulator):
    last = read_checkpoints(emulator)[-1]
    response = get(emulator, "/api/v2/logs", **{"from": last, "take": 100})
    assert response.json() == []
    assert next_url(response) == response.url
    assert log_ids(follow(emulator, next_url(response))) == []


def test_an_event_added_while_serving_comes_after_the_backlog(emulator_factory):
    emulator = emulator_factory(TenantSpec(backlog_events=500, backlog_users=5, now=NOW))
    added = emulator.tenant.add_event(emulator.tenant.user_ids()[0])
    assert added["log_id"] > emulator.tenant.backlog.last_log_id
    assert read_checkpoints(emulator)[-1] == added["log_id"]


def test_newest_events_search_covers_the_backlog(emulator):
    response = get(emulator, "/api/v2/logs", sort="date:-1", per_page=100, page=0)
    assert log_ids(response) == newest_first(emulator.tenant.all_events())[:100]


@pytest.mark.parametrize(("sort", "page"), [("date:-1", 9), ("date:1", 0), ("date:1", 4)])
def test_date_sorted_search_pages_cover_the_backlog(emulator, sort, page):
    response = get(emulator, "/api/v2/logs", sort=sort, per_page=100, page=page)
    ordered = newest_first(emulator.tenant.all_events())
    if sort == "date:1":
        ordered.reverse()
    assert log_ids(response) == ordered[page * 100 : page * 100 + 100]


def test_search_by_another_field_covers_the_backlog(emulator):
    response = get(emulator, "/api/v2/logs", q='type:"s"', sort="ip:1", per_page=50)
    events = [e for e in emulator.tenant.all_events() if e["type"] == "s"]
    events.sort(key=lambda e: (e["ip"], e["log_id"]))
    assert log_ids(response) == [e["log_id"] for e in events[:50]]


def test_search_in_a_date_window_finds_the_backlog_events_dated_within_it(emulator):
    low, high = NOW - timedelta(minutes=30), NOW - timedelta(minutes=29)
    q = f"date:[{low:%Y-%m-%dT%H:%M:%S} TO {high:%Y-%m-%dT%H:%M:%S}]"
    response = get(emulator, "/api/v2/logs", q=q, sort="date:1", per_page=100)
    events = sorted(emulator.tenant.all_events(), key=_date_order)
    expected = [e["log_id"] for e in events if low <= parse_time(e["date"]) <= high]
    assert expected
    assert log_ids(response) == expected


def test_a_backlog_users_logs_are_their_backlog_events(emulator):
    user_id = emulator.tenant.backlog.user_id(7) or emulator.tenant.backlog.user_id(8)
    response = get(emulator, user_logs_path(user_id), per_page=100)
    events = response.json()
    assert events
    assert [e["log_id"] for e in events] == [
        e["log_id"] for e in emulator.tenant.events_for(user_id)
    ]
    assert {e["user_id"] for e in events} == {user_id}
    assert set(log_ids(response)) == emulator.tenant.expected_log_ids([user_id])


def test_search_for_a_backlog_user_finds_their_events(emulator):
    user_id = emulator.tenant.backlog.user_id(7) or emulator.tenant.backlog.user_id(8)
    response = get(emulator, "/api/v2/logs", q=f'user_id:"{user_id}"', per_page=100)
    assert set(log_ids(response)) == emulator.tenant.expected_log_ids([user_id])


def test_checksum_of_the_log_ids_a_client_read_matches_the_backlogs(emulator):
    backlog = emulator.tenant.backlog
    read = [log_id for log_id in read_checkpoints(emulator) if backlog.index_of(log_id) is not None]
    assert len(read) == backlog.count
    assert checksum(read) == backlog.checksum()
    assert checksum(read[1:]) != backlog.checksum()
    assert checksum([*read, read[5]]) != backlog.checksum()


def test_coverage_of_a_full_read_is_complete_with_stored_events_as_others(emulator):
    coverage = emulator.tenant.backlog.coverage(read_checkpoints(emulator))
    assert coverage.complete
    assert (coverage.delivered, coverage.others, coverage.first_missing) == (3000, 30, None)


def test_coverage_counts_missing_and_duplicate_deliveries(tenant):
    backlog = tenant.backlog
    delivered = [log_id for log_id in backlog.log_ids() if log_id != backlog.log_id(42)]
    coverage = backlog.coverage([*delivered, backlog.log_id(7), backlog.log_id(7)])
    assert not coverage.complete
    assert (coverage.missing, coverage.duplicates) == (1, 2)
    assert coverage.first_missing == backlog.log_id(42)


def test_retention_hides_backlog_events_dated_before_it(emulator_factory):
    spec = TenantSpec(users=1, events_per_user=0, backlog_events=2000, backlog_users=10,
                      backlog_hours=48, now=NOW)  # fmt: skip
    emulator = emulator_factory(spec, retention_days=1)
    served = read_checkpoints(emulator)
    backlog = emulator.tenant.backlog
    cutoff = emulator.tenant.retention_cutoff()
    assert 900 < len(served) < 1100
    assert all(backlog.event(backlog.index_of(log_id)).ts > cutoff for log_id in served)
    expired = get(emulator, "/api/v2/logs", **{"from": backlog.first_log_id, "take": 10})
    assert expired.status_code == 400


def test_a_million_event_backlog_is_seeded_in_bounded_memory():
    spec = TenantSpec(users=0, backlog_events=1_000_000, backlog_users=5000)
    tracemalloc.start()
    try:
        tenant = Tenant.generate(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tenant.event_count == 1_000_000
    assert peak < 100 * 2**20
