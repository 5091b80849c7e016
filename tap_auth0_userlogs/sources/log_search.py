"""Reading one user's events through `/api/v2/logs` search, past the per-user 1,000 cap.

The search endpoint has the same cap, so a window whose 10th page comes back full is split:
the part already read (down to the oldest event seen) is done, and reading continues in the
window below it. Each 1,000 events cost 10 requests; nothing is fetched twice except events
in the boundary second (windows are whole seconds), which are passed on once.
"""

from __future__ import annotations

import datetime
import typing as t

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.endpoints import MAX_PAGE_SIZE, RESULT_CAP, last_page_within_cap
from tap_auth0_userlogs.auth0.errors import TapUserError
from tap_auth0_userlogs.events.dates import parse_date

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_auth0_userlogs.auth0.api import ManagementAPI

SEARCH_SCOPES = "read:logs (needed to read past the 1,000 newest events of a user)"


def lucene_quote(value: str) -> str:
    """`value` as a quoted Lucene term."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def floor_second(moment: datetime.datetime) -> datetime.datetime:
    """`moment` in UTC without its fraction of a second."""
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0)


def ceil_second(moment: datetime.datetime) -> datetime.datetime:
    """The first whole UTC second at or after `moment`."""
    floor = floor_second(moment)
    return floor if floor == moment else floor + datetime.timedelta(seconds=1)


def lucene_time(moment: datetime.datetime) -> str:
    """A whole UTC second in the form Auth0's query syntax documents (`YYYY-MM-DDThh:mm:ss`).

    Milliseconds in `q` are not documented: callers round a window outward to whole seconds
    (`floor_second` / `ceil_second`) and drop the events the wider window repeats.
    """
    return floor_second(moment).strftime("%Y-%m-%dT%H:%M:%S")


def window_query(
    user_id: str | None, since: datetime.datetime | None, until: datetime.datetime
) -> str:
    """Events (of `user_id`, or of every user) dated from `since` (or ever) up to `until`,
    both inclusive, the window widened to whole seconds."""
    lower = lucene_time(floor_second(since)) if since else "*"
    dates = f"date:[{lower} TO {lucene_time(ceil_second(until))}]"
    return f"user_id:{lucene_quote(user_id)} AND {dates}" if user_id else dates


def search_user_pages(
    api: ManagementAPI,
    base_url: str,
    user_id: str,
    *,
    since: datetime.datetime | None,
    until: datetime.datetime,
) -> Iterator[list[dict[str, t.Any]]]:
    """Pages of the events of `user_id` dated in [since, until], newest first."""
    return search_pages(api, base_url, user_id, since=since, until=until, scopes=SEARCH_SCOPES)


def search_pages(
    api: ManagementAPI,
    base_url: str,
    user_id: str | None,
    *,
    since: datetime.datetime | None,
    until: datetime.datetime,
    scopes: str,
) -> Iterator[list[dict[str, t.Any]]]:
    """Pages of the events (of `user_id`, or of every user) dated in [since, until], newest
    first, each event once: the boundary second two windows share is passed on once."""
    last_page = last_page_within_cap(MAX_PAGE_SIZE)
    upper = until
    boundary: set[str] = set()
    whose = f"user {user_id}" if user_id else "the tenant"
    while True:
        query = window_query(user_id, since, upper)
        events: list[dict[str, t.Any]] = []
        for page in range(last_page + 1):
            reply = api.get(
                f"{base_url}{endpoints.LOGS}",
                {"q": query, "page": page, "per_page": MAX_PAGE_SIZE, "sort": "date:-1"},
                endpoint="logs_search",
                scopes=scopes,
            )
            events = reply.payload
            fresh = [e for e in events if e["log_id"] not in boundary]
            if fresh:
                yield fresh
            if len(events) < MAX_PAGE_SIZE:
                return
        # The 10th page was full: continue in the window below the oldest event read, whose
        # whole second is read again.
        oldest = ceil_second(parse_date(events[-1]["date"]))
        if oldest >= ceil_second(upper):
            msg = (
                f"More than {RESULT_CAP} events of {whose} fall within the second "
                f"before {lucene_time(oldest)}; Auth0's search cannot page past them"
            )
            raise TapUserError(msg)
        repeated_from = oldest - datetime.timedelta(seconds=1)
        boundary = {e["log_id"] for e in events if parse_date(e["date"]) >= repeated_from}
        upper = oldest
