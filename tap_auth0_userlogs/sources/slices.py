"""A pass cut into slices of the tenant's log, so that several readers share it exactly.

A slice holds the events after one position and up to another (the last slice: to the log's
end). Its reader follows it in checkpoint mode and keeps what lies at or before the slice's
end: the first log_id past it belongs to the next slice, so no event is read twice and none is
skipped. New boundaries are positions made from a time (`log_id_at`), which sort before every
event ingested in that second. When a reader has nothing left to take, the slice with the
most time still to read is cut in two at its middle, so no reader idles while work remains;
a slice estimated to hold fewer than `MIN_PAGES` pages is not cut (each cut costs about one
request more: the page that crosses the boundary). The estimate starts from the survey's rate
of events and follows what the readers find, where the log proves denser than expected.
"""

from __future__ import annotations

import collections
import datetime
import threading
import typing as t
from dataclasses import dataclass

from tap_auth0_userlogs.auth0.endpoints import MAX_PAGE_SIZE
from tap_auth0_userlogs.events.log_ids import log_id_at, log_id_order, log_id_time

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_auth0_userlogs.events.coverage import Gap
    from tap_auth0_userlogs.events.pages import LogEvent

# Pages a slice must be expected to hold, on each side of a cut, to be worth one.
MIN_PAGES = 10
# Seconds a slice must still span to be cut: boundaries are whole seconds.
MIN_SPAN = datetime.timedelta(seconds=2)


@dataclass
class Slice:
    """Events after `after`, up to `upto` (None: to the log's end); read up to `reached`."""

    after: str
    upto: str | None
    reached: str
    # Read through search after Auth0 refused it in checkpoint mode: not to be cut.
    searching: bool = False
    # Events a second where its reader is: where the log proves denser than the survey said.
    density: float = 0.0

    def note_density(self, upto: str, events: int) -> None:
        """A page of `events` read from `reached` up to `upto`."""
        start, end = log_id_time(self.reached), log_id_time(upto)
        if start is not None and end is not None:
            page = events / max((end - start).total_seconds(), 1.0)
            self.density = page if not self.density else (self.density + page) / 2


class SliceBoard:
    """The slices of one pass: handed to readers, cut at their end, split to keep readers busy.

    Thread-safe: readers take slices and cut their pages through it while others split them.
    `events_per_second` is the survey's estimate of the log's rate (None: too few events to
    be worth more than one reader); `until` is when the run began, where the last slice's
    span is counted to.
    """

    def __init__(
        self,
        gaps: Iterable[Gap],
        *,
        events_per_second: float | None,
        until: datetime.datetime,
    ) -> None:
        self._lock = threading.Lock()
        self._pending = collections.deque(Slice(after, upto, after) for after, upto in gaps)
        self._active: list[Slice] = []
        self._rate = events_per_second
        self._until = until

    def take(self) -> Slice | None:
        """A slice to read: one not started, else the larger half of the longest in reading."""
        with self._lock:
            if self._pending:
                taken = self._pending.popleft()
            else:
                victim = self._longest()
                if victim is None:
                    return None
                taken = self._split(victim)
            self._active.append(taken)
            return taken

    def has_work(self) -> bool:
        """Whether `take` would hand out a slice now."""
        with self._lock:
            return bool(self._pending) or self._longest() is not None

    def cut(self, piece: Slice, events: list[LogEvent]) -> tuple[list[LogEvent], bool]:
        """The events of a page that belong to `piece`, and whether the slice is finished.

        A slice is finished at the first log_id past its end, or at an empty page (the log's
        end). The caller reads on from `piece.reached`.
        """
        with self._lock:
            upto = piece.upto
            if not events:
                finished = True
                kept = events
            elif upto is None or log_id_order(events[-1].log_id) <= log_id_order(upto):
                finished = False
                kept = events
            else:
                bound = log_id_order(upto)
                kept = [e for e in events if log_id_order(e.log_id) <= bound]
                finished = True
            if kept:
                piece.note_density(kept[-1].log_id, len(kept))
                piece.reached = kept[-1].log_id
            if finished:
                self._finish(piece)
            return kept, finished

    def finish(self, piece: Slice, reached: str) -> None:
        """The slice is read up to `reached` (its end, or as far as a search could vouch)."""
        with self._lock:
            piece.reached = reached
            self._finish(piece)

    def search(self, piece: Slice, *, searching: bool) -> str | None:
        """The slice is read through search (`searching`), or no more: while it is, it keeps
        its end, which is returned."""
        with self._lock:
            piece.searching = searching
            return piece.upto

    def _finish(self, piece: Slice) -> None:
        if piece.upto is not None and log_id_order(piece.reached) < log_id_order(piece.upto):
            piece.reached = piece.upto  # nothing else lies in it
        if piece in self._active:
            self._active.remove(piece)

    def _span(self, piece: Slice) -> tuple[datetime.datetime, datetime.datetime] | None:
        start = log_id_time(piece.reached)
        end = log_id_time(piece.upto) if piece.upto is not None else self._until
        if start is None or end is None:
            return None
        return start, end

    def _longest(self) -> Slice | None:
        """The slice with the most time left to read, if it is worth a cut."""
        best, best_left = None, MIN_SPAN * 2
        for piece in self._active:
            span = None if piece.searching else self._span(piece)
            if span is None:
                continue
            left = span[1] - span[0]
            if left >= best_left and self._pages_in(left / 2, piece) >= MIN_PAGES:
                best, best_left = piece, left
        return best

    def _pages_in(self, span: datetime.timedelta, piece: Slice | None = None) -> float:
        """Pages `span` holds, at the survey's rate or the slice's own, whichever is higher."""
        rate = max(self._rate or 0.0, piece.density if piece is not None else 0.0)
        return rate * span.total_seconds() / MAX_PAGE_SIZE

    def _split(self, victim: Slice) -> Slice:
        span = self._span(victim)
        assert span is not None  # `_longest` chose it for its span
        start, end = span
        middle = (start + (end - start) / 2).replace(microsecond=0)
        boundary = log_id_at(max(middle, start + datetime.timedelta(seconds=1)))
        later = Slice(after=boundary, upto=victim.upto, reached=boundary)
        victim.upto = boundary
        return later
