"""A cap on Management API requests in flight at once, as Private Cloud sets per tenant."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import requests

from tests.emulator import Emulator
from tests.emulator_tests.api import get, token_request


def hold_requests(emulator: Emulator, n: int) -> list[threading.Thread]:
    """Start ``n`` requests that hang in the emulator until released, and wait until they do."""
    emulator.faults.add("hang", endpoint="users", count=n, hang_seconds=30)

    def call() -> None:
        with contextlib.suppress(requests.RequestException):
            get(emulator, "/api/v2/users", timeout=30)

    callers = [threading.Thread(target=call, daemon=True) for _ in range(n)]
    for caller in callers:
        caller.start()
    while emulator.counters.in_flight < n:
        time.sleep(0.01)
    return callers


def test_request_beyond_the_cap_is_answered_429(emulator_factory):
    emulator = emulator_factory(None, max_concurrent_requests=2)
    hold_requests(emulator, 2)
    response = get(emulator, "/api/v2/logs", take=5)
    assert response.status_code == 429
    body = response.json()
    assert (body["statusCode"], body["errorCode"]) == (429, "too_many_requests")
    assert body["message"] == "Too many concurrent requests"
    assert "x-ratelimit-limit" in response.headers
    assert emulator.counters.rate_limited == 1


def test_requests_within_the_cap_are_served(emulator_factory):
    emulator = emulator_factory(None, max_concurrent_requests=3)
    hold_requests(emulator, 2)
    assert get(emulator, "/api/v2/logs", take=5).status_code == 200


def test_token_requests_are_not_management_api_requests(emulator_factory):
    emulator = emulator_factory(None, max_concurrent_requests=1)
    hold_requests(emulator, 1)
    assert token_request(emulator).status_code == 200


def test_a_slot_frees_when_its_request_is_answered(emulator_factory):
    emulator = emulator_factory(None, max_concurrent_requests=1)
    for _ in range(5):
        assert get(emulator, "/api/v2/users").status_code == 200


def test_cap_can_change_while_serving(emulator_factory):
    emulator = emulator_factory(None)
    assert emulator.max_concurrent_requests is None
    hold_requests(emulator, 2)
    assert get(emulator, "/api/v2/users").status_code == 200
    emulator.max_concurrent_requests = 2
    assert get(emulator, "/api/v2/users").status_code == 429
    emulator.max_concurrent_requests = None
    assert get(emulator, "/api/v2/users").status_code == 200


@pytest.mark.parametrize("value", [0, -3, 1.5, True])
def test_a_cap_needs_a_whole_number_of_requests(value):
    with pytest.raises(ValueError, match="concurrency cap"):
        Emulator(None, max_concurrent_requests=value)
