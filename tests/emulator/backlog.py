"""A backlog of the tenant log: up to millions of events derived from their index, never stored.

Benchmarks read a backlog of a million events in checkpoint mode; storing that many (about
1.5 KB of JSON each) would take gigabytes and minutes to generate. Instead a pool of event
bodies (a few per backlog user, plus client-credentials exchanges that belong to no user, in
the tenant's ``client_event_share``) is rendered once, shuffled, and event ``i`` is pool entry
``i mod pool size`` with its own date, log_id and ``_id`` put in:

- ingestion time: spread evenly over the backlog's hours, so log_ids rise with ``i``;
- log_id: ``900`` + that time + a sequence of ``SEQUENCE_BASE + i``, far above the sequences
  of the tenant's stored events, so log_ids never collide with theirs;
- date: the ingestion time less an indexing delay of 50 ms to 2 s, drawn from a seeded table
  of 2 bytes per event (2 MB for a million).

Past that table, memory grows with the backlog's users (their user objects and a pool of at
least 10,000 bodies of ~1.5 KB), not with its events. Timestamps inside ``details``
(``initiatedAt``, ...) are the pool entry's, not the event's date.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import heapq
import json
import math
import random
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.emulator import payloads
from tests.emulator.log_ids import PREFIX, SEQUENCE_DIGITS

SEQUENCE_BASE = 10 ** (SEQUENCE_DIGITS - 1)
MIN_DELAY_MS = 50
MAX_DELAY_MS = 2000
POOL_SIZE = 10_000  # bodies of users' events, at least one per user, fewer for small backlogs
_USERS_CREATED_DAYS = 730  # backlog users were created over the ~2 years before the backlog
_DELAY_SPAN_MS = MAX_DELAY_MS - MIN_DELAY_MS
_MASK64 = (1 << 64) - 1

# A body is its pool entry's JSON with the date (the first key) and log_id and _id (the last
# two) put in: _HEAD + date + middle + log_id + _SEPARATOR + log_id + _TAIL.
_HEAD = b'{"date": "'
_SEPARATOR = b'", "_id": "'
_TAIL = b'"}'
_MILLIS = tuple(b".%03dZ" % ms for ms in range(1000))  # a date's last five characters
_DATE = "@@DATE@@"
_LOG_ID = "@@LOG_ID@@"


def _delays(rng: random.Random, count: int) -> array[int]:
    """``count`` random 16-bit numbers, the same on any platform for the same ``rng``."""
    table = array("H")
    table.frombytes(rng.randbytes(2 * count))
    if sys.byteorder == "big":
        table.byteswap()
    return table


@functools.lru_cache(maxsize=64)
def _day(day: int) -> tuple[str, str]:
    """``YYYYMMDD`` and ``YYYY-MM-DD`` of a day counted from the epoch (UTC)."""
    t = time.gmtime(day * 86400)
    return f"{t.tm_year:04d}{t.tm_mon:02d}{t.tm_mday:02d}", time.strftime("%Y-%m-%d", t)


@functools.lru_cache(maxsize=4096)
def _clock(second: int) -> tuple[str, bytes]:
    """``YYYYMMDDhhmmss`` and ``YYYY-MM-DDThh:mm:ss`` of an epoch second (UTC)."""
    day, rest = divmod(second, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    compact, iso = _day(day)
    return (
        f"{compact}{hours:02d}{minutes:02d}{seconds:02d}",
        f"{iso}T{hours:02d}:{minutes:02d}:{seconds:02d}".encode(),
    )


def _middle(event: dict[str, Any]) -> bytes:
    """What a body holds between its date and its log_id."""
    body = json.dumps({**event, "date": _DATE, "log_id": _LOG_ID, "_id": _LOG_ID})
    head, _, rest = body.encode().partition(_DATE.encode())
    middle, separator, tail = rest.split(_LOG_ID.encode())
    assert (head, separator, tail) == (_HEAD, _SEPARATOR, _TAIL), "date first, ids last"
    return middle


@dataclass(frozen=True)
class Coverage:
    """How a client's log_ids cover a backlog (see ``Backlog.coverage``)."""

    delivered: int  # log_ids of backlog events, duplicates included
    missing: int  # backlog events never delivered
    duplicates: int  # deliveries of a backlog event already delivered
    others: int  # log_ids of no backlog event: the tenant's stored events, or unknown ones
    first_missing: str | None  # the log_id of the first backlog event never delivered

    @property
    def complete(self) -> bool:
        """Every backlog event delivered exactly once."""
        return self.missing == 0 and self.duplicates == 0


class BacklogEvent:
    """Event ``index`` of a backlog, as the tenant's queries see a stored event."""

    __slots__ = ("_backlog", "_data", "date_ms", "index", "log_id", "ts")

    def __init__(self, backlog: Backlog, index: int, log_id: str, date_ms: int) -> None:
        self._backlog = backlog
        self.index = index
        self.log_id = log_id
        self.date_ms = date_ms
        self.ts = date_ms / 1000
        self._data: dict[str, Any] | None = None

    @property
    def user_id(self) -> str:
        return self._backlog.user_id(self.index)

    @property
    def body(self) -> bytes:
        second, millis = divmod(self.date_ms, 1000)
        log_id = self.log_id.encode()
        middles = self._backlog._middles
        middle = middles[self.index % len(middles)]
        date = _clock(second)[1]
        return b"".join((_HEAD, date, _MILLIS[millis], middle, log_id, _SEPARATOR, log_id, _TAIL))

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.body)
        return self._data


class Backlog:
    """``count`` events of ``users`` ingested evenly over the ``hours`` before ``end``."""

    def __init__(
        self,
        *,
        count: int,
        users: list[dict[str, Any]],
        end: datetime,
        hours: float,
        ctx: payloads.EventContext,
        client_event_share: float,
        seed: int,
    ) -> None:
        if count < 1:
            raise ValueError(f"a backlog needs at least one event, got {count}")
        self.count = count
        self.users = users
        self._span_ms = round(hours * 3_600_000)
        self._start_ms = round(end.timestamp() * 1000) - self._span_ms
        self._user_index = {u["user_id"]: j for j, u in enumerate(users)}
        rng = random.Random(f"{seed}:backlog-events")
        self._delays = _delays(rng, count)
        # The pool's owners, a user's index or None: a few entries per user, and enough with
        # no user that they make ``client_event_share`` of all.
        if users:
            if not 0 <= client_event_share < 1:
                raise ValueError(f"client_event_share must be in [0, 1), got {client_event_share}")
            per_user = math.ceil(min(POOL_SIZE, count) / len(users))
            owners: list[int | None] = [j for j in range(len(users)) for _ in range(per_user)]
            owners += [None] * round(len(owners) * client_event_share / (1 - client_event_share))
        else:
            owners = [None] * min(POOL_SIZE, count)
        rng.shuffle(owners)
        start = datetime.fromtimestamp(self._start_ms / 1000, end.tzinfo)
        self._middles: list[bytes] = []
        self._owners = owners
        self._entries_of: dict[int, list[int]] = {}
        for k, owner in enumerate(owners):
            moment = start + timedelta(hours=hours * rng.random())
            if owner is None:
                event = payloads.make_client_event(rng, ctx, moment)
            else:
                type_code = payloads.pick_type(rng)
                event = payloads.make_event(rng, ctx, users[owner], type_code, moment)
                self._entries_of.setdefault(owner, []).append(k)
            self._middles.append(_middle(event))

    @classmethod
    def generate(
        cls,
        count: int,
        *,
        users: int,
        hours: float,
        end: datetime,
        ctx: payloads.EventContext,
        client_event_share: float = 0.0,
        seed: int = 0,
        taken: Iterable[str] = (),
    ) -> Backlog:
        """A backlog with ``users`` new users, created before it, none with an id in ``taken``."""
        rng = random.Random(f"{seed}:backlog-users")
        start = end - timedelta(hours=hours)
        span = _USERS_CREATED_DAYS * 86400
        ids = set(taken)
        made: list[dict[str, Any]] = []
        while len(made) < users:
            created_at = start - timedelta(seconds=3600 + rng.uniform(0, span))
            user = payloads.make_user(
                rng, payloads.pick_provider(rng), created_at.replace(microsecond=0), start
            )
            if user["user_id"] not in ids:
                ids.add(user["user_id"])
                made.append(user)
        return cls(
            count=count,
            users=made,
            end=end,
            hours=hours,
            ctx=ctx,
            client_event_share=client_event_share,
            seed=seed,
        )

    # ----------------------------------------------------------------- event i

    def ingested_ms(self, i: int) -> int:
        return self._start_ms + i * self._span_ms // self.count

    def date_ms(self, i: int) -> int:
        return self.ingested_ms(i) - MIN_DELAY_MS - self._delays[i] % _DELAY_SPAN_MS

    def log_id(self, i: int) -> str:
        """The log_id of event ``i``; they rise with ``i``."""
        stamp = _clock(self.ingested_ms(i) // 1000)[0]
        return f"{PREFIX}{stamp}{SEQUENCE_BASE + i:0{SEQUENCE_DIGITS}d}"

    def user_id(self, i: int) -> str:
        """The user of event ``i``; "" for a client-credentials exchange."""
        owner = self._owners[i % len(self._owners)]
        return "" if owner is None else self.users[owner]["user_id"]

    def event(self, i: int) -> BacklogEvent:
        return BacklogEvent(self, i, self.log_id(i), self.date_ms(i))

    # ----------------------------------------------------------------- the whole backlog

    @property
    def first_log_id(self) -> str:
        return self.log_id(0)

    @property
    def last_log_id(self) -> str:
        return self.log_id(self.count - 1)

    def log_ids(self) -> Iterator[str]:
        """Every log_id, in order, one at a time (a million of them held at once is ~100 MB)."""
        return map(self.log_id, range(self.count))

    def index_of(self, log_id: str) -> int | None:
        """Which event of the backlog ``log_id`` is, or None if it is none of them."""
        try:
            i = int(log_id[-SEQUENCE_DIGITS:]) - SEQUENCE_BASE
        except ValueError:
            return None
        return i if 0 <= i < self.count and self.log_id(i) == log_id else None

    def checksum(self) -> int:
        """``checksum(backlog.log_ids())``: compare with the checksum of what a client got."""
        return checksum(self.log_ids())

    def coverage(self, log_ids: Iterable[str]) -> Coverage:
        """Which backlog events ``log_ids`` (a client's deliveries) hold, exactly, with one
        byte per backlog event: a million-event check costs 1 MB and a few seconds."""
        seen = bytearray(self.count)
        delivered = duplicates = others = 0
        for log_id in log_ids:
            i = self.index_of(log_id)
            if i is None:
                others += 1
                continue
            delivered += 1
            duplicates += seen[i]
            seen[i] = 1
        first = seen.find(0)
        return Coverage(
            delivered=delivered,
            missing=self.count - (delivered - duplicates),
            duplicates=duplicates,
            others=others,
            first_missing=None if first < 0 else self.log_id(first),
        )

    def count_up_to(self, log_id: str) -> int:
        """How many backlog log_ids are at or below ``log_id``: where reading after it starts."""
        i = self.index_of(log_id)  # a checkpoint is usually the last event of the page before
        if i is not None:
            return i + 1
        return bisect.bisect_right(range(self.count), log_id, key=self.log_id)

    def first_after_ingested(self, epoch_ms: float) -> int:
        """The first event ingested after ``epoch_ms`` (``count`` if none)."""
        return bisect.bisect_right(range(self.count), epoch_ms, key=self.ingested_ms)

    def first_retained(self, cutoff: float | None) -> int:
        """The first event dated after ``cutoff`` (epoch seconds; None: keep all)."""
        if cutoff is None:
            return 0
        i = self.first_after_ingested(cutoff * 1000 + MIN_DELAY_MS)
        while i < self.count and self.date_ms(i) / 1000 <= cutoff:
            i += 1
        return i

    def first_retained_log_id(self, cutoff: float | None) -> str | None:
        i = self.first_retained(cutoff)
        return self.log_id(i) if i < self.count else None

    def events_from(self, start: int, cutoff: float | None, take: int) -> list[BacklogEvent]:
        """Up to ``take`` events from ``start`` on, in log_id order, skipping those dated at or
        before ``cutoff``. Checkpoint pages come from here: worked out inline, for speed."""
        start_ms, span_ms, count, delays = self._start_ms, self._span_ms, self.count, self._delays
        low = -1 if cutoff is None else cutoff * 1000
        found: list[BacklogEvent] = []
        second, stamp = -1, ""
        for i in range(max(start, self.first_retained(cutoff)), count):
            ingested = start_ms + i * span_ms // count
            date_ms = ingested - MIN_DELAY_MS - delays[i] % _DELAY_SPAN_MS
            if date_ms <= low:
                continue
            if ingested // 1000 != second:
                second = ingested // 1000
                stamp = PREFIX + _clock(second)[0]
            found.append(BacklogEvent(self, i, f"{stamp}{SEQUENCE_BASE + i}", date_ms))
            if len(found) == take:
                break
        return found

    # ----------------------------------------------------------------- per user and searches

    def has_user(self, user_id: str) -> bool:
        return user_id in self._user_index

    def user_indices(self, user_id: str) -> list[int]:
        """The events of one backlog user, in log_id order ([] for anyone else)."""
        j = self._user_index.get(user_id)
        if j is None:
            return []
        runs = [range(k, self.count, len(self._owners)) for k in self._entries_of.get(j, [])]
        return list(heapq.merge(*runs))

    def search(
        self,
        matches: Callable[[dict[str, Any]], bool],
        user_ids: set[str] | None,
        window: tuple[float, float] | None,
        cutoff: float | None,
        key: Callable[[Any], Any],
        descending: bool,
        limit: int | None,
        *,
        by_date: bool,
    ) -> list[BacklogEvent]:
        """The first ``limit`` matching retained events in ``key`` order (all if None).

        ``user_ids`` and ``window`` only narrow where to look. Sorted by date, the scan starts
        at the matching end and stops once no event left can make the cut; by any other field
        it reads every candidate (slow for a big backlog, but holding only ``limit`` events).
        """
        candidates: Sequence[int]
        if user_ids is not None:
            candidates = sorted(i for u in user_ids for i in self.user_indices(u))
        else:
            low, high = window or (-float("inf"), float("inf"))
            if cutoff is not None:
                low = max(low, cutoff)
            candidates = range(
                self.first_after_ingested(low * 1000 + MIN_DELAY_MS - 1),
                self.first_after_ingested(high * 1000 + MAX_DELAY_MS),
            )
        found = (
            e
            for e in map(self.event, reversed(candidates) if descending else candidates)
            if (cutoff is None or e.ts > cutoff) and matches(e.data)
        )
        if limit is None:
            return sorted(found, key=key, reverse=descending)
        if by_date:
            return self._first_by_date(found, key, descending, limit)
        # Same order as sorted(...)[:limit], holding only ``limit`` events at a time.
        return (heapq.nlargest if descending else heapq.nsmallest)(limit, found, key=key)

    @staticmethod
    def _first_by_date(
        found: Iterator[BacklogEvent],
        key: Callable[[Any], Any],
        descending: bool,
        limit: int,
    ) -> list[BacklogEvent]:
        """The first ``limit`` of ``found`` by date, read in ingestion order from one end.

        Dates trail ingestion by at most MAX_DELAY_MS, so once ``limit`` events are in hand,
        an event ingested past the last of them by more than that can no longer make the cut.
        """
        kept: list[BacklogEvent] = []
        slack = (MAX_DELAY_MS - MIN_DELAY_MS) / 1000
        for event in found:
            if len(kept) >= limit:
                kept.sort(key=key, reverse=descending)
                del kept[limit:]
                edge = kept[-1].ts
                if (event.ts + slack < edge) if descending else (event.ts - slack > edge):
                    break
            kept.append(event)
        kept.sort(key=key, reverse=descending)
        return kept[:limit]


def checksum(log_ids: Iterable[str]) -> int:
    """An order-independent 64-bit checksum of log_ids, duplicates counted.

    Lets a benchmark check that a client delivered exactly a million events without holding
    them: equal checksums (and counts) mean, all but surely, the same events.
    """
    total = 0
    for log_id in log_ids:
        digest = hashlib.blake2b(log_id.encode(), digest_size=8).digest()
        total += int.from_bytes(digest, "big")
    return total & _MASK64
