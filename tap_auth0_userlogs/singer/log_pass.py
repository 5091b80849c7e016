"""A pass over the tenant's log, as one step of `user_logs`'s sync.

Records go out as pages arrive, from whichever slice read them, through the one writer. What
STATE says moves only with the prefix of the log that is out (`events.coverage`): the position
a later pass starts after, and each user's bookmark, follow the events up to that prefix and
no further, so that a run killed while an earlier slice is unfinished, then followed by a run
read user by user, skips none of its events. The spans read beyond the prefix are stored too,
so a resumed pass does not read them again. What the pass reads, and in what order, is
`sources/tenant_pass.py`'s business; this step routes the events and keeps the state.
"""

from __future__ import annotations

import typing as t

from tap_auth0_userlogs.events.coverage import LogCoverage
from tap_auth0_userlogs.events.dates import auth0_date
from tap_auth0_userlogs.events.log_ids import held_back, log_id_order
from tap_auth0_userlogs.plan import cutoff
from tap_auth0_userlogs.sources.tenant_log import TenantLog
from tap_auth0_userlogs.sources.tenant_pass import PassRead, pass_pages
from tap_auth0_userlogs.sources.user_log import UserCutoff, UserLogReader

if t.TYPE_CHECKING:
    import datetime

    from tap_auth0_userlogs.events.pages import LogEvent
    from tap_auth0_userlogs.singer.records import LogEventRecords
    from tap_auth0_userlogs.singer.stored_state import UserLogsState
    from tap_auth0_userlogs.survey import Survey

# Where the backfill users' newest dates wait: their events lie before the pass's start.
_BACKFILL = ""


class LogPass:
    """Emits one pass's events for the selected users and stores how far it got."""

    def __init__(
        self,
        stream: LogEventRecords,
        state: UserLogsState,
        survey: Survey,
        run_started: datetime.datetime,
    ) -> None:
        self._stream = stream
        self._state = state
        self._survey = survey
        self._run_started = run_started
        settings = stream.shared.settings
        plan = survey.plan
        assert plan.pass_from is not None  # a pass plan always has a start
        self._coverage = LogCoverage(plan.pass_from, plan.pass_beyond)
        self._selected = None if survey.users is None else frozenset(survey.users)
        self._start = auth0_date(settings.start_date) if settings.start_date else None
        self._kept_types = settings.kept_types
        # Per slice (by the position it starts after): each user's newest date emitted and
        # not yet in a bookmark, held until the prefix reaches the slice.
        self._newest: dict[str, dict[str, str]] = {}
        self._served: set[str] = set()

    def run(self) -> None:
        """Emit the pass's events as pages arrive; STATE carries the prefix reached."""
        stream, survey = self._stream, self._survey
        settings = stream.shared.settings
        session = stream.shared.tenant_session
        plan = survey.plan
        backfill = [
            UserCutoff(u, cutoff(self._state.bookmark(u), settings.lookback, settings.start_date))
            for u in plan.backfill
        ]
        read = PassRead(
            gaps=self._coverage.gaps(),
            start=self._coverage.prefix,
            resumed=plan.resumes,
            run_started=self._run_started,
            lookback=settings.lookback,
            events_per_second=plan.events_per_second,
            first=survey.first_pass_page,
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
        paced_state = stream.shared.paced_state
        for page in pages:
            stream.mark_extracted()
            slice_start = _BACKFILL if page.span is None else page.span[0]
            self._emit(page.events, self._newest.setdefault(slice_start, {}))
            if page.span is not None:
                self._coverage.cover(*page.span)
                if paced_state.state_due():
                    self._store()
                    stream.write_state_now()
            session.report_progress()
        self._store()
        progress = session.progress
        progress.users_total = progress.users_done = len(self._served)

    def _emit(self, events: list[LogEvent], newest: dict[str, str]) -> None:
        selected, start, kept_types = self._selected, self._start, self._kept_types
        kept: list[LogEvent] = []
        for event in events:
            user_id = event.user_id
            if not user_id or (selected is not None and user_id not in selected):
                continue  # an event of no user (a client's token exchange), or not selected
            date = event.date or ""
            if (start and date < start) or (kept_types and event.type not in kept_types):
                continue
            if date > newest.get(user_id, ""):
                newest[user_id] = date
            kept.append(event)
        self._stream.write_events(kept)
        self._stream.shared.tenant_session.progress.count_events(len(kept))

    def _store(self) -> None:
        """The prefix reached, the spans out beyond it, and the bookmarks up to the prefix."""
        prefix = self._coverage.prefix
        reached = log_id_order(prefix)
        for slice_start in list(self._newest):
            # A slice that starts before the prefix has all its emitted events within it.
            if slice_start == _BACKFILL or log_id_order(slice_start) < reached:
                newest = self._newest.pop(slice_start)
                self._served.update(newest)
                self._state.advance_bookmarks(newest)
        margin = self._stream.shared.settings.log_id_margin
        self._state.set_position(held_back(prefix, margin), self._selected)
        self._state.set_spans(self._coverage.beyond)
