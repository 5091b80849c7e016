"""The tap's streams: `user_logs` (one partition per user) and `log_event_types`."""

from __future__ import annotations

import datetime
import typing as t
from functools import cached_property
from http import HTTPStatus
from urllib.parse import quote

from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._util import utc_now
from singer_sdk.streams import Stream

from tap_auth0_userlogs.client import Auth0Stream
from tap_auth0_userlogs.discovery import USER_SCOPES, UserDiscovery
from tap_auth0_userlogs.event_types import load_event_types
from tap_auth0_userlogs.events import LOG_EVENT_SCHEMA, normalize_event, parse_date
from tap_auth0_userlogs.management_api import ClientError
from tap_auth0_userlogs.partition_state import IndexedStateManager
from tap_auth0_userlogs.reader import (
    PrefetchingReader,
    UserLogNotFound,
    UserLogReader,
    UserPlan,
)
from tap_auth0_userlogs.settings import (
    DEFAULT_LOOKBACK_MINUTES,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_PAGE_SIZE,
    normalize_domain,
)
from tap_auth0_userlogs.tenant_scan import ScanResult, TenantScanner

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers.types import Context

# State keys: the stream's log checkpoint, and on each partition the checkpoint it is in sync with.
CHECKPOINT_KEY = "log_checkpoint"
# `strategy: auto` scans the tenant's log only when it would replace this many user requests.
AUTO_SCAN_MIN_USERS = 50

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


class UserLogsStream(Auth0Stream):
    """Each user's log events, newest first, from `GET /api/v2/users/{id}/logs`."""

    name = "user_logs"
    path = "/api/v2/users/{user_id}/logs"
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
        self._extracted_at = utc_now()
        self._newest_emitted: str | None = None
        self._scan: ScanResult | None = None
        self._next_checkpoint: str | None = None
        self._planned = False

    @property
    def state_manager(self) -> IndexedStateManager:
        """The SDK's partitioned state, with partitions looked up through an index."""
        if self._state_manager is None:
            self._state_manager = IndexedStateManager(
                tap_name=self.tap_name,
                stream_name=self.name,
                tap_state=self._tap_state,
                state_partitioning_keys=self.state_partitioning_keys,
                is_sorted=self.is_sorted,
                check_sorted=self.check_sorted,
            )
        return self._state_manager  # type: ignore[return-value]

    @property
    def max_concurrency(self) -> int:
        """Users read at once."""
        return int(self.config.get("max_concurrency") or DEFAULT_MAX_CONCURRENCY)

    @property
    def page_size(self) -> int:
        """Events per request."""
        return int(self.config.get("page_size") or DEFAULT_PAGE_SIZE)

    @cached_property
    def partitions(self) -> list[dict]:  # type: ignore[override]
        """One partition per user: those configured, else every user the tenant has."""
        user_ids = self.config.get("user_ids")
        if user_ids is None:
            listing = UserDiscovery(
                self.connection.api,
                self.url_base,
                user_query=self.config.get("user_query"),
                method=self.config.get("user_discovery") or "auto",
            ).discover()
            self.connection.progress.users_found_by = listing.found_by
            user_ids = listing.user_ids
        return [{"user_id": user_id} for user_id in user_ids]

    def bookmark(self, context: Context | None) -> datetime.datetime | None:
        """The date of the newest event emitted for this user by earlier runs."""
        value = self.get_context_state(context).get("replication_key_value")
        return parse_date(value) if value else None

    def cutoff(self, context: Context | None) -> datetime.datetime | None:
        """Oldest date to read: the bookmark minus the look-back, never before start_date."""
        bookmark = self.bookmark(context)
        start = self._start_date
        if not bookmark:
            return start
        since = bookmark - self._lookback
        return max(since, start) if start else since

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The user's events at or after the cutoff, each once, of the kept types."""
        if not context:  # singer-sdk syncs one empty context when there are no partitions
            self._report_no_users()
            return
        # Every earlier user is finished: checkpoint now, so a crash loses at most this user.
        if self._tap.state_writer.checkpoint_due():
            self._write_state_message()
        progress = self.connection.progress
        progress.users_total = len(self.partitions)
        if not self._planned:
            self._plan_tenant_scan()
        user_id = context["user_id"]
        scanned = self._scan is not None and user_id in self._scan.users
        # A scanned user gets every event the pass found for it, late-indexed ones included.
        cutoff = self._start_date if scanned else self.cutoff(context)
        bookmark = None if scanned else self.bookmark(context)
        self._keep_bookmark_from_regressing(context)
        seen: set[str] = set()
        oldest: datetime.datetime | None = None
        try:
            pages = (
                [self._scan.events_by_user.get(user_id, [])] if scanned else self._pages_of(user_id)
            )
            for page in pages:
                self._extracted_at = utc_now()
                for event in page:
                    date = parse_date(event["date"])
                    oldest = date if oldest is None else min(oldest, date)
                    if (cutoff is not None and date < cutoff) or event["log_id"] in seen:
                        continue
                    seen.add(event["log_id"])
                    if self._kept_types is None or event.get("type") in self._kept_types:
                        progress.count_events(1)
                        yield normalize_event(event, self._tenant_domain)
                self.connection.report_progress()
        except UserLogNotFound:
            log_not_found = True
        except BaseException:
            self._stop_prefetching()
            raise
        else:
            log_not_found = False
        self._advance_bookmark(context)
        if log_not_found:
            self._warn_about_missing_user(user_id)
        elif bookmark and cutoff and cutoff <= bookmark:
            self._warn_if_history_is_missing(user_id, bookmark, oldest)
        self._user_done()

    def _user_done(self) -> None:
        progress = self.connection.progress
        progress.user_done()
        self.connection.report_progress()
        if progress.users_done == progress.users_total:
            self._stop_prefetching()
            self._record_checkpoint()
            self.logger.info(self.connection.summary())

    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        """Note the newest date emitted; the user's state is updated once, at its end."""
        date = latest_record.get(self.replication_key)
        if date and (self._newest_emitted is None or date > self._newest_emitted):
            self._newest_emitted = date

    def _report_no_users(self) -> None:
        query = self.config.get("user_query")
        matching = f" matches the user_query {query!r}" if query else " exists in the tenant"
        self.logger.info("No user%s: nothing to extract", matching)
        self.logger.info(self.connection.summary())

    def _advance_bookmark(self, context: Context | None) -> None:
        # Once per user instead of once per event: the SDK's update is the costly part.
        if self._newest_emitted is not None:
            super()._increment_stream_state(
                {self.replication_key: self._newest_emitted}, context=context
            )
            self._newest_emitted = None

    def _keep_bookmark_from_regressing(self, context: Context | None) -> None:
        """Start the user's progress at its bookmark, so the bookmark can only move forward.

        The SDK promotes the newest date emitted in this run; a run that emits only older
        (late-indexed) events, as a tenant scan may, must not move the bookmark back.
        """
        state = self.get_context_state(context)
        if state.get("replication_key_value") and "progress_markers" not in state:
            state["progress_markers"] = {
                "replication_key": self.replication_key,
                "replication_key_value": state["replication_key_value"],
            }

    @cached_property
    def _start_date(self) -> datetime.datetime | None:
        start_date = self.config.get("start_date")
        return parse_date(start_date) if start_date else None

    @cached_property
    def _lookback(self) -> datetime.timedelta:
        return datetime.timedelta(
            minutes=self.config.get("lookback_minutes", DEFAULT_LOOKBACK_MINUTES)
        )

    @cached_property
    def _tenant_domain(self) -> str:
        # The configured domain, not api_url: a proxy or emulator URL does not name the tenant.
        return normalize_domain(self.config["domain"])

    def _plan_tenant_scan(self) -> None:
        """Before the first user: serve covered users from one pass over the tenant's log."""
        self._planned = True
        strategy = self.config.get("strategy") or "auto"
        if strategy == "per_user":
            return
        scanner = TenantScanner(self.connection.api, self.url_base, self._lookback)
        checkpoint = self.stream_state.get(CHECKPOINT_KEY)
        covered = {
            p["user_id"]
            for p in self.partitions
            if checkpoint and self.get_context_state(p).get(CHECKPOINT_KEY) == checkpoint
        }
        if strategy == "auto" and len(self.partitions) < AUTO_SCAN_MIN_USERS:
            return
        try:
            if (
                checkpoint
                and covered
                and (strategy == "tenant_scan" or len(covered) >= AUTO_SCAN_MIN_USERS)
            ):
                budget = None if strategy == "tenant_scan" else len(covered)
                self._scan = scanner.scan(checkpoint, covered, budget=budget)
            if self._scan is not None:
                self._scan.users = covered
                self._next_checkpoint = self._scan.checkpoint
                self.logger.info(
                    "Read the tenant's log from its checkpoint in %d requests: %d users "
                    "served without a request of their own, %d read one by one",
                    self._scan.requests,
                    len(covered),
                    len(self.partitions) - len(covered),
                )
            else:
                # No usable checkpoint: every user is read on its own; start one for next time.
                self._next_checkpoint = scanner.newest_settled_log_id() or checkpoint
        except ClientError as error:
            if strategy == "tenant_scan" or error.response.status_code != HTTPStatus.FORBIDDEN:
                raise
            self.logger.warning("Reading users one by one: %s", error)

    def _record_checkpoint(self) -> None:
        """Every user is in sync with the new checkpoint; the next run may scan from it."""
        if not self._next_checkpoint:
            return
        self.stream_state[CHECKPOINT_KEY] = self._next_checkpoint
        for partition in self.partitions:
            self.get_context_state(partition)[CHECKPOINT_KEY] = self._next_checkpoint

    def _pages_of(self, user_id: str) -> Iterator[list[dict[str, t.Any]]]:
        """The user's raw pages: read here, or ahead of time on worker threads."""
        reader = UserLogReader(
            self.connection.api, self.url_base, self.page_size, self.connection.progress
        )
        if self.max_concurrency == 1:
            return reader.pages(self._plan({"user_id": user_id}))
        if self._prefetcher is None:
            scanned = self._scan.users if self._scan is not None else set()
            plans = (
                self._plan(partition)
                for partition in self.partitions
                if partition["user_id"] not in scanned
            )
            self._prefetcher = PrefetchingReader(
                reader,
                plans,
                concurrency=self.max_concurrency,
                lookahead=2 * self.max_concurrency,
            )
        return self._prefetcher.pages(user_id)

    def _plan(self, context: Context) -> UserPlan:
        return UserPlan(context["user_id"], self.cutoff(context))

    def _stop_prefetching(self) -> None:
        if self._prefetcher is not None:
            self._prefetcher.close()
            self._prefetcher = None

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        """singer-sdk's record path without its per-record type conformance.

        `normalize_event` already gives every record the schema's shape (unknown fields in
        `extra_fields`, JSON-native values), so conforming it again changes nothing.
        """
        if self._catalog_deselects_fields:
            pop_deselected_record_properties(record, self.schema, self.mask)
        writer = self._tap.message_writer
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                writer.write_record(stream_map.stream_alias, mapped, self._extracted_at)
        self.state_manager.is_flushed = False

    @cached_property
    def _catalog_deselects_fields(self) -> bool:
        return not all(self.mask.values())

    def _warn_if_history_is_missing(
        self, user_id: str, bookmark: datetime.datetime, oldest: datetime.datetime | None
    ) -> None:
        """Nothing at or before the bookmark came back: the user was deleted, or logs expired."""
        if (oldest is not None and oldest <= bookmark) or self._user_deleted(user_id):
            return
        progress = self.connection.progress
        progress.gaps_warned += 1
        until = oldest.isoformat() if oldest else "now"
        self.logger.warning(
            "User %s: Auth0 no longer has events back to the bookmark %s (log retention "
            "ran out before this sync); events dated from %s to %s may be missing",
            user_id,
            bookmark.isoformat(),
            bookmark.isoformat(),
            until,
        )

    def _warn_about_missing_user(self, user_id: str) -> None:
        """Auth0 answered 404 for the user's log: no events, and the user may be gone."""
        if not self._user_deleted(user_id):
            self.logger.warning(
                "Auth0 answered 404 for the log of user %s: no events read for it this run, "
                "bookmark kept",
                user_id,
            )

    def _user_deleted(self, user_id: str) -> bool:
        """Whether Auth0 says the user no longer exists; warns and counts it if so."""
        if self._user_exists(user_id) is not False:
            return False
        self.connection.progress.deleted_users += 1
        self.logger.warning(
            "User %s no longer exists in the tenant (deleted): skipped, bookmark kept", user_id
        )
        return True

    def _user_exists(self, user_id: str) -> bool | None:
        """Whether the user still exists; None when the token may not read users."""
        try:
            self.connection.api.get(
                f"{self.url_base}/api/v2/users/{quote(user_id, safe='')}",
                {"fields": "user_id", "include_fields": "true"},
                endpoint="user",
                scopes=USER_SCOPES,
            )
        except ClientError as error:
            if error.response.status_code == HTTPStatus.NOT_FOUND:
                return False
            return None
        return True


class LogEventTypesStream(Stream):
    """The reference table of log event type codes, to join on `user_logs.type`."""

    name = "log_event_types"
    primary_keys = ("code",)
    schema = EVENT_TYPES_SCHEMA

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Every type code shipped with the tap."""
        yield from load_event_types()
