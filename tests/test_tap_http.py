"""How the tap behaves on the wire: rate limits, retries, tokens and Auth0's errors."""

from __future__ import annotations

import time

import pytest

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.errors import TapUserError
from tests.emulator import TenantSpec
from tests.tap_support import client_credentials, run_sync, tap_config


def test_429_waits_for_the_reset_then_retries(emulator):
    emulator.faults.add("429", endpoint="user_logs", count=2)

    result = run_sync(tap_config(emulator))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert emulator.counters.requests(endpoint="user_logs", status=429) == 2


def test_slows_down_before_the_bucket_is_empty(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=12, events_per_user=3, seed=11), rate_limit=6, burst=4
    )

    started = time.monotonic()
    # One at a time: this is about pacing by the headers, not the first concurrent wave
    # (which, before any header is known, can take a bucket of 4 in one go).
    result = run_sync(tap_config(emulator, max_concurrency=1, strategy="per_user"))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert emulator.counters.rate_limited == 0
    # 12 requests through a bucket of 4 refilled at 6/s cannot take less than about 1.3 s.
    assert time.monotonic() - started > 1.0


@pytest.mark.parametrize(
    "kind", ["500", "502", "503", "504", "html", "reset", "truncated", "invalid_json"]
)
def test_transient_fault_is_retried_and_loses_nothing(emulator, fast_retries, kind):
    emulator.faults.add(kind, endpoint="user_logs", count=2)

    result = run_sync(tap_config(emulator))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())


def test_hang_past_the_timeout_is_retried(emulator, fast_retries):
    emulator.faults.add("hang", endpoint="user_logs", count=1, hang_seconds=5)

    started = time.monotonic()
    result = run_sync(tap_config(emulator, request_timeout=1))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert time.monotonic() - started < 5


def test_persistent_5xx_fails_with_one_clear_line(emulator, fast_retries):
    emulator.faults.add("503", endpoint="user_logs", count=1000)

    with pytest.raises(TapUserError) as failure:
        run_sync(tap_config(emulator))

    message = str(failure.value)
    assert "\n" not in message
    assert "after 6 tries" in message
    assert "503" in message


def test_expired_static_token_names_the_setting(emulator):
    token = emulator.issue_token(scopes=["read:logs"], ttl=0.01)
    time.sleep(0.05)

    with pytest.raises(TapUserError, match="'access_token'") as failure:
        run_sync(tap_config(emulator, access_token=token))

    assert "401" in str(failure.value)
    # It fails at once: only the first request of each user already in flight went out.
    assert emulator.counters.requests(endpoint="user_logs") <= 4


def test_missing_scope_names_the_scopes_needed(emulator):
    token = emulator.issue_token(scopes=["read:users"])

    with pytest.raises(TapUserError, match="read:logs or read:logs_users") as failure:
        run_sync(tap_config(emulator, access_token=token))

    assert "403" in str(failure.value)


def test_400_reports_auth0s_message(emulator_factory, monkeypatch):
    emulator = emulator_factory(TenantSpec(users=1, events_per_user=1200, seed=2))
    # Pretend the cap were higher, so the tap asks for a page Auth0 refuses.
    monkeypatch.setattr(endpoints, "RESULT_CAP", 2000)

    with pytest.raises(TapUserError, match="exceeds the allowed maximum") as failure:
        run_sync(tap_config(emulator))

    assert "400" in str(failure.value)


def test_client_credentials_token_is_fetched_once_and_reused(emulator):
    result = run_sync(client_credentials(emulator))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert emulator.counters.requests(endpoint="token") == 1


def test_token_is_refreshed_before_it_expires(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=8, events_per_user=2, seed=4), token_ttl=1.0, latency_ms=200
    )

    result = run_sync(client_credentials(emulator, max_concurrency=1))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert emulator.counters.requests(endpoint="token") >= 2
    assert emulator.counters.requests(endpoint="user_logs", status=401) == 0


def test_token_is_refreshed_once_when_auth0_answers_401(emulator):
    emulator.faults.add("revoke_token", endpoint="user_logs", count=1, after=1)

    result = run_sync(client_credentials(emulator))

    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    # One refresh, even when several concurrent requests were refused with the same token.
    assert emulator.counters.requests(endpoint="token") == 2
    assert 1 <= emulator.counters.requests(endpoint="user_logs", status=401) <= 4


def test_rejected_client_secret_fails_with_one_line(emulator):
    with pytest.raises(TapUserError, match="'client_secret'") as failure:
        run_sync(client_credentials(emulator, client_secret="wrong-secret-value"))

    assert "invalid_client" in str(failure.value)
    assert emulator.counters.requests(endpoint="user_logs") == 0
