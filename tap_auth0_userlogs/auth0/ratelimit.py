"""Pacing by Auth0's rate-limit headers, which every app of the tenant shares.

Auth0 reports a token bucket: `x-ratelimit-limit` (its size), `x-ratelimit-remaining` and
`x-ratelimit-reset`, but not the refill rate, and `x-ratelimit-reset` is read two ways (when
tokens are next added; when the bucket is full again). So the governor paces from the refill
rate it measures: `remaining` plus the requests spent between two answers, over a span in
which the bucket was never full, is the refill. Two gates decide when a request goes:

- the bucket: the latest `remaining`, less the requests sent since, plus the measured refill
  since Auth0 read it (before its answer travelled back: half the fastest round trip is
  counted), must hold a whole token (no 429s from our own traffic);
- the pace: an allowance refilled at the measured rate less a share left for the tenant's own
  apps (`headroom`), and at most `max_requests_per_second`.

A bucket seen full means the pace is below the refill, which a span that includes a full
bucket cannot measure: the pace then probes upward until the bucket drains and a new span
measures the rate. Any span, full or not, also gives a floor on the rate (a full bucket only
hides refill), which lifts the estimate on a bucket of two that is full every other answer.
A 429 slows the bucket gate; `Retry-After` holds every request back.
Until the first answer tells it the bucket's size, it can let only a few requests out (a Free
tenant's bucket holds two). Thread-safe: one governor serves every concurrent worker.

It also says how many requests are worth keeping in flight (`in_flight_needed`): enough to
spend the pace over one round trip, which it measures from each request's send to its answer,
plus one; never more than the bucket holds.
"""

from __future__ import annotations

import collections
import math
import random
import threading
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# The share of the refill left unspent for the tenant's own applications.
DEFAULT_HEADROOM = 0.05
# Never sleep longer than this on one header: a wrong clock or header must not stall a run.
MAX_WAIT_SECONDS = 60.0
# Until a refill rate is measured, assume the slowest published one: reading logs on
# Essentials and Professional, 100 a minute (Free's whole bucket refills at 2/s).
ASSUMED_REFILL_PER_SECOND = 100 / 60
# The bucket gate spends a little under the measured refill, so noise does not cause 429s.
REFILL_SAFETY = 0.97
# A refill measurement needs this many seconds and tokens (remaining is a whole number, so
# short spans are noisy); older answers are forgotten (the tenant's other apps change).
MIN_SPAN_SECONDS, MIN_SPAN_TOKENS, MAX_SPAN_SECONDS = 1.0, 8, 10.0
# Weight of a new measurement in the running estimate.
MEASURE_WEIGHT = 0.3
# While the bucket is seen full, the pace grows by this factor at most once a PROBE_SECONDS.
PROBE_STEP, PROBE_SECONDS = 1.25, 1.0
# A 429 means the bucket gate ran ahead of the real refill (or other apps spent it).
SLOWDOWN_AFTER_429 = 0.9
# Jitter spreads the retries of concurrent workers over the refill.
JITTER_SHARE = 0.25
LONGEST_SINGLE_SLEEP = 0.5
# Float rounding leaves waits of 1e-17 s that no clock can tell from none.
NEGLIGIBLE_WAIT = 1e-6
# How often a request held back until the first answer looks again.
OPENING_POLL_SECONDS = 0.02
# Weight of a new round trip in the running estimate.
ROUND_TRIP_WEIGHT = 0.2
# The share of the fastest round trip during which the bucket refills unseen between a
# reading and the next request's token (see `_bucket_wait`).
ROUND_TRIP_CREDIT = 0.5
# Requests in flight where Auth0 sends no rate-limit headers (it always does; an emulator or a
# proxy may not): no bucket to fill, so the tap's own speed bounds the pass, and one reader
# spends the least CPU on it.
IN_FLIGHT_WITHOUT_LIMIT = 1


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    number = _header_number(headers, name)
    return None if number is None else int(number)


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
        headroom: float = DEFAULT_HEADROOM,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._max_per_second = max_per_second or None
        self._interval = 1.0 / max_per_second if max_per_second else 0.0
        self._headroom = headroom
        self._max_wait = max_wait
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._random = rng or random.Random()
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._sent = 0
        self._opening_limit = before_first_answer
        self._opening_in_flight = 0
        self._answered = False
        self._latest: _Reading | None = None
        self._readings: collections.deque[_Reading] = collections.deque()
        self._rejected: collections.deque[int] = collections.deque()
        self._limit: int | None = None
        self._reset_at: float | None = None
        self._allowance = 0.0
        self._allowance_at = 0.0
        # When the first answer told the bucket's size: the allowance is earned from then on.
        self._limit_known_at: float | None = None
        self._last_full: _Reading | None = None
        self._probe = 1.0
        self._probed_at = float("-inf")
        self._slowed_at = float("-inf")
        self._hold_until = float("-inf")
        self._sent_at: dict[int, float] = {}
        # The refill measured from the headers; None until a span has measured it.
        self.refill_per_second: float | None = None
        # Seconds from a request's send to its answer, as a running estimate, and the least.
        self.round_trip: float | None = None
        self._fastest_round_trip: float | None = None
        self.waited_seconds = 0.0
        self.rate_limited = 0

    def acquire(self) -> int:
        """Wait until a request may go; returns its sequence number for `observe`."""
        while True:
            seq, wait = self.try_acquire()
            if seq is not None:
                return seq
            wait = min(wait, LONGEST_SINGLE_SLEEP)
            self.record_wait(wait)
            self._sleep(wait)

    def try_acquire(self) -> tuple[int | None, float]:
        """A sequence number if a request may go now, else None and the seconds to wait."""
        with self._lock:
            now = self._clock()
            self._top_up_allowance(now)
            wait = max(
                self._next_slot - now,
                self._hold_until - now,
                self._bucket_wait(now),
                self._allowance_wait(),
                self._opening_wait(),
            )
            if wait > NEGLIGIBLE_WAIT:
                return None, min(wait, self._max_wait)
            self._sent += 1
            self._sent_at[self._sent] = now
            if self._limit is not None:
                self._allowance -= 1
            if not self._answered:
                self._opening_in_flight += 1
            if self._interval:
                self._next_slot = max(self._next_slot, now) + self._interval
            return self._sent, 0.0

    def observe(self, headers: Mapping[str, str], seq: int) -> None:
        """Learn from the headers of the answer to request `seq`."""
        remaining = _header_int(headers, "x-ratelimit-remaining")
        limit = _header_int(headers, "x-ratelimit-limit")
        reset_at = _header_number(headers, "x-ratelimit-reset")
        with self._lock:
            now = self._clock()
            self._answered = True
            self._time_round_trip(seq, now)
            if limit is not None and limit > 0:
                if self._limit is None:
                    # The first answer: the bucket's size is the first burst we may spend.
                    self._allowance, self._allowance_at = float(limit), now
                    self._limit_known_at = now
                self._limit = limit
            if reset_at is not None:
                self._reset_at = reset_at
            latest = self._latest
            if remaining is None:
                return
            if latest is not None and seq <= latest.seq:
                # Overtaken by a later request's answer: it can only say the bucket was full.
                if self._is_full(remaining):
                    self._saw_full(latest)
                return
            reading = _Reading(now, seq, remaining)
            self._latest = reading
            self._learn_refill(reading)

    def unanswered(self, seq: int | None = None) -> None:
        """Request `seq` ended without an answer (a connection error, a timeout)."""
        with self._lock:
            if seq is not None:
                self._sent_at.pop(seq, None)
            if not self._answered:
                self._opening_in_flight -= 1

    def wait_after_429(self, headers: Mapping[str, str], seq: int) -> float:
        """Seconds to wait before retrying a request that Auth0 answered with 429."""
        with self._lock:
            self._rejected.append(seq)  # it took no token: spans must not count it as spent
        self.observe(headers, seq)
        retry_after = _header_number(headers, "retry-after")
        with self._lock:
            self.rate_limited += 1
            now = self._clock()
            if retry_after is not None and retry_after >= 0:
                # Auth0 said when: no request of ours goes before then.
                base = min(retry_after, self._max_wait)
                self._hold_until = max(self._hold_until, now + base)
                return base + self._random.uniform(0, JITTER_SHARE * min(base, 1.0))
            self._slow_down(now)
            # One token's refill; either reading of the reset is no earlier than that token.
            base = 1.0 / self._gate_refill()
            until_reset = self._until_reset()
            if until_reset > 0:
                base = min(base, until_reset)
        return min(base + self._random.uniform(0, JITTER_SHARE * base), self._max_wait)

    def in_flight_needed(self, cap: int) -> int:
        """How many requests to keep in flight: the pace times the round trip, plus one.

        Never more than the bucket holds (a burst beyond it is refused) nor `cap`. Until the
        refill is measured, the bucket's size per second stands for it: that over-estimates
        only the small buckets (Essentials: 10 against 100 a minute), whose round trips need
        few requests in flight anyway.
        """
        with self._lock:
            if not self._answered or self.round_trip is None:
                return 1
            limit = self._limit
            if limit is None:
                return min(cap, IN_FLIGHT_WITHOUT_LIMIT)
            measured = self.refill_per_second
            rate = float(limit) if measured is None else measured * self._probe
            rate *= 1.0 - self._headroom
            if self._max_per_second:
                rate = min(rate, self._max_per_second)
            needed = math.ceil(rate * self.round_trip) + 1
        return max(1, min(needed, limit, cap))

    def record_wait(self, seconds: float) -> None:
        """Count time spent waiting on the rate limit."""
        with self._lock:
            self.waited_seconds += seconds

    def _time_round_trip(self, seq: int, now: float) -> None:
        sent = self._sent_at.pop(seq, None)
        if sent is None:
            return
        took = now - sent
        if self._fastest_round_trip is None or took < self._fastest_round_trip:
            self._fastest_round_trip = took
        previous = self.round_trip
        self.round_trip = (
            took
            if previous is None
            else (1 - ROUND_TRIP_WEIGHT) * previous + ROUND_TRIP_WEIGHT * took
        )

    def _opening_wait(self) -> float:
        limit = self._opening_limit
        if limit is None or self._answered or self._opening_in_flight < limit:
            return 0.0
        return OPENING_POLL_SECONDS

    def _gate_refill(self) -> float:
        if self.refill_per_second is None:
            return ASSUMED_REFILL_PER_SECOND
        return self.refill_per_second * REFILL_SAFETY

    def _pace(self) -> float:
        rate = (self.refill_per_second or ASSUMED_REFILL_PER_SECOND) * self._probe
        rate *= 1.0 - self._headroom
        if self._max_per_second:
            rate = min(rate, self._max_per_second)
        return rate

    def _top_up_allowance(self, now: float) -> None:
        if self._limit is None:
            return
        earned = self._pace() * max(now - self._allowance_at, 0.0)
        self._allowance = min(float(self._limit), self._allowance + earned)
        self._allowance_at = now

    def _allowance_wait(self) -> float:
        if self._limit is None or self._allowance >= 1:
            return 0.0
        return (1 - self._allowance) / self._pace()

    def _bucket_wait(self, now: float) -> float:
        latest = self._latest
        if latest is None:
            return 0.0
        refill = self._gate_refill()
        in_flight = self._sent - latest.seq
        # Auth0 took the reading before its answer travelled back, and the next request
        # takes its token after travelling there: the bucket refills over that time too.
        # Half the fastest round trip counts it with room for jitter and slow answers.
        unseen = ROUND_TRIP_CREDIT * (self._fastest_round_trip or 0.0)
        predicted = latest.remaining - in_flight + refill * (now - latest.at + unseen)
        if predicted >= 1:
            return 0.0
        return (1 - predicted) / refill

    def _learn_refill(self, reading: _Reading) -> None:
        guessed_pace = self._pace() if self.refill_per_second is None else None
        self._measure_refill(reading)
        if guessed_pace is not None and self.refill_per_second is not None:
            self._settle_guessed_pace(guessed_pace)

    def _settle_guessed_pace(self, guessed_pace: float) -> None:
        """The allowance so far was earned at a guessed pace (the slowest published refill):
        credit what the measured one would have earned. Else a fast bucket keeps the tokens
        it refilled meanwhile unspent for the whole run, beyond the headroom. The bucket gate
        still stands between the credit and a 429. Called once: the refill, once measured,
        is never unknown again."""
        since = self._limit_known_at
        if since is None or self._limit is None:
            return
        earned_since = max(self._allowance_at - since, 0.0)
        extra = max(self._pace() - guessed_pace, 0.0) * earned_since
        self._allowance = min(float(self._limit), self._allowance + extra)

    def _measure_refill(self, reading: _Reading) -> None:
        readings = self._readings
        readings.append(reading)
        while reading.at - readings[0].at > MAX_SPAN_SECONDS:
            readings.popleft()
        while self._rejected and self._rejected[0] <= readings[0].seq:
            self._rejected.popleft()
        if self._is_full(reading.remaining):
            self._saw_full(reading)
        # Over any span, refill wasted while full only hides tokens: a floor on the rate.
        floor = self._refilled(readings[0], reading, uncertainty=1)
        if floor is not None and floor > (self.refill_per_second or 0.0):
            self.refill_per_second = floor
        last_full = self._last_full
        start = last_full if last_full is not None and last_full.at > readings[0].at else None
        measured = None if reading is last_full else self._refilled(start or readings[0], reading)
        if measured is None:
            return
        previous = self.refill_per_second
        self.refill_per_second = (
            measured
            if previous is None
            else (1 - MEASURE_WEIGHT) * previous + MEASURE_WEIGHT * measured
        )
        # Measured, not guessed: the probe has done its job.
        self._probe = 1.0

    def _refilled(self, first: _Reading, last: _Reading, uncertainty: int = 0) -> float | None:
        """Tokens per second added between two answers, if the span is long enough to tell.

        `remaining` is rounded down, so each reading may hide up to one token: `uncertainty`
        counts that against the rate, for a floor.
        """
        span = last.at - first.at
        rejected = sum(1 for seq in self._rejected if first.seq < seq <= last.seq)
        spent = last.seq - first.seq - rejected
        refilled = last.remaining - first.remaining + spent - uncertainty
        if span < MIN_SPAN_SECONDS or refilled < MIN_SPAN_TOKENS:
            return None
        return refilled / span

    def _is_full(self, remaining: int) -> bool:
        # A request served from a full bucket leaves limit - 1.
        return self._limit is not None and remaining >= self._limit - 1

    def _saw_full(self, reading: _Reading) -> None:
        # The refill wasted while full says nothing of the rate: measure from here on. And a
        # full bucket means the pace is below the refill, so try a faster one.
        self._last_full = reading
        if reading.at - self._probed_at >= PROBE_SECONDS:
            self._probe *= PROBE_STEP
            self._probed_at = reading.at

    def _slow_down(self, now: float) -> None:
        self._probe = 1.0
        # Concurrent workers meet the same empty bucket: slow down once per refill, not per 429.
        if self.refill_per_second is not None and now - self._slowed_at >= PROBE_SECONDS:
            self.refill_per_second *= SLOWDOWN_AFTER_429
            self._slowed_at = now

    def _until_reset(self) -> float:
        if self._reset_at is None:
            return 0.0
        return min(max(self._reset_at - self._wall_clock(), 0.0), self._max_wait)
