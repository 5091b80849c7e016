"""Paging one user's log newest first, within Auth0's 1,000-result cap and down to a cutoff."""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import PageNumberPaginator
from typing_extensions import override

from tap_auth0_userlogs.auth0.endpoints import last_page_within_cap
from tap_auth0_userlogs.events.dates import parse_date

if t.TYPE_CHECKING:
    import datetime


class NewestFirstPaginator(PageNumberPaginator):
    """Stops at a short page, at an event older than `cutoff`, or at the result cap.

    When it stops at the cap while every event read was still newer than the cutoff,
    `cap_reached` is set and `oldest_read` says how far back the pages reached.
    """

    def __init__(self, page_size: int, cutoff: datetime.datetime | None) -> None:
        super().__init__(start_value=0)
        self._page_size = page_size
        self._cutoff = cutoff
        self.cap_reached = False
        self.oldest_read: datetime.datetime | None = None

    @override
    def has_more(self, response: t.Any) -> bool:  # the API's Reply
        """True when the next page may still hold events at or after the cutoff."""
        events = response.payload
        if len(events) < self._page_size:
            return False
        self.oldest_read = parse_date(events[-1]["date"])
        if self._cutoff is not None and self.oldest_read < self._cutoff:
            return False
        if self.current_value >= last_page_within_cap(self._page_size):
            self.cap_reached = True
            return False
        return True
