"""One run's pass over the tenant's log: its pages, read by as many readers as pay off.

A pass may begin with users the stored position does not cover: their history is read user by
user, up to the position the pass starts after (later events come from the pass itself). Then
the log from that position on is read in slices (`slices.py`), by as many readers at once as
the rate limit and the round trip need (`RateLimitGovernor.in_flight_needed`), never more
than `max_concurrency`. Each page comes out as it arrives, from whichever slice read it, with
the span of the log its slice has read so far, through a bounded queue: memory stays flat.

Where Auth0 answers a checkpoint read with 400 (a position older than its retention, or no
checkpoint reads at all), that slice is read through date-window search instead, keeping the
log_ids that lie in it; the last slice is searched up to the look-back before the run began
and read on in checkpoint mode from there. One WARNING says so, however many slices it hits.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_auth0_userlogs.events.dates import parse_date, utc_now
from tap_auth0_userlogs.events.log_ids import is_after, log_id_at, log_id_order, log_id_time
from tap_auth0_userlogs.events.pages import DecodedEvent, LogEvent
from tap_auth0_userlogs.sources.slices import Slice, SliceBoard
from tap_auth0_userlogs.sources.tenant_log import LogPage, PositionRefused, TenantLog

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_auth0_userlogs.events.coverage import Gap, Span
    from tap_auth0_userlogs.sources.user_log import UserCutoff, UserLogReader

# A pass whose first event comes this long after its start may have lost a span to retention.
RETENTION_SUSPECT_GAP = datetime.timedelta(hours=1)
# A helper pays only while the caller's thread spends most of its time waiting for pages, and
# little of it on the CPU: where its own work, or a slow target taking its output, bounds the
# pass, more readers would cost CPU and memory and buy little.
CALLER_BUSY_SHARE = 0.5
# How long the caller's work is measured before a helper is added, once helpers run.
BUSY_WINDOW_SECONDS = 0.2
# The first helpers join once a page of the pass took this long to read (the survey's first
# page, or the caller's own): a page costs a few milliseconds of CPU, so a wait ten times that
# is the network's round trip.
FIRST_HELPERS_WAIT_SECONDS = 0.02
# Pages each reader may have waiting: readers pause when the queue holds this many per
# reader, and go on once it holds a quarter of that. Waking a reader for every page taken, or
# letting it poll, cost more CPU in thread switches than reading the page.
PAGES_QUEUED_PER_READER = 4
# And this many in all, however many readers: each reader also holds the page it has read
# while it waits for room, so memory is bounded by this plus one page a reader.
MAX_PAGES_QUEUED = 32

logger = logging.getLogger("tap-auth0-userlogs.tenant_pass")


@dataclass(frozen=True)
class PassPage:
    """Events to emit, and the span of the log their slice has read once they are out.

    `span` is None for the backfill users' pages, which lie before the pass's start.
    `highest` is the highest log_id among the events (None: none, or backfill): once the
    log is out up to it, so is every event of the page.
    """

    events: list[LogEvent]
    span: Span | None
    highest: str | None = None


@dataclass(frozen=True)
class PassRead:
    """What one pass reads: where it starts, what is read already, and how."""

    gaps: list[Gap]  # the spans still to read, in log_id order
    start: str  # the position the pass starts after
    resumed: bool  # `start` is where earlier runs read up to: the log held events there
    run_started: datetime.datetime
    lookback: datetime.timedelta
    events_per_second: float | None  # the survey's estimate; None: one reader will do
    first: LogPage | None = None  # the first page from `start`, when the survey read it
    search_only: bool = False  # Auth0 refuses checkpoint reads: search every slice


def pass_pages(
    log: TenantLog,
    reader: UserLogReader,
    read: PassRead,
    *,
    backfill: list[UserCutoff],
    in_flight: Callable[[], int],
    max_in_flight: int,
) -> Iterator[PassPage]:
    """The backfill users' events up to the start, then every event of the tenant after it.

    `in_flight` says how many slices to read at once now; `max_in_flight` 1 reads them one
    request at a time on the caller's thread.
    """
    for user in backfill:
        seen: set[str] = set()
        for events in reader.pages(user):
            kept = [
                e
                for e in events
                if not is_after(e["log_id"], read.start) and e["log_id"] not in seen
            ]
            seen.update(e["log_id"] for e in kept)
            yield PassPage([DecodedEvent(e) for e in kept], None)
    board = SliceBoard(read.gaps, events_per_second=read.events_per_second, until=read.run_started)
    slices = SliceReader(log, board, read)
    first_wait = read.first.waited if read.first is not None else 0.0
    pool = ReaderPool(board, slices.pages, in_flight, max_in_flight, first_wait=first_wait)
    yield from pool.pages()


class SliceReader:
    """Reads one slice at a time: in checkpoint mode, or through search where Auth0 refuses."""

    def __init__(self, log: TenantLog, board: SliceBoard, read: PassRead) -> None:
        self._log = log
        self._board = board
        self._read = read
        self._warned = threading.Event()

    def pages(self, piece: Slice) -> Iterator[PassPage]:
        """The slice's pages as read, each with the span read so far; the last one finishes it."""
        read = self._read
        if read.search_only:
            self._warn(None)
            yield from self._searched(piece, to_now=True)
            return
        first = read.first if piece.after == read.start else None
        checked = not (read.resumed and piece.after == read.start)
        while True:
            try:
                for page in self._log.pass_from(piece.reached, first):
                    if not checked and page.events:
                        _warn_if_retention_passed(self._log, read.start, page.events[0])
                    checked = True
                    kept, finished = self._board.cut(piece, page.events)
                    highest = kept[-1].log_id if kept else None  # checkpoint mode: in order
                    yield PassPage(kept, (piece.after, piece.reached), highest)
                    if finished:
                        return
                    first = None
            except PositionRefused as refused:
                self._warn(refused)
                first = None
                if (yield from self._searched(piece, to_now=False)):
                    continue  # read on in checkpoint mode from where the search stopped
                return
            # An empty page: the log's end.
            self._board.finish(piece, piece.reached)
            yield PassPage([], (piece.after, piece.reached))
            return

    def _searched(self, piece: Slice, *, to_now: bool) -> t.Generator[PassPage, None, bool]:
        """The slice's events after `piece.reached`, by date-window search; True when the
        last slice is to be read on in checkpoint mode from where the search stopped.

        The window opens the look-back before the position, for events indexed late, and
        keeps only the log_ids in the slice. The last slice is searched up to the look-back
        before the run began, which every event ingested earlier has reached by now; past
        that (`to_now`, or refused there already) up to now, claiming no more than that.
        """
        read = self._read
        resume = log_id_at(read.run_started - read.lookback)
        upto = self._board.search(piece, searching=True)
        low = piece.reached
        read_on = upto is None and not to_now and log_id_order(low) < log_id_order(resume)
        high = upto if upto is not None else (resume if read_on else None)
        until = log_id_time(high) if high is not None else utc_now()
        since = (log_id_time(low) or read.run_started) - read.lookback
        assert until is not None  # positions this tap makes carry a time
        bottom = log_id_order(low)
        top = log_id_order(high) if high is not None else None
        for events in self._log.span(since, until + datetime.timedelta(seconds=1)):
            kept: list[LogEvent] = []
            highest: tuple[int, str] | None = None
            for event in events:
                order = log_id_order(event["log_id"])
                if bottom < order and (top is None or order <= top):
                    kept.append(DecodedEvent(event))
                    highest = order if highest is None else max(highest, order)
            # Search pages come by date, not log_id: the highest of them says when they are out.
            yield PassPage(kept, (piece.after, piece.reached), highest[1] if highest else None)
        if read_on:
            piece.reached = resume
            self._board.search(piece, searching=False)
            return True
        reached = high or max(low, resume, key=log_id_order)
        self._board.finish(piece, reached)
        yield PassPage([], (piece.after, piece.reached))
        return False

    def _warn(self, refused: PositionRefused | None) -> None:
        if self._warned.is_set():
            if refused is not None:
                logger.info("Auth0 refused a checkpoint read too (%s): searching instead", refused)
            return
        self._warned.set()
        if refused is None:
            logger.warning(
                "Auth0 refuses to read its log in checkpoint mode: reading it through "
                "date-window search up to now; the next run tries checkpoint mode again"
            )
            return
        since = log_id_time(refused.position)
        logger.warning(
            "Auth0 refused to read its log from %s (%s): reading that span through search "
            "instead; events older than Auth0's log retention are gone",
            since.isoformat() if since else refused.position,
            refused,
        )


class ReaderPool:
    """Reads the board's slices: one on the caller's thread, more on helper threads, as many
    as `in_flight` says, whose pages reach the caller through a queue of a few pages each
    (MAX_PAGES_QUEUED at most, so memory stays flat however many read).

    A pass that one reader serves runs as it would without a pool. Helpers are added, up to
    what `in_flight` asks and at most doubling the readers at a time, only while the queue is
    empty and the caller's thread spends most of its time waiting: where the caller's own
    work on the pages is what bounds the pass, more readers would only wait, and cost CPU in
    every hand-over of the interpreter lock. With `max_in_flight` 1 there are no helpers.
    """

    def __init__(
        self,
        board: SliceBoard,
        read: Callable[[Slice], Iterator[PassPage]],
        in_flight: Callable[[], int],
        max_in_flight: int,
        *,
        first_wait: float = 0.0,
    ) -> None:
        self._board = board
        self._read = read
        self._in_flight = in_flight
        # Seconds the survey waited for the pass's first page, read before the pool started.
        self._first_wait = first_wait
        self._helpers_allowed = max_in_flight > 1
        self._cancelled = threading.Event()
        self._queue: queue.SimpleQueue[t.Any] = queue.SimpleQueue()
        # Helpers wait on it while the queue is full (from its high water to its low).
        self._room = threading.Condition()
        self._full = False
        self._live = 0  # helpers reading
        # The caller thread's CPU, its time waiting for pages, and the wall clock, when its
        # busy share was last measured.
        self._waited = 0.0
        self._measured = (time.thread_time(), 0.0, time.monotonic())
        self._grown = False  # whether a helper was ever started

    def pages(self) -> Iterator[PassPage]:
        """Every page of every slice, as read; raises what a helper raised."""
        own: Iterator[PassPage] | None = None
        try:
            while True:
                if own is None and (piece := self._board.take()) is not None:
                    own = self._read(piece)
                if own is not None:
                    waiting = time.monotonic()
                    page = next(own, None)
                    self._waited += time.monotonic() - waiting
                    if page is None:
                        own = None
                        continue
                    yield page
                    while not self._queue.empty():
                        yield from self._received(self._queue.get())
                    self._grow()
                elif self._live:
                    self._grow()
                    waiting = time.monotonic()
                    item = self._queue.get()
                    self._waited += time.monotonic() - waiting
                    yield from self._received(item)
                else:
                    return
        finally:
            self._cancelled.set()
            self._make_room()

    def _received(self, item: object) -> Iterator[PassPage]:
        if self._full and self._queue.qsize() <= self._low_water():
            self._make_room()
        if item is _DONE:
            self._live -= 1
        elif isinstance(item, BaseException):
            raise item
        else:
            yield t.cast("PassPage", item)

    def _high_water(self) -> int:
        return min(PAGES_QUEUED_PER_READER * self._live, MAX_PAGES_QUEUED)

    def _low_water(self) -> int:
        return self._high_water() // 4

    def _grow(self) -> None:
        """Start helpers up to what is needed, while they are not ahead of the caller, the
        caller waits more than it works, and there is work: at most as many as read now, so
        that the readers at most double each time the caller is seen waiting. Where the
        caller's own work binds, it stops waiting after a few helpers, before `in_flight` of
        them (128 on a roomy bucket) contend with it for the interpreter and hold a page each."""
        if not (self._helpers_allowed and self._queue.empty()):
            return
        wanted = min(self._in_flight() - 1 - self._live, self._live + 1)
        if wanted <= 0 or not self._caller_waits():
            return
        self._grown = True
        while wanted and self._board.has_work():
            wanted -= 1
            self._live += 1
            name = f"log-slices-{self._live}"
            threading.Thread(target=self._serve, name=name, daemon=True).start()
        self._make_room()  # the new readers raised the high water

    def _caller_waits(self) -> bool:
        """Whether, over the last window, the caller's thread spent most of its time waiting
        for pages and less than its busy share on the CPU. A window shorter than
        BUSY_WINDOW_SECONDS says nothing yet (no, and it goes on), except before the first
        helpers: a wait of FIRST_HELPERS_WAIT_SECONDS for a page of the pass (the survey's
        first, or one of the caller's own) is the network's round trip, and a full bucket
        wastes its refill while one reader reads on alone."""
        now = time.monotonic()
        then_cpu, then_waited, then = self._measured
        window = now - then
        waited = self._waited - then_waited
        if not self._grown and self._first_wait >= FIRST_HELPERS_WAIT_SECONDS:
            self._measured = (time.thread_time(), self._waited, now)
            return True
        if window < BUSY_WINDOW_SECONDS and (self._grown or waited < FIRST_HELPERS_WAIT_SECONDS):
            return False
        cpu = time.thread_time()
        self._measured = (cpu, self._waited, now)
        return cpu - then_cpu < CALLER_BUSY_SHARE * window and waited > window / 2

    def _serve(self) -> None:
        try:
            while not self._cancelled.is_set() and (piece := self._board.take()) is not None:
                for page in self._read(piece):
                    if not self._put(page):
                        return
        except BaseException as exc:  # handed to the caller's thread, which raises it
            self._put(exc)
        finally:
            self._put(_DONE)

    def _put(self, item: object) -> bool:
        """Queue `item` once there is room; False when the pass was cancelled meanwhile.
        Under the lock, so that readers woken together do not all queue past the high water."""
        with self._room:
            while item is not _DONE and self._full and not self._cancelled.is_set():
                self._room.wait()
            if self._cancelled.is_set():
                return False
            self._queue.put(item)
            if self._queue.qsize() >= self._high_water():
                self._full = True
        return True

    def _make_room(self) -> None:
        """Wake the helpers: to queue pages, if the queue is below its high water (which a new
        helper raises), and to see a cancelled pass."""
        with self._room:
            if self._queue.qsize() < self._high_water():
                self._full = False
            self._room.notify_all()


_DONE = object()


def _warn_if_retention_passed(log: TenantLog, start: str, first: LogEvent) -> None:
    """Warn when Auth0 served the pass from its oldest event, after the start position.

    Given a position older than its retention, Auth0 may answer 400 (then the span is
    searched) or serve from the oldest event it keeps: the events between have expired. A
    first event well after the start is the sign; one request for the oldest event tells.
    Only for a start earlier runs read up to: a `start_date` before a tenant's first event
    leaves the same gap with nothing lost.
    """
    started_at = log_id_time(start)
    first_at = log_id_time(first.log_id)
    if started_at is None or first_at is None or first_at - started_at < RETENTION_SUSPECT_GAP:
        return
    oldest = log.oldest()
    # Had nothing expired, events from before the start would still be there.
    if oldest and parse_date(oldest["date"]) - started_at > datetime.timedelta(seconds=1):
        logger.warning(
            "The tenant's log now begins at %s, after %s where this pass starts: Auth0's log "
            "retention has passed; events of that span are missing for every user",
            oldest["date"],
            started_at.isoformat(),
        )
