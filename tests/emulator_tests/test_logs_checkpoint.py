"""GET /api/v2/logs in checkpoint mode: from/take, log_id order and the Link header."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.emulator import Tenant, TenantSpec
from tests.emulator.log_ids import format_log_id
from tests.emulator_tests.api import follow, get, log_ids, next_url


def test_following_next_links_reads_every_event_once_in_log_id_order(emulator):
    response = get(emulator, "/api/v2/logs", take=20)
    collected: list[str] = []
    while log_ids(response):
        collected += log_ids(response)
        response = follow(emulator, next_url(response))
    expected = [e["log_id"] for e in emulator.tenant.all_events()]
    assert collected == expected
    assert collected == sorted(collected)
    assert len(collected) == 75


def test_next_link_starts_after_the_last_event_returned(emulator):
    response = get(emulator, "/api/v2/logs", take=7)
    last = log_ids(response)[-1]
    assert next_url(response) == f"{emulator.base_url}/api/v2/logs?from={last}&take=7"


def test_from_returns_events_strictly_after_it(emulator):
    everything = [e["log_id"] for e in emulator.tenant.all_events()]
    response = get(emulator, "/api/v2/logs", **{"from": everything[9], "take": 5})
    assert log_ids(response) == everything[10:15]


def test_empty_page_links_to_the_current_url(emulator):
    last = emulator.tenant.all_events()[-1]["log_id"]
    response = get(emulator, "/api/v2/logs", **{"from": last, "take": 10})
    assert response.json() == []
    assert next_url(response) == response.url


def test_event_added_after_the_end_appears_at_the_empty_pages_link(emulator):
    last = emulator.tenant.all_events()[-1]["log_id"]
    empty = get(emulator, "/api/v2/logs", **{"from": last, "take": 10})
    added = emulator.tenant.add_event(emulator.tenant.user_ids()[0])
    assert log_ids(follow(emulator, next_url(empty))) == [added["log_id"]]


def test_take_defaults_to_50(emulator):
    first = emulator.tenant.all_events()[0]["log_id"]
    response = get(emulator, "/api/v2/logs", **{"from": first})
    assert len(response.json()) == 50


def test_take_above_100_is_refused(emulator):
    response = get(emulator, "/api/v2/logs", take=101)
    assert response.status_code == 400


def test_q_and_paging_are_ignored_in_checkpoint_mode(emulator):
    plain = get(emulator, "/api/v2/logs", take=10)
    noisy = get(emulator, "/api/v2/logs", take=10, q='type:"zz"', page=3, per_page=2, sort="type:1")
    assert log_ids(noisy) == log_ids(plain)


def test_checkpoint_older_than_retention_is_refused(emulator):
    ancient = format_log_id(datetime.now(timezone.utc) - timedelta(days=31), 1)
    response = get(emulator, "/api/v2/logs", **{"from": ancient, "take": 10})
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "invalid_query"
    assert ancient in body["message"]


def test_checkpoint_before_the_oldest_retained_event_is_refused_once_events_expired(
    emulator_factory,
):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    spec = TenantSpec(users=2, events_per_user=20, seed=4, now=now, history_days=20)
    emulator = emulator_factory(Tenant.generate(spec), retention_days=10)
    oldest_retained = emulator.tenant.all_events()[0]
    cutoff = now - timedelta(days=10)
    assert datetime.fromisoformat(oldest_retained["date"][:19] + "+00:00") > cutoff + timedelta(
        minutes=5
    )
    # Its timestamp is within retention, but the events between it and the oldest retained
    # one have expired: reading on from there would silently skip them.
    just_inside = format_log_id(cutoff + timedelta(minutes=1), 0)
    refused = get(emulator, "/api/v2/logs", **{"from": just_inside, "take": 5})
    accepted = get(emulator, "/api/v2/logs", **{"from": oldest_retained["log_id"], "take": 5})
    assert refused.status_code == 400
    assert accepted.status_code == 200


def test_expired_checkpoint_oldest_knob_serves_from_the_oldest_retained_event(emulator_factory):
    emulator = emulator_factory(None, expired_checkpoint="oldest")
    ancient = format_log_id(datetime.now(timezone.utc) - timedelta(days=31), 1)
    response = get(emulator, "/api/v2/logs", **{"from": ancient, "take": 10})
    assert response.status_code == 200
    oldest = [e["log_id"] for e in emulator.tenant.all_events()[:10]]
    assert log_ids(response) == oldest
    assert f"from={oldest[-1]}" in next_url(response)


def test_expired_checkpoint_oldest_knob_also_covers_a_checkpoint_before_expired_events(
    emulator_factory,
):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    spec = TenantSpec(users=2, events_per_user=20, seed=4, now=now, history_days=20)
    emulator = emulator_factory(spec, retention_days=10, expired_checkpoint="oldest")
    just_inside = format_log_id(now - timedelta(days=10) + timedelta(minutes=1), 0)
    response = get(emulator, "/api/v2/logs", **{"from": just_inside, "take": 5})
    assert log_ids(response) == [e["log_id"] for e in emulator.tenant.all_events()[:5]]


def test_malformed_checkpoint_is_refused_under_either_knob(emulator_factory):
    emulator = emulator_factory(None, expired_checkpoint="oldest")
    response = get(emulator, "/api/v2/logs", **{"from": "not-a-log-id", "take": 5})
    assert response.status_code == 400


def test_checkpoint_before_all_events_is_fine_while_nothing_expired(emulator):
    early = format_log_id(datetime.now(timezone.utc) - timedelta(days=25), 0)
    response = get(emulator, "/api/v2/logs", **{"from": early, "take": 100})
    assert len(response.json()) == 75


def test_malformed_checkpoint_is_refused(emulator):
    response = get(emulator, "/api/v2/logs", **{"from": "not-a-log-id", "take": 5})
    assert response.status_code == 400


def test_take_without_from_starts_at_the_oldest_retained_event(emulator_factory):
    spec = TenantSpec(users=2, events_per_user=30, seed=5, history_days=20)
    emulator = emulator_factory(spec, retention_days=10)
    retained = [e["log_id"] for e in emulator.tenant.all_events()]
    assert len(retained) < emulator.tenant.event_count  # some events did expire
    assert log_ids(get(emulator, "/api/v2/logs", take=5)) == retained[:5]


def test_late_indexed_event_gets_a_later_log_id_than_newer_events(emulator):
    user_id = emulator.tenant.user_ids()[0]
    newest = emulator.tenant.all_events()[-1]
    late = emulator.tenant.add_event(user_id, date=datetime.now(timezone.utc) - timedelta(days=3))
    assert late["date"] < newest["date"]
    assert late["log_id"] > newest["log_id"]
    response = get(emulator, "/api/v2/logs", **{"from": newest["log_id"], "take": 10})
    assert log_ids(response) == [late["log_id"]]
