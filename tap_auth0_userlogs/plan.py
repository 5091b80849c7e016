"""What a run reads, decided from settings, state and a few counts: no HTTP here.

Two ways to read: per user (`/api/v2/users/{id}/logs`, at least one request per user) or one
pass over the tenant's log (`/api/v2/logs` checkpoint mode, one request per 100 events,
whoever they belong to). `auto` estimates both and takes the cheaper; `per_user` and
`tenant_scan` force one. A pass starts from the position the last run stored when it covers
every selected user; else, when every selected user has a bookmark (state written user by
user, by this release or an earlier one), from the oldest bookmark less the look-back; else
from `start_date` (or the oldest event Auth0 keeps). Selected users the stored position does
not cover are first read one by one, up to where the pass begins. Where Auth0 refuses
checkpoint reads of its log altogether, listed users are read one by one, and a pass over
every user searches the tenant's log instead.
"""

from __future__ import annotations

import datetime
import math
import typing as t
from dataclasses import dataclass

from tap_auth0_userlogs.auth0.endpoints import MAX_PAGE_SIZE
from tap_auth0_userlogs.events.log_ids import log_id_at, log_id_time

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.events.coverage import Span

# Estimating a pass costs a request (the newest events). Below this many selected users that
# request alone would exceed a tenth of reading them one by one, so `auto` does not ask.
SURVEY_MIN_USERS = 10


@dataclass(frozen=True)
class Inputs:
    """Everything the choice depends on."""

    strategy: str  # auto | per_user | tenant_scan
    every_user: bool  # no user_ids and no user_query: the users are those the log names
    users: int | None  # selected users (None: unknown without a listing)
    users_listed: bool  # whether `users` came from a listing already made (no more to pay)
    position: str | None  # the stored pass position, if it covers the selection
    uncovered: tuple[str, ...]  # selected users the stored position does not cover
    start: datetime.datetime | None  # start_date
    now: datetime.datetime
    newest_dates: tuple[datetime.datetime, ...]  # dates of the newest events (<= 100)
    oldest_retained: datetime.datetime | None  # the oldest event Auth0 keeps, if looked up
    # Dates of the first page a pass would read (None: not looked at, or refused).
    first_page_dates: tuple[datetime.datetime, ...] | None = None
    # With no position, the oldest per-user cutoff (bookmark less the look-back) when every
    # selected user has a bookmark: what reading them one by one would read back to.
    bookmarked_since: datetime.datetime | None = None
    # Spans beyond the position that a killed pass read already.
    spans: tuple[Span, ...] = ()
    # Auth0 answered 400 to checkpoint reads from the pass's start and from near now.
    checkpoint_refused: bool = False
    # `tenant_logs` is selected: the tenant's log is read for the events of no user anyway.
    no_user_events: bool = False


@dataclass(frozen=True)
class Plan:
    """A run's way of reading, with the estimates behind it."""

    tenant_pass: bool
    pass_from: str | None = None  # the position the pass starts after
    backfill: tuple[str, ...] = ()  # users read one by one before the pass
    # The pass starts where earlier runs read up to, so the log held events there.
    resumes: bool = False
    # Spans beyond `pass_from` that are out already, not to be read again.
    pass_beyond: tuple[Span, ...] = ()
    # The log's estimated events a second over the pass's span (None: not estimated).
    events_per_second: float | None = None
    # Auth0 refuses checkpoint reads: the pass searches the log instead.
    search_only: bool = False
    per_user_requests: int | None = None
    pass_requests: int | None = None
    reason: str = ""


def cutoff(
    bookmark: datetime.datetime | None,
    lookback: datetime.timedelta,
    start: datetime.datetime | None,
) -> datetime.datetime | None:
    """The oldest date to read for a user: its bookmark less the look-back, never before
    `start` (start_date); without a bookmark, `start` (None: every event Auth0 keeps)."""
    if bookmark is None:
        return start
    since = bookmark - lookback
    return max(since, start) if start else since


def event_rate(newest: tuple[datetime.datetime, ...]) -> float | None:
    """Events per second over the newest events; None when they span no time."""
    if len(newest) < 2:
        return None
    span = (max(newest) - min(newest)).total_seconds()
    return (len(newest) - 1) / span if span > 0 else None


def pass_start(inputs: Inputs) -> tuple[str, datetime.datetime]:
    """The position a pass starts after, and the time it stands for."""
    if inputs.position is not None:
        moment = log_id_time(inputs.position) or inputs.now
        return inputs.position, moment
    moment = inputs.bookmarked_since or inputs.start or inputs.oldest_retained or inputs.now
    # One second earlier: the oldest event is read too, whatever its log_id's digits.
    moment = min(moment, inputs.now) - datetime.timedelta(seconds=1)
    return log_id_at(moment), moment


def estimated_events(inputs: Inputs, since: datetime.datetime) -> float:
    """Events a pass from `since` would read, from its first page and the newest one.

    The rate at both ends, not the newest page's alone: a burst of events just before the
    run says little about the hours since the last one.
    """
    newest, first = inputs.newest_dates, inputs.first_page_dates
    if len(newest) < MAX_PAGE_SIZE:
        return float(len(newest))  # the whole log fits in one page
    if first is not None and len(first) < MAX_PAGE_SIZE:
        return float(len(first))  # the pass ends within its first page
    end_rate = event_rate(newest) or 0.0
    if not first:
        return end_rate * max((inputs.now - since).total_seconds(), 0.0)
    gap = (min(newest) - max(first)).total_seconds()
    if gap <= 0:
        return 2.0 * MAX_PAGE_SIZE  # the first page reaches the newest
    start_rate = event_rate(first) or end_rate
    return 2.0 * MAX_PAGE_SIZE + min(start_rate, end_rate) * gap


def estimated_pass_requests(inputs: Inputs, since: datetime.datetime) -> int:
    """Pages of the events since `since`, the empty page that ends the pass, and backfill."""
    pages = math.ceil(estimated_events(inputs, since) / MAX_PAGE_SIZE)
    return pages + 1 + len(inputs.uncovered)


def estimated_per_user_requests(inputs: Inputs, since: datetime.datetime) -> int:
    """At least one request per selected user, and the listing when it is still to make.

    For every user of the tenant, also at least one request per 100 of their events since
    `since`: a count of users at Auth0's cap (1,000 or more) says little, their events more.
    """
    users = inputs.users or 0
    listing = 0 if inputs.users_listed else math.ceil(users / MAX_PAGE_SIZE)
    pages = math.ceil(estimated_events(inputs, since) / MAX_PAGE_SIZE) if inputs.every_user else 0
    return max(users, pages, 1) + listing


def worth_surveying(strategy: str, users: int | None) -> bool:
    """Whether to look at the tenant's log before choosing (`users`: selected, if known)."""
    if strategy == "tenant_scan":
        return True
    return strategy == "auto" and (users is None or users >= SURVEY_MIN_USERS)


def choose(inputs: Inputs) -> Plan:
    """The cheaper way, unless the strategy names one."""
    if inputs.strategy == "per_user":
        return Plan(tenant_pass=False, reason="strategy 'per_user'")
    if inputs.checkpoint_refused and not inputs.every_user:
        return Plan(tenant_pass=False, reason="Auth0 refuses to read its log in checkpoint mode")
    if (
        inputs.strategy == "auto"
        and not inputs.no_user_events
        and not worth_surveying("auto", inputs.users)
    ):
        return Plan(tenant_pass=False, reason=f"{inputs.users} users: one by one is cheapest")
    position, since = pass_start(inputs)
    pass_cost = estimated_pass_requests(inputs, since)
    per_user_cost = estimated_per_user_requests(inputs, since)
    if inputs.no_user_events:
        # The events of no user are read through the tenant's log either way.
        per_user_cost += pass_cost
    if inputs.strategy == "tenant_scan" or pass_cost < per_user_cost:
        reason = (
            "strategy 'tenant_scan'"
            if inputs.strategy == "tenant_scan"
            else f"about {pass_cost} requests through the tenant's log against at least "
            f"{per_user_cost} reading users one by one"
            + (" and the tenant's log for tenant_logs" if inputs.no_user_events else "")
        )
        span = (inputs.now - since).total_seconds()
        return Plan(
            tenant_pass=True,
            pass_from=position,
            backfill=inputs.uncovered,
            resumes=inputs.position is not None or inputs.bookmarked_since is not None,
            # Spans a killed pass read for other users: users it did not cover need them read.
            pass_beyond=inputs.spans if inputs.position and not inputs.uncovered else (),
            events_per_second=estimated_events(inputs, since) / span if span > 0 else None,
            search_only=inputs.checkpoint_refused,
            reason=reason,
            per_user_requests=per_user_cost,
            pass_requests=pass_cost,
        )
    reason = (
        f"at least {per_user_cost} requests reading users one by one against about "
        f"{pass_cost} through the tenant's log"
    )
    return Plan(
        tenant_pass=False,
        reason=reason,
        per_user_requests=per_user_cost,
        pass_requests=pass_cost,
    )
