"""Reading users' raw events: one user newest first, and several users at once ahead of need.

Only HTTP happens on worker threads. Records, state and bookmarks stay on the main thread, in
partition order, so the Singer output is the same whatever `max_concurrency` is, and a user's
bookmark only advances once all of its events were emitted.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
import typing as t
from dataclasses import dataclass
from http import HTTPStatus

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.errors import LOG_SCOPES, ClientError, TapUserError
from tap_auth0_userlogs.events.dates import parse_date
from tap_auth0_userlogs.sources.log_search import search_user_pages
from tap_auth0_userlogs.sources.paging import NewestFirstPaginator

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_auth0_userlogs.auth0.api import ManagementAPI
    from tap_auth0_userlogs.progress import SyncProgress

Page = list[dict[str, t.Any]]
# Pages one user may have waiting before its worker pauses (bounds memory for heavy users).
PAGES_BUFFERED_PER_USER = 4
# Users handed out ahead of the one being written, per thread, and in all. Users end out of
# order (one page, or thirty for one past the 1,000 cap), and records leave in partition order,
# so while the next user in order is still being read the other threads need users of their
# own, or they idle: sixteen per thread cover a heavy user's few seconds at 100 requests a
# second. Memory stays bounded: each user ahead holds PAGES_BUFFERED_PER_USER pages at most.
USERS_AHEAD_PER_THREAD = 16
MAX_USERS_AHEAD = 256

logger = logging.getLogger("tap-auth0-userlogs.reader")


class UserLogNotFound(Exception):
    """Auth0 answered 404 for a user's log: no events; the user may no longer exist."""


@dataclass(frozen=True)
class UserCutoff:
    """What to read for one user: events dated at or after `cutoff` (None: all retained)."""

    user_id: str
    cutoff: datetime.datetime | None


class UserEvents:
    """One user's events dated at or after its cutoff, each once, and how far back they reached."""

    def __init__(self, user: UserCutoff) -> None:
        self.user = user
        # False when Auth0 answered 404 for the user's log.
        self.found = True
        # The oldest date among every event read, kept or not.
        self.oldest: datetime.datetime | None = None

    def pages(self, raw_pages: Iterator[Page]) -> Iterator[Page]:
        """The events of `raw_pages` at or after the cutoff, none twice; each page as it comes."""
        cutoff = self.user.cutoff
        seen: set[str] = set()
        try:
            for page in raw_pages:
                kept: Page = []
                for event in page:
                    date = parse_date(event["date"])
                    self.oldest = date if self.oldest is None else min(self.oldest, date)
                    if (cutoff is not None and date < cutoff) or event["log_id"] in seen:
                        continue
                    seen.add(event["log_id"])
                    kept.append(event)
                yield kept
        except UserLogNotFound:
            self.found = False


class UserLogReader:
    """One user's events, newest first: the per-user pages, then search past the 1,000 cap."""

    def __init__(
        self, api: ManagementAPI, base_url: str, page_size: int, progress: SyncProgress
    ) -> None:
        self._api = api
        self._base_url = base_url
        self._page_size = page_size
        self._progress = progress

    def pages(self, user: UserCutoff) -> Iterator[Page]:
        """Every page of the user's events down to the cutoff (raw, possibly overlapping)."""
        url = f"{self._base_url}{endpoints.user_logs(user.user_id)}"
        paginator = NewestFirstPaginator(self._page_size, user.cutoff)
        while not paginator.finished:
            params = {"page": paginator.current_value, "per_page": self._page_size}
            try:
                reply = self._api.get(
                    url, {**params, "sort": "date:-1"}, endpoint="user_logs", scopes=LOG_SCOPES
                )
            except ClientError as error:
                # Auth0 documents no 404 here; for a deleted user it may answer one.
                if error.reply.status_code == HTTPStatus.NOT_FOUND:
                    raise UserLogNotFound from None
                raise
            events = reply.payload
            if not isinstance(events, list):
                msg = f"expected a JSON array of events for user {user.user_id}"
                raise TapUserError(msg)
            if events:
                yield events
            # singer-sdk's paginator only hands the answer on to our has_more and get_next.
            paginator.advance(t.cast("t.Any", reply))
        if paginator.cap_reached and paginator.oldest_read is not None:
            self._progress.count_cap_fallback()
            logger.info(
                "User %s has more than 1,000 new events; reading those dated up to %s "
                "through /api/v2/logs search",
                user.user_id,
                paginator.oldest_read.isoformat(),
            )
            yield from search_user_pages(
                self._api,
                self._base_url,
                user.user_id,
                since=user.cutoff,
                until=paginator.oldest_read,
            )


_END = object()


class _UserJob:
    """One user's pages, filled by a worker thread and drained by the main thread."""

    def __init__(self, cancelled: threading.Event) -> None:
        self._pages: queue.Queue[t.Any] = queue.Queue(maxsize=PAGES_BUFFERED_PER_USER)
        self._cancelled = cancelled

    def fill(self, pages: Iterator[Page]) -> None:
        try:
            for page in pages:
                if not self._put(page):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the main thread, which raises it
            self._put(exc)

    def drain(self) -> Iterator[Page]:
        while True:
            item = self._pages.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item: object) -> bool:
        # Never block forever: a cancelled run must let its workers end.
        while not self._cancelled.is_set():
            try:
                self._pages.put(item, timeout=0.2)
            except queue.Full:
                continue
            return True
        return False


class PrefetchingReader:
    """Users' pages in partition order, read ahead on as many threads as `in_flight` says
    (the rate limit and the round trip), USERS_AHEAD_PER_THREAD users per thread under way
    (MAX_USERS_AHEAD in all), each with a few pages waiting at most (memory stays flat); with
    `max_in_flight` 1, each user is read when asked for, on the caller's thread.

    `users` yields the users in partition order; it is advanced on the calling thread only.
    """

    def __init__(
        self,
        reader: UserLogReader,
        users: Iterator[UserCutoff],
        *,
        in_flight: Callable[[], int],
        max_in_flight: int,
    ) -> None:
        self._reader = reader
        self._users = users
        self._in_flight = in_flight
        self._threaded = max_in_flight > 1
        self._threads = 0
        self._cancelled = threading.Event()
        self._work: queue.Queue[tuple[_UserJob, Iterator[Page]]] = queue.Queue()
        self._jobs: dict[str, _UserJob] = {}

    def pages(self, user_id: str) -> Iterator[Page]:
        """The pages of `user_id`, which must be the next user in partition order."""
        if not self._threaded:
            yield from self._reader.pages(self._next_user(user_id))
            return
        self._grow()
        self._schedule(until=user_id)
        job = self._jobs.pop(user_id)
        self._schedule()
        yield from job.drain()

    def close(self) -> None:
        """Stop every worker (they finish the request in flight) without waiting for them."""
        self._cancelled.set()

    def _grow(self) -> None:
        # Daemon threads: a tap stopped by a signal must exit without waiting for them.
        while self._threads < self._in_flight():
            name = f"user-logs-{self._threads}"
            threading.Thread(target=self._serve, name=name, daemon=True).start()
            self._threads += 1

    def _serve(self) -> None:
        while not self._cancelled.is_set():
            try:
                job, pages = self._work.get(timeout=0.2)
            except queue.Empty:
                continue
            job.fill(pages)

    def _next_user(self, user_id: str) -> UserCutoff:
        user = next(self._users, None)
        if user is None or user.user_id != user_id:
            msg = f"user {user_id} is not the next of the partitions being read"
            raise RuntimeError(msg)
        return user

    def _schedule(self, until: str | None = None) -> None:
        lookahead = min(self._threads * USERS_AHEAD_PER_THREAD, MAX_USERS_AHEAD) + 2
        while until not in self._jobs and (until is not None or len(self._jobs) < lookahead):
            user = next(self._users, None)
            if user is None:
                if until is not None:
                    msg = f"user {until} is not among the partitions being read"
                    raise RuntimeError(msg)
                return
            job = _UserJob(self._cancelled)
            self._jobs[user.user_id] = job
            self._work.put((job, self._reader.pages(user)))
