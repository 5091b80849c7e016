"""The few counts the plan needs, read from the tenant before a run starts.

`plan.py` chooses from plain values; this module gets them: the selected users (from the
settings or listed from the tenant), the tenant's user total, its newest events, where needed
its oldest, and the first page a pass would read, all with as few requests as the choice
allows (the user total beside the oldest events, unless `max_concurrency` is 1). Pages read
here are handed on, so that the run does not read them twice.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus

from tap_auth0_userlogs.auth0.endpoints import MAX_PAGE_SIZE
from tap_auth0_userlogs.auth0.errors import ClientError
from tap_auth0_userlogs.events.dates import parse_date, utc_now
from tap_auth0_userlogs.events.log_ids import log_id_at
from tap_auth0_userlogs.plan import Inputs, Plan, choose, cutoff, pass_start, worth_surveying
from tap_auth0_userlogs.sources.tenant_log import LogPage, PositionRefused, TenantLog
from tap_auth0_userlogs.sources.users import UserDiscovery

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_auth0_userlogs.auth0.session import TenantSession
    from tap_auth0_userlogs.events.coverage import Span
    from tap_auth0_userlogs.settings import Settings

logger = logging.getLogger("tap-auth0-userlogs.survey")


@dataclass(frozen=True)
class StoredProgress:
    """What earlier runs left in the state, as plain values."""

    # The stored pass position, when it covers this run's selection of users.
    position: str | None
    # The spans beyond that position a killed pass read already.
    spans: tuple[Span, ...]
    # user_id -> the `date` bookmark of each user that has one.
    bookmarks: Mapping[str, str]
    # user_id -> the pass position that user's events are in sync with.
    positions: Mapping[str, str]


@dataclass(frozen=True)
class Survey:
    """How the run reads, and what the survey read that the run can use."""

    plan: Plan
    # The selected users, one partition each; None for a pass over every user of the tenant.
    users: tuple[str, ...] | None
    # The pass's first page, when the survey read it to estimate the pass.
    first_pass_page: LogPage | None
    # Where the events of no user start, for `tenant_logs` (None: the stream is not read).
    no_user_start: str | None = None


class Surveyor:
    """Gathers the plan's inputs for one run, with as few requests as the choice allows."""

    def __init__(
        self,
        settings: Settings,
        session: TenantSession,
        stored: StoredProgress,
        tenant_log: TenantLog,
        *,
        no_user_events: bool = False,
        no_user_position: str | None = None,
    ) -> None:
        self._settings = settings
        self._session = session
        self._stored = stored
        self._log = tenant_log
        # `tenant_logs` is selected: the tenant's log is read for the events of no user.
        self._no_user_events = no_user_events
        self._no_user_position = no_user_position
        self._first_users_page: dict[str, t.Any] | None = None
        self._users_counted: Future[int | None] | None = None
        self._first_pass_page: LogPage | None = None

    def survey(self) -> Survey:
        """The plan, logged with its reason, and the users it reads."""
        settings = self._settings
        strategy = settings.strategy
        known = None if settings.every_user else len(self._listed_users)
        if worth_surveying(strategy, known) or (self._no_user_events and strategy == "auto"):
            plan = self._surveyed_plan(strategy)
        else:
            plan = choose(self._inputs(strategy, newest=(), oldest=None))
        how = "one pass over the tenant's log" if plan.tenant_pass else "user by user"
        logger.info("Reading %s: %s", how, plan.reason)
        every_user_pass = plan.tenant_pass and settings.every_user
        users = None if every_user_pass else tuple(self._listed_users)
        no_user_start = (
            self._no_user_start(plan) if plan.tenant_pass and self._no_user_events else None
        )
        return Survey(plan, users, self._first_pass_page, no_user_start)

    def no_user_pass(self, spans: tuple[Span, ...]) -> Survey:
        """The plan of a pass for the events of no user alone (`user_logs` reads users one by
        one, or is not selected), logged with its cost and the scope it needs."""
        log = self._log
        newest = log.newest()
        position = self._no_user_position
        oldest = None
        if position is None and self._settings.start_date is None:
            oldest_page = newest if len(newest) < MAX_PAGE_SIZE else log.oldest_page()
            first = min(oldest_page, key=lambda e: parse_date(e["date"]), default=None)
            oldest = parse_date(first["date"]) if first else None
        plan = choose(
            Inputs(
                strategy="tenant_scan",
                every_user=True,
                users=None,
                users_listed=True,
                position=position,
                uncovered=(),
                start=self._settings.start_date,
                now=utc_now(),
                newest_dates=tuple(parse_date(e["date"]) for e in newest),
                oldest_retained=oldest,
                spans=spans if position else (),
            )
        )
        logger.info(
            "Reading the tenant's log for the events of no user (stream tenant_logs): about "
            "%s requests, with the scope read:logs",
            plan.pass_requests,
        )
        assert plan.pass_from is not None  # a pass plan always has a start
        return Survey(plan, None, None, plan.pass_from)

    @cached_property
    def _listed_users(self) -> list[str]:
        """The selected users: configured, or listed from the tenant."""
        if self._settings.user_ids is not None:
            return list(self._settings.user_ids)
        if self._users_counted is not None:
            self._users_counted.result()  # its first page of users is the listing's too
        listing = self._discovery.discover(self._first_users_page)
        self._session.progress.users_found_by = listing.found_by
        return listing.user_ids

    @cached_property
    def _discovery(self) -> UserDiscovery:
        return UserDiscovery(
            self._session.api,
            self._session.base_url,
            user_query=self._settings.user_query,
            method=self._settings.user_discovery,
        )

    def _surveyed_plan(self, strategy: str) -> Plan:
        """The plan, after a look at the tenant: its newest events and, if needed, its oldest."""
        log = self._log
        first_dates: tuple[datetime.datetime, ...] | None = None
        try:
            newest = log.newest()
            if self._counts_users(strategy) and self._settings.max_concurrency > 1:
                # After the first answer, which alone tells the bucket's size.
                self._count_users_meanwhile()
            oldest_page: list[dict[str, t.Any]] = []
            if (
                not self._settings.start_date
                and not self._stored.position
                and not self._resume_since
            ):
                # A first pass starts at the oldest event: in the newest page, if it is short.
                oldest_page = newest if len(newest) < MAX_PAGE_SIZE else log.oldest_page()
            oldest = min(oldest_page, key=lambda e: parse_date(e["date"]), default=None)
            inputs = self._inputs(
                strategy,
                newest=tuple(parse_date(e["date"]) for e in newest),
                oldest=parse_date(oldest["date"]) if oldest else None,
            )
            if len(newest) >= MAX_PAGE_SIZE:
                # The pass's own first page: it tells the rate where the pass would begin.
                try:
                    self._first_pass_page = log.first_page(pass_start(inputs)[0])
                except PositionRefused as refused:
                    # Older than Auth0 keeps: what is read instead begins at the oldest event,
                    # so its rate there is the one to count with, not the newest events'.
                    oldest_page = oldest_page or log.oldest_page()
                    first_dates = tuple(parse_date(e["date"]) for e in oldest_page)
                    inputs = self._checked_near_now(inputs, refused)
        except ClientError as error:
            if strategy == "tenant_scan" or error.reply.status_code != HTTPStatus.FORBIDDEN:
                raise
            logger.warning("Reading users one by one: %s", error)
            return choose(self._inputs("per_user", newest=(), oldest=None))
        first = self._first_pass_page
        if first is not None:
            first_dates = tuple(parse_date(e.date) for e in first.events if e.date)
        if first_dates is not None:
            inputs = dataclasses.replace(inputs, first_page_dates=first_dates)
        return choose(inputs)

    def _no_user_start(self, plan: Plan) -> str:
        """Where the events of no user start: the stored position of `tenant_logs`; else
        where the pass starts, when it is a first run for the users too; else `start_date`,
        else the oldest event Auth0 keeps (one request)."""
        if self._no_user_position is not None:
            return self._no_user_position
        if plan.pass_from is not None and not plan.resumes:
            return plan.pass_from
        since = self._settings.start_date
        if since is None:
            oldest = self._log.oldest()
            since = parse_date(oldest["date"]) if oldest else utc_now()
        return log_id_at(since - datetime.timedelta(seconds=1))

    def _checked_near_now(self, inputs: Inputs, refused: PositionRefused) -> Inputs:
        """After a refused start, whether Auth0 reads its log in checkpoint mode at all: one
        more request, from the look-back before now, where a pass refused at its start
        would read on."""
        try:
            self._log.first_page(log_id_at(inputs.now - self._settings.lookback))
        except PositionRefused:
            if not self._settings.every_user:
                logger.warning(
                    "Auth0 refuses to read its log in checkpoint mode (%s): reading the %d "
                    "listed users one by one",
                    refused,
                    len(self._listed_users),
                )
            return dataclasses.replace(inputs, checkpoint_refused=True)
        return inputs

    def _inputs(
        self,
        strategy: str,
        *,
        newest: tuple[datetime.datetime, ...],
        oldest: datetime.datetime | None,
    ) -> Inputs:
        every_user = self._settings.every_user
        if self._counts_users(strategy):
            counted = self._users_counted
            users: int | None = self._user_count() if counted is None else counted.result()
            listed = False
        else:
            users, listed = len(self._listed_users), True
        position = self._stored.position
        uncovered: tuple[str, ...] = ()
        if position and not every_user and strategy != "per_user":
            positions = self._stored.positions
            uncovered = tuple(u for u in self._listed_users if positions.get(u) != position)
        return Inputs(
            strategy=strategy,
            every_user=every_user,
            users=users,
            users_listed=listed,
            position=position,
            uncovered=uncovered,
            start=self._settings.start_date,
            now=utc_now(),
            newest_dates=newest,
            oldest_retained=oldest,
            bookmarked_since=None if position else self._resume_since,
            spans=self._stored.spans,
            no_user_events=self._no_user_events,
        )

    @cached_property
    def _resume_since(self) -> datetime.datetime | None:
        """The oldest cutoff of the selected users, when each of them has a bookmark."""
        if self._settings.every_user or not self._listed_users:
            return None  # users the log names may have no bookmark yet
        marks = self._stored.bookmarks
        if not all(marks.get(user) for user in self._listed_users):
            return None
        settings = self._settings
        cutoffs = [
            cutoff(parse_date(marks[user]), settings.lookback, settings.start_date)
            for user in self._listed_users
        ]
        return min(c for c in cutoffs if c is not None)

    def _counts_users(self, strategy: str) -> bool:
        """Whether the plan weighs the tenant's user total (every user, a pass possible) rather
        than the users listed."""
        return strategy != "per_user" and self._settings.every_user

    def _count_users_meanwhile(self) -> None:
        """Ask for the tenant's user total beside the survey's look at its log: the two are
        independent, and each round trip the survey waits is one in which a full bucket
        refills for nothing."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="survey-users")
        self._users_counted = executor.submit(self._user_count)
        executor.shutdown(wait=False)

    def _user_count(self) -> int | None:
        """The tenant's users as user search counts them (1,000 means 1,000 or more)."""
        try:
            self._first_users_page = self._discovery.first_page()
        except ClientError as error:
            if error.reply.status_code != HTTPStatus.FORBIDDEN:
                raise
            return None  # no read:users: a pass names the users; reading one by one cannot
        return int(self._first_users_page.get("total") or 0)
