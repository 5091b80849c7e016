"""Auth0 plans: each sets the rate limits, log retention and whether user exports exist."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.emulator import Emulator, TenantSpec
from tests.emulator.plans import PLANS, Bucket
from tests.emulator_tests.api import TIMEOUT, get, user_logs_path

SMALL = TenantSpec(users=2, events_per_user=3, seed=9)


def create_export(emulator: Emulator) -> requests.Response:
    return requests.post(
        f"{emulator.base_url}/api/v2/jobs/users-exports",
        json={"format": "json"},
        headers={"Authorization": f"Bearer {emulator.static_token}"},
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize(
    ("plan", "tenant", "logs", "users", "retention_days"),
    [
        ("free", Bucket(2, 2), None, None, 1),
        ("essentials", None, Bucket(100 / 60, 10), Bucket(500 / 60, 40), 5),
        ("professional", None, Bucket(100 / 60, 10), Bucket(500 / 60, 40), 10),
        ("enterprise", Bucket(16, 50), None, None, 30),
        ("private-cloud-basic", Bucket(50, 50), None, None, 30),
        ("private-cloud-performance", Bucket(250, 250), None, None, 30),
    ],
)
def test_plans_carry_auth0s_published_limits_and_retention(
    plan, tenant, logs, users, retention_days
):
    preset = PLANS[plan]
    assert (preset.tenant, preset.logs, preset.users) == (tenant, logs, users)
    assert preset.retention_days == retention_days


def served_before_429(emulator: Emulator, path: str, most: int = 60) -> list[requests.Response]:
    """Requests to ``path`` answered until the first 429 (which is left out)."""
    served = []
    for _ in range(most):
        response = get(emulator, path)
        if response.status_code == 429:
            return served
        served.append(response)
    raise AssertionError(f"no 429 within {most} requests to {path}")


def test_free_plan_limits_the_whole_tenant_to_a_bucket_of_2(emulator_factory):
    emulator = emulator_factory(SMALL, plan="free")
    user_id = emulator.tenant.user_ids()[0]
    served = served_before_429(emulator, user_logs_path(user_id))
    assert len(served) >= 2  # the bucket, plus what refilled meanwhile
    assert served[0].headers["x-ratelimit-limit"] == "2"
    assert get(emulator, "/api/v2/users").status_code == 429  # one bucket for every endpoint


def test_essentials_plan_limits_reading_logs_to_a_bucket_of_10(emulator_factory):
    emulator = emulator_factory(SMALL, plan="essentials")
    user_id = emulator.tenant.user_ids()[0]
    served = served_before_429(emulator, user_logs_path(user_id))
    assert len(served) >= 10
    assert served[0].headers["x-ratelimit-limit"] == "10"
    assert get(emulator, "/api/v2/logs", take=1).status_code == 429  # logs share one bucket
    users = get(emulator, "/api/v2/users")
    assert users.status_code == 200
    assert users.headers["x-ratelimit-limit"] == "40"


def test_enterprise_plan_bucket_holds_50(emulator_factory):
    emulator = emulator_factory(SMALL, plan="enterprise")
    response = get(emulator, "/api/v2/users")
    assert (response.headers["x-ratelimit-limit"], response.headers["x-ratelimit-remaining"]) == (
        "50",
        "49",
    )


def test_free_plan_keeps_logs_one_day(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=2, events_per_user=30, seed=9, history_days=4), plan="free"
    )
    cutoff = datetime.now(timezone.utc) - timedelta(days=1)
    served = get(emulator, "/api/v2/logs", take=100).json()
    assert 0 < len(served) < emulator.tenant.event_count
    assert all(event["date"] > cutoff.isoformat()[:19] for event in served)


def test_free_plan_refuses_user_exports_naming_the_plan(emulator_factory):
    emulator = emulator_factory(SMALL, plan="free")
    response = create_export(emulator)
    assert response.status_code == 403
    body = response.json()
    assert (body["statusCode"], body["error"]) == (403, "Forbidden")
    assert "Free plan" in body["message"]
    assert body["errorCode"] != "insufficient_scope"
    assert "scope" not in body["message"].lower()


@pytest.mark.parametrize(
    ("plan", "burst"), [("private-cloud-basic", "50"), ("private-cloud-performance", "250")]
)
def test_private_cloud_buckets_hold_as_many_as_their_rate(emulator_factory, plan, burst):
    emulator = emulator_factory(SMALL, plan=plan)
    for path in (
        "/api/v2/users",
        "/api/v2/logs?take=1",
        user_logs_path(emulator.tenant.user_ids()[0]),
    ):
        assert get(emulator, path).headers["x-ratelimit-limit"] == burst
    assert emulator.retention_days == 30


@pytest.mark.parametrize(
    "plan",
    [
        "essentials",
        "professional",
        "enterprise",
        "private-cloud-basic",
        "private-cloud-performance",
    ],
)
def test_paid_plans_allow_user_exports(emulator_factory, plan):
    assert create_export(emulator_factory(SMALL, plan=plan)).status_code == 201


def test_explicit_settings_override_the_plans(emulator_factory):
    emulator = emulator_factory(SMALL, plan="free", rate_limit=10, burst=5, retention_days=7)
    response = get(emulator, "/api/v2/users")
    assert response.headers["x-ratelimit-limit"] == "5"
    assert emulator.retention_days == 7
    assert create_export(emulator).status_code == 403  # still the Free plan


def test_without_a_plan_nothing_is_rate_limited_and_logs_are_kept_30_days(emulator_factory):
    emulator = emulator_factory(SMALL)
    assert emulator.plan is None
    assert emulator.retention_days == 30
    assert get(emulator, "/api/v2/users").headers["x-ratelimit-limit"] == "1000"
    assert create_export(emulator).status_code == 201


def test_unknown_plan_is_refused():
    with pytest.raises(ValueError, match="unknown plan 'gold'"):
        Emulator(SMALL, plan="gold")
