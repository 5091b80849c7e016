"""Pacing by Auth0's rate-limit headers, which every app of the tenant shares.

Auth0 reports a token bucket: `x-ratelimit-limit` (its size), `x-ratelimit-remaining` and
`x-ratelimit-reset` (epoch second of the next refill), but not the refill rate. The governor
predicts the bucket from the latest answer, the requests sent since, and a refill rate it
estimates from how `remaining` moves, and holds requests back while the prediction is down to
a small reserve left for the tenant's own apps. Until the first answer tells it the bucket's
size, it can let only a few requests out (a Free tenant's bucket holds two). An optional
`max_requests_per_second` caps the pace whatever the headers say. Thread-safe: one governor
serves every concurrent worker.
"""

from __future__ import annotations

import collections
import random
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# Leave a few requests in the bucket for the tenant's own applications.
DEFAULT_RESERVE = 2
# Never sleep longer than this on one header: a wrong clock or header must not stall a run.
MAX_WAIT_SECONDS = 60.0
# x-ratelimit-reset has one-second resolution; this floor keeps a 429 from being retried at once.
MIN_429_WAIT_SECONDS = 0.5
# Until a refill rate is measured, assume the slowest published one (Free: 2/s, here 1/s).
ASSUMED_REFILL_PER_SECOND = 1.0
# Spend a little under the measured refill, so estimation noise does not cause 429s.
REFILL_SAFETY = 0.97
# Refill is measured over at least this long (remaining is a whole number, so short spans
# are noisy) and at most this long (the tenant's other clients change over time).
MIN_SPAN_SECONDS, MAX_SPAN_SECONDS = 2.0, 10.0
LONGEST_SINGLE_SLEEP = 0.5
# How often a request held back until the first answer looks again.
OPENING_POLL_SECONDS = 0.02


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(float(headers[name]))
    except (KeyError, TypeError, ValueError):
        return None


class _Reading(t.NamedTuple):
    at: float  # monotonic arrival time
    seq: int  # the request's place in sending order
    remaining: int


class RateLimitGovernor:
    """Decides when the next request may go, from the headers and an optional cap.

    `before_first_answer` limits the requests in flight until one is answered (None: no
    limit). Every `acquire` must be followed by `observe` (an answer) or `unanswered`.
    """

    def __init__(
        self,
        *,
        max_per_second: float | None = None,
        before_first_answer: int | None = None,
        reserve: int = DEFAULT_RESERVE,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / max_per_second if max_per_second else 0.0
        self._reserve = reserve
        self._max_wait = max_wait
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._sent = 0
        self._opening_limit = before_first_answer
        self._opening_in_flight = 0
        self._answered = False
        self._latest: _Reading | None = None
        self._readings: collections.deque[_Reading] = collections.deque()
        self._limit: int | None = None
        self._reset_at: float | None = None
        self.refill_per_second: float | None = None
        self.waited_seconds = 0.0
        self.rate_limited = 0

    def acquire(self) -> int:
        """Wait until a request may go; returns its sequence number for `observe`."""
        while True:
            with self._lock:
                now = self._clock()
                wait = max(self._next_slot - now, self._bucket_wait(now), self._opening_wait())
                if wait <= 0:
                    self._sent += 1
                    if not self._answered:
                        self._opening_in_flight += 1
                    if self._interval:
                        self._next_slot = max(self._next_slot, now) + self._interval
                    return self._sent
            wait = min(wait, LONGEST_SINGLE_SLEEP)
            self.record_wait(wait)
            self._sleep(wait)

    def observe(self, headers: Mapping[str, str], seq: int) -> None:
        """Learn from the headers of the answer to request `seq`."""
        remaining = _header_int(headers, "x-ratelimit-remaining")
        limit = _header_int(headers, "x-ratelimit-limit")
        reset_at = _header_int(headers, "x-ratelimit-reset")
        with self._lock:
            self._answered = True
            if limit is not None:
                self._limit = limit
            if reset_at is not None:
                self._reset_at = float(reset_at)
            if remaining is None:
                return
            reading = _Reading(self._clock(), seq, remaining)
            if self._latest is None or seq >= self._latest.seq:
                self._latest = reading
            self._learn_refill(reading)

    def unanswered(self) -> None:
        """A request ended without an answer (a connection error, a timeout)."""
        with self._lock:
            if not self._answered:
                self._opening_in_flight -= 1

    def wait_after_429(self, headers: Mapping[str, str], seq: int) -> float:
        """Seconds to wait before retrying a request that Auth0 answered with 429."""
        self.observe(headers, seq)
        with self._lock:
            self.rate_limited += 1
            base = max(self._until_reset(), MIN_429_WAIT_SECONDS)
        # Jitter spreads the retries of concurrent workers over the refill.
        return min(base + random.uniform(0, 0.25 * base), self._max_wait)

    def record_wait(self, seconds: float) -> None:
        """Count time spent waiting on the rate limit."""
        with self._lock:
            self.waited_seconds += seconds

    def _opening_wait(self) -> float:
        limit = self._opening_limit
        if limit is None or self._answered or self._opening_in_flight < limit:
            return 0.0
        return OPENING_POLL_SECONDS

    def _bucket_wait(self, now: float) -> float:
        latest = self._latest
        if latest is None:
            return 0.0
        refill = (self.refill_per_second or ASSUMED_REFILL_PER_SECOND) * REFILL_SAFETY
        in_flight = self._sent - latest.seq
        predicted = latest.remaining - in_flight + refill * (now - latest.at)
        if predicted > self._reserve:
            return 0.0
        return min((self._reserve + 1 - predicted) / refill, self._max_wait)

    def _learn_refill(self, reading: _Reading) -> None:
        readings = self._readings
        readings.append(reading)
        while readings and reading.at - readings[0].at > MAX_SPAN_SECONDS:
            readings.popleft()
        oldest = readings[0]
        span = reading.at - oldest.at
        full = self._limit if self._limit is not None else float("inf")
        # A full bucket wastes its refill, so only spans that stay below full say the rate.
        if span < MIN_SPAN_SECONDS or max(oldest.remaining, reading.remaining) >= full - 1:
            return
        spent = reading.seq - oldest.seq
        measured = (reading.remaining - oldest.remaining + spent) / span
        if measured <= 0:
            return
        previous = self.refill_per_second
        self.refill_per_second = measured if previous is None else 0.8 * previous + 0.2 * measured

    def _until_reset(self) -> float:
        if self._reset_at is None:
            return 0.0
        return min(max(self._reset_at - self._wall_clock(), 0.0), self._max_wait)
