"""Auth0's token-bucket rate limits and the ``x-ratelimit-*`` headers that report them.

One tenant-wide bucket, plus optional buckets for reading logs and reading users; a request
needs a token from every bucket it falls under. Bucket size is the burst, refill the rate.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.emulator.behaviour import RatelimitReset

# What the headers say when no limit is configured: a roomy bucket that never runs dry.
UNLIMITED_SIZE = 1000

_BUCKET_GROUPS = {"user_logs": "logs", "logs": "logs", "users": "users", "user": "users"}


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # UNIX epoch second in which the bucket next gains a token
    full_reset: int  # UNIX epoch second in which the bucket is full again
    wait: float  # seconds until the bucket holds a whole token to spend

    def headers(self, reset: RatelimitReset = "next_token") -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.full_reset if reset == "bucket_full" else self.reset),
        }

    def retry_after(self) -> int:
        """Whole seconds until a token, rounded up and at least 1 so a client never spins."""
        return max(1, math.ceil(self.wait))


class TokenBucket:
    """``burst`` tokens at most, ``rate`` tokens added per second; starts full."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.size = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.size, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def has_token(self) -> bool:
        return self._tokens >= 1

    def take(self) -> None:
        self._tokens -= 1

    @property
    def remaining(self) -> int:
        return int(self._tokens)

    def decision(self, allowed: bool) -> RateDecision:
        # Epoch seconds are floored: the second in which the token arrives, which on a burst
        # 429 with a fast refill is often the current one (as go-auth0 #501 saw from Auth0).
        now = time.time()
        full = self._tokens >= self.size
        next_token = 0.0 if full else (math.floor(self._tokens) + 1 - self._tokens) / self.rate
        refilled = (self.size - self._tokens) / self.rate if not full else 0.0
        return RateDecision(
            allowed,
            self.size,
            self.remaining,
            reset=math.floor(now + next_token),
            full_reset=math.floor(now + refilled),
            wait=max(0.0, (1 - self._tokens) / self.rate),
        )


class RateLimiter:
    """The tenant's buckets; ``take`` spends a token for a request to ``endpoint``."""

    def __init__(
        self,
        rate: float | None = None,
        burst: int | None = None,
        *,
        logs_rate: float | None = None,
        logs_burst: int | None = None,
        users_rate: float | None = None,
        users_burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._global = _bucket(rate, burst, clock)
        self._groups = {
            "logs": _bucket(logs_rate, logs_burst, clock),
            "users": _bucket(users_rate, users_burst, clock),
        }

    def _buckets(self, endpoint: str) -> list[TokenBucket]:
        group = self._groups.get(_BUCKET_GROUPS.get(endpoint, ""))
        return [b for b in (self._global, group) if b is not None]

    def take(self, endpoint: str) -> RateDecision:
        """Spend one token from every bucket of ``endpoint``, or none if any is empty."""
        return self._decide(endpoint, spend=True)

    def peek(self, endpoint: str) -> RateDecision:
        """The headers ``endpoint`` would get, without spending a token."""
        return self._decide(endpoint, spend=False)

    def _decide(self, endpoint: str, *, spend: bool) -> RateDecision:
        with self._lock:
            buckets = self._buckets(endpoint)
            if not buckets:
                now = int(time.time())
                return RateDecision(True, UNLIMITED_SIZE, UNLIMITED_SIZE - 1, now, now, 0.0)
            for bucket in buckets:
                bucket.refill()
            empty = [b for b in buckets if not b.has_token()]
            if empty:
                return empty[-1].decision(allowed=False)
            if spend:
                for bucket in buckets:
                    bucket.take()
            # Report the bucket closest to running dry: that is the one a client must respect.
            tightest = min(buckets, key=lambda b: b.remaining)
            return tightest.decision(allowed=True)


def _bucket(
    rate: float | None, burst: int | None, clock: Callable[[], float]
) -> TokenBucket | None:
    if rate is None:
        return None
    return TokenBucket(rate, burst if burst is not None else max(1, math.ceil(rate)), clock)


class ConcurrencyCap:
    """At most ``limit`` requests in flight at once (Private Cloud caps them per tenant).

    None: no cap. The limit may change while serving; requests already in flight finish.
    """

    def __init__(self, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self.limit = limit

    @property
    def limit(self) -> int | None:
        return self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ValueError(f"a concurrency cap needs at least 1 request, got {value!r}")
        self._limit = value

    def enter(self) -> bool:
        """Admit one more request (then ``leave`` once it is answered), or refuse it."""
        with self._lock:
            if self._limit is not None and self._in_flight >= self._limit:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1
