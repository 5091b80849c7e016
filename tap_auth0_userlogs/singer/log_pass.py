"""A pass over the tenant's log, as one step of the sync of the streams it serves.

One pass serves `user_logs` (the selected users' events) and `tenant_logs` (the events of no
user), whichever of them the run reads through the tenant's log: each event goes to one of
them, and only one. Records go out as pages arrive, from whichever slice read them, through
the one writer. What STATE says moves only with the prefix of the log that is out
(`events.coverage`), for each stream: the position a later pass starts after and, for
`user_logs`, each user's bookmark, follow the events up to that prefix and no further, so that
a run killed while an earlier slice is unfinished, then followed by a run read user by user,
skips none of its events. The spans read beyond the prefix are stored too, so a resumed pass
does not read them again. What the pass reads, and in what order, is
`sources/tenant_pass.py`'s business; this step routes the events and keeps the state.
"""

from __future__ import annotations

import datetime
import heapq
import typing as t

from tap_auth0_userlogs.events.coverage import LogCoverage, all_gaps
from tap_auth0_userlogs.events.dates import auth0_date
from tap_auth0_userlogs.events.log_ids import held_back, log_id_order
from tap_auth0_userlogs.sources.tenant_log import TenantLog
from tap_auth0_userlogs.sources.tenant_pass import PassRead, pass_pages
from tap_auth0_userlogs.sources.user_log import UserCutoff, UserLogReader

if t.TYPE_CHECKING:
    from collections.abc import Collection, Iterable

    from tap_auth0_userlogs.events.pages import LogEvent
    from tap_auth0_userlogs.plan import Plan
    from tap_auth0_userlogs.settings import Settings
    from tap_auth0_userlogs.singer.records import LogEventRecords
    from tap_auth0_userlogs.singer.stored_state import TenantLogsState, UserLogsState
    from tap_auth0_userlogs.sources.tenant_log import LogPage


class EventSink:
    """Events a pass routes to one stream, and how far that stream's part of the log is out."""

    def __init__(self, stream: LogEventRecords, coverage: LogCoverage) -> None:
        self.stream = stream
        self.coverage = coverage
        settings = stream.shared.settings
        self._start = auth0_date(settings.start_date) if settings.start_date else None
        self._kept_types = settings.kept_types
        self._out_upto: tuple[int, str] | None = None

    def read_from(self, start: str) -> None:
        """The pass starts after `start`: where that is before this stream's prefix, the
        events up to the prefix are another stream's reason to read, and out here already."""
        prefix = log_id_order(self.coverage.prefix)
        self._out_upto = prefix if prefix > log_id_order(start) else None

    def take(self, events: Iterable[LogEvent]) -> int:
        """Write the events this stream keeps; how many."""
        start, kept_types, out_upto = self._start, self._kept_types, self._out_upto
        kept: list[LogEvent] = []
        for event in events:
            date = event.date or ""
            if (start and date < start) or (kept_types and event.type not in kept_types):
                continue
            if out_upto is not None and out_upto >= log_id_order(event.log_id):
                continue
            self.noted(event, date)
            kept.append(event)
        self.stream.write_events(kept)
        return len(kept)

    def noted(self, event: LogEvent, date: str) -> None:
        """An event this stream keeps, before it is written."""

    def store(self, margin: datetime.timedelta) -> None:
        """Put the prefix reached, and the spans beyond it, into the stream's state."""
        raise NotImplementedError


class UserEventSink(EventSink):
    """The selected users' events, for `user_logs`, with each user's bookmark."""

    def __init__(
        self,
        stream: LogEventRecords,
        coverage: LogCoverage,
        state: UserLogsState,
        selected: Collection[str] | None,
    ) -> None:
        super().__init__(stream, coverage)
        self._state = state
        self._selected = None if selected is None else frozenset(selected)
        # Per page, by its highest log_id: each user's newest date emitted and not yet in a
        # bookmark, held until the prefix reaches that log_id (a heap, lowest first).
        self._held: list[tuple[tuple[int, str], int, dict[str, str]]] = []
        self._pages = 0
        # The backfill users' newest dates: their events lie before the pass's start.
        self._backfill: dict[str, str] = {}
        self.served: set[str] = set()

    def route(self, events: list[LogEvent], highest: str | None, *, backfill: bool) -> int:
        """Write the selected users' events of a page; how many."""
        selected = self._selected
        if selected is None:
            kept = [e for e in events if e.user_id]
        else:
            kept = [e for e in events if e.user_id in selected]
        if backfill:
            self._current = self._backfill
        else:
            self._current = {}
            if highest is not None:
                self._pages += 1
                heapq.heappush(self._held, (log_id_order(highest), self._pages, self._current))
        return self.take(kept)

    def noted(self, event: LogEvent, date: str) -> None:
        newest, user_id = self._current, t.cast("str", event.user_id)
        if date > newest.get(user_id, ""):
            newest[user_id] = date

    def store(self, margin: datetime.timedelta) -> None:
        prefix = self.coverage.prefix
        reached = log_id_order(prefix)
        self._release(self._backfill)
        self._backfill = {}
        held = self._held
        while held and held[0][0] <= reached:
            self._release(heapq.heappop(held)[2])
        self._state.set_position(held_back(prefix, margin), self._selected)
        self._state.set_spans(self.coverage.beyond)

    def _release(self, newest: dict[str, str]) -> None:
        """Dates of events the prefix now vouches for: into the bookmarks."""
        self.served.update(newest)
        self._state.advance_bookmarks(newest)


class TenantEventSink(EventSink):
    """The events of no user, for `tenant_logs`."""

    def __init__(
        self, stream: LogEventRecords, coverage: LogCoverage, state: TenantLogsState
    ) -> None:
        super().__init__(stream, coverage)
        self._state = state

    def store(self, margin: datetime.timedelta) -> None:
        self._state.set_position(held_back(self.coverage.prefix, margin), self.coverage.beyond)


class LogPass:
    """Reads one pass and hands each event to the sink of its stream; STATE as it goes."""

    def __init__(
        self,
        settings: Settings,
        plan: Plan,
        run_started: datetime.datetime,
        *,
        users: UserEventSink | None,
        tenant: TenantEventSink | None,
        first: LogPage | None = None,
    ) -> None:
        self._settings = settings
        self._plan = plan
        self._run_started = run_started
        self._users = users
        self._tenant = tenant
        self._first = first
        self._sinks = [sink for sink in (users, tenant) if sink is not None]

    def run(self, backfill: list[UserCutoff]) -> None:
        """Emit the pass's events as pages arrive; STATE carries the prefixes reached.

        `backfill`: users of `user_logs` whose history is read one by one, up to where the
        pass begins, first.
        """
        settings, plan, users, tenant = self._settings, self._plan, self._users, self._tenant
        stream = self._sinks[0].stream
        session = stream.shared.tenant_session
        gaps = all_gaps(*(sink.coverage for sink in self._sinks))
        start = gaps[0][0]
        for sink in self._sinks:
            sink.read_from(start)
        read = PassRead(
            gaps=gaps,
            start=start,
            resumed=plan.resumes,
            run_started=self._run_started,
            lookback=settings.lookback,
            events_per_second=plan.events_per_second,
            first=self._first if start == plan.pass_from else None,
            search_only=plan.search_only,
        )
        governor, cap = session.governor, settings.max_concurrency
        pages = pass_pages(
            TenantLog(session.api, session.base_url),
            UserLogReader(session.api, session.base_url, settings.page_size, session.progress),
            read,
            backfill=backfill,
            in_flight=lambda: governor.in_flight_needed(cap),
            max_in_flight=cap,
        )
        paced_state, progress = stream.shared.paced_state, session.progress
        for page in pages:
            for sink in self._sinks:
                sink.stream.mark_extracted()
            before_start = page.span is None  # a backfill user's events
            emitted = users.route(page.events, page.highest, backfill=before_start) if users else 0
            if tenant is not None and not before_start:
                emitted += tenant.take([e for e in page.events if not e.user_id])
            progress.count_events(emitted)
            if page.span is not None:
                for sink in self._sinks:
                    sink.coverage.cover(*page.span)
                if paced_state.state_due():
                    self._store()
            session.report_progress()
        self._store()
        if users is not None:
            progress.users_total = progress.users_done = len(users.served)

    def _store(self) -> None:
        for sink in self._sinks:
            sink.store(self._settings.log_id_margin)
            sink.stream.mark_state_changed()
        self._sinks[0].stream.write_state_now()
