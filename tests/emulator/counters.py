"""What the emulator served: request counts, 429s, concurrency, bytes and a request log.

Tests read these as proof of the tap's behaviour (how many requests a sync cost, whether it
backed off, how many requests it had in flight). The Authorization header is never recorded.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field
from typing import Any

REQUEST_LOG_LIMIT = 100_000  # a long-running CLI emulator must not grow without bound


@dataclass
class RequestRecord:
    method: str
    endpoint: str  # token, user_logs, logs, users, jobs, export or other
    raw_path: str  # as sent, percent-encoding intact, with the query string
    path: str  # percent-decoded
    query: dict[str, str]
    started: float  # time.monotonic()
    user_id: str | None = None  # the user of a user_logs request
    status: int | None = None  # None while in flight, or when the connection was reset
    finished: float | None = None
    fault: str | None = None  # the injected fault kind, if any
    bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Totals:
    by_key: collections.Counter[tuple[str, int | None]] = field(default_factory=collections.Counter)
    rate_limited: int = 0
    in_flight: int = 0
    peak_concurrency: int = 0
    bytes_served: int = 0


class Counters:
    """Thread-safe tallies of the requests served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals = _Totals()
        self._log: collections.deque[RequestRecord] = collections.deque(maxlen=REQUEST_LOG_LIMIT)

    def begin(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
            totals = self._totals
            totals.in_flight += 1
            totals.peak_concurrency = max(totals.peak_concurrency, totals.in_flight)

    def finish(self, record: RequestRecord, status: int | None, size: int, finished: float) -> None:
        with self._lock:
            record.status, record.bytes, record.finished = status, size, finished
            totals = self._totals
            totals.in_flight -= 1
            totals.by_key[(record.endpoint, status)] += 1
            totals.bytes_served += size
            if status == 429:
                totals.rate_limited += 1

    def reset(self) -> None:
        """Forget everything counted so far (requests in flight still finish normally)."""
        with self._lock:
            in_flight = self._totals.in_flight
            self._totals = _Totals(in_flight=in_flight, peak_concurrency=in_flight)
            self._log.clear()

    def requests(self, endpoint: str | None = None, status: int | None = None) -> int:
        """Finished requests, optionally only those to ``endpoint`` and/or answered ``status``."""
        with self._lock:
            return sum(
                n
                for (ep, st), n in self._totals.by_key.items()
                if (endpoint is None or ep == endpoint) and (status is None or st == status)
            )

    def by_endpoint(self) -> dict[str, int]:
        """Finished requests per endpoint."""
        with self._lock:
            out: dict[str, int] = {}
            for (endpoint, _), n in self._totals.by_key.items():
                out[endpoint] = out.get(endpoint, 0) + n
            return out

    @property
    def rate_limited(self) -> int:
        """429 answers served, whether from an empty bucket or an injected fault."""
        with self._lock:
            return self._totals.rate_limited

    @property
    def peak_concurrency(self) -> int:
        """The most requests ever in flight at once."""
        with self._lock:
            return self._totals.peak_concurrency

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._totals.in_flight

    @property
    def bytes_served(self) -> int:
        """Response body bytes sent."""
        with self._lock:
            return self._totals.bytes_served

    def log(self) -> list[RequestRecord]:
        """The request log, oldest first (a snapshot)."""
        with self._lock:
            return list(self._log)
