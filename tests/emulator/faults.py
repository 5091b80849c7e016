"""Faults to inject: scripted per test (the next N matching requests) or random from a seed."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

# "logs_checkpoint": only /api/v2/logs requests in checkpoint mode (from or take given).
ENDPOINTS = frozenset(
    {"token", "user_logs", "logs", "logs_checkpoint", "users", "user", "jobs", "any"}
)
KINDS = frozenset(
    {
        "429",  # rate limited, headers say no tokens left
        "500",
        "502",
        "503",
        "504",  # Auth0-shaped JSON error bodies
        "html",  # a proxy's 502 HTML page
        "reset",  # the connection is dropped without a response
        "hang",  # the answer comes only after hang_seconds
        "truncated",  # 200 with half a JSON body
        "invalid_json",  # 200 with a body that is not JSON
        "revoke_token",  # the request's token is revoked, then 401
        "delete_user",  # the request's user is deleted, then served normally
    }
)
# Auth0 declining a way of reading, which a client answers by reading another way, not by
# retrying; kept apart from KINDS, the faults the reliability suite draws at random.
REFUSALS = frozenset({"refuse_checkpoint"})  # 400 to a checkpoint read (logs_checkpoint only)
TRANSIENT_KINDS = ("429", "500", "502", "503", "504", "html", "reset")


@dataclass
class Fault:
    """One scripted fault: fires on ``count`` matching requests after skipping ``after``."""

    kind: str
    endpoint: str = "any"
    count: int | None = 1  # None: every matching request from then on
    after: int = 0
    user_id: str | None = None
    hang_seconds: float = 30.0
    skipped: int = 0
    fired: int = 0

    def applies_to(self, endpoint: str, user_id: str | None, checkpoint: bool = False) -> bool:
        if not _matches(self.endpoint, endpoint, checkpoint):
            return False
        return self.user_id is None or self.user_id == user_id

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count


class FaultPlan:
    """The faults an Emulator injects; safe to change from a test while requests are served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripted: list[Fault] = []
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = TRANSIENT_KINDS
        self._random_endpoint = "any"
        self._rng = random.Random(0)

    def add(
        self,
        kind: str,
        *,
        endpoint: str = "any",
        count: int | None = 1,
        after: int = 0,
        user_id: str | None = None,
        hang_seconds: float = 30.0,
    ) -> Fault:
        """Inject ``kind`` into the next ``count`` requests to ``endpoint`` after ``after`` ones."""
        _check(kind, endpoint)
        fault = Fault(kind, endpoint, count, after, user_id, hang_seconds)
        with self._lock:
            self._scripted.append(fault)
        return fault

    def random(
        self,
        rate: float,
        kinds: Iterable[str] = TRANSIENT_KINDS,
        seed: int = 0,
        endpoint: str = "any",
    ) -> None:
        """Fail requests to ``endpoint`` with probability ``rate``, kind drawn from ``kinds``."""
        kinds = tuple(kinds)
        for kind in kinds:
            _check(kind, endpoint)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {rate}")
        with self._lock:
            self._random_rate = rate
            self._random_kinds = kinds
            self._random_endpoint = endpoint
            self._rng = random.Random(seed)

    def clear(self) -> None:
        """No more faults, scripted or random."""
        with self._lock:
            self._scripted.clear()
            self._random_rate = 0.0

    def pending(self) -> list[Fault]:
        """Scripted faults that have not fired all their ``count`` yet."""
        with self._lock:
            return [f for f in self._scripted if not f.exhausted]

    def pick(
        self, endpoint: str, user_id: str | None = None, *, checkpoint: bool = False
    ) -> Fault | None:
        """The fault this request gets, if any (counts the request towards every ``after``).

        ``checkpoint``: the request is /api/v2/logs in checkpoint mode.
        """
        with self._lock:
            chosen: Fault | None = None
            for fault in self._scripted:
                if fault.exhausted or not fault.applies_to(endpoint, user_id, checkpoint):
                    continue
                if fault.skipped < fault.after:
                    fault.skipped += 1
                elif chosen is None:
                    fault.fired += 1
                    chosen = fault
            if chosen is not None:
                return chosen
            if (
                self._random_rate
                and _matches(self._random_endpoint, endpoint, checkpoint)
                and self._rng.random() < self._random_rate
            ):
                return Fault(self._rng.choice(self._random_kinds), endpoint)
            return None


def _matches(selector: str, endpoint: str, checkpoint: bool) -> bool:
    """Whether a fault aimed at ``selector`` applies to a request to ``endpoint``."""
    if selector == "logs_checkpoint":
        return endpoint == "logs" and checkpoint
    return selector in ("any", endpoint)


def _check(kind: str, endpoint: str) -> None:
    if kind not in KINDS | REFUSALS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {sorted(KINDS | REFUSALS)}")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; choose from {sorted(ENDPOINTS)}")
    if kind == "refuse_checkpoint" and endpoint != "logs_checkpoint":
        raise ValueError("the refuse_checkpoint fault needs endpoint 'logs_checkpoint'")
