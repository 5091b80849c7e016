"""The tap's streams: `user_logs` (one partition per user) and `log_event_types`."""

from __future__ import annotations

import datetime
import typing as t
from urllib.parse import quote

from singer_sdk.streams import Stream

from tap_auth0_userlogs.client import Auth0Stream
from tap_auth0_userlogs.event_types import load_event_types
from tap_auth0_userlogs.events import LOG_EVENT_SCHEMA, normalize_event, parse_date
from tap_auth0_userlogs.paging import NewestFirstPaginator
from tap_auth0_userlogs.settings import DEFAULT_LOOKBACK_MINUTES, DEFAULT_PAGE_SIZE

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

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
    primary_keys = ("log_id",)
    replication_key = "date"
    state_partitioning_keys = ("user_id",)
    # Pages come newest first, so the bookmark is only final once a user is done.
    is_sorted = False
    schema = LOG_EVENT_SCHEMA
    endpoint_name = "user_logs"

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._paginator: NewestFirstPaginator | None = None
        types = self.config.get("event_types")
        self._kept_types = frozenset(types) if types else None

    @property
    def page_size(self) -> int:
        """Events per request."""
        return int(self.config.get("page_size") or DEFAULT_PAGE_SIZE)

    @property
    def partitions(self) -> list[dict]:
        """One partition per configured user."""
        return [{"user_id": user_id} for user_id in self.config.get("user_ids") or []]

    def get_url(self, context: Context | None) -> str:
        """The user's log URL, the id escaped as one path segment (`|` and `/` included)."""
        user_id = (context or {})["user_id"]
        return f"{self.url_base}/api/v2/users/{quote(user_id, safe='')}/logs"

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict:
        """Newest first, one page at a time."""
        return {"page": next_page_token or 0, "per_page": self.page_size, "sort": "date:-1"}

    def get_new_paginator(self) -> BaseAPIPaginator:
        """A paginator for the user being read (set up in `get_records`)."""
        assert self._paginator is not None
        return self._paginator

    def cutoff(self, context: Context | None) -> datetime.datetime | None:
        """Oldest date to read: the bookmark minus the look-back, never before start_date."""
        state = self.get_context_state(context)
        bookmark = state.get("replication_key_value")
        start_date = self.config.get("start_date")
        start = parse_date(start_date) if start_date else None
        if not bookmark:
            return start
        lookback = self.config.get("lookback_minutes", DEFAULT_LOOKBACK_MINUTES)
        since = parse_date(bookmark) - datetime.timedelta(minutes=lookback)
        return max(since, start) if start else since

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The user's events at or after the cutoff, each once, of the kept types."""
        # Every earlier user is finished: checkpoint now, so a crash loses at most this user.
        self._write_state_message()
        connection = self.connection
        connection.progress.users_total = len(self.partitions)
        user_id = (context or {})["user_id"]
        cutoff = self.cutoff(context)
        self._paginator = NewestFirstPaginator(self.page_size, cutoff)
        seen: set[str] = set()
        for event in self.request_records(context):
            if cutoff is not None and parse_date(event["date"]) < cutoff:
                continue
            if event["log_id"] in seen:
                continue
            seen.add(event["log_id"])
            if self._kept_types is not None and event.get("type") not in self._kept_types:
                continue
            connection.progress.count_events(1)
            yield normalize_event(event)
            connection.report_progress()
        self._warn_if_capped(user_id, cutoff)
        connection.progress.user_done()
        connection.report_progress()
        if connection.progress.users_done == connection.progress.users_total:
            self.logger.info(connection.summary())

    def _warn_if_capped(self, user_id: str, cutoff: datetime.datetime | None) -> None:
        paginator = self._paginator
        if paginator is None or not paginator.cap_reached:
            return
        self.connection.progress.cap_warnings += 1
        since = cutoff.isoformat() if cutoff else "the start of Auth0's log retention"
        self.logger.warning(
            "User %s has more events than the 1,000 Auth0 lets this endpoint page to: "
            "events dated from %s to %s were NOT read",
            user_id,
            since,
            paginator.oldest_read.isoformat() if paginator.oldest_read else "unknown",
        )


class LogEventTypesStream(Stream):
    """The reference table of log event type codes, to join on `user_logs.type`."""

    name = "log_event_types"
    primary_keys = ("code",)
    schema = EVENT_TYPES_SCHEMA

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """Every type code shipped with the tap."""
        yield from load_event_types()
