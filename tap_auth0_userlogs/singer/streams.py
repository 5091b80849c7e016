"""The tap's streams: `user_logs` (one partition per user) and `log_event_types`."""

from __future__ import annotations

import dataclasses
import datetime
import typing as t
from functools import cached_property
from http import HTTPStatus

from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import Stream
from typing_extensions import override

from tap_auth0_userlogs.auth0.endpoints import MAX_PAGE_SIZE
from tap_auth0_userlogs.auth0.errors import ClientError
from tap_auth0_userlogs.events.dates import is_later, parse_date
from tap_auth0_userlogs.events.fields import LOG_EVENT_SCHEMA, normalize_event
from tap_auth0_userlogs.events.log_ids import log_id_at
from tap_auth0_userlogs.events.pages import DecodedEvent, LogEvent, as_dict, record_json
from tap_auth0_userlogs.events.type_codes import load_event_types
from tap_auth0_userlogs.plan import Inputs, Plan, choose, pass_start, worth_surveying
from tap_auth0_userlogs.settings import normalize_domain, setting
from tap_auth0_userlogs.singer.client import Auth0Stream
from tap_auth0_userlogs.singer.partition_state import IndexedStateManager
from tap_auth0_userlogs.singer.sdk_compat import pop_deselected_record_properties
from tap_auth0_userlogs.singer.stored_state import (
    BOOKMARK_KEY,
    EVERY_USER_KEY,
    POSITION_KEY,
    by_user,
    covering_position,
)
from tap_auth0_userlogs.sources.tenant_log import LogPage, PositionRefused, TenantLog
from tap_auth0_userlogs.sources.tenant_pass import pass_pages
from tap_auth0_userlogs.sources.user_gaps import UserGaps
from tap_auth0_userlogs.sources.user_log import (
    PrefetchingReader,
    UserLogNotFound,
    UserLogReader,
    UserPlan,
)
from tap_auth0_userlogs.sources.users import UserDiscovery

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context

    from tap_auth0_userlogs.singer.state_writer import PacedStateWriter
    from tap_auth0_userlogs.singer.writer import FastSingerWriter


EVENT_TYPES_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "status": {"type": ["string", "null"]},
    },
    "required": ["code"],
}


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class UserLogsStream(Auth0Stream):
    """Each user's log events, newest first, from `GET /api/v2/users/{id}/logs`."""

    name = "user_logs"
    # log_id is unique only within a tenant; the tenant keeps tenants' rows apart in one table.
    primary_keys = ("tenant_domain", "log_id")
    replication_key = "date"
    state_partitioning_keys = ("user_id",)
    # Pages come newest first, so the bookmark is only final once a user is done.
    is_sorted = False
    schema = LOG_EVENT_SCHEMA

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        types = self.config.get("event_types")
        self._kept_types = frozenset(types) if types else None
        self._prefetcher: PrefetchingReader | None = None
        self._extracted_at = _utc_now()
        self._run_started = _utc_now()
        self._newest_emitted: str | None = None
        # A pass's newest date per user since its last STATE, and every user it served.
        self._pass_newest: dict[str, str] = {}
        self._pass_users: set[str] = set()
        self._user_states: dict[str, dict[str, t.Any]] = {}
        self._first_users_page: dict[str, t.Any] | None = None
        self._first_pass_page: LogPage | None = None

    @override
    def make_state_manager(self, **kwargs: t.Any) -> IndexedStateManager:
        """The SDK's partitioned state, with partitions looked up through an index."""
        return IndexedStateManager(**kwargs)

    @property
    def max_concurrency(self) -> int:
        """Users read at once."""
        return int(setting(self.config, "max_concurrency"))

    @property
    def page_size(self) -> int:
        """Events per request."""
        return int(setting(self.config, "page_size"))

    @cached_property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per user read one by one; None when the run is one pass."""
        if self.run_plan.tenant_pass:
            return None
        return [{"user_id": user_id} for user_id in self._listed_users]

    @cached_property
    def run_plan(self) -> Plan:
        """How this run reads: per user or one pass over the tenant's log, and why."""
        strategy = setting(self.config, "strategy")
        known = None if self._every_user else len(self._listed_users)
        if worth_surveying(strategy, known):
            plan = self._surveyed_plan(strategy)
        else:
            plan = choose(self._plan_inputs(strategy, newest=(), oldest=None))
        how = "one pass over the tenant's log" if plan.tenant_pass else "user by user"
        self.logger.info("Reading %s: %s", how, plan.reason)
        return plan

    @property
    def _every_user(self) -> bool:
        return self.config.get("user_ids") is None and not self.config.get("user_query")

    @cached_property
    def _listed_users(self) -> list[str]:
        """The selected users: configured, or listed from the tenant."""
        user_ids = self.config.get("user_ids")
        if user_ids is not None:
            return list(user_ids)
        listing = self._discovery.discover(self._first_users_page)
        self.tenant_session.progress.users_found_by = listing.found_by
        return listing.user_ids

    @cached_property
    def _discovery(self) -> UserDiscovery:
        return UserDiscovery(
            self.tenant_session.api,
            self.url_base,
            user_query=self.config.get("user_query"),
            method=setting(self.config, "user_discovery"),
        )

    @cached_property
    def _gaps(self) -> UserGaps:
        session = self.tenant_session
        return UserGaps(session.api, self.url_base, session.progress, self.logger)

    @cached_property
    def _tenant_log(self) -> TenantLog:
        return TenantLog(self.tenant_session.api, self.url_base)

    def _surveyed_plan(self, strategy: str) -> Plan:
        """The plan, after a look at the tenant: its newest events and, if needed, its oldest."""
        log = self._tenant_log
        first_dates: tuple[datetime.datetime, ...] | None = None
        try:
            newest = log.newest()
            oldest_page: list[dict[str, t.Any]] = []
            if not self._start_date and not self._covering_position() and not self._resume_since:
                # A first pass starts at the oldest event: in the newest page, if it is short.
                oldest_page = newest if len(newest) < MAX_PAGE_SIZE else log.oldest_page()
            oldest = min(oldest_page, key=lambda e: parse_date(e["date"]), default=None)
            inputs = self._plan_inputs(
                strategy,
                newest=tuple(parse_date(e["date"]) for e in newest),
                oldest=parse_date(oldest["date"]) if oldest else None,
            )
            if len(newest) >= MAX_PAGE_SIZE:
                # The pass's own first page: it tells the rate where the pass would begin.
                try:
                    self._first_pass_page = log.first_page(pass_start(inputs)[0])
                except PositionRefused:
                    # Older than Auth0 keeps: what is read instead begins at the oldest event,
                    # so its rate there is the one to count with, not the newest events'.
                    oldest_page = oldest_page or log.oldest_page()
                    first_dates = tuple(parse_date(e["date"]) for e in oldest_page)
        except ClientError as error:
            if strategy == "tenant_scan" or error.response.status_code != HTTPStatus.FORBIDDEN:
                raise
            self.logger.warning("Reading users one by one: %s", error)
            return choose(self._plan_inputs("per_user", newest=(), oldest=None))
        first = self._first_pass_page
        if first is not None:
            first_dates = tuple(parse_date(e.date) for e in first.events if e.date)
        if first_dates is not None:
            inputs = dataclasses.replace(inputs, first_page_dates=first_dates)
        return choose(inputs)

    def _plan_inputs(
        self,
        strategy: str,
        *,
        newest: tuple[datetime.datetime, ...],
        oldest: datetime.datetime | None,
    ) -> Inputs:
        if strategy == "per_user" or not self._every_user:
            users: int | None = len(self._listed_users)
            listed = True
        else:
            users, listed = self._user_count(), False
        position = self._covering_position()
        uncovered: tuple[str, ...] = ()
        if position and not self._every_user and strategy != "per_user":
            markers = by_user(self.stream_state, POSITION_KEY)
            uncovered = tuple(u for u in self._listed_users if markers.get(u) != position)
        return Inputs(
            strategy=strategy,
            every_user=self._every_user,
            users=users,
            users_listed=listed,
            position=position,
            uncovered=uncovered,
            start=self._start_date,
            now=datetime.datetime.now(datetime.timezone.utc),
            newest_dates=newest,
            oldest_retained=oldest,
            bookmarked_since=None if position else self._resume_since,
        )

    @cached_property
    def _resume_since(self) -> datetime.datetime | None:
        """The oldest cutoff of the selected users, when each of them has a bookmark."""
        if self._every_user or not self._listed_users:
            return None  # users the log names may have no bookmark yet
        marks = by_user(self.stream_state, BOOKMARK_KEY)
        if not all(marks.get(user) for user in self._listed_users):
            return None
        return min(self._cutoff_of(marks[user]) for user in self._listed_users)

    def _covering_position(self) -> str | None:
        return covering_position(self.stream_state, self._every_user)

    def _user_count(self) -> int | None:
        """The tenant's users as user search counts them (1,000 means 1,000 or more)."""
        try:
            self._first_users_page = self._discovery.first_page()
        except ClientError as error:
            if error.response.status_code != HTTPStatus.FORBIDDEN:
                raise
            return None  # no read:users: a pass names the users; reading one by one cannot
        return int(self._first_users_page.get("total") or 0)

    def bookmark(self, context: Context | None) -> datetime.datetime | None:
        """The date of the newest event emitted for this user by earlier runs."""
        value = self.get_context_state(context).get(BOOKMARK_KEY)
        return parse_date(value) if value else None

    def cutoff(self, context: Context | None) -> datetime.datetime | None:
        """Oldest date to read: the bookmark minus the look-back, never before start_date."""
        bookmark = self.get_context_state(context).get(BOOKMARK_KEY)
        return self._cutoff_of(bookmark) if bookmark else self._start_date

    def _cutoff_of(self, bookmark: str) -> datetime.datetime:
        since = parse_date(bookmark) - self._lookback
        start = self._start_date
        return max(since, start) if start else since

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The user's events at or after the cutoff, each once, of the kept types."""
        if not context:  # singer-sdk syncs one empty context when there are no partitions
            self._sync_without_partitions()
            return
        # Every earlier user is finished: STATE now, so a crash loses at most this user.
        if self._paced_state.state_due():
            self.write_state_now()
        progress = self.tenant_session.progress
        progress.users_total = len(self.partitions or ())
        user_id = context["user_id"]
        cutoff = self.cutoff(context)
        bookmark = self.bookmark(context)
        self._keep_bookmark_from_regressing(context)
        seen: set[str] = set()
        oldest: datetime.datetime | None = None
        try:
            for page in self._pages_of(user_id):
                self._extracted_at = _utc_now()
                for event in page:
                    date = parse_date(event["date"])
                    oldest = date if oldest is None else min(oldest, date)
                    if (cutoff is not None and date < cutoff) or event["log_id"] in seen:
                        continue
                    seen.add(event["log_id"])
                    if self._kept_types is None or event.get("type") in self._kept_types:
                        progress.count_events(1)
                        yield normalize_event(event, self._tenant_domain)
                self.tenant_session.report_progress()
        except UserLogNotFound:
            log_not_found = True
        except BaseException:
            self._stop_prefetching()
            raise
        else:
            log_not_found = False
        self._advance_bookmark(context)
        if log_not_found:
            self._gaps.log_not_found(user_id)
        elif bookmark and cutoff and cutoff <= bookmark:
            self._gaps.check_history(user_id, bookmark, oldest)
        self._user_done()

    def _user_done(self) -> None:
        self.tenant_session.progress.user_done()
        self.tenant_session.report_progress()

    @override
    def after_sync(self, *, finished: bool) -> None:
        """The end of the run: stop reading ahead, and once every user was read, more."""
        self._stop_prefetching()
        if finished:
            self._end_sync()

    def _end_sync(self) -> None:
        """After the last user read one by one, the position a later pass may start from.

        The tap writes one more STATE after the stream's sync, which carries it.
        """
        if not self.run_plan.tenant_pass and self.partitions:
            self._store_position_after_reading_users()
            self.state_manager.is_flushed = False
        self.logger.info(self.tenant_session.summary())

    @override
    def record_emitted(self, record: dict[str, t.Any], context: Context | None) -> None:
        """Note the newest date emitted; the user's state is updated once, at its end."""
        date = record.get(self.replication_key)
        if date and (self._newest_emitted is None or date > self._newest_emitted):
            self._newest_emitted = date

    def _sync_without_partitions(self) -> None:
        if self.run_plan.tenant_pass:
            self._sync_tenant_pass(self.run_plan)
        else:
            self._report_no_users()

    def _report_no_users(self) -> None:
        query = self.config.get("user_query")
        matching = f" matches the user_query {query!r}" if query else " exists in the tenant"
        self.logger.info("No user%s: nothing to extract", matching)

    def _advance_bookmark(self, context: Context | None) -> None:
        # Once per user instead of once per event: the SDK's update is the costly part.
        if self._newest_emitted is not None:
            self.advance_bookmark({self.replication_key: self._newest_emitted}, context)
            self._newest_emitted = None

    def _keep_bookmark_from_regressing(self, context: Context | None) -> None:
        """Start the user's progress at its bookmark, so the bookmark can only move forward.

        The SDK promotes the newest date emitted in this run; a run that emits only older
        (late-indexed) events, as a tenant scan may, must not move the bookmark back.
        """
        state = self.get_context_state(context)
        if state.get(BOOKMARK_KEY) and "progress_markers" not in state:
            state["progress_markers"] = {
                "replication_key": self.replication_key,
                BOOKMARK_KEY: state[BOOKMARK_KEY],
            }

    @property
    def _paced_state(self) -> PacedStateWriter:
        return t.cast("PacedStateWriter", self.owning_tap.state_writer)

    @property
    def _writer(self) -> FastSingerWriter:
        return t.cast("FastSingerWriter", self.owning_tap.message_writer)

    @cached_property
    def _start_date(self) -> datetime.datetime | None:
        start_date = self.config.get("start_date")
        return parse_date(start_date) if start_date else None

    @cached_property
    def _lookback(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=setting(self.config, "lookback_minutes"))

    @cached_property
    def _tenant_domain(self) -> str:
        # The configured domain, not api_url: a proxy or emulator URL does not name the tenant.
        return normalize_domain(self.config["domain"])

    def _store_position_after_reading_users(self) -> None:
        """Every selected user is read up to the run's start: a later pass may start there.

        Per-user pages come from Auth0's search index, which may show an event minutes after
        its log_id was given, so the position stands the look-back before the run began.
        """
        position = log_id_at(self._run_started - self._lookback)
        self._set_position(position, {p["user_id"] for p in self.partitions or ()})

    def _set_position(self, position: str, users: set[str] | None) -> None:
        """Store the pass position and whom it covers (None: every user of the tenant)."""
        self.stream_state[POSITION_KEY] = position
        if users is None:
            self.stream_state[EVERY_USER_KEY] = True
            return
        self.stream_state.pop(EVERY_USER_KEY, None)
        for user_id in users:
            self._user_state(user_id)[POSITION_KEY] = position

    def _user_state(self, user_id: str) -> dict[str, t.Any]:
        """A user's partition state; kept at hand, as STATE updates touch thousands at once."""
        state = self._user_states.get(user_id)
        if state is None:
            state = self._user_states[user_id] = self.get_context_state({"user_id": user_id})
        return state

    # One pass over the tenant's log.

    def _sync_tenant_pass(self, plan: Plan) -> None:
        """Emit the pass's events as pages arrive; STATE carries the position reached."""
        assert plan.pass_from is not None  # a pass plan always has a start
        selected = None if self._every_user else set(self._listed_users)
        pages = pass_pages(
            self._tenant_log,
            self._user_reader(),
            start=plan.pass_from,
            backfill=[self._user_plan({"user_id": u}) for u in plan.backfill],
            resume_at=log_id_at(self._run_started - self._lookback),
            margin=self._log_id_margin,
            first=self._first_pass_page,
            resumed=self._covering_position() is not None or self._resume_since is not None,
        )
        position = plan.pass_from
        state_writer = self._paced_state
        for page in pages:
            self._extracted_at = _utc_now()
            self._emit_pass_events(page.events, selected)
            if page.position is not None:
                position = page.position
                if state_writer.state_due():
                    self._store_pass_progress(position, selected)
                    self.write_state_now()
            self.tenant_session.report_progress()
        self._store_pass_progress(position, selected)
        progress = self.tenant_session.progress
        progress.users_total = progress.users_done = len(self._pass_users)

    def _emit_pass_events(self, events: list[LogEvent], selected: set[str] | None) -> None:
        start = self._start_text
        kept_types = self._kept_types
        newest = self._pass_newest
        as_json = self._records_as_json
        domain = self._tenant_domain
        # Records in JSON already, written together once the page is sorted through.
        records: list[bytes] = []
        emitted = 0
        for event in events:
            user_id = event.user_id
            if not user_id or (selected is not None and user_id not in selected):
                continue  # an event of no user (a client's token exchange), or not selected
            date = event.date or ""
            if (start and date < start) or (kept_types and event.type not in kept_types):
                continue
            if date > newest.get(user_id, ""):
                newest[user_id] = date
            if as_json and type(event) is not DecodedEvent:
                records.append(record_json(event, domain))
            else:
                self.write_record(normalize_event(as_dict(event), domain))
            emitted += 1
        self._writer.write_record_jsons(self.name, records, self._extracted_at)
        if emitted:
            self.state_manager.is_flushed = False
        self.tenant_session.progress.count_events(emitted)

    @cached_property
    def _records_as_json(self) -> bool:
        """Whether records may be written straight from JSON: no stream map, no field dropped."""
        maps = self.stream_maps
        return (
            not self._catalog_deselects_fields
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    def _store_pass_progress(self, position: str, selected: set[str] | None) -> None:
        """Bookmarks of the users served since the last STATE, and the position reached."""
        self._pass_users.update(self._pass_newest)
        for user_id, date in self._pass_newest.items():
            state = self._user_state(user_id)
            current = state.get(BOOKMARK_KEY)
            if not current or is_later(date, current):
                state["replication_key"] = self.replication_key
                state[BOOKMARK_KEY] = date
        self._pass_newest.clear()
        self._set_position(position, selected)

    @cached_property
    def _start_text(self) -> str | None:
        """start_date in Auth0's own date format, which orders as text."""
        start = self._start_date
        if start is None:
            return None
        utc = start.astimezone(datetime.timezone.utc)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    @cached_property
    def _log_id_margin(self) -> datetime.timedelta:
        return datetime.timedelta(seconds=float(setting(self.config, "log_id_margin_seconds")))

    def _user_reader(self) -> UserLogReader:
        return UserLogReader(
            self.tenant_session.api, self.url_base, self.page_size, self.tenant_session.progress
        )

    def _pages_of(self, user_id: str) -> Iterator[list[dict[str, t.Any]]]:
        """The user's raw pages: read here, or ahead of time on worker threads."""
        reader = self._user_reader()
        if self.max_concurrency == 1:
            return reader.pages(self._user_plan({"user_id": user_id}))
        if self._prefetcher is None:
            plans = (self._user_plan(partition) for partition in self.partitions or ())
            self._prefetcher = PrefetchingReader(
                reader,
                plans,
                concurrency=self.max_concurrency,
                lookahead=2 * self.max_concurrency,
            )
        return self._prefetcher.pages(user_id)

    def _user_plan(self, context: Context) -> UserPlan:
        return UserPlan(context["user_id"], self.cutoff(context))

    def _stop_prefetching(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.close()
            self._prefetcher = None

    @override
    def write_record(self, record: dict[str, t.Any]) -> None:
        """singer-sdk's record path without its per-record type conformance.

        `normalize_event` already gives every record the schema's shape (unknown fields in
        `extra_fields`, JSON-native values), so conforming it again changes nothing.
        """
        if self._catalog_deselects_fields:
            pop_deselected_record_properties(record, self.schema, self.mask)
        writer = self._writer
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                writer.write_record(stream_map.stream_alias, mapped, self._extracted_at)
        self.state_manager.is_flushed = False

    @cached_property
    def _catalog_deselects_fields(self) -> bool:
        return not all(self.mask.values())


class LogEventTypesStream(Stream):
    """The reference table of log event type codes, to join on `user_logs.type`."""

    name = "log_event_types"
    primary_keys = ("code",)
    schema = EVENT_TYPES_SCHEMA

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Every type code shipped with the tap."""
        yield from load_event_types()
