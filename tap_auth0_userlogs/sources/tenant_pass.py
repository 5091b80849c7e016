"""One run's pass over the tenant's log, as pages of events and the position after each.

A pass may begin with users the stored position does not cover: their history is read user by
user, up to the position the pass starts after (later events come from the pass itself). When
Auth0 refuses the start position (older than its retention), the same span is read through
date-window searches, and the pass goes on from a position near the run's start.
"""

from __future__ import annotations

import datetime
import logging
import typing as t
from dataclasses import dataclass

from tap_auth0_userlogs.events.dates import parse_date
from tap_auth0_userlogs.events.log_ids import is_after, log_id_at, log_id_order, log_id_time
from tap_auth0_userlogs.events.pages import DecodedEvent, LogEvent
from tap_auth0_userlogs.sources.tenant_log import LogPage, PositionRefused, TenantLog

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_auth0_userlogs.sources.user_log import UserCutoff, UserLogReader

# A pass whose first event comes this long after its start may have lost a span to retention.
RETENTION_SUSPECT_GAP = datetime.timedelta(hours=1)

logger = logging.getLogger("tap-auth0-userlogs.tenant_pass")


@dataclass(frozen=True)
class PassPage:
    """Events to emit, and where a later pass may start once they are out (None: not yet)."""

    events: list[LogEvent]
    position: str | None


def held_back(position: str, margin: datetime.timedelta) -> str:
    """`position`, moved `margin` earlier, for events Auth0 may file below served log_ids."""
    moment = log_id_time(position)
    if not margin or moment is None:
        return position
    earlier = log_id_at(moment - margin)
    return min(position, earlier, key=log_id_order)


def pass_pages(
    log: TenantLog,
    reader: UserLogReader,
    *,
    start: str,
    backfill: list[UserCutoff],
    resume_at: str,
    margin: datetime.timedelta,
    first: LogPage | None = None,
    resumed: bool = False,
) -> Iterator[PassPage]:
    """The backfill users' events up to `start`, then every event of the tenant after it.

    `resume_at` is where the pass continues when Auth0 refuses `start`; it must lie before
    anything a search made now could miss (the look-back before the run began). `resumed`:
    `start` is where earlier runs read up to, so the log held events there.
    """
    for user in backfill:
        seen: set[str] = set()
        for events in reader.pages(user):
            kept = [
                e for e in events if not is_after(e["log_id"], start) and e["log_id"] not in seen
            ]
            seen.update(e["log_id"] for e in kept)
            yield PassPage([DecodedEvent(e) for e in kept], None)
    try:
        for number, page in enumerate(log.pass_from(start, first)):
            if number == 0 and resumed:
                _warn_if_retention_passed(log, start, page.events[0])
            yield PassPage(page.events, held_back(page.position, margin))
    except PositionRefused as refused:
        since = log_id_time(start)
        logger.warning(
            "Auth0 refused to read its log from %s (%s): reading that span through search "
            "instead; events older than Auth0's log retention are gone",
            since.isoformat() if since else start,
            refused,
        )
        yield from _searched_then_passed(log, since, resume_at, margin)


def _warn_if_retention_passed(log: TenantLog, start: str, first: LogEvent) -> None:
    """Warn when Auth0 served the pass from its oldest event, after the start position.

    Given a position older than its retention, Auth0 may answer 400 (then the span is
    searched) or serve from the oldest event it keeps: the events between have expired. A
    first event well after the start is the sign; one request for the oldest event tells.
    Only for a start earlier runs read up to: a `start_date` before a tenant's first event
    leaves the same gap with nothing lost.
    """
    started_at = log_id_time(start)
    first_at = log_id_time(first.log_id)
    if started_at is None or first_at is None or first_at - started_at < RETENTION_SUSPECT_GAP:
        return
    oldest = log.oldest()
    # Had nothing expired, events from before the start would still be there.
    if oldest and parse_date(oldest["date"]) - started_at > datetime.timedelta(seconds=1):
        logger.warning(
            "The tenant's log now begins at %s, after %s where this pass starts: Auth0's log "
            "retention has passed; events of that span are missing for every user",
            oldest["date"],
            started_at.isoformat(),
        )


def _searched_then_passed(
    log: TenantLog,
    since: datetime.datetime | None,
    resume_at: str,
    margin: datetime.timedelta,
) -> Iterator[PassPage]:
    now = datetime.datetime.now(datetime.timezone.utc)
    floor = since or now - datetime.timedelta(days=31)  # longer than any plan's retention
    # Events the search returns that the pass from `resume_at` will return again.
    repeated: set[str] = set()
    for events in log.span(floor, now):
        repeated.update(e["log_id"] for e in events if is_after(e["log_id"], resume_at))
        yield PassPage([DecodedEvent(e) for e in events], None)
    yield PassPage([], resume_at)
    for page in log.pass_from(resume_at):
        fresh = [e for e in page.events if e.log_id not in repeated]
        yield PassPage(fresh, held_back(page.position, margin))
