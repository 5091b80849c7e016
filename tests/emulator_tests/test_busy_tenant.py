"""The busy-tenant profile: a tenant-wide event rate, uneven users, events with no user."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.emulator import Tenant, TenantSpec
from tests.emulator_tests.api import get, log_ids, user_logs_path

NOW = datetime(2026, 4, 1, 9, 30, 0, tzinfo=timezone.utc)
RATE, HOURS = 30, 3  # scaled down from the profile's 40/min over 24 h to keep the suite fast
SPEC = TenantSpec.busy(users=600, events_per_minute=RATE, history_hours=HOURS, seed=1, now=NOW)


@pytest.fixture(scope="module")
def busy() -> Tenant:
    return Tenant.generate(SPEC)


@pytest.fixture(scope="module")
def events(busy: Tenant) -> list[dict[str, Any]]:
    return busy.all_events()


@pytest.fixture(scope="module")
def per_user_counts(busy: Tenant, events: list[dict[str, Any]]) -> list[int]:
    """Events of each user, users without any included."""
    counts = Counter(e.get("user_id") for e in events)
    return [counts[u] for u in busy.user_ids()]


def test_busy_profile_defaults_to_3000_users_at_40_events_a_minute_over_a_day():
    spec = TenantSpec.busy()
    assert (spec.users, spec.events_per_minute, spec.history_days) == (3000, 40, 1)
    assert spec.events_per_user == 0


def test_tenant_wide_events_arrive_at_the_rate_on_top_of_heavy_users(busy):
    assert busy.event_count == RATE * HOURS * 60 + sum(SPEC.heavy_users.values())


def test_most_users_have_few_events_or_none(per_user_counts):
    counts = per_user_counts
    assert sum(c <= 5 for c in counts) > len(counts) / 2
    assert counts.count(0) > len(counts) / 3


def test_a_few_heavy_users_pass_the_1000_event_listing_cap(per_user_counts):
    heavy = [c for c in per_user_counts if c > 1000]
    assert 3 <= len(heavy) <= 10


def test_a_tenth_of_events_are_client_credentials_exchanges_with_no_user(events):
    userless = [e for e in events if "user_id" not in e]
    assert 0.05 < len(userless) / (RATE * HOURS * 60) < 0.15
    assert all("user_name" not in e and e["type"] == "seccft" for e in userless)
    assert all(e["client_id"] and e["client_name"] for e in userless)


def test_events_with_no_user_never_count_for_a_user(busy, events):
    userless = {e["log_id"] for e in events if "user_id" not in e}
    assert busy.expected_log_ids().isdisjoint(userless)
    assert busy.events_for("") == []
    assert len(busy.expected_log_ids()) + len(userless) == busy.event_count


def test_busy_events_fall_within_the_history_hours(events):
    earliest = (NOW - timedelta(hours=HOURS)).strftime("%Y-%m-%dT%H:%M:%S")
    assert all(earliest <= e["date"] <= "2026-04-01T09:30:00.000Z" for e in events)


def test_some_busy_events_are_indexed_after_later_ones(events):
    dates = [e["date"] for e in events]
    assert dates != sorted(dates)


def test_event_with_no_user_is_served_in_the_tenant_log_only(emulator):
    added = emulator.tenant.add_event(None)
    assert "user_id" not in added
    after_all = get(emulator, "/api/v2/logs", take=100)
    assert added["log_id"] in log_ids(after_all)
    found = get(emulator, "/api/v2/logs", q=f'log_id:"{added["log_id"]}"').json()
    assert [e["client_name"] for e in found] == [added["client_name"]]
    for user_id in emulator.tenant.user_ids():
        served = log_ids(get(emulator, user_logs_path(user_id), per_page=100))
        assert added["log_id"] not in served
