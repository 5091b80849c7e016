"""One pass over the tenant's whole log (`/api/v2/logs` checkpoint mode) instead of one
request per user.

The per-user endpoint costs at least one request per user per sync; checkpoint mode reads
every new event of the tenant, in ingestion order, 100 per request, from the log_id where the
last pass stopped. Each event goes to its user; users whose bookmarks the pass covers need no
request of their own.

The next checkpoint is the last event read that was ingested at least `lookback` before the
pass began, so an event Auth0 makes visible late is still ahead of the checkpoint next time
(re-read events are dropped by log_id within a run, and replace themselves in a keyed target).
Ingestion time comes from the log_id (`900` + YYYYMMDDhhmmss + digits, as seen in real data),
or, for an id of another shape, from the event's date.
"""

from __future__ import annotations

import datetime
import logging
import typing as t
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from tap_auth0_userlogs.events import parse_date
from tap_auth0_userlogs.management_api import ClientError, payload

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.management_api import ManagementAPI

SCAN_PAGE_SIZE = 100
# A pass whose first event comes this long after its checkpoint may have lost a span to
# retention; one request for the oldest retained event tells.
RETENTION_SUSPECT_GAP = datetime.timedelta(hours=1)
SCAN_SCOPES = "read:logs (needed by strategy 'tenant_scan')"

logger = logging.getLogger("tap-auth0-userlogs.tenant_scan")


@dataclass
class ScanResult:
    """What one pass found for the users it was asked about."""

    events_by_user: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    checkpoint: str | None = None
    requests: int = 0
    users: set[str] = field(default_factory=set)


def log_id_time(log_id: str) -> datetime.datetime | None:
    """The ingestion second a log_id carries (`900` + YYYYMMDDhhmmss + ...), if it has one."""
    try:
        return datetime.datetime.strptime(log_id[3:17], "%Y%m%d%H%M%S").replace(
            tzinfo=datetime.timezone.utc
        )
    except ValueError:
        return None


def ingested_at(event: dict[str, t.Any]) -> datetime.datetime:
    """When Auth0 ingested `event`: the time in its log_id, else its date."""
    return log_id_time(str(event.get("log_id", ""))) or parse_date(event["date"])


class TenantScanner:
    """Reads the tenant's log from a checkpoint to its end."""

    def __init__(self, api: ManagementAPI, base_url: str, lookback: datetime.timedelta) -> None:
        self._api = api
        self._base_url = base_url
        self._lookback = lookback

    def scan(
        self, checkpoint: str, users: set[str], *, budget: int | None = None
    ) -> ScanResult | None:
        """Every event after `checkpoint` of the given users, and the next checkpoint.

        None when Auth0 refuses the checkpoint (older than its retention), or when the pass
        would cost more than `budget` requests.
        """
        began = datetime.datetime.now(datetime.timezone.utc)
        settled_before = began - self._lookback
        result = ScanResult(checkpoint=checkpoint, users=users)
        url = f"{self._base_url}/api/v2/logs"
        params: dict[str, t.Any] = {"from": checkpoint, "take": SCAN_PAGE_SIZE}
        while True:
            if budget is not None and result.requests >= budget:
                logger.info("The tenant's log holds more new events than %d requests read", budget)
                return None
            try:
                response = self._api.get(
                    url, params, endpoint="logs_checkpoint", scopes=SCAN_SCOPES
                )
            except ClientError as error:
                if error.response.status_code == HTTPStatus.BAD_REQUEST:
                    logger.warning("Auth0 refused the log checkpoint %s: %s", checkpoint, error)
                    return None
                raise
            result.requests += 1
            events = payload(response)
            if result.requests == 1 and events:
                self._warn_if_retention_passed(checkpoint, events[0])
            for event in events:
                user_id = event.get("user_id")
                if user_id in users:
                    result.events_by_user.setdefault(user_id, []).append(event)
                if ingested_at(event) <= settled_before:
                    result.checkpoint = event["log_id"]
            # A short page only means "no more yet" mid-stream; the log ends at an empty one.
            if not events:
                return result
            url, params = self._next(response, events[-1]["log_id"])

    def _warn_if_retention_passed(self, checkpoint: str, first: dict[str, t.Any]) -> None:
        """Warn when the oldest event Auth0 still keeps is newer than the checkpoint.

        Given a checkpoint older than its retention, Auth0 may answer 400 (handled by the
        caller) or serve from the oldest retained event: the events between have expired.
        """
        checkpoint_at = log_id_time(checkpoint)
        if checkpoint_at is None or ingested_at(first) - checkpoint_at < RETENTION_SUSPECT_GAP:
            return
        response = self._api.get(
            f"{self._base_url}/api/v2/logs",
            {"sort": "date:1", "per_page": 1, "page": 0},
            endpoint="logs_search",
            scopes=SCAN_SCOPES,
        )
        oldest = payload(response)
        # Had nothing expired, the checkpoint's own event (or an older one) would still be here.
        if oldest and parse_date(oldest[0]["date"]) - checkpoint_at > datetime.timedelta(seconds=1):
            logger.warning(
                "The tenant's log now begins at %s, after the checkpoint %s: Auth0's log "
                "retention has passed; events of that span are missing for every user",
                oldest[0]["date"],
                checkpoint_at.isoformat(),
            )

    def newest_settled_log_id(self) -> str | None:
        """A starting checkpoint for the next pass: the newest event older than the look-back."""
        settled_before = datetime.datetime.now(datetime.timezone.utc) - self._lookback
        response = self._api.get(
            f"{self._base_url}/api/v2/logs",
            {"sort": "date:-1", "per_page": SCAN_PAGE_SIZE, "page": 0},
            endpoint="logs_search",
            scopes=SCAN_SCOPES,
        )
        settled = [e["log_id"] for e in payload(response) if ingested_at(e) <= settled_before]
        return max(settled) if settled else None

    def _next(self, response: t.Any, last_log_id: str) -> tuple[str, dict[str, t.Any]]:
        """Follow Auth0's `Link: <...>; rel="next"`, but only to the tenant's own host."""
        link = response.links.get("next", {}).get("url")
        ours = urlsplit(self._base_url)
        if link and urlsplit(link)[:2] == ours[:2]:  # same scheme and host: the token may go
            return link, {}
        return f"{self._base_url}/api/v2/logs", {"from": last_log_id, "take": SCAN_PAGE_SIZE}
