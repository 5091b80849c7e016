"""A pass over the tenant's log, as one step of `user_logs`'s sync.

Records go out as pages arrive; each user's bookmark follows the newest event emitted for it,
and the position (the last log_id whose events are all out) is stored with them in each STATE,
so a run killed mid-pass resumes from there. What the pass reads, and in what order, is
`sources/tenant_pass.py`'s business; this step routes the events and keeps the state.
"""

from __future__ import annotations

import typing as t

from tap_auth0_userlogs.events.dates import auth0_date
from tap_auth0_userlogs.events.log_ids import log_id_at
from tap_auth0_userlogs.plan import cutoff
from tap_auth0_userlogs.sources.tenant_log import TenantLog
from tap_auth0_userlogs.sources.tenant_pass import pass_pages
from tap_auth0_userlogs.sources.user_log import UserCutoff, UserLogReader

if t.TYPE_CHECKING:
    import datetime

    from tap_auth0_userlogs.events.pages import LogEvent
    from tap_auth0_userlogs.singer.records import LogEventRecords
    from tap_auth0_userlogs.singer.stored_state import UserLogsState
    from tap_auth0_userlogs.survey import Survey


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
        self._selected = None if survey.users is None else frozenset(survey.users)
        self._start = auth0_date(settings.start_date) if settings.start_date else None
        self._kept_types = settings.kept_types
        # Each user's newest date emitted since the last STATE, and every user served.
        self._newest: dict[str, str] = {}
        self._served: set[str] = set()

    def run(self) -> None:
        """Emit the pass's events as pages arrive; STATE carries the position reached."""
        stream, survey = self._stream, self._survey
        settings = stream.shared.settings
        session = stream.shared.tenant_session
        plan = survey.plan
        assert plan.pass_from is not None  # a pass plan always has a start
        reader = UserLogReader(session.api, session.base_url, settings.page_size, session.progress)
        backfill = [
            UserCutoff(u, cutoff(self._state.bookmark(u), settings.lookback, settings.start_date))
            for u in plan.backfill
        ]
        pages = pass_pages(
            TenantLog(session.api, session.base_url),
            reader,
            start=plan.pass_from,
            backfill=backfill,
            resume_at=log_id_at(self._run_started - settings.lookback),
            margin=settings.log_id_margin,
            first=survey.first_pass_page,
            resumed=plan.resumes,
        )
        position = plan.pass_from
        paced_state = stream.shared.paced_state
        for page in pages:
            stream.mark_extracted()
            self._emit(page.events)
            if page.position is not None:
                position = page.position
                if paced_state.state_due():
                    self._store(position)
                    stream.write_state_now()
            session.report_progress()
        self._store(position)
        progress = session.progress
        progress.users_total = progress.users_done = len(self._served)

    def _emit(self, events: list[LogEvent]) -> None:
        selected, start, kept_types = self._selected, self._start, self._kept_types
        newest = self._newest
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

    def _store(self, position: str) -> None:
        """Bookmarks of the users served since the last STATE, and the position reached."""
        self._served.update(self._newest)
        self._state.advance_bookmarks(self._newest)
        self._newest.clear()
        self._state.set_position(position, self._selected)
