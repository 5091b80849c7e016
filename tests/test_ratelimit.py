"""The rate-limit governor's arithmetic, on a fake clock.

The simulations drive the governor against a model of Auth0's token bucket: the same
event order every run (a fixed seed for the jitter), and no real sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import typing as t
from dataclasses import dataclass

import pytest

from tap_auth0_userlogs.auth0.ratelimit import (
    ASSUMED_REFILL_PER_SECOND,
    REFILL_SAFETY,
    RateLimitGovernor,
)

FREE = (2.0, 2)  # refill per second, bucket size
ESSENTIALS_LOGS = (100 / 60, 10)
ENTERPRISE = (16.0, 50)
RESET_READINGS = ("next_token", "bucket_full", "current_second")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.3
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def governor(clock: FakeClock, **kwargs) -> RateLimitGovernor:
    return RateLimitGovernor(
        clock=clock, wall_clock=clock, sleep=clock.sleep, rng=random.Random(7), **kwargs
    )


def headers(remaining: int, limit: int = 50, reset: float = 0) -> dict[str, str]:
    return {
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-reset": str(int(reset)),
    }


@dataclass
class Auth0Bucket:
    """Auth0's tenant bucket on the fake clock, with either reading of x-ratelimit-reset.

    `next_token`: the second the next token comes (Auth0's docs); `bucket_full`: the second
    the bucket is full again; `current_second`: the current second on a 429 (seen on bursts).
    """

    clock: FakeClock
    rate: float
    size: int
    reset: str = "next_token"
    retry_after: bool = False

    def __post_init__(self) -> None:
        self.tokens = float(self.size)
        self.updated = self.clock.now

    def take(self) -> tuple[bool, dict[str, str]]:
        now = self.clock.now
        self.tokens = min(self.size, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        allowed = self.tokens >= 1
        if allowed:
            self.tokens -= 1
        answer = headers(int(self.tokens), self.size, self._reset_epoch(allowed))
        if not allowed and self.retry_after:
            answer["retry-after"] = str(math.ceil((1 - self.tokens) / self.rate))
        return allowed, answer

    def _reset_epoch(self, allowed: bool) -> int:
        now = self.clock.now
        if self.reset == "current_second" and not allowed:
            return int(now)
        if self.reset == "bucket_full":
            return math.ceil(now + (self.size - self.tokens) / self.rate)
        if self.tokens >= self.size:
            return int(now)
        return math.ceil(now + (math.floor(self.tokens) + 1 - self.tokens) / self.rate)


@dataclass
class Run:
    served: int = 0
    rejected: int = 0
    elapsed: float = 0.0
    other_served: int = 0
    longest_429_wait: float = 0.0

    def share_of_limit(self, bucket: Auth0Bucket) -> float:
        """Our requests against all the bucket could give us: its size, the refill over the
        run, less what the tenant's other apps spent."""
        return self.served / (bucket.size + bucket.rate * self.elapsed - self.other_served)

    def share_rejected(self) -> float:
        return self.rejected / (self.served + self.rejected)


def simulate(
    gov: RateLimitGovernor,
    bucket: Auth0Bucket,
    *,
    requests: int,
    workers: int = 1,
    latency: float = 0.08,
    other_apps_per_second: float = 0.0,
) -> Run:
    """`workers` concurrent clients send `requests` through one governor, events in time order.

    A request reaches the bucket half a round trip after it is sent; a 429 is retried after
    the governor's wait. Other apps, if any, take a token at a steady rate.
    """
    clock = bucket.clock
    events: list[tuple[float, int, t.Callable[[], None]]] = []
    order = itertools.count()
    run, started, to_start, working = Run(), clock.now, [requests], [workers]

    def at(when: float, action: t.Callable[[], None]) -> None:
        heapq.heappush(events, (when, next(order), action))

    def send() -> None:
        seq, wait = gov.try_acquire()
        if seq is None:
            at(clock.now + wait, send)
        else:
            at(clock.now + latency / 2, lambda: serve(seq))

    def serve(seq: int) -> None:
        allowed, answer_headers = bucket.take()
        at(clock.now + latency / 2, lambda: answer(seq, allowed, answer_headers))

    def answer(seq: int, allowed: bool, answer_headers: dict[str, str]) -> None:
        gov.observe(answer_headers, seq)
        if allowed:
            run.served += 1
            run.elapsed = clock.now - started
            start_next()
        else:
            run.rejected += 1
            wait = gov.wait_after_429(answer_headers, seq)
            run.longest_429_wait = max(run.longest_429_wait, wait)
            at(clock.now + wait, send)

    def start_next() -> None:
        if to_start[0]:
            to_start[0] -= 1
            send()
        else:
            working[0] -= 1

    def other_app() -> None:
        if working[0]:
            run.other_served += bucket.take()[0]
            at(clock.now + 1 / other_apps_per_second, other_app)

    for _ in range(workers):
        at(clock.now, start_next)
    if other_apps_per_second:
        at(clock.now + 0.5 / other_apps_per_second, other_app)
    while events:
        when, _, action = heapq.heappop(events)
        clock.now = max(clock.now, when)
        action()
    return run


def tap_governor(clock: FakeClock, **kwargs) -> RateLimitGovernor:
    """As the tap builds it: one request out until the first answer; never sleeps here."""

    def no_sleep(seconds: float) -> None:
        raise AssertionError("the simulation waits by events, not by sleeping")

    return RateLimitGovernor(
        clock=clock,
        wall_clock=clock,
        sleep=no_sleep,
        before_first_answer=1,
        rng=random.Random(7),
        **kwargs,
    )


# ------------------------------------------------------------------ the arithmetic


def test_nothing_known_means_no_wait():
    clock = FakeClock()
    gov = governor(clock)

    for _ in range(5):
        gov.acquire()

    assert clock.slept == 0


def test_spends_what_the_bucket_holds_then_waits_for_the_refill():
    clock = FakeClock()
    gov = governor(clock)
    gov.observe(headers(remaining=10), gov.acquire())

    for _ in range(10):  # 10 left: no fixed reserve of tokens is kept back
        gov.acquire()
    assert clock.slept == 0
    gov.acquire()

    assert clock.slept > 0


def test_learns_the_refill_rate_from_the_headers():
    clock = FakeClock()
    gov = governor(clock)
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
    gov = governor(clock)
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
    assert sent >= 0.9 * (16 * elapsed + 50)
    assert rejected <= 0.01 * (sent + rejected)


def test_max_requests_per_second_spaces_requests_evenly():
    clock = FakeClock()
    gov = governor(clock, max_per_second=8)
    starts = []
    for _ in range(17):
        gov.acquire()
        starts.append(clock.now)

    assert starts[-1] - starts[0] == pytest.approx(2.0)


def test_429_waits_for_one_token_not_for_the_reset():
    clock = FakeClock()
    gov = governor(clock, max_wait=60)
    one_token = 1 / ASSUMED_REFILL_PER_SECOND

    soon = gov.wait_after_429(headers(remaining=0, reset=clock.now + 3), gov.acquire())
    absurd = gov.wait_after_429(headers(remaining=0, reset=clock.now + 86400), gov.acquire())
    now = gov.wait_after_429(headers(remaining=0, reset=clock.now), gov.acquire())

    for wait in (soon, absurd, now):
        assert one_token <= wait <= 1.25 * one_token
    assert gov.rate_limited == 3


def test_a_reset_read_as_bucket_full_never_waits_for_a_full_bucket():
    clock = FakeClock()
    gov = tap_governor(clock)
    # 100 a minute, bucket of 100: empty, the bucket is full again a minute from now.
    bucket = Auth0Bucket(clock, rate=100 / 60, size=100, reset="bucket_full")
    simulate(gov, bucket, requests=300, workers=2)
    clock.now += 10  # the bucket refills...
    seq, _ = gov.try_acquire()
    assert seq is not None
    bucket.tokens, bucket.updated = 0.0, clock.now  # ...and the tenant's own apps take it all

    allowed, answer = bucket.take()
    wait = gov.wait_after_429(answer, seq)

    assert not allowed
    assert int(answer["x-ratelimit-reset"]) - clock.now > 55
    # One token at the rate it measured (within its safety margin), plus a quarter of jitter.
    assert wait <= 1.25 / (REFILL_SAFETY * bucket.rate)


def test_retry_after_holds_every_request_back():
    clock = FakeClock()
    gov = governor(clock)
    gov.observe(headers(remaining=20), gov.acquire())
    rejected = {**headers(remaining=0), "retry-after": "3"}

    wait = gov.wait_after_429(rejected, gov.acquire())
    gov.acquire()  # another worker's request, with tokens predicted

    assert 3 <= wait <= 3.25
    assert clock.slept == pytest.approx(3)


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


# ------------------------------------------------------------------ against Auth0's buckets


@pytest.mark.parametrize("reset", RESET_READINGS)
@pytest.mark.parametrize(
    ("plan", "workers", "requests"),
    [(FREE, 1, 300), (FREE, 4, 300), (ESSENTIALS_LOGS, 4, 300), (ENTERPRISE, 4, 1000)],
    ids=["free-1-worker", "free-4-workers", "essentials-logs", "enterprise"],
)
def test_fills_the_bucket_with_few_429s(plan, workers, requests, reset):
    clock = FakeClock()
    rate, size = plan
    bucket = Auth0Bucket(clock, rate, size, reset=reset)

    run = simulate(tap_governor(clock), bucket, requests=requests, workers=workers)

    assert run.share_of_limit(bucket) >= 0.9
    assert run.share_rejected() < 0.02


@pytest.mark.parametrize("workers", [1, 4])
def test_a_bucket_of_two_150_ms_away_is_filled_from_the_start(workers):
    # A whole token of `remaining` is half this bucket, and it refills over the round trip
    # between Auth0's reading and the next request's arrival: counting only the time since
    # the answer left 12% of it unspent in a 15 s run.
    clock = FakeClock()
    bucket = Auth0Bucket(clock, *FREE)

    run = simulate(tap_governor(clock), bucket, requests=30, workers=workers, latency=0.15)

    assert run.share_of_limit(bucket) >= 0.92
    assert run.rejected == 0


@pytest.mark.parametrize("plan", [FREE, ESSENTIALS_LOGS, ENTERPRISE], ids=str)
def test_retry_after_keeps_the_bucket_filled(plan):
    clock = FakeClock()
    bucket = Auth0Bucket(clock, *plan, retry_after=True)

    run = simulate(tap_governor(clock), bucket, requests=300, workers=4)

    assert run.share_of_limit(bucket) >= 0.9
    assert run.share_rejected() < 0.02


@pytest.mark.parametrize("plan", [ESSENTIALS_LOGS, ENTERPRISE], ids=str)
def test_other_apps_spending_a_fifth_of_the_refill(plan):
    clock = FakeClock()
    bucket = Auth0Bucket(clock, *plan)

    run = simulate(
        tap_governor(clock), bucket, requests=600, workers=4, other_apps_per_second=plan[0] / 5
    )

    assert run.share_of_limit(bucket) >= 0.9
    assert run.share_rejected() < 0.02


def test_learns_a_refill_faster_than_it_assumed_on_a_bucket_of_two():
    clock = FakeClock()
    gov = tap_governor(clock)

    simulate(gov, Auth0Bucket(clock, *FREE), requests=120)

    assert gov.refill_per_second is not None
    assert gov.refill_per_second > 1.8


def test_max_requests_per_second_caps_the_pace_on_a_roomy_bucket():
    clock = FakeClock()
    bucket = Auth0Bucket(clock, *ENTERPRISE)

    run = simulate(tap_governor(clock, max_per_second=4), bucket, requests=200, workers=4)

    assert run.served / run.elapsed <= 4.05


def answer_after(gov: RateLimitGovernor, clock: FakeClock, seconds: float, **answer) -> None:
    seq = gov.acquire()
    clock.now += seconds
    gov.observe(headers(**answer), seq)


def test_one_request_in_flight_until_a_round_trip_is_timed():
    clock = FakeClock()
    gov = governor(clock)

    assert gov.in_flight_needed(cap=128) == 1


def test_in_flight_covers_the_bucket_per_second_over_a_round_trip_until_a_refill_is_measured():
    clock = FakeClock()
    gov = governor(clock)

    answer_after(gov, clock, 0.15, remaining=99, limit=100)

    # 100 a second less the 5% headroom, over 150 ms: 15 requests, and one more.
    assert gov.in_flight_needed(cap=128) == 16
    assert gov.in_flight_needed(cap=4) == 4


def test_in_flight_follows_the_measured_refill():
    clock = FakeClock()
    gov = governor(clock)
    gov.refill_per_second = 16.0
    answer_after(gov, clock, 0.15, remaining=40, limit=50)

    assert gov.in_flight_needed(cap=128) == math.ceil(16 * 0.95 * 0.15) + 1


def test_never_more_in_flight_than_the_bucket_holds():
    clock = FakeClock()
    gov = governor(clock)

    answer_after(gov, clock, 2.0, remaining=1, limit=2)

    assert gov.in_flight_needed(cap=128) == 2


def test_a_cap_on_requests_per_second_caps_what_is_in_flight():
    clock = FakeClock()
    gov = governor(clock, max_per_second=4)

    answer_after(gov, clock, 0.5, remaining=99, limit=100)

    assert gov.in_flight_needed(cap=128) == 3  # 4 a second over half a second, and one more


def test_without_rate_limit_headers_one_request_at_a_time():
    clock = FakeClock()
    gov = governor(clock)
    seq = gov.acquire()
    clock.now += 0.01
    gov.observe({}, seq)

    assert gov.in_flight_needed(cap=128) == 1


def test_the_refill_earned_before_it_was_measured_is_spent():
    # Until the refill is measured the pace is a guess (100 a minute): a fast bucket refills
    # meanwhile, and those tokens are spent once the rate is known, not left unspent all run.
    clock = FakeClock()
    bucket = Auth0Bucket(clock, *ENTERPRISE)

    run = simulate(tap_governor(clock), bucket, requests=220, workers=10, latency=0.15)

    assert run.share_of_limit(bucket) >= 0.92
    assert run.rejected == 0
