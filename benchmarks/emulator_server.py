"""``python -m benchmarks.emulator_server SPEC_JSON``: the emulator in a process of its own.

It builds the tenant with the emulator's Python API, serves it, prints one JSON line (base URL,
token, user ids) and then answers one JSON command per stdin line with one JSON line: change
latency or rate limit, reset or report the counters, add events or users between syncs, and
work out the fewest requests a sync could need. Running apart from the tap keeps the tap's CPU
time and memory its own.
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from tests.emulator import Emulator, Tenant, TenantSpec
from tests.emulator.timestamps import parse_time, utcnow

# Auth0 answers 400 past the 1,000th result of a listing; a naive pager stops there.
RESULT_CAP = 1000


def busiest(times: list[float], window: float) -> float:
    """The highest rate (per second) over any ``window`` seconds of sorted ``times``.

    A run shorter than ``window`` has only its mean rate.
    """
    if len(times) < 2:
        return 0.0
    window = min(window, times[-1] - times[0]) or window
    best = 0
    first = 0
    for last, moment in enumerate(times):
        while moment - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best / window


class Server:
    """One emulator and the commands the benchmarks send it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        per_user = spec.get("events_per_user", 0)
        tenant = Tenant.generate(
            TenantSpec(
                users=spec["users"],
                events_per_user=tuple(per_user) if isinstance(per_user, list) else per_user,
                seed=spec.get("seed", 0),
            )
        )
        self.rng = random.Random(spec.get("seed", 0))
        self.emulator = Emulator(tenant)
        self.configure(spec)

    @property
    def tenant(self) -> Tenant:
        return self.emulator.tenant

    def start(self) -> dict[str, Any]:
        self.emulator.start()
        return {
            "base_url": self.emulator.base_url,
            "domain": self.emulator.domain,
            "token": self.emulator.static_token,
            "user_ids": self.tenant.user_ids(),
            "events": self.tenant.event_count,
        }

    def configure(self, command: dict[str, Any]) -> dict[str, Any]:
        """Set latency and rate limit; the bucket starts full, as after a quiet spell."""
        self.emulator.latency_ms = command.get("latency_ms", 0)
        self.emulator.jitter_ms = command.get("jitter_ms", 0)
        self.emulator.set_rate_limit(command.get("rate_limit"), command.get("burst"))
        return {}

    def reset(self, command: dict[str, Any]) -> dict[str, Any]:
        self.emulator.reset_counters()
        return {}

    def report(self, command: dict[str, Any]) -> dict[str, Any]:
        """What was served since the last reset, and when."""
        counters = self.emulator.counters
        log = [r for r in self.emulator.request_log if r.finished is not None]
        finished = sorted(r.finished for r in log if r.finished is not None)
        span = (finished[-1] - min(r.started for r in log)) if log else 0.0
        return {
            "requests": counters.requests(),
            "by_endpoint": counters.by_endpoint(),
            "rate_limited": counters.rate_limited,
            "peak_concurrency": counters.peak_concurrency,
            # The request log is bounded; rates come from the part of the run it still holds.
            "logged": len(log),
            "span": span,
            "busiest_10s": busiest(finished, 10.0),
        }

    def add_events(self, command: dict[str, Any]) -> dict[str, Any]:
        """``count`` new events, dated since the tenant was made, over randomly drawn users."""
        users = command.get("user_ids") or self.tenant.user_ids()
        drawn: dict[str, int] = {}
        for _ in range(command["count"]):
            user_id = self.rng.choice(users)
            drawn[user_id] = drawn.get(user_id, 0) + 1
        start, end = self.tenant.now, utcnow()
        for user_id, n in drawn.items():
            self.tenant.add_events(user_id, n, start=start, end=end)
        return {"users": len(drawn), "events": command["count"]}

    def add_users(self, command: dict[str, Any]) -> dict[str, Any]:
        """``count`` new users with ``events_each`` events of the past day each."""
        end = utcnow()
        added = []
        for _ in range(command["count"]):
            user_id = self.tenant.add_user(created_at=end - timedelta(days=1))["user_id"]
            self.tenant.add_events(user_id, command["events_each"], start=end - timedelta(days=1))
            added.append(user_id)
        return {"user_ids": added}

    def minimum(self, command: dict[str, Any]) -> dict[str, Any]:
        """The fewest requests a sync of ``user_ids`` from ``bookmarks`` could cost.

        Per user, max(1, ceil(new / page)); for a tenant scan, ceil(new / page) over
        every bookmarked user plus the per-user backfill of those without a bookmark.
        Also what the naive pager costs: every page of every user, to a short page or the cap.
        """
        page = command.get("per_page", 100)
        bookmarks = command.get("bookmarks") or {}
        per_user = backfill = naive = new_bookmarked = new_all = events_all = 0
        for user_id in command["user_ids"]:
            events = len(self.tenant.expected_log_ids([user_id]))
            bookmark = bookmarks.get(user_id)
            # Dates have millisecond precision: one past the bookmark is strictly newer.
            since = parse_time(bookmark) + timedelta(milliseconds=1) if bookmark else None
            new = len(self.tenant.expected_log_ids([user_id], since=since)) if since else events
            cost = max(1, math.ceil(new / page))
            per_user += cost
            new_all += new
            events_all += events
            naive += min(events // page, RESULT_CAP // page) + 1
            if bookmark is None:
                backfill += cost
            else:
                new_bookmarked += new
        return {
            "per_user": per_user,
            "scan": math.ceil(new_bookmarked / page) + backfill,
            "backfill": backfill,
            "naive": naive,
            "new_events": new_all,
            "events": events_all,
        }


def serve(server: Server, lines: Iterable[str], answer: Callable[[dict[str, Any]], None]) -> None:
    """Answer each command line until ``stop`` or the end of input."""
    commands: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "configure": server.configure,
        "reset": server.reset,
        "report": server.report,
        "add_events": server.add_events,
        "add_users": server.add_users,
        "minimum": server.minimum,
    }
    for line in lines:
        command = json.loads(line)
        if command["op"] == "stop":
            return
        answer(commands[command["op"]](command))


def main() -> None:
    server = Server(json.loads(sys.argv[1]))

    def answer(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    answer(server.start())
    try:
        serve(server, sys.stdin, answer)
    finally:
        server.emulator.stop()


if __name__ == "__main__":
    main()
