"""Injected faults: each kind, and how count/after/endpoint/user_id pick the requests."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
import requests

from tests.emulator_tests.api import get, token_request, user_logs_path


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("500", "Internal Server Error"),
        ("502", "Bad Gateway"),
        ("503", "Service Unavailable"),
        ("504", "Gateway Timeout"),
    ],
)
def test_server_errors_have_auth0_shaped_bodies(emulator, kind, error):
    emulator.faults.add(kind)
    response = get(emulator, "/api/v2/users")
    assert response.status_code == int(kind)
    body = response.json()
    assert (body["statusCode"], body["error"]) == (int(kind), error)
    assert get(emulator, "/api/v2/users").status_code == 200  # count=1: the next one is fine


def test_429_fault_says_no_tokens_remain(emulator):
    emulator.faults.add("429", endpoint="user_logs")
    response = get(emulator, user_logs_path(emulator.tenant.user_ids()[0]))
    assert response.status_code == 429
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) >= int(time.time())
    assert response.json()["errorCode"] == "too_many_requests"
    assert emulator.counters.rate_limited == 1


def test_html_fault_is_a_proxy_page(emulator):
    emulator.faults.add("html")
    response = get(emulator, "/api/v2/users")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text


def test_reset_drops_the_connection_without_an_answer(emulator):
    emulator.faults.add("reset")
    with pytest.raises(requests.ConnectionError):
        get(emulator, "/api/v2/users")
    assert get(emulator, "/api/v2/users").status_code == 200
    assert [r.status for r in emulator.request_log] == [None, 200]


def test_hang_outlasts_the_clients_timeout(emulator):
    emulator.faults.add("hang", hang_seconds=5)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        get(emulator, "/api/v2/users", timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_stop_is_fast_with_a_hung_request_in_flight(emulator_factory):
    emulator = emulator_factory(None)
    emulator.faults.add("hang", hang_seconds=30)

    def hung_call() -> None:
        with contextlib.suppress(requests.RequestException):
            get(emulator, "/api/v2/users", timeout=30)

    caller = threading.Thread(target=hung_call, daemon=True)
    caller.start()
    while emulator.counters.in_flight == 0:
        time.sleep(0.01)
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 2
    caller.join(timeout=5)
    assert not caller.is_alive()


def test_truncated_body_is_half_the_json_with_a_matching_length(emulator):
    emulator.faults.add("truncated", endpoint="user_logs")
    response = get(emulator, user_logs_path(emulator.tenant.user_ids()[0]))
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.content.startswith(b"[{")


def test_invalid_json_is_a_200_that_does_not_parse(emulator):
    emulator.faults.add("invalid_json")
    response = get(emulator, "/api/v2/users")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_revoke_token_answers_401_and_the_token_stays_dead(emulator):
    token = emulator.issue_token()
    emulator.faults.add("revoke_token")
    assert get(emulator, "/api/v2/users", token=token).status_code == 401
    assert get(emulator, "/api/v2/users", token=token).status_code == 401
    assert get(emulator, "/api/v2/users").status_code == 200  # other tokens unaffected


def test_delete_user_mid_sync_serves_the_request_as_for_an_unknown_user(emulator):
    user_id = emulator.tenant.user_ids()[0]
    emulator.faults.add("delete_user", endpoint="user_logs")
    response = get(emulator, user_logs_path(user_id))
    assert response.status_code == 200
    assert response.json() == []
    assert user_id not in emulator.tenant.user_ids()


def test_after_skips_then_count_fires(emulator):
    emulator.faults.add("503", endpoint="users", after=2, count=2)
    codes = [get(emulator, "/api/v2/users").status_code for _ in range(5)]
    assert codes == [200, 200, 503, 503, 200]


def test_fault_for_one_endpoint_spares_the_others(emulator):
    emulator.faults.add("500", endpoint="logs")
    assert get(emulator, "/api/v2/users").status_code == 200
    assert get(emulator, "/api/v2/logs", take=1).status_code == 500


def test_fault_for_one_user_spares_the_others(emulator):
    first, second = emulator.tenant.user_ids()[:2]
    emulator.faults.add("500", endpoint="user_logs", user_id=second)
    assert get(emulator, user_logs_path(first)).status_code == 200
    assert get(emulator, user_logs_path(second)).status_code == 500


def test_token_endpoint_faults(emulator):
    emulator.faults.add("503", endpoint="token")
    assert token_request(emulator).status_code == 503
    assert token_request(emulator).status_code == 200


def test_random_faults_repeat_for_the_same_seed(emulator_factory):
    def run(seed: int) -> list[int | None]:
        emulator = emulator_factory(None)
        emulator.faults.random(0.5, kinds=("500", "503"), seed=seed)
        return [get(emulator, "/api/v2/users").status_code for _ in range(20)]

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert first != other
    assert {200, 500, 503} <= set(first)


def test_emulator_fault_rate_injects_transient_faults(emulator_factory):
    emulator = emulator_factory(None, fault_rate=1.0, seed=3)
    statuses = set()
    for _ in range(30):
        try:
            statuses.add(get(emulator, "/api/v2/users").status_code)
        except requests.ConnectionError:
            statuses.add("reset")
    assert 200 not in statuses
    assert len(statuses) >= 4


def test_clear_stops_every_fault(emulator):
    emulator.faults.add("500", count=None)
    emulator.faults.random(1.0, kinds=("503",))
    assert get(emulator, "/api/v2/users").status_code == 500
    emulator.faults.clear()
    assert get(emulator, "/api/v2/users").status_code == 200


def test_unknown_kind_is_a_programming_error(emulator):
    with pytest.raises(ValueError, match="unknown fault kind"):
        emulator.faults.add("418")
