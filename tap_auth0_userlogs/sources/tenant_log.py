"""The tenant's log in checkpoint mode (`/api/v2/logs?from=…&take=100`): every event of every
user, 100 a request, in log_id order, with no result cap; and by date-window search.

Pages stream as they arrive, each with the position after it (the last log_id it holds), so
the caller can emit, write STATE and resume mid-pass. Reading can start from a stored position
or from a time (`events.log_ids.log_id_at`). Auth0 orders checkpoint mode by log_id "rather
than log generation time, to prevent skipping past records due to Auth0 system delays": an
event indexed late gets a later log_id, so a pass needs no look-back.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
import typing as t
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.endpoints import MAX_PAGE_SIZE
from tap_auth0_userlogs.auth0.errors import ClientError, TapUserError
from tap_auth0_userlogs.events.pages import LogEvent, decode_page
from tap_auth0_userlogs.sources.log_search import search_pages

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_auth0_userlogs.auth0.api import ManagementAPI
    from tap_auth0_userlogs.auth0.reply import Reply

TENANT_LOG_SCOPES = "read:logs (needed to read the tenant's log)"

logger = logging.getLogger("tap-auth0-userlogs.tenant_log")


class PositionRefused(Exception):
    """Auth0 answered 400 to a checkpoint read: older than its log retention, or refused."""

    def __init__(self, position: str, message: str) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class LogPage:
    """One page of a pass and the position after it."""

    events: list[LogEvent]
    position: str
    # Seconds the reader waited for it, where it was read alone (`first_page`).
    waited: float = 0.0


class TenantLog:
    """Reads the tenant's log: passes in checkpoint mode, and date windows by search."""

    def __init__(self, api: ManagementAPI, base_url: str) -> None:
        self._api = api
        self._base_url = base_url
        self._url = f"{base_url}{endpoints.LOGS}"

    def first_page(self, position: str) -> LogPage:
        """The first page of a pass from `position` (empty at the end of the log), and how
        long it took to read."""
        started = time.monotonic()
        page = next(self.pass_from(position), LogPage([], position))
        return dataclasses.replace(page, waited=time.monotonic() - started)

    def pass_from(self, position: str, first: LogPage | None = None) -> Iterator[LogPage]:
        """Every event after `position`, page by page, until Auth0 answers an empty page.

        A short page only means "no more yet": the log is read to its end when a page comes
        back empty. Raises PositionRefused, naming the position, when Auth0 answers 400 to a
        request. `first` is the first page, when it was read already (to estimate the pass).
        """
        if first is not None:
            if not first.events:
                return
            yield first
            position = first.position
        url, params = self._url, {"from": position, "take": MAX_PAGE_SIZE}
        while True:
            try:
                reply = self._api.get(
                    url, params, endpoint="logs", scopes=TENANT_LOG_SCOPES, decode=decode_page
                )
            except ClientError as error:
                if error.reply.status_code == HTTPStatus.BAD_REQUEST:
                    raise PositionRefused(position, str(error)) from None
                raise
            events = _events_of(reply)
            if not events:
                return
            position = events[-1].log_id
            yield LogPage(events, position)
            url, params = self._next(reply, position)

    def newest(self) -> list[dict[str, t.Any]]:
        """The 100 newest events by date (one request): they tell the tenant's event rate."""
        return self._search_page("", 0, sort="date:-1")

    def oldest(self) -> dict[str, t.Any] | None:
        """The oldest event Auth0 still keeps, by date (one request)."""
        events = self._search_page("", 0, sort="date:1", per_page=1)
        return events[0] if events else None

    def oldest_page(self) -> list[dict[str, t.Any]]:
        """The 100 oldest events Auth0 still keeps, by date (one request)."""
        return self._search_page("", 0, sort="date:1")

    def span(
        self, since: datetime.datetime, until: datetime.datetime
    ) -> Iterator[list[dict[str, t.Any]]]:
        """Every event dated in [since, until], newest first, through date-window searches,
        for spans Auth0 will not read in checkpoint mode."""
        return search_pages(
            self._api, self._base_url, None, since=since, until=until, scopes=TENANT_LOG_SCOPES
        )

    def _search_page(
        self, query: str, page: int, *, sort: str, per_page: int = MAX_PAGE_SIZE
    ) -> list[dict[str, t.Any]]:
        params: dict[str, t.Any] = {"sort": sort, "per_page": per_page, "page": page}
        if query:
            params["q"] = query
        return _events_of(
            self._api.get(self._url, params, endpoint="logs_search", scopes=TENANT_LOG_SCOPES)
        )

    def _next(self, reply: Reply, position: str) -> tuple[str, dict[str, t.Any]]:
        """Follow Auth0's `Link: <...>; rel="next"`, but only to the tenant's own host."""
        link = reply.links.get("next", {}).get("url")
        ours = urlsplit(self._base_url)
        if link and urlsplit(link)[:2] == ours[:2]:  # same scheme and host: the token may go
            return link, {}
        return self._url, {"from": position, "take": MAX_PAGE_SIZE}


def _events_of(reply: Reply) -> list[t.Any]:
    """The events of a `/api/v2/logs` answer, which must be a list."""
    if not isinstance(reply.payload, list):
        msg = "Auth0's /api/v2/logs answered without a list of events"
        raise TapUserError(msg)
    return reply.payload
