"""Pacing by Auth0's rate-limit headers, which every app of the tenant shares."""

from __future__ import annotations

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


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(float(headers[name]))
    except (KeyError, TypeError, ValueError):
        return None


class RateLimitGovernor:
    """Reads `x-ratelimit-*` after every response and slows down before the bucket is empty.

    Thread-safe, so several streams or workers can share one tenant-wide view.
    """

    def __init__(
        self,
        *,
        reserve: int = DEFAULT_RESERVE,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._reserve = reserve
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self.waited_seconds = 0.0
        self.rate_limited = 0

    def observe(self, headers: Mapping[str, str]) -> None:
        """Remember what the latest response said about the bucket."""
        remaining = _header_int(headers, "x-ratelimit-remaining")
        reset_at = _header_int(headers, "x-ratelimit-reset")
        with self._lock:
            if remaining is not None:
                self._remaining = remaining
            if reset_at is not None:
                self._reset_at = float(reset_at)

    def before_request(self) -> None:
        """Sleep until the bucket refills when only the reserve is left in it."""
        with self._lock:
            low = self._remaining is not None and self._remaining <= self._reserve
            wait = self._until_reset() if low else 0.0
            if low:
                # One request goes out after the wait; later ones learn from its headers.
                self._remaining = None
        self._wait(wait)

    def wait_after_429(self, headers: Mapping[str, str]) -> float:
        """Seconds to wait before retrying a request that Auth0 answered with 429."""
        self.observe(headers)
        with self._lock:
            self.rate_limited += 1
            base = max(self._until_reset(), MIN_429_WAIT_SECONDS)
            self._remaining = None
        # Jitter spreads the retries of concurrent clients over the refill.
        return min(base + random.uniform(0, 0.25 * base), self._max_wait)

    def record_wait(self, seconds: float) -> None:
        """Count time spent waiting on the rate limit outside `before_request`."""
        with self._lock:
            self.waited_seconds += seconds

    def _until_reset(self) -> float:
        if self._reset_at is None:
            return 0.0
        return min(max(self._reset_at - self._clock(), 0.0), self._max_wait)

    def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self.record_wait(seconds)
        self._sleep(seconds)
