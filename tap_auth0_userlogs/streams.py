"""The tap's streams: `user_logs` (one partition per user) and `log_event_types`."""

from __future__ import annotations

import datetime
import typing as t
from functools import cached_property
from http import HTTPStatus
from urllib.parse import quote

from singer_sdk.streams import Stream

from tap_auth0_userlogs.client import Auth0Stream
from tap_auth0_userlogs.discovery import USER_SCOPES, UserDiscovery
from tap_auth0_userlogs.event_types import load_event_types
from tap_auth0_userlogs.events import LOG_EVENT_SCHEMA, normalize_event, parse_date
from tap_auth0_userlogs.log_search import search_user_events
from tap_auth0_userlogs.management_api import ClientError
from tap_auth0_userlogs.paging import NewestFirstPaginator
from tap_auth0_userlogs.settings import DEFAULT_LOOKBACK_MINUTES, DEFAULT_PAGE_SIZE

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

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

    @cached_property
    def partitions(self) -> list[dict]:  # type: ignore[override]
        """One partition per user: those configured, else every user the tenant has."""
        user_ids = self.config.get("user_ids")
        if user_ids is None:
            user_ids = UserDiscovery(
                self.connection.api,
                self.url_base,
                user_query=self.config.get("user_query"),
                method=self.config.get("user_discovery") or "auto",
            ).user_ids()
        return [{"user_id": user_id} for user_id in user_ids]

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

    def bookmark(self, context: Context | None) -> datetime.datetime | None:
        """The date of the newest event emitted for this user by earlier runs."""
        value = self.get_context_state(context).get("replication_key_value")
        return parse_date(value) if value else None

    def cutoff(self, context: Context | None) -> datetime.datetime | None:
        """Oldest date to read: the bookmark minus the look-back, never before start_date."""
        bookmark = self.bookmark(context)
        start_date = self.config.get("start_date")
        start = parse_date(start_date) if start_date else None
        if not bookmark:
            return start
        lookback = self.config.get("lookback_minutes", DEFAULT_LOOKBACK_MINUTES)
        since = bookmark - datetime.timedelta(minutes=lookback)
        return max(since, start) if start else since

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        """The user's events at or after the cutoff, each once, of the kept types."""
        # Every earlier user is finished: checkpoint now, so a crash loses at most this user.
        if self._tap.state_writer.checkpoint_due():
            self._write_state_message()
        progress = self.connection.progress
        progress.users_total = len(self.partitions)
        user_id = (context or {})["user_id"]
        cutoff = self.cutoff(context)
        bookmark = self.bookmark(context)
        seen: set[str] = set()
        oldest: datetime.datetime | None = None
        for event in self._read_user(context, user_id, cutoff):
            date = parse_date(event["date"])
            oldest = date if oldest is None else min(oldest, date)
            if (cutoff is not None and date < cutoff) or event["log_id"] in seen:
                continue
            seen.add(event["log_id"])
            if self._kept_types is not None and event.get("type") not in self._kept_types:
                continue
            progress.count_events(1)
            yield normalize_event(event)
            self.connection.report_progress()
        if bookmark and (oldest is None or oldest > bookmark) and cutoff and cutoff <= bookmark:
            self._warn_about_missing_history(user_id, bookmark, oldest)
        progress.user_done()
        self.connection.report_progress()
        if progress.users_done == progress.users_total:
            self.logger.info(self.connection.summary())

    def _read_user(
        self, context: Context | None, user_id: str, cutoff: datetime.datetime | None
    ) -> Iterator[dict[str, t.Any]]:
        """Raw events newest first: the per-user pages, then search past the 1,000 cap."""
        self._paginator = NewestFirstPaginator(self.page_size, cutoff)
        yield from self.request_records(context)
        if not self._paginator.cap_reached or self._paginator.oldest_read is None:
            return
        self.connection.progress.cap_fallbacks += 1
        self.logger.info(
            "User %s has more than 1,000 new events; reading those dated up to %s "
            "through /api/v2/logs search",
            user_id,
            self._paginator.oldest_read.isoformat(),
        )
        yield from search_user_events(
            self.connection.api,
            self.url_base,
            user_id,
            since=cutoff,
            until=self._paginator.oldest_read,
        )

    def _warn_about_missing_history(
        self, user_id: str, bookmark: datetime.datetime, oldest: datetime.datetime | None
    ) -> None:
        """Nothing at or before the bookmark came back: the user was deleted, or logs expired."""
        progress = self.connection.progress
        if self._user_exists(user_id) is False:
            progress.deleted_users += 1
            self.logger.warning(
                "User %s no longer exists in the tenant (deleted): skipped, bookmark kept",
                user_id,
            )
            return
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
