"""GET /api/v2/logs in search mode: the q subset, paging, sort and the 1,000-result cap."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.emulator import Tenant, TenantSpec
from tests.emulator_tests.api import get, log_ids

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def dated(emulator_factory):
    """A tenant with hand-placed events around 2026-03-01, retention wide enough to keep them."""
    tenant = Tenant.generate(TenantSpec(users=2, events_per_user=0, seed=11, now=NOW))
    alice, bob = tenant.user_ids()
    for stamp, user, kind in [
        ("2026-02-28T23:59:59.999Z", alice, "s"),
        ("2026-03-01T00:00:00.000Z", alice, "fp"),
        ("2026-03-01T12:30:00.000Z", alice, "s"),
        ("2026-03-02T00:00:00.000Z", alice, "slo"),
        ("2026-03-02T00:00:00.001Z", bob, "s"),
        ("2026-03-03T08:00:00.000Z", bob, "zz_new_type"),
    ]:
        tenant.add_event(user, date=stamp, type=kind)
    return emulator_factory(tenant, retention_days=10_000)


def dates(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(e["date"][:23] for e in response.json())


def test_inclusive_range_keeps_both_ends(dated):
    response = get(dated, "/api/v2/logs", q="date:[2026-03-01 TO 2026-03-02]")
    assert dates(response) == [
        "2026-03-01T00:00:00.000",
        "2026-03-01T12:30:00.000",
        "2026-03-02T00:00:00.000",
    ]


def test_exclusive_range_drops_both_ends(dated):
    response = get(dated, "/api/v2/logs", q="date:{2026-03-01 TO 2026-03-02}")
    assert dates(response) == ["2026-03-01T12:30:00.000"]


def test_mixed_brackets_make_a_half_open_window(dated):
    response = get(dated, "/api/v2/logs", q="date:[2026-03-01T00:00:00 TO 2026-03-02T00:00:00}")
    assert dates(response) == ["2026-03-01T00:00:00.000", "2026-03-01T12:30:00.000"]


def test_open_ended_ranges(dated):
    before = get(dated, "/api/v2/logs", q="date:[* TO 2026-03-01}")
    after = get(dated, "/api/v2/logs", q="date:{2026-03-02T00:00:00.000Z TO *]")
    assert dates(before) == ["2026-02-28T23:59:59.999"]
    assert dates(after) == ["2026-03-02T00:00:00.001", "2026-03-03T08:00:00.000"]


def test_time_of_day_bounds_cut_within_a_day(dated):
    response = get(dated, "/api/v2/logs", q="date:[2026-03-01T12:00:00 TO 2026-03-01T13:00:00]")
    assert dates(response) == ["2026-03-01T12:30:00.000"]


def test_user_id_and_date_window(dated):
    alice = dated.tenant.user_ids()[0]
    q = f'user_id:"{alice}" AND date:[2026-03-01 TO *]'
    response = get(dated, "/api/v2/logs", q=q)
    assert {e["user_id"] for e in response.json()} == {alice}
    assert len(response.json()) == 3


def test_type_bare_or_quoted(dated):
    bare = get(dated, "/api/v2/logs", q="type:s")
    quoted = get(dated, "/api/v2/logs", q='type:"s"')
    assert len(bare.json()) == 3
    assert log_ids(bare) == log_ids(quoted)


def test_and_binds_tighter_than_or(dated):
    bob = dated.tenant.user_ids()[1]
    q = f'type:fp OR user_id:"{bob}" AND type:zz_new_type'
    assert sorted(e["type"] for e in get(dated, "/api/v2/logs", q=q).json()) == [
        "fp",
        "zz_new_type",
    ]


def test_parentheses_group(dated):
    bob = dated.tenant.user_ids()[1]
    q = f'(type:fp OR type:s) AND user_id:"{bob}"'
    response = get(dated, "/api/v2/logs", q=q)
    assert [e["date"][:10] for e in response.json()] == ["2026-03-02"]


def test_malformed_query_is_refused(dated):
    response = get(dated, "/api/v2/logs", q="date:[2026-03-01 TO")
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_query_string"


def test_default_sort_is_newest_first_and_ascending_on_request(dated):
    newest_first = [e["date"] for e in get(dated, "/api/v2/logs").json()]
    oldest_first = [e["date"] for e in get(dated, "/api/v2/logs", sort="date:1").json()]
    assert newest_first == sorted(newest_first, reverse=True)
    assert oldest_first == newest_first[::-1]


def test_fields_limit_what_each_event_carries(dated):
    response = get(dated, "/api/v2/logs", fields="log_id,type", include_fields="true")
    assert all(set(e) == {"log_id", "type"} for e in response.json())


def test_search_results_are_capped_at_1000(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=1, events_per_user=0, seed=2, heavy_users={0: 1100}),
        retention_days=10_000,
    )
    assert get(emulator, "/api/v2/logs", per_page=100, page=9).status_code == 200
    refused = get(emulator, "/api/v2/logs", per_page=100, page=10)
    assert refused.status_code == 400
    assert refused.json()["errorCode"] == "invalid_paging"


def test_date_windows_reach_past_the_cap(emulator_factory):
    """Splitting one user's history into windows reads all of it, as the tap must."""
    emulator = emulator_factory(
        TenantSpec(users=1, events_per_user=0, seed=2, heavy_users={0: 1500}, history_days=20),
    )
    user_id = emulator.tenant.user_ids()[0]
    now = emulator.tenant.now
    seen: set[str] = set()
    for day in range(21, 0, -3):
        low = (now - timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%S")
        high = (now - timedelta(days=day - 3)).strftime("%Y-%m-%dT%H:%M:%S")
        q = f'user_id:"{user_id}" AND date:[{low} TO {high}}}'
        for page in range(10):
            batch = log_ids(get(emulator, "/api/v2/logs", q=q, page=page, per_page=100))
            seen.update(batch)
            if len(batch) < 100:
                break
    assert seen == emulator.tenant.expected_log_ids([user_id])
    assert len(seen) == 1500


@pytest.mark.parametrize("descending", [True, False])
def test_a_date_sort_orders_by_date_then_log_id_with_or_without_users(descending):
    # The tenant keeps its events in (date, log_id) order and serves a date sort from it
    # without sorting again: the same order as sorting them.
    tenant = Tenant.generate(TenantSpec(users=30, events_per_user=(0, 40), seed=5))
    alice = tenant.user_ids()[0]
    same_time = "2026-03-01T00:00:00.000Z"
    for _ in range(3):  # ties on the date fall back to log_id
        tenant.add_event(alice, date=same_time)
        tenant.add_event(tenant.user_ids()[1], date=same_time)

    def order(user_ids):
        found = tenant.search_events(lambda data: True, user_ids, "date", descending)
        return [(e.ts, e.log_id) for e in found]

    for user_ids in (None, {alice}):
        served = order(user_ids)
        assert served == sorted(served, reverse=descending)
        assert len(served) == len(set(served)) > 3
