"""GET /api/v2/users: paging, totals, sort, the v3 q subset, the cap and scopes."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.emulator import Tenant, TenantSpec
from tests.emulator_tests.api import get


@pytest.fixture
def crowd(emulator_factory):
    return emulator_factory(TenantSpec(users=40, events_per_user=0, seed=21))


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return [u["user_id"] for u in (body["users"] if isinstance(body, dict) else body)]


def test_pages_in_created_at_order_reach_every_user(crowd):
    seen = []
    for page in range(5):
        seen += ids(get(crowd, "/api/v2/users", page=page, per_page=10, sort="created_at:1"))
    assert seen[:40] == crowd.tenant.user_ids()
    assert len(seen) == 40


def test_include_totals_total_counts_every_match_below_1000(crowd):
    body = get(crowd, "/api/v2/users", include_totals="true", per_page=5, page=2).json()
    assert (body["start"], body["limit"], body["length"], body["total"]) == (10, 5, 5, 40)
    assert len(body["users"]) == 5


@pytest.fixture(scope="module")
def multitude() -> Tenant:
    """1,200 users: more than a listing reaches and than a real tenant will count."""
    return Tenant.generate(TenantSpec(users=1200, events_per_user=0, seed=22))


def test_include_totals_total_is_capped_at_1000(emulator_factory, multitude):
    emulator = emulator_factory(multitude)
    body = get(emulator, "/api/v2/users", include_totals="true", per_page=10).json()
    assert (body["length"], body["total"]) == (10, 1000)


def test_true_user_totals_knob_counts_every_match(emulator_factory, multitude):
    emulator = emulator_factory(multitude, cap_user_totals=False)
    body = get(emulator, "/api/v2/users", include_totals="true", per_page=10).json()
    assert body["total"] == 1200


def test_capped_total_counts_a_narrower_search_exactly(emulator_factory, multitude):
    emulator = emulator_factory(multitude)
    users = multitude.users()
    q = f"created_at:[* TO {users[299]['created_at']}]"
    body = get(emulator, "/api/v2/users", q=q, search_engine="v3", include_totals="true").json()
    assert body["total"] == 300


def test_paging_past_1000_users_is_refused_even_with_true_totals(emulator_factory, multitude):
    emulator = emulator_factory(multitude, cap_user_totals=False)
    response = get(emulator, "/api/v2/users", page=10, per_page=100)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_paging"


def test_sort_descending_reverses(crowd):
    up = ids(get(crowd, "/api/v2/users", per_page=100, sort="created_at:1"))
    down = ids(get(crowd, "/api/v2/users", per_page=100, sort="created_at:-1"))
    assert down == up[::-1]


def test_created_at_window_with_mixed_brackets(crowd):
    users = crowd.tenant.users()
    low, high = users[10]["created_at"], users[20]["created_at"]
    q = f"created_at:[{low} TO {high}}}"
    found = ids(get(crowd, "/api/v2/users", q=q, search_engine="v3", per_page=100))
    assert found == [u["user_id"] for u in users[10:20]]


def test_email_search(crowd):
    user = next(u for u in crowd.tenant.users() if "email" in u)
    found = ids(get(crowd, "/api/v2/users", q=f'email:"{user["email"]}"', search_engine="v3"))
    assert found == [user["user_id"]]


def test_connection_role_and_logins_count_search_joined_with_and(crowd):
    q = (
        'identities.connection:"Username-Password-Authentication" AND '
        'app_metadata.role:"member" AND logins_count:[3 TO *]'
    )
    found = ids(get(crowd, "/api/v2/users", q=q, search_engine="v3", per_page=100))
    expected = [
        u["user_id"]
        for u in crowd.tenant.users()
        if u["identities"][0]["connection"] == "Username-Password-Authentication"
        and u["app_metadata"]["role"] == "member"
        and u["logins_count"] >= 3
    ]
    assert found == expected
    assert 0 < len(expected) < 40


def test_q_without_search_engine_v3_is_refused(crowd):
    assert get(crowd, "/api/v2/users", q='email:"x@y.z"').status_code == 400


def test_users_past_the_1000th_are_refused(crowd):
    response = get(crowd, "/api/v2/users", page=20, per_page=50)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "invalid_paging"


def test_fields_project_user_objects(crowd):
    response = get(crowd, "/api/v2/users", fields="user_id,created_at", per_page=3)
    assert [set(u) for u in response.json()] == [{"user_id", "created_at"}] * 3


def test_deleted_user_disappears_from_users_but_keeps_tenant_wide_events(emulator):
    user_id = emulator.tenant.user_ids()[0]
    events_before = {e["log_id"] for e in emulator.tenant.events_for(user_id)}
    emulator.tenant.delete_user(user_id)
    assert user_id not in ids(get(emulator, "/api/v2/users"))
    assert emulator.tenant.user_ids() == ids(get(emulator, "/api/v2/users"))
    q = f'user_id:"{user_id}"'
    tenant_wide = {e["log_id"] for e in get(emulator, "/api/v2/logs", q=q, per_page=100).json()}
    assert tenant_wide == events_before


def test_reading_users_needs_read_users(emulator):
    token = emulator.issue_token(scopes=["read:logs"])
    response = get(emulator, "/api/v2/users", token=token)
    assert response.status_code == 403
    assert response.json()["errorCode"] == "insufficient_scope"


def test_get_one_user_by_id(emulator):
    user_id = emulator.tenant.user_ids()[0]

    response = get(emulator, f"/api/v2/users/{quote(user_id, safe='')}")

    assert response.status_code == 200
    assert response.json()["user_id"] == user_id


def test_get_deleted_user_is_404(emulator):
    user_id = emulator.tenant.user_ids()[0]
    emulator.tenant.delete_user(user_id)

    response = get(emulator, f"/api/v2/users/{quote(user_id, safe='')}")

    assert response.status_code == 404
    assert response.json()["errorCode"] == "inexistent_user"
