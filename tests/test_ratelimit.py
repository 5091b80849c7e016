"""The rate-limit governor's arithmetic, on a fake clock."""

from __future__ import annotations

import pytest

from tap_auth0_userlogs.ratelimit import RateLimitGovernor


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def governor(clock: FakeClock, **kwargs) -> RateLimitGovernor:
    return RateLimitGovernor(clock=clock, wall_clock=clock, sleep=clock.sleep, **kwargs)


def headers(remaining: int, limit: int = 50, reset: float = 0) -> dict[str, str]:
    return {
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-reset": str(int(reset)),
    }


def test_nothing_known_means_no_wait():
    clock = FakeClock()
    gov = governor(clock)

    for _ in range(5):
        gov.acquire()

    assert clock.slept == 0


def test_holds_back_when_only_the_reserve_is_left():
    clock = FakeClock()
    gov = governor(clock, reserve=2)
    gov.observe(headers(remaining=10), gov.acquire())

    for _ in range(8):  # 10 left: eight more go out before only the reserve is predicted
        gov.acquire()
    assert clock.slept == 0
    gov.acquire()

    assert clock.slept > 0


def test_learns_the_refill_rate_from_the_headers():
    clock = FakeClock()
    gov = governor(clock, reserve=2)
    tokens = 40.0
    # A server bucket refilling 16/s while the client sends 20/s for 6 seconds.
    for _ in range(120):
        seq = gov.acquire()
        tokens -= 1
        gov.observe(headers(remaining=int(tokens)), seq)
        clock.now += 0.05
        tokens = min(50.0, tokens + 16 * 0.05)

    assert gov.refill_per_second == pytest.approx(16, rel=0.1)


def test_paces_to_the_refill_once_the_bucket_runs_low():
    clock = FakeClock()
    gov = governor(clock, reserve=2)
    tokens, sent, rejected = 50.0, 0, 0
    started = refilled = clock.now
    while clock.now - started < 30:
        seq = gov.acquire()
        # The server's bucket refills 16/s of real (here: fake) time, sleeps included.
        tokens = min(50.0, tokens + 16 * (clock.now - refilled))
        refilled = clock.now
        if tokens >= 1:
            tokens -= 1
            sent += 1
        else:
            rejected += 1
        gov.observe(headers(remaining=int(tokens)), seq)
        clock.now += 0.01  # the request's round trip

    elapsed = clock.now - started
    # The refill over the run plus the initial burst is the most the bucket can give.
    assert sent >= 0.95 * (16 * elapsed + 50)
    assert rejected <= 0.01 * (sent + rejected)


def test_max_requests_per_second_spaces_requests_evenly():
    clock = FakeClock()
    gov = governor(clock, max_per_second=8)
    starts = []
    for _ in range(17):
        gov.acquire()
        starts.append(clock.now)

    assert starts[-1] - starts[0] == pytest.approx(2.0)


def test_429_waits_until_the_reset_but_never_long():
    clock = FakeClock()
    gov = governor(clock, max_wait=60)

    soon = gov.wait_after_429(headers(remaining=0, reset=clock.now + 3), gov.acquire())
    absurd = gov.wait_after_429(headers(remaining=0, reset=clock.now + 86400), gov.acquire())

    assert 3 <= soon <= 3.75
    assert absurd == 60
    assert gov.rate_limited == 2


def test_before_the_first_answer_only_the_opening_requests_go():
    clock = FakeClock()
    answered_at = []

    def sleep_until_the_answer(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.slept >= 0.1 and not answered_at:  # the first answer arrives after 100 ms
            answered_at.append(clock.now)
            gov.observe(headers(remaining=40), first)

    gov = RateLimitGovernor(
        clock=clock, wall_clock=clock, sleep=sleep_until_the_answer, before_first_answer=1
    )
    first = gov.acquire()
    gov.acquire()

    assert answered_at  # the second request waited for the answer...
    assert clock.now == pytest.approx(answered_at[0])  # ...and went as soon as it came
    for _ in range(5):  # then the headers decide: 40 left, no wait
        gov.acquire()
    assert clock.now == pytest.approx(answered_at[0])


def test_a_request_that_got_no_answer_frees_its_opening_place():
    clock = FakeClock()
    gov = governor(clock, before_first_answer=1)

    gov.acquire()
    gov.unanswered()  # say, a connection reset
    gov.acquire()

    assert clock.slept == 0
