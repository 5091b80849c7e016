"""Counting what a sync did, logged at a steady cadence and summed up in one line at the end."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

PROGRESS_INTERVAL_SECONDS = 15.0


class SyncProgress:
    """Users done of total, events, requests by endpoint, and time spent on the rate limit."""

    def __init__(self, logger: logging.Logger, interval: float = PROGRESS_INTERVAL_SECONDS) -> None:
        self._logger = logger
        self._interval = interval
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last_report = self._started
        self.users_total = 0
        self.users_done = 0
        self.events = 0
        self.requests: Counter[str] = Counter()
        self.cap_fallbacks = 0
        self.gaps_warned = 0
        self.deleted_users = 0
        # How discovery listed the users ("by a users-export job"); None: from `user_ids`.
        self.users_found_by: str | None = None

    def count_request(self, endpoint: str) -> None:
        """One HTTP request sent to `endpoint` (a name such as `user_logs` or `token`)."""
        with self._lock:
            self.requests[endpoint] += 1

    def count_events(self, n: int) -> None:
        """`n` events emitted."""
        with self._lock:
            self.events += n

    def count_cap_fallback(self) -> None:
        """One user read past the per-user 1,000 cap."""
        with self._lock:
            self.cap_fallbacks += 1

    def user_done(self) -> None:
        """One user's events are all emitted."""
        with self._lock:
            self.users_done += 1

    def maybe_report(self, rate_limit_wait: float, rate_limited: int) -> None:
        """Log a progress line when the interval has passed since the last one."""
        now = time.monotonic()
        if now - self._last_report < self._interval:
            return
        self._last_report = now
        self._logger.info("Progress: %s", self._figures(rate_limit_wait, rate_limited))

    def summary(self, rate_limit_wait: float, rate_limited: int) -> str:
        """The one-line account of the whole sync."""
        return f"Sync finished: {self._figures(rate_limit_wait, rate_limited)}"

    def _figures(self, rate_limit_wait: float, rate_limited: int) -> str:
        elapsed = time.monotonic() - self._started
        by_endpoint = ", ".join(f"{k}={v}" for k, v in sorted(self.requests.items())) or "none"
        listed = f"users listed {self.users_found_by}, " if self.users_found_by else ""
        return (
            f"{self.users_done}/{self.users_total} users, {self.events} events, "
            f"{sum(self.requests.values())} requests ({by_endpoint}), "
            f"{rate_limited} rate-limited (429), {rate_limit_wait:.1f}s waiting on the rate "
            f"limit, {self.cap_fallbacks} users read past the 1,000-event cap, "
            f"{self.gaps_warned} retention gaps warned, {self.deleted_users} deleted users "
            f"skipped, {listed}{elapsed:.1f}s elapsed"
        )
