"""What the tests of a pass read in slices share: tenants, and reading the emulator's request log.

A slice starts at a position made from a time (`900` + YYYYMMDDhhmmss + 39 zeros); every other
checkpoint read starts after an event's log_id (Auth0's `Link: next`). So the request log tells
how many slices a pass read, and the emulator's tenant tells which events it should have sent.
"""

from __future__ import annotations

import bisect
import datetime
import math
from collections import defaultdict
from typing import Any

from tap_auth0_userlogs.events.dates import parse_date
from tests.emulator import TenantSpec
from tests.reliability_support import user_bookmarks

PAGE = 100  # events per checkpoint read
# The sequence digits of a position made from a time: no event's log_id ends so.
MADE_TAIL = "0" * 39


def backlog_tenant(events: int, hours: float, *, seed: int = 0, users: int = 400) -> TenantSpec:
    """A busy tenant's log: `events` spread evenly over the `hours` before now, a tenth of them
    client-credentials exchanges that belong to no user (a pass reads them, sends none)."""
    return TenantSpec(
        users=0,
        events_per_user=0,
        seed=seed,
        backlog_events=events,
        backlog_users=users,
        backlog_hours=hours,
        client_event_share=0.1,
    )


def checkpoint_reads(emulator: Any) -> list[Any]:
    """The /api/v2/logs requests in checkpoint mode (`from` or `take`), oldest first."""
    return [
        r
        for r in emulator.request_log
        if r.endpoint == "logs" and ("from" in r.query or "take" in r.query)
    ]


def search_reads(emulator: Any) -> list[Any]:
    """The /api/v2/logs requests in search mode."""
    return [
        r
        for r in emulator.request_log
        if r.endpoint == "logs" and "from" not in r.query and "take" not in r.query
    ]


def is_made_position(log_id: str | None) -> bool:
    """A position the tap made from a time, where a slice (or a pass) starts."""
    return bool(log_id) and log_id.endswith(MADE_TAIL)


def slice_starts(emulator: Any) -> set[str]:
    """The positions checkpoint reads started from that no event names: one per slice."""
    reads = checkpoint_reads(emulator)
    return {r.query["from"] for r in reads if is_made_position(r.query.get("from"))}


def pages_of(events: int) -> int:
    """The fewest checkpoint reads that return `events` events: full pages."""
    return math.ceil(events / PAGE)


def log_checkpoint(state: dict | None, stream: str = "user_logs") -> str:
    return ((state or {}).get("bookmarks", {}).get(stream) or {}).get("log_checkpoint", "")


def stored_spans(state: dict | None, stream: str = "user_logs") -> list[tuple[str, str]]:
    stored = ((state or {}).get("bookmarks", {}).get(stream)) or {}
    return [(after, upto) for after, upto in stored.get("log_checkpoint_spans") or ()]


def order(log_id: str) -> tuple[int, str]:
    """log_ids as Auth0 orders them."""
    return (len(log_id), log_id)


def states_of(messages: list[dict]) -> list[dict]:
    return [m["value"] for m in messages if m["type"] == "STATE"]


class NewestDates:
    """Per user, the newest date among its events up to a position in the log."""

    def __init__(self, events: list[dict]) -> None:
        by_user: dict[str, list[tuple[tuple[int, str], datetime.datetime]]] = defaultdict(list)
        for e in events:
            if e.get("user_id"):
                by_user[e["user_id"]].append((order(e["log_id"]), parse_date(e["date"])))
        self._positions: dict[str, list[tuple[int, str]]] = {}
        self._newest: dict[str, list[datetime.datetime]] = {}
        for user, pairs in by_user.items():
            pairs.sort()
            self._positions[user] = [position for position, _ in pairs]
            running, newest = [], None
            for _, date in pairs:
                newest = date if newest is None else max(newest, date)
                running.append(newest)
            self._newest[user] = running

    def up_to(self, user: str, position: str) -> datetime.datetime | None:
        n = bisect.bisect_right(self._positions.get(user, []), order(position))
        return self._newest[user][n - 1] if n else None


def bookmarks_past_the_position(
    states: list[dict], started_from: dict | None, newest: NewestDates
) -> list[tuple[str, str, str]]:
    """(user, bookmark, position) wherever a STATE's bookmark is past what its position vouches
    for: the user's newest event at or before it, or the bookmark the run started from."""
    before = user_bookmarks(started_from)
    found = []
    for state in states:
        position = log_checkpoint(state)
        for user, mark in user_bookmarks(state).items():
            vouched = [d for d in (newest.up_to(user, position), before.get(user)) if d]
            if not vouched or mark > max(vouched):
                found.append((user, mark.isoformat(), position))
    return found
