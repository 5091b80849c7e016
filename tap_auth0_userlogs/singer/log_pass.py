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
import time
import typing as t

from tap_auth0_userlogs.events.coverage import LogCoverage, all_gaps
from tap_auth0_userlogs.events.dates import auth0_date
from tap_auth0_userlogs.events.log_ids import held_back, log_id_order
from tap_auth0_userlogs.sources.tenant_log import TenantLog
from tap_auth0_userlogs.sources.tenant_pass import PassPage, PassRead, pass_pages
from tap_auth0_userlogs.sources.user_log import UserCutoff, UserLogReader

if t.TYPE_CHECKING:
    from collections.abc import Collection

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

    def kept(self, events: list[LogEvent]) -> list[LogEvent]:
        """The events of `start_date` on, of the kept types, not out here already."""
        start, kept_types, out_upto = self._start, self._kept_types, self._out_upto
        if not (start or kept_types or out_upto):
            return events
        return [
            e
            for e in events
            if not (start and (e.date or "") < start)
            and not (kept_types and e.type not in kept_types)
            and not (out_upto is not None and out_upto >= log_id_order(e.log_id))
        ]

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
        # Per slice (by the position it starts after): the highest log_id of its pages and
        # each user's newest date emitted, held until the prefix reaches that log_id. A
        # slice read through search emits events beyond what its position vouches for.
        self._held: dict[str, tuple[tuple[int, str], dict[str, str]]] = {}
        # The backfill users' newest dates: their events lie before the pass's start.
        self._backfill: dict[str, str] = {}
        self.served: set[str] = set()

    def route(self, page: PassPage) -> int:
        """Write the selected users' events of a page; how many."""
        selected = self._selected
        if selected is None:
            events = self.kept([e for e in page.events if e.user_id])
        else:
            events = self.kept([e for e in page.events if e.user_id in selected])
        if not events:
            return 0
        if page.span is None:
            newest = self._backfill
        else:
            assert page.highest is not None  # a page with events has a highest log_id
            slice_start, highest = page.span[0], log_id_order(page.highest)
            held = self._held.get(slice_start)
            if held is None:
                newest = {}
            else:
                newest = held[1]
                highest = max(highest, held[0])
            self._held[slice_start] = (highest, newest)
        for event in events:
            user_id, date = event.user_id, event.date or ""
            if date > newest.get(user_id, ""):  # type: ignore[arg-type]  # a user's event
                newest[user_id] = date  # type: ignore[index]
        self.stream.write_events(events)
        return len(events)

    def store(self, margin: datetime.timedelta) -> None:
        prefix = self.coverage.prefix
        reached = log_id_order(prefix)
        self._release(self._backfill)
        self._backfill = {}
        for slice_start, (highest, newest) in list(self._held.items()):
            if highest <= reached:
                del self._held[slice_start]
                self._release(newest)
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

    def route(self, page: PassPage) -> int:
        """Write the events of no user of a page; how many."""
        events = self.kept([e for e in page.events if not e.user_id])
        if events:
            self.stream.write_events(events)
        return len(events)

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
            emitted = users.route(page) if users else 0
            if tenant is not None and page.span is not None:  # backfill: one user's events
                emitted += tenant.route(page)
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
        started = time.monotonic()
        for sink in self._sinks:
            sink.store(self._settings.log_id_margin)
            sink.stream.mark_state_changed()
        stream = self._sinks[0].stream
        stream.shared.paced_state.prepared(time.monotonic() - started)
        stream.write_state_now()
