"""Finding the tenant's users when `user_ids` is not set: search, or a users-export job.

`/api/v2/users` pages only to its 1,000th result. Past that, with a `user_query`, the search
is split into `created_at` windows of fewer than 1,000 users each; without one, a single
users-export job lists everyone in a handful of requests (measured on the emulator: 4 for 5,000
users, against 62 for windowed search).
"""

from __future__ import annotations

import datetime
import gzip
import json
import logging
import time
import typing as t

import requests

from tap_auth0_userlogs.errors import TapUserError
from tap_auth0_userlogs.events import parse_date
from tap_auth0_userlogs.log_search import lucene_time
from tap_auth0_userlogs.management_api import TRANSIENT_EXCEPTIONS, payload
from tap_auth0_userlogs.paging import RESULT_CAP

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.management_api import ManagementAPI

USERS_PAGE_SIZE = 100
USER_SCOPES = "read:users (needed to discover users when 'user_ids' is not set)"
# An export job normally completes in seconds; give up after this long.
EXPORT_TIMEOUT_SECONDS = 900.0
EXPORT_FIRST_POLL_SECONDS = 0.2
EXPORT_MAX_POLL_SECONDS = 10.0

logger = logging.getLogger("tap-auth0-userlogs.discovery")

Window = tuple[datetime.datetime | None, datetime.datetime | None]


class UserDiscovery:
    """Lists user ids of the tenant, optionally only those matching a Lucene `user_query`."""

    def __init__(
        self,
        api: ManagementAPI,
        base_url: str,
        *,
        user_query: str | None = None,
        method: str = "auto",
    ) -> None:
        self._api = api
        self._base_url = base_url
        self._user_query = user_query
        self._method = method

    def user_ids(self) -> list[str]:
        """Every matching user id, each once, oldest user first."""
        if self._method == "export":
            found = self._export()
        else:
            first = self._search_page((None, None), 0)
            if first["total"] <= RESULT_CAP or self._method == "search" or self._user_query:
                found = self._search((None, None), first)
            else:
                found = self._export()
        logger.info("Discovered %d users", len(found))
        return list(dict.fromkeys(found))

    # Search, in created_at windows under the cap.

    def _search(self, window: Window, first: dict[str, t.Any]) -> list[str]:
        total = first["total"]
        if total > RESULT_CAP:
            return [user for half in self._halves(window, first) for user in half]
        found = [user["user_id"] for user in first["users"]]
        pages = -(-total // USERS_PAGE_SIZE)
        for page in range(1, pages):
            users = self._search_page(window, page)["users"]
            found.extend(user["user_id"] for user in users)
            if len(users) < USERS_PAGE_SIZE:
                break
        return found

    def _halves(self, window: Window, first: dict[str, t.Any]) -> list[list[str]]:
        low, high = window
        start = low or parse_date(first["users"][0]["created_at"])
        end = high or datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
        middle = start + (end - start) / 2
        if middle - start < datetime.timedelta(milliseconds=1):
            msg = f"More than {RESULT_CAP} users were created at {lucene_time(start)}"
            raise TapUserError(msg)
        halves = ((low, middle), (middle, high))
        return [self._search(half, self._search_page(half, 0)) for half in halves]

    def _search_page(self, window: Window, page: int) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {
            "page": page,
            "per_page": USERS_PAGE_SIZE,
            "include_totals": "true",
            "sort": "created_at:1",
            "fields": "user_id,created_at",
            "include_fields": "true",
        }
        query = self._window_query(window)
        if query:
            params |= {"q": query, "search_engine": "v3"}
        response = self._api.get(
            f"{self._base_url}/api/v2/users", params, endpoint="users", scopes=USER_SCOPES
        )
        body = payload(response)
        if not isinstance(body, dict) or "users" not in body:
            msg = "Auth0's /api/v2/users answered without a users list"
            raise TapUserError(msg)
        return body

    def _window_query(self, window: Window) -> str:
        low, high = window
        parts = [f"({self._user_query})"] if self._user_query else []
        if low or high:
            lower = lucene_time(low) if low else "*"
            upper = f"{lucene_time(high)}}}" if high else "*]"
            parts.append(f"created_at:[{lower} TO {upper}")
        return " AND ".join(parts)

    # Users-export job.

    def _export(self) -> list[str]:
        created = self._api.post_json(
            f"{self._base_url}/api/v2/jobs/users-exports",
            {"format": "json", "fields": [{"name": "user_id"}]},
            endpoint="jobs",
            scopes=USER_SCOPES,
        )
        job_id = payload(created)["id"]
        location = self._wait_for(job_id)
        return [json.loads(line)["user_id"] for line in self._download(location) if line.strip()]

    def _wait_for(self, job_id: str) -> str:
        deadline = time.monotonic() + EXPORT_TIMEOUT_SECONDS
        wait = EXPORT_FIRST_POLL_SECONDS
        while time.monotonic() < deadline:
            time.sleep(wait)
            job = payload(
                self._api.get(
                    f"{self._base_url}/api/v2/jobs/{job_id}",
                    {},
                    endpoint="jobs",
                    scopes=USER_SCOPES,
                )
            )
            if job.get("status") == "completed" and job.get("location"):
                return str(job["location"])
            if job.get("status") == "failed":
                msg = f"Auth0's users-export job {job_id} failed: {job.get('summary') or job}"
                raise TapUserError(msg)
            wait = min(wait * 2, EXPORT_MAX_POLL_SECONDS)
        msg = f"Auth0's users-export job {job_id} did not complete in {EXPORT_TIMEOUT_SECONDS}s"
        raise TapUserError(msg)

    def _download(self, location: str) -> list[str]:
        # A pre-signed link on another host: it gets no Authorization header, and its URL
        # (which carries a signature) is never logged.
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                response = requests.get(location, timeout=self._api.timeout)
                response.raise_for_status()
                return gzip.decompress(response.content).decode("utf-8").splitlines()
            except (*TRANSIENT_EXCEPTIONS, requests.HTTPError, OSError) as exc:
                if attempt == attempts:
                    msg = f"Could not download the users export ({type(exc).__name__})"
                    raise TapUserError(msg) from None
                time.sleep(attempt)
        raise AssertionError  # the loop returns or raises
