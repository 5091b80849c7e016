"""``python -m benchmarks.emulator_server SPEC_JSON``: the emulator in a process of its own.

It builds the tenant with the emulator's Python API (a plain one, or ``"profile": "busy"`` for
``TenantSpec.busy``), on an Auth0 ``plan`` if one is named and with the undocumented behaviours
in ``behaviour``; serves it, prints one JSON line (base URL, token, user ids) and then answers
one JSON command per stdin line with one JSON line: change latency or rate limits, reset or
report the counters, add events or users between syncs, count the events in the tenant's log,
work out the fewest requests a sync could need, compare what a client delivered with what the
tenant holds, and serve the same tenant on another plan. Running apart from the tap keeps the
tap's CPU time and memory its own.

A spec may add a backlog of the tenant's log (``backlog_events``, ``backlog_users``,
``backlog_hours``: see ``TenantSpec``); ``coverage`` then checks a tap's output file against it
here, so a million log_ids never cross the pipe.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from tests.emulator import Emulator, Tenant, TenantSpec
from tests.emulator.timestamps import parse_time, utcnow

# Auth0 answers 400 past the 1,000th result of a listing; a naive pager stops there.
RESULT_CAP = 1000
OK = 200
TOO_MANY_REQUESTS = 429
# Emulator keyword arguments for its buckets, as `configure` commands name them too.
LIMIT_KEYS = (
    "rate_limit", "burst", "logs_rate_limit", "logs_burst", "users_rate_limit", "users_burst",
)  # fmt: skip
# How the tap writes a message's start, and a log_id; anything else is decoded in full.
MESSAGE_HEAD = re.compile(rb'\{"type":\s*"(?P<type>\w+)"(?:,\s*"stream":\s*"(?P<stream>[^"]*)")?')
LOG_ID_KEY = b'"log_id":'
BACKLOG_KEYS = ("backlog_events", "backlog_users", "backlog_hours")
# The busy profile's share of events that belong to no user (client-credentials exchanges).
BUSY_CLIENT_EVENT_SHARE = 0.1


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


def tenant_spec(spec: dict[str, Any]) -> TenantSpec:
    """The TenantSpec a JSON spec describes, with its backlog if it asks for one."""
    backlog = {name: spec[name] for name in BACKLOG_KEYS if spec.get(name) is not None}
    return dataclasses.replace(base_spec(spec), **backlog)


def base_spec(spec: dict[str, Any]) -> TenantSpec:
    seed = spec.get("seed", 0)
    if spec.get("profile") == "busy":
        heavy = spec.get("heavy_users")
        return TenantSpec.busy(
            users=spec["users"],
            events_per_minute=spec.get("events_per_minute", 40),
            history_hours=spec.get("history_hours", 24),
            seed=seed,
            # JSON keys are strings; None keeps the profile's own heavy users.
            heavy_users=None if heavy is None else {int(k): n for k, n in heavy.items()},
        )
    per_user = spec.get("events_per_user", 0)
    return TenantSpec(
        users=spec["users"],
        events_per_user=tuple(per_user) if isinstance(per_user, list) else per_user,
        seed=seed,
    )


def emulator_for(tenant: Tenant, spec: dict[str, Any]) -> Emulator:
    """An emulator of ``tenant`` on the spec's plan, latency, limits and behaviours."""
    # Explicit limits override the plan's; a plan alone keeps its own buckets.
    limits = {name: spec[name] for name in LIMIT_KEYS if spec.get(name) is not None}
    return Emulator(
        tenant,
        plan=spec.get("plan"),
        latency_ms=spec.get("latency_ms", 0),
        jitter_ms=spec.get("jitter_ms", 0),
        **limits,
        **spec.get("behaviour", {}),
    )


class Server:
    """One emulator and the commands the benchmarks send it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.rng = random.Random(spec.get("seed", 0))
        self.emulator = emulator_for(Tenant.generate(tenant_spec(spec)), spec)
        self.cpu_at_reset = time.process_time()

    @property
    def tenant(self) -> Tenant:
        return self.emulator.tenant

    def start(self) -> dict[str, Any]:
        self.emulator.start()
        backlog = self.tenant.backlog
        return {
            "base_url": self.emulator.base_url,
            "domain": self.emulator.domain,
            "token": self.emulator.static_token,
            "user_ids": self.tenant.user_ids(),
            "events": self.tenant.event_count,
            "plan": self.emulator.plan.name if self.emulator.plan else None,
            "retention_days": self.emulator.retention_days,
            "backlog": None
            if backlog is None
            else {
                "events": backlog.count,
                "users": len(backlog.users),
                "first_log_id": backlog.first_log_id,
                "last_log_id": backlog.last_log_id,
            },
        }

    def restart(self, command: dict[str, Any]) -> dict[str, Any]:
        """Serve the same tenant from a new emulator, e.g. on another plan (no re-seeding)."""
        self.emulator.stop()
        self.emulator = emulator_for(self.tenant, command)
        return self.start()

    def configure(self, command: dict[str, Any]) -> dict[str, Any]:
        """Set latency and rate limits; the buckets start full, as after a quiet spell.

        Every bucket is set explicitly, the plan's too: a bucket left out is no limit.
        """
        self.emulator.latency_ms = command.get("latency_ms", 0)
        self.emulator.jitter_ms = command.get("jitter_ms", 0)
        self.emulator.set_rate_limit(
            command.get("rate_limit"),
            command.get("burst"),
            logs_rate=command.get("logs_rate_limit"),
            logs_burst=command.get("logs_burst"),
            users_rate=command.get("users_rate_limit"),
            users_burst=command.get("users_burst"),
        )
        return {}

    def reset(self, command: dict[str, Any]) -> dict[str, Any]:
        self.emulator.reset_counters()
        self.cpu_at_reset = time.process_time()
        return {}

    def report(self, command: dict[str, Any]) -> dict[str, Any]:
        """What was served since the last reset, and when."""
        counters = self.emulator.counters
        log = [r for r in self.emulator.request_log if r.finished is not None]
        finished = sorted(r.finished for r in log if r.finished is not None)
        span = (finished[-1] - min(r.started for r in log)) if log else 0.0
        endpoints: dict[str, dict[str, Any]] = {}
        for record in log:
            seen = endpoints.setdefault(
                record.endpoint,
                {"logged": 0, "rate_limited": 0, "first": record.started, "last": 0.0},
            )
            seen["logged"] += 1
            seen["rate_limited"] += record.status == TOO_MANY_REQUESTS
            seen["first"] = min(seen["first"], record.started)
            seen["last"] = max(seen["last"], record.finished or 0.0)
        # When the first page of the tenant's log was answered: the first of any kind (the
        # tap's survey of the newest events) and the first of a pass (checkpoint mode).
        logs = [r for r in log if r.endpoint == "logs" and r.status == OK]
        passes = [r for r in logs if "from" in r.query]
        searches = sum(1 for r in log if r.endpoint == "logs" and "q" in r.query)
        return {
            "requests": counters.requests(),
            "by_endpoint": counters.by_endpoint(),
            "first_logs_answer": min((r.finished for r in logs if r.finished), default=None),
            "first_pass_answer": min((r.finished for r in passes if r.finished), default=None),
            # /api/v2/logs requests that searched (``q``), as against reading pages in order.
            "logs_searches": searches,
            "rate_limited": counters.rate_limited,
            "peak_concurrency": counters.peak_concurrency,
            # The request log is bounded; rates come from the part of the run it still holds.
            "logged": len(log),
            "span": span,
            "busiest_10s": busiest(finished, 10.0),
            # Requests in flight on average (Little's law: their total time over the span).
            "in_flight_mean": sum(r.finished - r.started for r in log if r.finished) / span
            if span
            else None,
            # This process's CPU seconds since the reset: whether the emulator kept up.
            "cpu": time.process_time() - self.cpu_at_reset,
            # Per endpoint, for the share of each bucket: monotonic first start, last answer.
            "endpoints": endpoints,
        }

    def add_events(self, command: dict[str, Any]) -> dict[str, Any]:
        """``count`` new events over randomly drawn users.

        By default dated since the tenant was made, each user as likely as any other. With
        ``"spread": "busy"`` they are dated within the last ``seconds`` (default 1) and shared
        out as a busy tenant's: a tenth of no user, the rest in proportion to each user's
        events so far, so the active users stay the active ones.
        """
        if command.get("spread") == "busy":
            return self._add_busy_events(command["count"], command.get("seconds", 1.0))
        users = command.get("user_ids") or self.tenant.user_ids()
        drawn: dict[str, int] = {}
        for _ in range(command["count"]):
            user_id = self.rng.choice(users)
            drawn[user_id] = drawn.get(user_id, 0) + 1
        start, end = self.tenant.now, utcnow()
        for user_id, n in drawn.items():
            self.tenant.add_events(user_id, n, start=start, end=end)
        return {"users": len(drawn), "events": command["count"]}

    def _add_busy_events(self, count: int, seconds: float) -> dict[str, Any]:
        tenant = self.tenant
        users = tenant.user_ids()
        weights = [len(tenant.expected_log_ids([user_id])) for user_id in users]
        no_user = sum(self.rng.random() < BUSY_CLIENT_EVENT_SHARE for _ in range(count))
        counts: dict[str | None, int] = {None: no_user} if no_user else {}
        for user_id in self.rng.choices(users, weights=weights, k=count - no_user):
            counts[user_id] = counts.get(user_id, 0) + 1
        end = utcnow()
        tenant.add_events_bulk(counts, start=end - timedelta(seconds=seconds), end=end)
        return {"users": len(counts) - (None in counts), "events": count, "no_user": no_user}

    def log_size(self, command: dict[str, Any]) -> dict[str, Any]:
        """Events in the tenant's log now, those of no user included: what a pass reads."""
        tenant = self.tenant
        return {"events": len(tenant.events_after(None, tenant.event_count))}

    def coverage(self, command: dict[str, Any]) -> dict[str, Any]:
        """How the user_logs records in a tap's stdout (the file at ``path``) cover the backlog:
        every backlog event exactly once is ``missing`` and ``duplicates`` both 0."""
        backlog = self.tenant.backlog
        if backlog is None:
            raise ValueError("this tenant has no backlog")
        found = backlog.coverage(record_log_ids(Path(command["path"])))
        return {**dataclasses.asdict(found), "expected": backlog.count}

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

    def compare(self, command: dict[str, Any]) -> dict[str, Any]:
        """What a client delivered (the file at ``path``) against what the tenant holds now.

        The file has one ``log_id<TAB>user_id<TAB>date`` line per event delivered, and
        ``users_path`` (if given) one user id a line: the users the client found. Expected
        is every retained event of every current user, as of this call: an event that
        passed retention since it was delivered counts as expired, not as extra.
        """
        tenant = self.tenant
        current = tenant.user_ids()
        expected_by_user = {uid: tenant.expected_log_ids([uid]) for uid in current}
        owner = {log_id: uid for uid, ids in expected_by_user.items() for log_id in ids}
        cutoff = tenant.retention_cutoff()
        delivered: set[str] = set()
        duplicates = no_user = expired = unknown_user = other = 0
        with open(command["path"], encoding="utf-8") as lines:
            for line in lines:
                log_id, user_id, date = line.rstrip("\n").split("\t")
                if log_id in delivered:
                    duplicates += 1
                    continue
                delivered.add(log_id)
                if log_id in owner:
                    continue
                if not user_id:
                    no_user += 1
                elif cutoff is not None and parse_time(date).timestamp() <= cutoff:
                    expired += 1
                elif not tenant.has_user(user_id):
                    unknown_user += 1
                else:
                    other += 1
        missing = [log_id for log_id in owner if log_id not in delivered]
        heavy = {uid for uid, ids in expected_by_user.items() if len(ids) > RESULT_CAP}
        found: dict[str, Any] = {}
        if command.get("users_path"):
            with open(command["users_path"], encoding="utf-8") as lines:
                users = {line.strip() for line in lines if line.strip()}
            active = {uid for uid, ids in expected_by_user.items() if ids}
            found = {
                "users_found": len(users & set(current)),
                "users_with_events_found": len(users & active),
                "users_unknown": len(users - set(current)),
            }
        return {
            "users": len(current),
            "users_with_events": sum(1 for ids in expected_by_user.values() if ids),
            "heavy_users": len(heavy),
            "expected": len(owner),
            "delivered": len(delivered),
            "found": len(owner) - len(missing),
            "missing": len(missing),
            "missing_users": len({owner[log_id] for log_id in missing}),
            "missing_of_heavy_users": sum(1 for log_id in missing if owner[log_id] in heavy),
            "duplicates": duplicates,
            "extra_no_user": no_user,
            "extra_expired": expired,
            "extra_unknown_user": unknown_user,
            "extra_other": other,
            **found,
        }


def record_log_ids(path: Path) -> Iterator[str]:
    """The log_id of every user_logs RECORD in a tap's Singer output, in order.

    A million records are about 1.7 GB of JSON, so lines are searched, not decoded. Inside a
    JSON string a quote is always escaped, so a line holding ``"log_id":`` once holds the
    record's log_id there; any other line (a nested field of that name, an escape in the
    value, a message written another way) is decoded whole.
    """
    with path.open("rb") as lines:
        for line in lines:
            head = MESSAGE_HEAD.match(line)
            if head is not None and (head["type"], head["stream"]) != (b"RECORD", b"user_logs"):
                continue
            log_id = _only_log_id(line) if head is not None else None
            if log_id is not None:
                yield log_id
                continue
            message = msgspec.json.decode(line)
            if message.get("type") == "RECORD" and message.get("stream") == "user_logs":
                yield message["record"]["log_id"]


def _only_log_id(line: bytes) -> str | None:
    """The string after the line's one ``"log_id":`` key; None if it is not that simple."""
    at = line.find(LOG_ID_KEY)
    if at < 0 or line.find(LOG_ID_KEY, at + 1) >= 0:
        return None
    opening = line.find(b'"', at + len(LOG_ID_KEY))
    closing = line.find(b'"', opening + 1)
    value = line[opening + 1 : closing]
    if opening < 0 or closing < 0 or line[at + len(LOG_ID_KEY) : opening].strip():
        return None
    return None if b"\\" in value else value.decode()


def serve(server: Server, lines: Iterable[str], answer: Callable[[dict[str, Any]], None]) -> None:
    """Answer each command line until ``stop`` or the end of input."""
    commands: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
        "configure": server.configure,
        "reset": server.reset,
        "report": server.report,
        "add_events": server.add_events,
        "add_users": server.add_users,
        "minimum": server.minimum,
        "compare": server.compare,
        "coverage": server.coverage,
        "log_size": server.log_size,
        "restart": server.restart,
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
