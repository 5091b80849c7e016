"""The generated tenant: determinism, realistic ids and events, log_id order, retention."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from tests.emulator import Tenant, TenantSpec
from tests.emulator.log_ids import ingestion_time
from tests.emulator.timestamps import iso_ms
from tests.emulator_tests.api import get, log_ids, user_logs_path

NOW = datetime(2026, 4, 1, 9, 30, 0, tzinfo=timezone.utc)
_ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_ID_SHAPES = {
    "auth0": r"auth0\|[0-9a-f]{24}",
    "google-oauth2": r"google-oauth2\|\d{21}",
    "samlp": r"samlp\|acme-saml\|[^|@]+@[^|]+",
    "waad": r"waad\|[A-Za-z0-9/+]+=*",
    "email": r"email\|[0-9a-f]{24}",
    "sms": r"sms\|\+1\d{10}",
}


def test_same_seed_and_now_give_the_same_tenant():
    spec = TenantSpec(users=8, events_per_user=(5, 15), seed=42, now=NOW)
    first, second = Tenant.generate(spec), Tenant.generate(spec)
    assert first.users() == second.users()
    assert first.all_events() == second.all_events()


def test_another_seed_gives_another_tenant():
    first = Tenant.generate(TenantSpec(users=4, seed=1, now=NOW))
    other = Tenant.generate(TenantSpec(users=4, seed=2, now=NOW))
    assert first.user_ids() != other.user_ids()


def test_event_count_range_is_respected():
    tenant = Tenant.generate(TenantSpec(users=10, events_per_user=(3, 6), seed=5, now=NOW))
    counts = {len(tenant.events_for(u)) for u in tenant.user_ids()}
    assert counts <= {3, 4, 5, 6}
    assert len(counts) > 1


def test_heavy_user_gets_its_own_count():
    tenant = Tenant.generate(TenantSpec(users=3, events_per_user=2, seed=5, heavy_users={1: 300}))
    assert [len(tenant.events_for(u)) for u in tenant.user_ids()] == [2, 300, 2]


def test_user_ids_cover_every_identity_provider_in_their_shapes():
    tenant = Tenant.generate(TenantSpec(users=6, events_per_user=0, seed=8, now=NOW))
    by_provider = {u.split("|", 1)[0]: u for u in tenant.user_ids()}
    assert set(by_provider) == set(_ID_SHAPES)
    for provider, user_id in by_provider.items():
        assert re.fullmatch(_ID_SHAPES[provider], user_id), user_id


def test_users_are_created_over_two_years_in_order():
    tenant = Tenant.generate(TenantSpec(users=30, events_per_user=0, seed=8, now=NOW))
    created = [u["created_at"] for u in tenant.users()]
    assert created == sorted(created)
    assert created[0] < (NOW - timedelta(days=300)).isoformat()
    user = tenant.users()[0]
    identity = user["identities"][0]
    assert set(identity) == {"provider", "connection", "user_id", "isSocial"}
    assert user["app_metadata"]["role"] in {"admin", "member"}
    assert {"created_at", "updated_at", "last_login", "logins_count", "name"} <= set(user)


def test_events_have_auth0s_shape():
    tenant = Tenant.generate(TenantSpec(users=6, events_per_user=60, seed=3, now=NOW))
    events = tenant.all_events()
    for event in events:
        assert _ISO_MS.match(event["date"])
        assert event["_id"] == event["log_id"]
        assert event["$event_schema"] == {"version": "1.0.0"}
        assert isinstance(event["location_info"]["latitude"], float)
        assert set(event["security_context"]) == {"ja3", "ja4"}
    types = {e["type"] for e in events}
    assert {"s", "fp", "slo", "mgmt_api_read", "gd_auth_succeed"} <= types
    scopes = [e["scope"] for e in events if "scope" in e]
    assert any(isinstance(s, str) for s in scopes)
    assert any(isinstance(s, list) for s in scopes)
    assert any(e["description"] is None for e in events)
    assert any(e["client_id"] is None for e in events)
    identities = [
        p["identity"]
        for e in events
        if e["type"] in ("s", "ss", "ssa") and e["details"]
        for p in e["details"]["prompts"]
        if "identity" in p
    ]
    assert any(isinstance(i, int) for i in identities)
    assert any(isinstance(i, str) for i in identities)
    failures = [e for e in events if e["type"] in ("f", "fp")]
    assert all(isinstance(e["details"]["error"]["message"], str) for e in failures)
    reads = [e for e in events if e["type"] == "mgmt_api_read"]
    assert all(
        {"method", "path"} <= set(e["details"]["request"])
        and "statusCode" in e["details"]["response"]
        for e in reads
    )


def test_events_fall_within_the_history_window():
    tenant = Tenant.generate(
        TenantSpec(users=5, events_per_user=30, seed=3, now=NOW, history_days=7)
    )
    earliest = (NOW - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S")
    assert all(
        earliest <= e["date"] <= NOW.strftime("%Y-%m-%dT%H:%M:%S.999Z") for e in tenant.all_events()
    )


def test_log_ids_are_56_chars_ordered_by_ingestion_and_not_always_by_date():
    tenant = Tenant.generate(TenantSpec(users=5, events_per_user=200, seed=3, now=NOW))
    events = tenant.all_events()
    ids = [e["log_id"] for e in events]
    assert all(len(i) == 56 and i.startswith("900") and i.isdigit() for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    for event in events:
        date = datetime.fromisoformat(event["date"][:19] + "+00:00")
        assert date - timedelta(seconds=1) <= ingestion_time(event["log_id"])
    dates = [e["date"] for e in events]
    assert dates != sorted(dates)  # some events were indexed late


def test_added_event_defaults_to_now_and_takes_overrides(emulator):
    user_id = emulator.tenant.user_ids()[0]
    event = emulator.tenant.add_event(user_id, type="zz_new_type", risk_assessment={"x": 1})
    assert event["type"] == "zz_new_type"
    assert event["risk_assessment"] == {"x": 1}
    assert emulator.tenant.events_for(user_id)[0]["log_id"] == event["log_id"]
    served = get(emulator, user_logs_path(user_id), per_page=1).json()
    assert served[0]["risk_assessment"] == {"x": 1}


def test_add_events_spreads_them_over_the_window(emulator):
    user_id = emulator.tenant.user_ids()[2]
    start, end = (
        datetime(2026, 1, 1, tzinfo=timezone.utc),
        datetime(2026, 1, 2, tzinfo=timezone.utc),
    )
    added = emulator.tenant.add_events(user_id, 5, start=start, end=end, type="fp")
    assert [e["type"] for e in added] == ["fp"] * 5
    assert all("2026-01-01" <= e["date"] < "2026-01-02T00:00:00.001" for e in added)


def test_added_user_is_listed_and_servable(emulator):
    user = emulator.tenant.add_user("google-oauth2|123456789012345678901", email="z@gmail.com")
    assert user["email"] == "z@gmail.com"
    assert emulator.tenant.user_ids()[-1] == user["user_id"]
    assert get(emulator, user_logs_path(user["user_id"])).json() == []


def test_expected_log_ids_filters_by_user_and_since(emulator):
    tenant = emulator.tenant
    first = tenant.user_ids()[0]
    events = tenant.events_for(first)
    since = events[9]["date"]
    assert tenant.expected_log_ids([first], since=since) == {e["log_id"] for e in events[:10]}
    assert len(tenant.expected_log_ids()) == 75


def test_retention_hides_old_events_everywhere(emulator_factory):
    spec = TenantSpec(users=2, events_per_user=40, seed=6, history_days=20)
    emulator = emulator_factory(spec, retention_days=5)
    tenant = emulator.tenant
    user_id = tenant.user_ids()[0]
    cutoff = (datetime.now(timezone.utc) - timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%S")
    visible = tenant.events_for(user_id)
    assert 0 < len(visible) < 40
    assert all(e["date"] > cutoff for e in visible)
    served = log_ids(get(emulator, user_logs_path(user_id), per_page=100))
    assert served == [e["log_id"] for e in visible]
    searched = log_ids(get(emulator, "/api/v2/logs", q=f'user_id:"{user_id}"', per_page=100))
    assert sorted(searched) == sorted(served)
    streamed = log_ids(get(emulator, "/api/v2/logs", take=100))
    assert set(streamed) == tenant.expected_log_ids()


def test_bulk_added_events_are_indexed_now_in_date_order_and_expected(emulator):
    tenant = emulator.tenant
    first, second = tenant.user_ids()[:2]
    end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    start = end - timedelta(days=1)
    added = tenant.add_events_bulk({first: 30, second: 20, None: 5}, start=start, end=end)
    assert len(added) == 55
    assert added == [e["log_id"] for e in tenant.all_events()][-55:]
    by_id = {e["log_id"]: e for e in tenant.all_events()}
    dates = [by_id[log_id]["date"] for log_id in added]
    assert dates == sorted(dates)
    assert all(iso_ms(start) <= d <= iso_ms(end) for d in dates)
    assert sum("user_id" not in by_id[log_id] for log_id in added) == 5
    assert set(added) - tenant.expected_log_ids() == {
        log_id for log_id in added if "user_id" not in by_id[log_id]
    }


def test_bulk_added_events_are_served(emulator):
    user_id = emulator.tenant.user_ids()[0]
    added = emulator.tenant.add_events_bulk({user_id: 10}, type="fp")
    served = get(emulator, user_logs_path(user_id), per_page=100).json()
    assert {e["log_id"] for e in served} >= set(added)
    assert {e["type"] for e in served if e["log_id"] in added} == {"fp"}


def test_an_assembled_tenant_serves_exactly_the_users_and_events_given():
    generated = Tenant.generate(TenantSpec(users=3, events_per_user=4, seed=8, now=NOW))
    events = generated.all_events()
    drafts = [({k: v for k, v in e.items() if k not in ("log_id", "_id")}) for e in events]
    indexed = [NOW - timedelta(minutes=len(drafts) - n) for n in range(len(drafts))]
    drafts.reverse()  # given newest first: log_ids follow the indexing times, not this order
    tenant, given = Tenant.assembled(
        now=NOW, users=generated.users(), events=list(zip(reversed(indexed), drafts, strict=True))
    )
    assert tenant.user_ids() == generated.user_ids()
    assert given == sorted(given, reverse=True)
    assert [e["log_id"] for e in tenant.all_events()] == sorted(given)
    user_id = tenant.user_ids()[0]
    assert len(tenant.events_for(user_id)) == 4
    assert {e["log_id"] for e in tenant.events_for(user_id)} <= set(given)
