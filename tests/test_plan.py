"""The planner's choices, on plain data: no HTTP."""

from __future__ import annotations

import dataclasses
import datetime

from tap_auth0_userlogs.events.log_ids import log_id_at, log_id_time
from tap_auth0_userlogs.plan import Inputs, choose, estimated_events, pass_start

NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.timezone.utc)


def every(seconds: float, count: int, end: datetime.datetime = NOW) -> tuple:
    """Dates of `count` events, one every `seconds`, the newest at `end`."""
    return tuple(end - datetime.timedelta(seconds=seconds * i) for i in range(count))


def inputs(**changes) -> Inputs:
    base = Inputs(
        strategy="auto",
        every_user=True,
        users=3000,
        users_listed=False,
        position=None,
        uncovered=(),
        start=None,
        now=NOW,
        newest_dates=every(1.5, 100),  # 40 events a minute
        oldest_retained=NOW - datetime.timedelta(hours=24),
    )
    return dataclasses.replace(base, **changes)


def test_a_busy_tenant_of_many_users_is_read_through_its_log():
    plan = choose(inputs())

    assert plan.tenant_pass
    # 24 h (and the second before) at 40 a minute: 57,601 events, 577 pages and the empty one.
    assert plan.pass_requests == 578
    assert plan.per_user_requests == 3000 + 30
    assert plan.pass_from == log_id_at(NOW - datetime.timedelta(hours=24, seconds=1))


def test_a_first_run_starts_at_start_date_when_given():
    start = NOW - datetime.timedelta(hours=2)

    plan = choose(inputs(start=start))

    assert plan.pass_from == log_id_at(start - datetime.timedelta(seconds=1))
    assert plan.pass_requests == 49 + 1  # 4,801 events


def test_a_stored_position_is_where_the_next_pass_starts():
    position = log_id_at(NOW - datetime.timedelta(minutes=75))

    plan = choose(inputs(position=position))

    assert plan.pass_from == position
    assert plan.pass_requests == 30 + 1  # 3,000 new events


def test_few_users_with_a_busy_log_are_read_one_by_one():
    plan = choose(inputs(every_user=False, users=40, users_listed=True))

    assert not plan.tenant_pass
    assert plan.per_user_requests == 40


def test_a_handful_of_users_is_never_surveyed():
    plan = choose(inputs(every_user=False, users=5, users_listed=True, newest_dates=()))

    assert not plan.tenant_pass
    assert plan.pass_requests is None


def test_a_quiet_tenant_fits_in_one_page():
    plan = choose(inputs(users=12, newest_dates=every(3600, 40)))

    assert plan.tenant_pass
    assert plan.pass_requests == 2


def test_the_strategy_overrides_the_estimate():
    assert not choose(inputs(strategy="per_user")).tenant_pass
    forced = choose(inputs(strategy="tenant_scan", users=2, every_user=False))
    assert forced.tenant_pass


def test_uncovered_users_are_read_first_and_counted():
    position = log_id_at(NOW - datetime.timedelta(minutes=10))

    plan = choose(
        inputs(
            every_user=False, users=500, users_listed=True, position=position, uncovered=("a|1",)
        )
    )

    assert plan.tenant_pass
    assert plan.backfill == ("a|1",)
    assert plan.pass_requests == 4 + 1 + 1


def test_a_burst_before_the_run_does_not_hide_a_quiet_span():
    position = log_id_at(NOW - datetime.timedelta(days=2))
    burst = every(0.001, 100)  # 100 events in a tenth of a second, just now
    first = every(600, 100, end=NOW - datetime.timedelta(days=1))  # one every 10 minutes

    events = estimated_events(
        inputs(position=position, newest_dates=burst, first_page_dates=first),
        pass_start(inputs(position=position))[1],
    )

    # About 350 (the two pages and a day at the slower rate), not 1,000 a second for two days.
    assert events < 400


def test_a_first_page_that_ends_the_log_is_the_whole_pass():
    plan = choose(inputs(first_page_dates=every(60, 30)))

    assert plan.pass_requests == 2


def test_a_first_pass_over_a_quiet_tenant_starts_at_its_oldest_event():
    dates = every(3600, 40)

    plan = choose(inputs(users=12, newest_dates=dates, oldest_retained=min(dates)))

    assert plan.pass_from == log_id_at(min(dates) - datetime.timedelta(seconds=1))


def test_with_no_position_a_pass_starts_at_the_oldest_bookmark_less_the_look_back():
    since = NOW - datetime.timedelta(hours=2)
    bookmarked = inputs(every_user=False, users=3000, users_listed=True, bookmarked_since=since)

    position, moment = pass_start(bookmarked)
    plan = choose(bookmarked)

    assert moment == since - datetime.timedelta(seconds=1)
    assert log_id_time(position) == moment.replace(microsecond=0)
    # Two hours at 40 a minute, not the 24 h a first pass would read.
    assert plan.tenant_pass
    assert (
        plan.pass_requests < choose(inputs(every_user=False, users_listed=True)).pass_requests / 6
    )


def test_a_user_count_at_the_cap_does_not_make_reading_users_look_cheap():
    # Auth0 counts at most 1,000 users; 300,000 events in a day take 3,000 requests whoever
    # reads them, so reading users one by one costs at least that too.
    plan = choose(inputs(users=1000, newest_dates=every(0.288, 100)))

    assert plan.tenant_pass
    assert plan.per_user_requests is not None
    assert plan.per_user_requests >= 3000 > 1010
