"""The tenant: its users and their log events, generated from a seed and changeable while served.

Every read and write takes one lock, so tests may add events or delete users from their own
thread while the emulator serves requests from its event loop. Events are stored, except those
of a backlog (``TenantSpec.backlog_events``), which are derived from their index on demand.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import gc
import heapq
import itertools
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tests.emulator import payloads
from tests.emulator.backlog import Backlog, BacklogEvent
from tests.emulator.log_ids import format_log_id, ingestion_time
from tests.emulator.timestamps import iso_ms, parse_time, utcnow

APP_NAMES = (
    "Acme Web", "Acme iOS", "Acme Admin Portal", "Nightly Sync (M2M)", "Billing Service (M2M)",
)  # fmt: skip
_USER_HISTORY_DAYS = 730  # users were created over the past ~2 years
# Tenant-wide events: this share of users has none in the history window; the others' shares
# follow a Pareto law, so a few users have many events and most have a handful.
_IDLE_USER_SHARE = 0.6
_ACTIVITY_PARETO_ALPHA = 1.3


@dataclass(frozen=True)
class TenantSpec:
    """How to generate a tenant. The same spec (seed and ``now`` included) gives the same tenant."""

    users: int = 10
    events_per_user: int | tuple[int, int] = 20  # a fixed count or an inclusive (min, max) range
    seed: int = 0
    now: datetime | None = None  # None: the real current UTC time, to the second
    history_days: float = 20  # generated events are dated within this many days before ``now``
    heavy_users: Mapping[int, int] = field(default_factory=dict)  # user index -> event count
    tenant_name: str = "acme-prod"
    # Events spread over the history at this tenant-wide rate, on top of the per-user ones,
    # shared out unevenly: most users get none or a few, some get many.
    events_per_minute: float = 0
    # The share of those tenant-wide events that are client-credentials exchanges (no user),
    # and of the backlog's.
    client_event_share: float = 0.0
    # A backlog of the tenant log for benchmarks: this many more events, of ``backlog_users``
    # more users, ingested evenly over the ``backlog_hours`` before ``now``. Derived from their
    # index instead of stored (see backlog.py), a million cost seconds and tens of MB.
    backlog_events: int = 0
    backlog_users: int = 5000
    backlog_hours: float = 24

    @classmethod
    def busy(
        cls,
        users: int = 3000,
        events_per_minute: float = 40,
        history_hours: float = 24,
        seed: int = 0,
        *,
        now: datetime | None = None,
        heavy_users: Mapping[int, int] | None = None,
        client_event_share: float = 0.1,
    ) -> TenantSpec:
        """A busy production tenant: thousands of users, tens of events a minute tenant-wide.

        Most users have few events or none, three heavy users (unless ``heavy_users`` says
        otherwise) have more than the 1,000 one listing can reach, and a tenth of the events
        are client-credentials exchanges that belong to no user.
        """
        if heavy_users is None:
            indices = (users // 7, users // 3, users // 2)
            heavy_users = dict(zip(indices, (2500, 1500, 1200), strict=True)) if users else {}
        return cls(
            users=users,
            events_per_user=0,
            seed=seed,
            now=now,
            history_days=history_hours / 24,
            heavy_users=heavy_users,
            events_per_minute=events_per_minute,
            client_event_share=client_event_share,
        )


@dataclass(slots=True)
class StoredEvent:
    """An event as served: its payload, its JSON once first served and the keys queries need."""

    log_id: str
    ts: float  # the event date as epoch seconds
    user_id: str  # "" for an event that belongs to no user
    data: dict[str, Any]
    _body: bytes | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> StoredEvent:
        return cls(
            log_id=data["log_id"],
            ts=parse_time(data["date"]).timestamp(),
            user_id=data.get("user_id") or "",
            data=data,
        )

    @property
    def body(self) -> bytes:
        # Encoded on first use: a busy tenant generates far more events than a test serves.
        if self._body is None:
            self._body = json.dumps(self.data, ensure_ascii=False).encode()
        return self._body


# An event as the routes serve it: stored, or derived from its index in the backlog.
LogEvent = StoredEvent | BacklogEvent
SortKey = Callable[[LogEvent], Any]


def event_sort_key(field_name: str) -> SortKey:
    """Sort key for ``sort=field:±1``; ties fall back to log_id so pages never overlap."""
    if field_name == "date":
        return lambda e: (e.ts, e.log_id)

    def key(e: LogEvent) -> Any:
        value = e.data.get(field_name)
        if value is None:
            return (0, "", e.log_id)
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return (1, text, e.log_id)

    return key


class Tenant:
    """Users and log events of one Auth0 tenant."""

    def __init__(
        self,
        *,
        now: datetime,
        seed: int = 0,
        tenant_name: str = "acme-prod",
        history_days: float = 20,
        clients: Sequence[dict[str, str]] | None = None,
    ) -> None:
        self.now = now
        self.history_days = history_days
        self.tenant_name = tenant_name
        # Days of history the emulator keeps visible; set by the Emulator serving this tenant.
        self.retention_days: float | None = None
        # Events added from now on get a log_id up to this many seconds earlier than due
        # (Behaviour.late_log_id_seconds); set by the Emulator serving this tenant.
        self.late_log_id_seconds: float = 0
        self.backlog: Backlog | None = None
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._ctx = payloads.EventContext(
            tenant_name=tenant_name,
            clients=tuple(clients)
            if clients is not None
            else tuple(payloads.make_client(self._rng, name) for name in APP_NAMES),
        )
        self._users: dict[str, dict[str, Any]] = {}
        self._events: list[StoredEvent] = []  # log_id (ingestion) order
        self._by_date: list[StoredEvent] = []  # (date, log_id) order, for date-window searches
        self._by_user: dict[str, list[StoredEvent]] = {}  # per user, (date, log_id) order
        self._sequence = self._rng.randrange(10**20, 10**21)
        self._last_ingested = datetime.fromtimestamp(0, timezone.utc)

    # ----------------------------------------------------------------- generation

    @classmethod
    def generate(cls, spec: TenantSpec | None = None) -> Tenant:
        """A tenant shaped by ``spec``; deterministic for a given seed and ``now``."""
        with _gc_paused():
            return cls._generate(spec or TenantSpec())

    @classmethod
    def _generate(cls, spec: TenantSpec) -> Tenant:
        now = spec.now or utcnow().replace(microsecond=0)
        now = parse_time(now)
        tenant = cls(
            now=now, seed=spec.seed, tenant_name=spec.tenant_name, history_days=spec.history_days
        )
        rng = tenant._rng
        oldest = now - timedelta(days=_USER_HISTORY_DAYS)
        span = (now - oldest).total_seconds() - 3600
        created = sorted(
            oldest + timedelta(seconds=rng.uniform(0, span)) for _ in range(spec.users)
        )
        # The first users cover every identity provider so even a tiny tenant has tricky ids.
        providers = list(payloads.PROVIDERS)
        rng.shuffle(providers)
        drafted: list[tuple[datetime, int, dict[str, Any]]] = []
        users: list[dict[str, Any]] = []
        for index, created_at in enumerate(created):
            provider = providers[index] if index < len(providers) else payloads.pick_provider(rng)
            user = payloads.make_user(rng, provider, created_at.replace(microsecond=0), now)
            while user["user_id"] in tenant._users:
                user = payloads.make_user(rng, provider, created_at.replace(microsecond=0), now)
            tenant._users[user["user_id"]] = user
            users.append(user)
            start = max(now - timedelta(days=spec.history_days), created_at)
            window = (now - start).total_seconds()
            for _ in range(tenant._event_count(spec, index)):
                millis = round(rng.uniform(0, window) * 1000)
                date = start + timedelta(milliseconds=millis)
                event = payloads.make_event(rng, tenant._ctx, user, payloads.pick_type(rng), date)
                drafted.append((date + indexing_delay(rng), len(drafted), event))
        for date, event in tenant._tenant_wide_events(spec, users, created):
            drafted.append((date + indexing_delay(rng), len(drafted), event))
        tenant._ingest([(ingested_at, event) for ingested_at, _, event in drafted])
        if spec.backlog_events:
            backlog = Backlog.generate(
                spec.backlog_events,
                users=spec.backlog_users,
                hours=spec.backlog_hours,
                end=now,
                ctx=tenant._ctx,
                client_event_share=spec.client_event_share,
                seed=spec.seed,
                taken=tenant._users,
            )
            tenant._users.update((u["user_id"], u) for u in backlog.users)
            last = backlog.ingested_ms(backlog.count - 1) / 1000
            tenant._last_ingested = max(
                tenant._last_ingested, datetime.fromtimestamp(last, timezone.utc)
            )
            tenant.backlog = backlog
        return tenant

    @classmethod
    def assembled(
        cls,
        *,
        now: datetime,
        users: Iterable[dict[str, Any]],
        events: Iterable[tuple[datetime, dict[str, Any]]],
        seed: int = 0,
        tenant_name: str = "acme-prod",
        history_days: float = 20,
        clients: Sequence[dict[str, str]] | None = None,
    ) -> tuple[Tenant, list[str]]:
        """A tenant of exactly ``users`` and ``events``, for scenarios that draft their own.

        ``events`` pairs each payload (without log_id) with the time Auth0 indexed it. Returns
        the tenant and the log_id each event got, in the order given.
        """
        with _gc_paused():
            tenant = cls(
                now=parse_time(now),
                seed=seed,
                tenant_name=tenant_name,
                history_days=history_days,
                clients=clients,
            )
            for user in users:
                if user["user_id"] in tenant._users:
                    raise ValueError(f"user {user['user_id']!r} is given twice")
                tenant._users[user["user_id"]] = user
            return tenant, tenant._ingest(list(events))

    def _ingest(self, drafted: list[tuple[datetime, dict[str, Any]]]) -> list[str]:
        """Store drafted (indexing time, event) pairs in indexing order, then index them all.

        Returns the log_ids in the order drafted.
        """
        order = sorted(range(len(drafted)), key=lambda n: drafted[n][0])
        log_ids = [""] * len(drafted)
        for n in order:
            ingested_at, event = drafted[n]
            log_ids[n] = self._store(event, ingested_at, indexed=False).log_id
        # Sorting once beats tens of thousands of sorted inserts.
        self._by_date = sorted(self._events, key=_date_order)
        self._by_user = {}
        for stored in self._by_date:
            if stored.user_id:
                self._by_user.setdefault(stored.user_id, []).append(stored)
        return log_ids

    @staticmethod
    def _event_count(spec: TenantSpec, index: int) -> int:
        if index in spec.heavy_users:
            return spec.heavy_users[index]
        per_user = spec.events_per_user
        if isinstance(per_user, int):
            return per_user
        low, high = per_user
        return random.Random(f"{spec.seed}:{index}").randint(low, high)

    def _tenant_wide_events(
        self, spec: TenantSpec, users: list[dict[str, Any]], created: list[datetime]
    ) -> list[tuple[datetime, dict[str, Any]]]:
        """``spec.events_per_minute`` over the history: a few busy users, many idle ones."""
        count = round(spec.events_per_minute * spec.history_days * 1440)
        if not count:
            return []
        rng = self._rng
        weights = [
            0.0 if rng.random() < _IDLE_USER_SHARE else rng.paretovariate(_ACTIVITY_PARETO_ALPHA)
            for _ in users
        ]
        cum_weights = list(itertools.accumulate(weights))
        active = bool(cum_weights) and cum_weights[-1] > 0
        owners = rng.choices(range(len(users)), cum_weights=cum_weights, k=count) if active else []
        start = self.now - timedelta(days=spec.history_days)
        window = spec.history_days * 86400
        events = []
        for n in range(count):
            date = start + timedelta(milliseconds=round(rng.uniform(0, window) * 1000))
            if not active or rng.random() < spec.client_event_share:
                events.append((date, payloads.make_client_event(rng, self._ctx, date)))
                continue
            index = owners[n]
            date = max(date, created[index])  # nobody logs in before their account exists
            type_code = payloads.pick_type(rng)
            events.append(
                (date, payloads.make_event(rng, self._ctx, users[index], type_code, date))
            )
        return events

    def _store(
        self, event: dict[str, Any], ingested_at: datetime, *, indexed: bool = True
    ) -> StoredEvent:
        """Give ``event`` the next log_id (ingestion is never earlier than the last one), or
        with ``late_log_id_seconds`` one up to that many seconds earlier than that.

        ``indexed`` False leaves the date and per-user indexes for the caller to build.
        """
        ingested_at = max(ingested_at, self._last_ingested)
        self._sequence += self._rng.randint(1, 1000)  # unique ids, whatever the time
        late = self.late_log_id_seconds > 0
        if late:
            ingested_at -= timedelta(seconds=self._rng.uniform(0, self.late_log_id_seconds))
        else:
            self._last_ingested = ingested_at
        log_id = format_log_id(ingested_at, self._sequence)
        data = {**event, "log_id": log_id, "_id": log_id}
        stored = StoredEvent.of(data)
        if late:
            bisect.insort(self._events, stored, key=_log_id)
        else:
            self._events.append(stored)
        if not indexed:
            return stored
        bisect.insort(self._by_date, stored, key=_date_order)
        if stored.user_id:  # an event with no user never counts for one
            bisect.insort(self._by_user.setdefault(stored.user_id, []), stored, key=_date_order)
        return stored

    # ----------------------------------------------------------------- changes

    def add_user(self, user_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Add a user (created now unless ``created_at`` is given); returns the user object."""
        with self._lock:
            provider = user_id.split("|", 1)[0] if user_id else payloads.pick_provider(self._rng)
            if provider not in payloads.CONNECTIONS:
                provider = "auth0"
            created_at = parse_time(fields.pop("created_at", utcnow()))
            user = payloads.make_user(self._rng, provider, created_at, max(created_at, utcnow()))
            if user_id is not None:
                user["user_id"] = user_id
                user["identities"][0]["user_id"] = user_id.split("|", 1)[-1]
            for key, value in fields.items():
                user[key] = iso_ms(value) if isinstance(value, datetime) else value
            if user["user_id"] in self._users:
                raise ValueError(f"user {user['user_id']!r} already exists")
            self._users[user["user_id"]] = user
            return copy.deepcopy(user)

    def delete_user(self, user_id: str) -> bool:
        """Remove a user from /users; their events stay in the tenant-wide log. False if unknown."""
        with self._lock:
            return self._users.pop(user_id, None) is not None

    def add_event(
        self,
        user_id: str | None,
        *,
        date: datetime | str | None = None,
        type: str = "s",
        **overrides: Any,
    ) -> dict[str, Any]:
        """Add one event, indexed now; an older ``date`` makes it a late-indexed event.

        Its log_id is above every other one, unless ``late_log_id_seconds`` is set (then, as for
        add_events and add_events_bulk, it may sort below log_ids already served).
        ``user_id`` None adds a client-credentials exchange (``seccft``) that has no user.
        """
        with self._lock:
            now = utcnow()
            moment = parse_time(date) if date is not None else now
            event = self._draft(user_id, type, moment)
            event.update(overrides)
            return copy.deepcopy(self._store(event, max(now, moment)).data)

    def _draft(self, user_id: str | None, type_code: str, date: datetime) -> dict[str, Any]:
        if user_id is None:
            return payloads.make_client_event(self._rng, self._ctx, date)
        user = self._users.get(user_id) or {"user_id": user_id, "name": user_id}
        event = payloads.make_event(self._rng, self._ctx, user, type_code, date)
        event["user_id"] = user_id
        return event

    def add_events(
        self,
        user_id: str,
        n: int,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        type: str | None = None,
    ) -> list[dict[str, Any]]:
        """Add ``n`` events dated between ``start`` and ``end`` (default: the last history_days)."""
        with self._lock:
            end_at = parse_time(end) if end is not None else utcnow()
            start_at = (
                parse_time(start)
                if start is not None
                else end_at - timedelta(days=self.history_days)
            )
            window = (end_at - start_at).total_seconds()
            dates = sorted(
                start_at + timedelta(milliseconds=round(self._rng.uniform(0, window) * 1000))
                for _ in range(n)
            )
            return [
                self.add_event(user_id, date=d, type=type or payloads.pick_type(self._rng))
                for d in dates
            ]

    def add_events_bulk(
        self,
        counts: Mapping[str | None, int],
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        type: str | None = None,
    ) -> list[str]:
        """Add ``counts[user_id]`` events per user fast; returns their log_ids, oldest first.

        Dated between ``start`` and ``end`` (default: the last history_days), indexed now in
        date order. The key None adds client-credentials exchanges that have no user. Unlike
        add_events this copies nothing back, so it suits benchmarks adding thousands.
        """
        with self._lock, _gc_paused():
            now = utcnow()
            end_at = parse_time(end) if end is not None else now
            start_at = (
                parse_time(start)
                if start is not None
                else end_at - timedelta(days=self.history_days)
            )
            window = (end_at - start_at).total_seconds()
            rng = self._rng
            drafted: list[tuple[datetime, int, dict[str, Any]]] = []
            for user_id, n in counts.items():
                for _ in range(n):
                    date = start_at + timedelta(milliseconds=round(rng.uniform(0, window) * 1000))
                    event = self._draft(user_id, type or payloads.pick_type(rng), date)
                    drafted.append((date, len(drafted), event))
            drafted.sort(key=lambda item: (item[0], item[1]))
            return [self._store(event, max(now, date)).log_id for date, _, event in drafted]

    # ----------------------------------------------------------------- assertions helpers

    def retention_cutoff(self) -> float | None:
        """Events dated at or before this epoch second are past retention (None: keep all)."""
        if self.retention_days is None:
            return None
        return time.time() - self.retention_days * 86400

    def _retained(self, events: Iterable[LogEvent]) -> list[LogEvent]:
        cutoff = self.retention_cutoff()
        return [e for e in events if cutoff is None or e.ts > cutoff]

    def user_ids(self) -> list[str]:
        """Current users, oldest first (created_at order)."""
        with self._lock:
            return [u["user_id"] for u in self._users_in_order()]

    def users(self) -> list[dict[str, Any]]:
        """Current user objects, oldest first."""
        with self._lock:
            return copy.deepcopy(self._users_in_order())

    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._users.get(user_id)
            return copy.deepcopy(found) if found else None

    def _users_in_order(self) -> list[dict[str, Any]]:
        return sorted(self._users.values(), key=lambda u: (u["created_at"], u["user_id"]))

    def events_for(self, user_id: str) -> list[dict[str, Any]]:
        """Retained events of ``user_id`` (deleted users too), newest first by date.

        Events with no user (client-credentials exchanges) belong to nobody: never listed here.
        """
        with self._lock:
            events = self._retained(self._user_events(user_id))
            return [copy.deepcopy(e.data) for e in reversed(events)]

    def _user_events(self, user_id: str) -> Sequence[LogEvent]:
        """Events of ``user_id``, the backlog's too, in (date, log_id) order."""
        stored = self._by_user.get(user_id, [])
        if self.backlog is None or not self.backlog.has_user(user_id):
            return stored
        derived = map(self.backlog.event, self.backlog.user_indices(user_id))
        return list(heapq.merge(stored, sorted(derived, key=_date_order), key=_date_order))

    def all_events(self) -> list[dict[str, Any]]:
        """Every retained event of the tenant (those with no user too), in log_id order.

        With a backlog this decodes every one of its events: use ``backlog`` for big ones.
        """
        with self._lock:
            events: Iterable[LogEvent] = self._events
            if self.backlog is not None:
                derived = self.backlog.events_from(0, None, self.backlog.count)
                events = heapq.merge(self._events, derived, key=_log_id)
            return [copy.deepcopy(e.data) for e in self._retained(events)]

    def expected_log_ids(
        self,
        user_ids: Iterable[str] | None = None,
        since: datetime | str | None = None,
    ) -> set[str]:
        """log_ids of retained events of ``user_ids`` (default: current users) dated >= since.

        Events with no user are never expected: no user's listing can return them. Backlog
        users' events are included: for a big backlog, ``backlog.checksum()`` is far cheaper.
        """
        with self._lock:
            wanted = set(self._users) if user_ids is None else set(user_ids)
            floor = parse_time(since).timestamp() if since is not None else None
            return {
                e.log_id
                for uid in wanted
                for e in self._retained(self._user_events(uid))
                if floor is None or e.ts >= floor
            }

    @property
    def event_count(self) -> int:
        """Events stored, retained or not, and the backlog's."""
        with self._lock:
            return len(self._events) + (self.backlog.count if self.backlog else 0)

    # ----------------------------------------------------------------- queries for the routes

    def has_user(self, user_id: str) -> bool:
        with self._lock:
            return user_id in self._users

    def user_log_page(
        self, user_id: str, sort_field: str, descending: bool, start: int, limit: int
    ) -> list[bytes]:
        """Encoded events of one current user, sorted, sliced; [] for an unknown user."""
        with self._lock:
            if user_id not in self._users:
                return []
            events = self._user_events(user_id)
            cutoff = self.retention_cutoff()
            first = 0 if cutoff is None else bisect.bisect_right(events, cutoff, key=_date_ts)
            if sort_field == "date":
                if descending:
                    stop = len(events) - start
                    begin = max(stop - limit, first)
                    return [e.body for e in reversed(events[begin:stop])] if stop > first else []
                return [e.body for e in events[first + start : first + start + limit]]
            ordered = sorted(events[first:], key=event_sort_key(sort_field), reverse=descending)
            return [e.body for e in ordered[start : start + limit]]

    def search_events(
        self,
        matches: Callable[[dict[str, Any]], bool],
        user_ids: set[str] | None,
        sort_field: str,
        descending: bool,
        window: tuple[float, float] | None = None,
        limit: int | None = None,
    ) -> list[LogEvent]:
        """The first ``limit`` (default: all) retained events (of ``user_ids``, dated within
        ``window``, if given) that satisfy ``matches``, sorted. Both only narrow where to look;
        ``matches`` decides.

        Over a backlog, a date sort reads only as far as it must; any other sort reads every
        candidate, slow for a million events unless ``user_ids`` or ``window`` narrow them.
        """
        key = event_sort_key(sort_field)
        with self._lock:
            lists = (
                [self._by_date]
                if user_ids is None
                else [self._by_user.get(u, []) for u in user_ids]
            )
            pool = [e for events in lists for e in _within(events, window)]
            found: list[LogEvent] = [e for e in self._retained(pool) if matches(e.data)]
            if sort_field == "date" and len(lists) == 1:
                # One list, kept in (date, log_id) order: the sort's order already, and
                # sorting 30,000 events again cost the first search a tenth of a second.
                if descending:
                    found.reverse()
            else:
                found.sort(key=key, reverse=descending)
            if self.backlog is not None:
                derived = self.backlog.search(
                    matches,
                    user_ids,
                    window,
                    self.retention_cutoff(),
                    key,
                    descending,
                    limit,
                    by_date=sort_field == "date",
                )
                found = list(heapq.merge(found, derived, key=key, reverse=descending))
        return found if limit is None else found[:limit]

    def events_after(self, log_id: str | None, take: int) -> list[LogEvent]:
        """Up to ``take`` retained events with a log_id above ``log_id``, in log_id order."""
        with self._lock:
            index = 0 if log_id is None else bisect.bisect_right(self._events, log_id, key=_log_id)
            cutoff = self.retention_cutoff()
            stored = (self._events[i] for i in range(index, len(self._events)))
            found: list[LogEvent] = list(
                itertools.islice((e for e in stored if cutoff is None or e.ts > cutoff), take)
            )
            if self.backlog is None:
                return found
            start = 0 if log_id is None else self.backlog.count_up_to(log_id)
            found += self.backlog.events_from(start, cutoff, take)
            found.sort(key=_log_id)  # two sorted runs: a merge
            return found[:take]

    def checkpoint_too_old(self, log_id: str) -> bool:
        """Whether reading after ``log_id`` would skip events lost to retention.

        True when its timestamp is past retention, or when it precedes the oldest retained
        event while older events have expired (they fell between it and what is left).
        """
        with self._lock:
            cutoff = self.retention_cutoff()
            if cutoff is None:
                return False
            if ingestion_time(log_id).timestamp() < cutoff:
                return True
            oldest: list[LogEvent] = self._events[:1]
            if self.backlog is not None:
                oldest.append(self.backlog.event(0))
            if all(e.ts > cutoff for e in oldest):
                return False  # nothing has expired yet
            firsts = [next((e.log_id for e in self._events if e.ts > cutoff), None)]
            if self.backlog is not None:
                firsts.append(self.backlog.first_retained_log_id(cutoff))
            retained = [first for first in firsts if first is not None]
            return not retained or log_id < min(retained)

    def search_users(self, matches: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Current users that satisfy ``matches``, oldest first.

        The tenant's own objects, not copies (copying thousands costs more than the request):
        read them, never change them. The tenant itself only ever replaces a user whole.
        """
        with self._lock:
            return [u for u in self._users_in_order() if matches(u)]


def _date_order(event: LogEvent) -> tuple[float, str]:
    return (event.ts, event.log_id)


def _date_ts(event: LogEvent) -> float:
    return event.ts


def _within(events: list[StoredEvent], window: tuple[float, float] | None) -> list[StoredEvent]:
    """The slice of date-ordered ``events`` dated within ``window`` (all if None)."""
    if window is None:
        return events
    low = bisect.bisect_left(events, window[0], key=_date_ts)
    return events[low : bisect.bisect_right(events, window[1], key=_date_ts)]


def _log_id(event: LogEvent) -> str:
    return event.log_id


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector: events hold no cycles, and its passes cost more than they do."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def indexing_delay(rng: random.Random) -> timedelta:
    """Auth0 indexes most events within two seconds, a few only after minutes."""
    if rng.random() < 0.9:
        return timedelta(seconds=rng.uniform(0.05, 2.0))
    return timedelta(seconds=rng.uniform(2.0, 240.0))
