"""The tap's streams: `user_logs` (one partition per user), `log_event_types`, and
`tenant_logs` (the events of no user; not selected unless asked for)."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.streams import Stream
from typing_extensions import override

from tap_auth0_userlogs.events.coverage import LogCoverage
from tap_auth0_userlogs.events.dates import utc_now
from tap_auth0_userlogs.events.fields import LOG_EVENT_SCHEMA, normalize_event
from tap_auth0_userlogs.events.log_ids import log_id_at
from tap_auth0_userlogs.events.type_codes import EVENT_TYPES_SCHEMA, load_event_types
from tap_auth0_userlogs.plan import cutoff
from tap_auth0_userlogs.singer.log_pass import LogPass, TenantEventSink, UserEventSink
from tap_auth0_userlogs.singer.partition_state import IndexedStateManager
from tap_auth0_userlogs.singer.records import LogEventRecords
from tap_auth0_userlogs.singer.stored_state import (
    REPLICATION_KEY,
    TenantLogsState,
    UserLogsState,
)
from tap_auth0_userlogs.singer.stream_names import LOG_EVENT_TYPES, TENANT_LOGS, USER_LOGS
from tap_auth0_userlogs.sources.tenant_log import TenantLog
from tap_auth0_userlogs.sources.user_gaps import UserGaps
from tap_auth0_userlogs.sources.user_log import (
    PrefetchingReader,
    UserCutoff,
    UserEvents,
    UserLogReader,
)
from tap_auth0_userlogs.survey import StoredProgress, Survey, Surveyor

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_auth0_userlogs.singer.records import TapShared


class UserLogsStream(LogEventRecords):
    """Each user's log events: read user by user, or routed from one pass over the tenant's log."""

    name = USER_LOGS
    # log_id is unique only within a tenant; the tenant keeps tenants' rows apart in one table.
    primary_keys = ("tenant_domain", "log_id")
    replication_key = REPLICATION_KEY
    state_partitioning_keys = ("user_id",)
    # A user's pages come newest first, so its bookmark is only final once the user is done.
    is_sorted = False
    schema = LOG_EVENT_SCHEMA

    def __init__(self, tap: Tap, shared: TapShared) -> None:
        super().__init__(tap, shared)
        self._run_started = utc_now()
        self._newest_emitted: str | None = None
        self._users_reader: PrefetchingReader | None = None

    @override
    def make_state_manager(self, **kwargs: t.Any) -> IndexedStateManager:
        """The SDK's partitioned state, with partitions looked up through an index."""
        return IndexedStateManager(**kwargs)

    @cached_property
    def log_state(self) -> UserLogsState:
        """The bookmarks and pass position, read and moved forward."""
        return UserLogsState(t.cast("IndexedStateManager", self.state_manager))

    @cached_property
    def survey(self) -> Survey:
        """How this run reads: user by user or one pass over the tenant's log, and why."""
        settings, session = self.shared.settings, self.shared.tenant_session
        no_user = self._no_user_stream()
        return Surveyor(
            settings,
            session,
            self.log_state.stored(settings.every_user),
            TenantLog(session.api, session.base_url),
            no_user_events=no_user is not None,
            no_user_position=no_user.log_state.position() if no_user else None,
        ).survey()

    def _no_user_stream(self) -> TenantLogsStream | None:
        """`tenant_logs`, when it is selected: a pass over the tenant's log serves it too."""
        stream = self.shared.streams.get(TENANT_LOGS)
        return stream if isinstance(stream, TenantLogsStream) and stream.selected else None

    @cached_property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per user read one by one; None when the run is one pass."""
        if self.survey.plan.tenant_pass:
            return None
        return [{"user_id": user_id} for user_id in self.survey.users or ()]

    @override
    def run_sync(self, context: Context | None) -> None:
        """A pass over the tenant's log, or singer-sdk's sync of one partition per user."""
        survey = self.survey
        if survey.plan.tenant_pass:
            self.begin_own_sync()
            plan, no_user = survey.plan, self._no_user_stream()
            assert plan.pass_from is not None  # a pass plan always has a start
            coverage = LogCoverage(plan.pass_from, plan.pass_beyond)
            users = UserEventSink(self, coverage, self.log_state, survey.users)
            tenant = None
            if no_user is not None and survey.no_user_start is not None:
                tenant = no_user.sink(survey.no_user_start)
                no_user.begin_own_sync()
            LogPass(
                self.shared.settings,
                plan,
                self._run_started,
                users=users,
                tenant=tenant,
                first=survey.first_pass_page,
            ).run([self._user_cutoff(user) for user in plan.backfill])
            if no_user is not None:
                no_user.served = True
            self.end_own_sync()
        elif self.partitions:
            super().run_sync(context)
        else:
            self.begin_own_sync()
            query = self.shared.settings.user_query
            matching = f" matches the user_query {query!r}" if query else " exists in the tenant"
            self.logger.info("No user%s: nothing to extract", matching)
            self.end_own_sync()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """One user's events at or after its cutoff, each once, of the kept types."""
        assert context is not None  # a sync of user by user always has a partition
        # Every earlier user is finished: STATE now, so a crash loses at most this user.
        if self.shared.paced_state.state_due():
            self.write_state_now()
        settings, session = self.shared.settings, self.shared.tenant_session
        progress = session.progress
        progress.users_total = len(self.partitions or ())
        user_id = context["user_id"]
        bookmark = self.log_state.bookmark(user_id)
        self.log_state.hold_bookmark(user_id)
        events = UserEvents(self._user_cutoff(user_id))
        kept_types, domain = settings.kept_types, settings.tenant_domain
        try:
            for page in events.pages(self._reader().pages(user_id)):
                self.mark_extracted()
                for event in page:
                    if kept_types is None or event.get("type") in kept_types:
                        progress.count_events(1)
                        yield normalize_event(event, domain)
                session.report_progress()
        except BaseException:
            self._stop_reading()
            raise
        if self._newest_emitted is not None:
            # Once per user instead of once per record: the SDK's update is the costly part.
            self.advance_bookmark({REPLICATION_KEY: self._newest_emitted}, context)
            self._newest_emitted = None
        UserGaps(session.api, session.base_url, progress, self.logger).explain(
            user_id, events, bookmark
        )
        progress.user_done()
        session.report_progress()

    @override
    def record_emitted(self, record: dict[str, t.Any], context: Context | None) -> None:
        """Note the newest date emitted; the user's bookmark moves once, at its end."""
        date = record.get(REPLICATION_KEY)
        if date and (self._newest_emitted is None or date > self._newest_emitted):
            self._newest_emitted = date

    @override
    def after_sync(self, *, finished: bool) -> None:
        """The end of the run: stop reading ahead, and once every user was read, more.

        After the last user read one by one, a later pass may start from the run's start.
        Per-user pages come from Auth0's search index, which may show an event minutes after
        its log_id was given, so that position stands the look-back before the run began.
        The tap writes one more STATE after the stream's sync, which carries it.
        """
        self._stop_reading()
        if not finished:
            return
        if not self.survey.plan.tenant_pass and self.partitions:
            position = log_id_at(self._run_started - self.shared.settings.lookback)
            self.log_state.set_position(position, (p["user_id"] for p in self.partitions))
            self.mark_state_changed()
        self.logger.info(self.shared.tenant_session.summary())

    def _user_cutoff(self, user_id: str) -> UserCutoff:
        settings = self.shared.settings
        bookmark = self.log_state.bookmark(user_id)
        return UserCutoff(user_id, cutoff(bookmark, settings.lookback, settings.start_date))

    def _reader(self) -> PrefetchingReader:
        """Users' raw pages in partition order, read ahead on worker threads where allowed."""
        if self._users_reader is None:
            settings, session = self.shared.settings, self.shared.tenant_session
            reader = UserLogReader(
                session.api, session.base_url, settings.page_size, session.progress
            )
            users = (self._user_cutoff(p["user_id"]) for p in self.partitions or ())
            governor, cap = session.governor, settings.max_concurrency
            self._users_reader = PrefetchingReader(
                reader,
                users,
                in_flight=lambda: governor.in_flight_needed(cap),
                max_in_flight=cap,
            )
        return self._users_reader

    def _stop_reading(self) -> None:
        if self._users_reader is not None:
            self._users_reader.close()
            self._users_reader = None


class TenantLogsStream(LogEventRecords):
    """The events of the tenant's log that belong to no user: failed logins of usernames that
    do not exist, IP blocks, failed signups, client-credentials exchanges, machines' calls to
    the Management API. Read by the pass that reads `user_logs`, or by a pass of its own."""

    name = TENANT_LOGS
    primary_keys = ("tenant_domain", "log_id")
    replication_key = REPLICATION_KEY
    # They are read only through the tenant's log (scope read:logs): asked for, not assumed.
    selected_by_default = False
    schema = LOG_EVENT_SCHEMA

    def __init__(self, tap: Tap, shared: TapShared) -> None:
        super().__init__(tap, shared)
        self._run_started = utc_now()
        # `user_logs`' pass read these events already in this run.
        self.served = False

    @cached_property
    def log_state(self) -> TenantLogsState:
        """The position its events are out up to, read and moved forward."""
        return TenantLogsState(lambda: self.stream_state)

    def sink(self, start: str) -> TenantEventSink:
        """Where a pass hands the events of no user: from the stored position, else `start`."""
        position = self.log_state.position()
        coverage = LogCoverage(position, self.log_state.spans()) if position else LogCoverage(start)
        return TenantEventSink(self, coverage, self.log_state)

    @override
    def run_sync(self, context: Context | None) -> None:
        """Nothing more to read when `user_logs`' pass read them; else a pass of its own."""
        if self.served:
            self.end_own_sync()
            return
        self.begin_own_sync()
        settings, session = self.shared.settings, self.shared.tenant_session
        survey = Surveyor(
            settings,
            session,
            StoredProgress(position=None, spans=(), bookmarks={}, positions={}),
            TenantLog(session.api, session.base_url),
            no_user_events=True,
            no_user_position=self.log_state.position(),
        ).no_user_pass(self.log_state.spans())
        assert survey.no_user_start is not None  # a pass for these events has a start
        LogPass(
            settings,
            survey.plan,
            self._run_started,
            users=None,
            tenant=self.sink(survey.no_user_start),
        ).run([])
        self.end_own_sync()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Never called: the sync is a pass (`run_sync`)."""
        return iter(())


class LogEventTypesStream(Stream):
    """The reference table of log event type codes, to join on `user_logs.type`."""

    name = LOG_EVENT_TYPES
    primary_keys = ("code",)
    schema = EVENT_TYPES_SCHEMA

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Every type code shipped with the tap."""
        yield from load_event_types()
