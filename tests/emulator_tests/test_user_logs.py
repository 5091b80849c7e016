"""GET /api/v2/users/{id}/logs: paging, its cap, sort, totals and user id escaping."""

from __future__ import annotations

import pytest

from tests.emulator import TenantSpec
from tests.emulator_tests.api import get, log_ids, user_logs_path


@pytest.fixture
def heavy(emulator_factory):
    """One user with 1,200 events, past the 1,000-result paging cap."""
    return emulator_factory(TenantSpec(users=2, events_per_user=5, seed=3, heavy_users={0: 1200}))


def test_pages_walk_newest_first_without_overlap(emulator):
    user_id = emulator.tenant.user_ids()[0]
    seen: list[str] = []
    for page in range(3):
        response = get(emulator, user_logs_path(user_id), page=page, per_page=10)
        assert response.status_code == 200
        seen += log_ids(response)
    expected = [e["log_id"] for e in emulator.tenant.events_for(user_id)]
    assert seen == expected  # 25 events: pages of 10, 10 and 5


def test_short_page_marks_the_end(emulator):
    user_id = emulator.tenant.user_ids()[1]
    response = get(emulator, user_logs_path(user_id), page=2, per_page=10)
    assert len(response.json()) == 5


def test_page_past_the_1000th_result_is_refused(heavy):
    user_id = heavy.tenant.user_ids()[0]
    response = get(heavy, user_logs_path(user_id), page=10, per_page=100)
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "error": "Bad Request",
        "message": "Requesting page 11 exceeds the allowed maximum of 1000 records",
        "errorCode": "invalid_paging",
    }


def test_last_page_under_the_cap_is_served(heavy):
    user_id = heavy.tenant.user_ids()[0]
    response = get(heavy, user_logs_path(user_id), page=9, per_page=100)
    assert response.status_code == 200
    assert len(response.json()) == 100


def test_page_straddling_the_cap_stops_at_the_1000th_result(heavy):
    user_id = heavy.tenant.user_ids()[0]
    response = get(heavy, user_logs_path(user_id), page=33, per_page=30)
    expected = [e["log_id"] for e in heavy.tenant.events_for(user_id)][990:1000]
    assert log_ids(response) == expected


@pytest.mark.parametrize("per_page", ["0", "101", "-1", "ten"])
def test_per_page_outside_1_to_100_is_refused(emulator, per_page):
    user_id = emulator.tenant.user_ids()[0]
    response = get(emulator, user_logs_path(user_id), per_page=per_page)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_query_string"


def test_per_page_100_is_accepted(emulator):
    user_id = emulator.tenant.user_ids()[0]
    assert get(emulator, user_logs_path(user_id), per_page=100).status_code == 200


def test_without_per_page_paging_is_off_and_50_are_served(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=70, seed=1))
    user_id = emulator.tenant.user_ids()[0]
    first = get(emulator, user_logs_path(user_id))
    second = get(emulator, user_logs_path(user_id), page=1)
    assert len(log_ids(first)) == 50
    assert log_ids(second) == log_ids(first)


def test_sort_date_ascending_gives_oldest_first(emulator):
    user_id = emulator.tenant.user_ids()[0]
    response = get(emulator, user_logs_path(user_id), sort="date:1", per_page=100)
    dates = [e["date"] for e in response.json()]
    assert dates == sorted(dates)
    assert dates[0] == emulator.tenant.events_for(user_id)[-1]["date"]


def test_sort_date_descending_is_the_default(emulator):
    user_id = emulator.tenant.user_ids()[0]
    default = log_ids(get(emulator, user_logs_path(user_id), per_page=100))
    explicit = log_ids(get(emulator, user_logs_path(user_id), per_page=100, sort="date:-1"))
    assert default == explicit
    dates = [e["date"] for e in get(emulator, user_logs_path(user_id), per_page=100).json()]
    assert dates == sorted(dates, reverse=True)


def test_sort_by_type_orders_by_that_field(emulator):
    user_id = emulator.tenant.user_ids()[0]
    response = get(emulator, user_logs_path(user_id), sort="type:1", per_page=100)
    types = [e["type"] for e in response.json()]
    assert types == sorted(types)
    assert len(set(types)) > 1


def test_sort_on_an_unknown_field_is_refused(emulator):
    user_id = emulator.tenant.user_ids()[0]
    response = get(emulator, user_logs_path(user_id), sort="colour:1")
    assert response.status_code == 400


def test_include_totals_total_is_the_page_length_not_the_match_count(emulator):
    user_id = emulator.tenant.user_ids()[0]
    body = get(emulator, user_logs_path(user_id), include_totals="true", page=1, per_page=10).json()
    assert set(body) == {"start", "limit", "length", "total", "logs"}
    assert (body["start"], body["limit"], body["length"], body["total"]) == (10, 10, 10, 10)
    assert len(body["logs"]) == 10


def test_parameters_the_endpoint_lacks_are_refused(emulator):
    user_id = emulator.tenant.user_ids()[0]
    response = get(emulator, user_logs_path(user_id), q="type:s")
    assert response.status_code == 400
    assert "q" in response.json()["message"]


def test_unknown_user_gets_an_empty_list(emulator):
    response = get(emulator, user_logs_path("auth0|000000000000000000000000"))
    assert response.status_code == 200
    assert response.json() == []


def test_deleted_user_gets_an_empty_list_by_default(emulator):
    user_id = emulator.tenant.user_ids()[0]
    emulator.tenant.delete_user(user_id)
    response = get(emulator, user_logs_path(user_id))
    assert (response.status_code, response.json()) == (200, [])


INEXISTENT_USER = {
    "statusCode": 404,
    "error": "Not Found",
    "message": "The user does not exist.",
    "errorCode": "inexistent_user",
}


def test_deleted_user_logs_404_knob_answers_inexistent_user(emulator_factory):
    emulator = emulator_factory(None, deleted_user_logs="404")
    user_id = emulator.tenant.user_ids()[0]
    assert get(emulator, user_logs_path(user_id)).status_code == 200
    emulator.tenant.delete_user(user_id)
    response = get(emulator, user_logs_path(user_id))
    assert (response.status_code, response.json()) == (404, INEXISTENT_USER)


def test_deleted_user_logs_404_knob_answers_unknown_users_alike(emulator_factory):
    emulator = emulator_factory(None, deleted_user_logs="404")
    response = get(emulator, user_logs_path("auth0|000000000000000000000000"))
    assert (response.status_code, response.json()) == (404, INEXISTENT_USER)


def test_deleted_user_keeps_its_events_in_the_tenant_log_under_either_knob(emulator_factory):
    emulator = emulator_factory(None, deleted_user_logs="404")
    user_id = emulator.tenant.user_ids()[0]
    emulator.tenant.delete_user(user_id)
    found = get(emulator, "/api/v2/logs", q=f'user_id:"{user_id}"', per_page=100)
    assert len(found.json()) == 25


@pytest.mark.parametrize(
    "user_id",
    [
        "samlp|acme-saml|jane.doe@acme.example",
        "waad|ab/cd+ef/gh==",
        "sms|+15555550100",
        "auth0|ünïcødé-ユーザー",
        "email|a b%2Fc?d#e",
    ],
)
def test_user_ids_with_special_characters_round_trip(emulator, user_id):
    emulator.tenant.add_user(user_id)
    added = emulator.tenant.add_event(user_id)
    response = get(emulator, user_logs_path(user_id))
    assert log_ids(response) == [added["log_id"]]
    assert emulator.request_log[-1].user_id == user_id


def test_slash_in_an_id_sent_unencoded_does_not_reach_the_user(emulator):
    emulator.tenant.add_user("waad|ab/cd")
    emulator.tenant.add_event("waad|ab/cd")
    response = get(emulator, "/api/v2/users/waad%7Cab/cd/logs")
    assert response.status_code == 404


def test_generated_waad_id_with_slash_plus_and_equals_is_served(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=6, events_per_user=3, seed=2))
    (user_id,) = [u for u in emulator.tenant.user_ids() if u.startswith("waad|")]
    assert {"/", "+", "="} <= set(user_id)
    assert len(get(emulator, user_logs_path(user_id)).json()) == 3
