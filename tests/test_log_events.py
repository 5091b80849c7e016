"""A pass's pages, decoded only as far as routing needs, still give exactly the normal records."""

from __future__ import annotations

import json

import pytest

from tap_auth0_userlogs.events.fields import normalize_event
from tap_auth0_userlogs.events.pages import DecodedEvent, as_dict, decode_page, record_json
from tests.emulator import Tenant, TenantSpec

DOMAIN = "acme.us.auth0.com"


def records_both_ways(page: list[dict]) -> tuple[list[dict], list[dict]]:
    """The records of a page through decode_page, and through the per-user (dict) path."""
    body = json.dumps(page).encode()
    fast = [
        normalize_event(as_dict(e), DOMAIN)
        if isinstance(e, DecodedEvent)
        else json.loads(record_json(e, DOMAIN))
        for e in decode_page(body)
    ]
    slow = [normalize_event(e, DOMAIN) for e in json.loads(body)]
    return fast, slow


@pytest.fixture(scope="module")
def events() -> list[dict]:
    # The busy profile: scope strings and lists, unknown fields, events of no user, and
    # numeric identities past 64 bits in `details`.
    tenant = Tenant.generate(TenantSpec.busy(users=300, events_per_minute=20, seed=5))
    return [dict(e) for e in tenant.all_events()][:3000]


def test_every_record_is_the_one_the_dict_path_gives(events):
    for start in range(0, len(events), 100):
        fast, slow = records_both_ways(events[start : start + 100])
        assert fast == slow


def test_most_events_take_the_struct_path(events):
    decoded = decode_page(json.dumps(events[:1000]).encode())

    whole = sum(isinstance(e, DecodedEvent) for e in decoded)
    assert whole < 100  # only events with a field the schema does not name


def test_a_field_the_schema_does_not_name_lands_in_extra_fields():
    page = [{"log_id": "1", "date": "2026-01-01T00:00:00.000Z", "risk": {"level": 2}}]
    fast, slow = records_both_ways(page)

    assert fast == slow
    assert fast[0]["extra_fields"] == {"risk": {"level": 2}}


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 123456789012345678901234567890])
def test_an_integer_past_64_bits_is_written_exactly(number):
    page = [{"log_id": "1", "details": {"prompts": [{"identity": number}]}, "type": "s"}]
    (event,) = decode_page(json.dumps(page).encode())

    assert not isinstance(event, DecodedEvent)
    assert f'"identity": {number}' in record_json(event, DOMAIN).decode()


def test_scope_becomes_a_list_and_the_tenant_is_always_ours():
    page = [{"log_id": "1", "scope": "read:users openid", "tenant_domain": "other.auth0.com"}]
    (event,) = decode_page(json.dumps(page).encode())

    assert json.loads(record_json(event, DOMAIN)) == {
        "log_id": "1",
        "scope": ["read:users", "openid"],
        "tenant_domain": DOMAIN,
    }


def test_routing_fields_are_read_and_absent_ones_stay_absent():
    page = [{"log_id": "9", "user_id": "auth0|1", "date": "2026-01-01T00:00:00.000Z"}]
    (event,) = decode_page(json.dumps(page).encode())

    assert (event.log_id, event.user_id, event.date, event.type) == (
        "9",
        "auth0|1",
        "2026-01-01T00:00:00.000Z",
        None,
    )
    assert "type" not in json.loads(record_json(event, DOMAIN))


def test_indented_json_is_decoded_whole_so_each_record_stays_one_line():
    body = json.dumps([{"log_id": "1", "details": {"a": [1, 2]}}], indent=2).encode()
    (event,) = decode_page(body)

    assert isinstance(event, DecodedEvent)


def test_json_that_is_no_list_is_handed_back_and_no_json_raises():
    assert decode_page(b'{"statusCode": 200}') == {"statusCode": 200}
    with pytest.raises(ValueError, match="JSON"):
        decode_page(b"<html>")
