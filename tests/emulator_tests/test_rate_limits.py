"""Token-bucket rate limits and the x-ratelimit-* headers on every answer."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from tests.emulator import ratelimit
from tests.emulator.ratelimit import RateLimiter, TokenBucket
from tests.emulator_tests.api import get, token_request, user_logs_path


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_spends_burst_then_refills_at_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    decisions = [limiter.take("users") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    clock.now += 0.5  # 2/s for half a second: one token back
    assert limiter.take("users").allowed
    assert not limiter.take("users").allowed


def test_remaining_counts_whole_tokens_only():
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=2, clock=clock)
    limiter.take("users")
    limiter.take("users")
    clock.now += 0.6  # 0.6 of a token: not yet one to spend
    decision = limiter.take("users")
    assert (decision.allowed, decision.remaining) == (False, 0)
    clock.now += 0.5
    assert limiter.take("users").allowed


def test_bucket_never_holds_more_than_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock)
    clock.now += 60
    bucket.refill()
    assert bucket.remaining == 2


def test_reset_is_the_epoch_second_of_the_next_token():
    clock = FakeClock()
    limiter = RateLimiter(rate=0.1, burst=1, clock=clock)  # one token per 10 s
    before = time.time()
    decision = limiter.take("logs")
    assert before + 9 <= decision.reset <= time.time() + 11
    assert isinstance(decision.reset, int)


def test_separate_buckets_limit_only_their_endpoints():
    clock = FakeClock()
    limiter = RateLimiter(rate=100, burst=100, logs_rate=1, logs_burst=1, clock=clock)
    assert limiter.take("user_logs").allowed
    assert not limiter.take("logs").allowed  # same logs bucket, now empty
    assert limiter.take("users").allowed
    assert limiter.take("users").limit == 100


def test_headers_without_a_limit_configured(emulator):
    response = get(emulator, "/api/v2/users")
    assert response.headers["x-ratelimit-limit"] == "1000"
    assert response.headers["x-ratelimit-remaining"] == "999"
    assert int(response.headers["x-ratelimit-reset"]) == pytest.approx(time.time(), abs=2)


def test_burst_then_429_with_auth0s_body(emulator_factory):
    emulator = emulator_factory(None, rate_limit=1, burst=3)
    user_id = emulator.tenant.user_ids()[0]
    responses = [get(emulator, user_logs_path(user_id)) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert {r.headers["x-ratelimit-limit"] for r in responses} == {"3"}
    assert responses[-1].json() == {
        "statusCode": 429,
        "error": "Too Many Requests",
        "message": "Global limit has been reached",
        "errorCode": "too_many_requests",
    }
    assert emulator.counters.rate_limited == 1


def test_tokens_come_back_over_time(emulator_factory):
    emulator = emulator_factory(None, rate_limit=10, burst=1)
    assert get(emulator, "/api/v2/users").status_code == 200
    assert get(emulator, "/api/v2/users").status_code == 429
    time.sleep(0.15)
    assert get(emulator, "/api/v2/users").status_code == 200


def test_errors_carry_rate_limit_headers_and_spend_tokens(emulator_factory):
    emulator = emulator_factory(None, rate_limit=1, burst=2)
    unauthorized = get(emulator, "/api/v2/users", token="bogus")
    assert unauthorized.status_code == 401
    assert unauthorized.headers["x-ratelimit-remaining"] == "1"


def test_token_endpoint_does_not_spend_management_api_tokens(emulator_factory):
    emulator = emulator_factory(None, rate_limit=1, burst=1)
    for _ in range(3):
        assert token_request(emulator).status_code == 200
    assert get(emulator, "/api/v2/users").status_code == 200


def test_logs_bucket_runs_dry_while_users_are_still_served(emulator_factory):
    emulator = emulator_factory(None, logs_rate_limit=1, logs_burst=2, users_rate_limit=50)
    user_id = emulator.tenant.user_ids()[0]
    codes = [get(emulator, user_logs_path(user_id)).status_code for _ in range(2)]
    codes.append(get(emulator, "/api/v2/logs", take=1).status_code)
    assert codes == [200, 200, 429]
    users = get(emulator, "/api/v2/users")
    assert users.status_code == 200
    assert users.headers["x-ratelimit-limit"] == "50"


def frozen_wall_clock(monkeypatch, epoch: float) -> None:
    """Pin the wall clock the limiter reads its epoch seconds from."""
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: epoch))


def test_reset_of_a_burst_429_is_the_current_second_when_the_token_comes_within_it(monkeypatch):
    frozen_wall_clock(monkeypatch, 1000.2)
    limiter = RateLimiter(rate=4, burst=1, clock=FakeClock())  # a token every 0.25 s
    limiter.take("users")
    refused = limiter.take("users")
    assert not refused.allowed
    assert refused.headers()["x-ratelimit-reset"] == "1000"  # the token comes at 1000.45


def test_reset_is_the_second_the_next_token_comes_by_default(monkeypatch):
    frozen_wall_clock(monkeypatch, 1000.0)
    limiter = RateLimiter(rate=0.5, burst=4, clock=FakeClock())  # a token every 2 s
    limiter.take("users")
    decision = limiter.take("users")  # 2 of 4 tokens left
    assert decision.headers()["x-ratelimit-reset"] == "1002"


def test_bucket_full_reset_is_the_second_the_bucket_is_full_again(monkeypatch):
    frozen_wall_clock(monkeypatch, 1000.0)
    limiter = RateLimiter(rate=0.5, burst=4, clock=FakeClock())
    limiter.take("users")
    decision = limiter.take("users")  # 2 tokens missing at 0.5/s: full in 4 s
    assert decision.headers("bucket_full")["x-ratelimit-reset"] == "1004"


def test_a_full_bucket_resets_now_under_either_reading(monkeypatch):
    frozen_wall_clock(monkeypatch, 1000.7)
    decision = RateLimiter(rate=1, burst=3, clock=FakeClock()).peek("users")
    assert decision.headers()["x-ratelimit-reset"] == "1000"
    assert decision.headers("bucket_full")["x-ratelimit-reset"] == "1000"


def test_bucket_full_reset_knob_reaches_the_headers(emulator_factory):
    emulator = emulator_factory(None, rate_limit=0.1, burst=3, ratelimit_reset="bucket_full")
    before = time.time()
    get(emulator, "/api/v2/users")
    response = get(emulator, "/api/v2/users")  # 2 tokens missing at 0.1/s: full in 20 s
    assert before + 19 <= int(response.headers["x-ratelimit-reset"]) <= time.time() + 20


def test_429_carries_no_retry_after_by_default(emulator_factory):
    emulator = emulator_factory(None, rate_limit=0.5, burst=1)
    get(emulator, "/api/v2/users")
    refused = get(emulator, "/api/v2/users")
    assert refused.status_code == 429
    assert "Retry-After" not in refused.headers


def test_retry_after_knob_gives_whole_seconds_until_a_token(emulator_factory):
    emulator = emulator_factory(None, rate_limit=0.5, burst=1, retry_after=True)
    assert "Retry-After" not in get(emulator, "/api/v2/users").headers
    refused = get(emulator, "/api/v2/users")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"  # just under 2 s to go, rounded up


def test_retry_after_is_at_least_one_second(emulator_factory):
    emulator = emulator_factory(None, rate_limit=20, burst=1, retry_after=True)
    get(emulator, "/api/v2/users")
    refused = get(emulator, "/api/v2/users")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"


def test_retry_after_knob_covers_injected_429s(emulator_factory):
    emulator = emulator_factory(None, retry_after=True)
    emulator.faults.add("429", endpoint="users")
    refused = get(emulator, "/api/v2/users")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"


def test_retry_after_can_be_switched_on_while_serving(emulator_factory):
    emulator = emulator_factory(None, rate_limit=0.5, burst=1)
    get(emulator, "/api/v2/users")
    emulator.set_behaviour(retry_after=True)
    assert get(emulator, "/api/v2/users").headers["Retry-After"] == "2"
