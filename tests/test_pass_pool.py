"""A pass read by a pool of readers, end to end: as many requests in flight as the bucket and the
round trip pay for, every event once, and no request more than the slices cost.

In-process syncs over real HTTP to the emulator; its counters say how many requests were in
flight at once and which were sent. Nothing here measures time.
"""

from __future__ import annotations

import dataclasses

from tap_auth0_userlogs.sources.slices import MIN_PAGES
from tests.emulator import TenantSpec
from tests.pool_support import (
    backlog_tenant,
    checkpoint_reads,
    log_checkpoint,
    pages_of,
    search_reads,
    slice_starts,
    stored_spans,
)
from tests.tap_support import run_sync, tap_config

# Six hours of a busy tenant's log: enough pages for several slices.
BUSY = backlog_tenant(6000, hours=6, seed=181)


def every_user_pass(emulator, **settings) -> dict:
    return tap_config(emulator, user_ids=None, strategy="tenant_scan", **settings)


def assert_each_event_once(result, expected: set[str]) -> None:
    delivered = result.log_ids()
    assert len(delivered) == len(set(delivered)), "an event was sent twice"
    assert set(delivered) == expected


def test_a_long_pass_starts_its_helpers_with_the_page_after_the_surveys(emulator_factory):
    # The survey read the pass's first page and timed a round trip of 150 ms: the network's.
    # Helpers join as soon as the caller reads on, not a page later while a full bucket wastes
    # its refill. (The round trip is long beside a thread's start, so the order does not
    # depend on the machine's speed.)
    emulator = emulator_factory(BUSY, rate_limit=50, burst=50, latency_ms=150)

    run_sync(every_user_pass(emulator))

    reads = sorted(checkpoint_reads(emulator), key=lambda r: r.started)
    surveyed, after = reads[0], reads[1:]
    assert all(r.started >= surveyed.finished for r in after)
    batch = [r for r in after if r.started < after[0].finished]
    assert len(batch) > 1


def test_the_survey_counts_the_users_beside_its_look_at_the_oldest_events(emulator_factory):
    # The two are independent: once the first answer told the bucket's size, they go together,
    # a round trip less before the pass starts.
    emulator = emulator_factory(BUSY, rate_limit=50, burst=50, latency_ms=150)

    run_sync(every_user_pass(emulator))

    searched = {r.query.get("sort"): r for r in search_reads(emulator)}
    newest, oldest = searched["date:-1"], searched["date:1"]
    (users,) = [r for r in emulator.request_log if r.endpoint == "users"]
    assert newest.finished <= users.started < oldest.finished
    assert oldest.started < users.finished


def test_a_busy_first_pass_keeps_several_requests_in_flight(emulator_factory):
    emulator = emulator_factory(BUSY, rate_limit=50, burst=50, latency_ms=50)
    tenant_events = emulator.tenant.event_count

    result = run_sync(every_user_pass(emulator))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert emulator.counters.peak_concurrency > 1
    assert emulator.counters.rate_limited == 0
    slices = len(slice_starts(emulator))
    assert slices > 1
    # Each slice but the last ends in the page that crosses its end; the last in an empty page.
    pages = pages_of(tenant_events)
    assert len(checkpoint_reads(emulator)) <= pages + 1 + (slices - 1)
    assert slices - 1 <= pages // MIN_PAGES  # a cut costs a request: each is worth ten
    # The survey: the newest events, the oldest (where a first pass starts), the user total.
    assert len(search_reads(emulator)) == 2
    assert emulator.counters.requests(endpoint="users") == 1
    # A finished pass leaves no spans beyond its position, and a position past every event.
    assert stored_spans(result.final_state) == []
    assert log_checkpoint(result.final_state) == emulator.tenant.all_events()[-1]["log_id"]


def test_max_concurrency_1_reads_one_request_at_a_time(emulator_factory):
    emulator = emulator_factory(
        backlog_tenant(3000, hours=3, seed=185), rate_limit=50, burst=50, latency_ms=50
    )

    result = run_sync(every_user_pass(emulator, max_concurrency=1))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert emulator.counters.peak_concurrency == 1


def test_a_pass_never_has_more_requests_in_flight_than_a_bucket_of_two_holds(emulator_factory):
    # A Free tenant's bucket holds two. Refilled at 20 a second (not Free's 2, which would
    # make this pass take half a minute), 100 ms a round trip would pay for three in flight.
    emulator = emulator_factory(
        backlog_tenant(4200, hours=0.5, seed=182), rate_limit=20, burst=2, latency_ms=100
    )

    result = run_sync(every_user_pass(emulator))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert len(slice_starts(emulator)) > 1  # work for more than one reader
    assert emulator.counters.peak_concurrency <= 2
    assert emulator.counters.rate_limited == 0


def test_users_on_the_free_plan_never_have_more_than_two_requests_in_flight(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=12, events_per_user=(1, 5), seed=184), plan="free", latency_ms=600
    )

    result = run_sync(tap_config(emulator, strategy="per_user"))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    # 600 ms a round trip at 2 a second would pay for three in flight; the bucket holds two.
    assert emulator.counters.peak_concurrency <= 2
    assert emulator.counters.rate_limited == 0


def test_a_quiet_next_run_keeps_one_reader_and_costs_its_new_pages(emulator_factory):
    emulator = emulator_factory(BUSY, rate_limit=50, burst=50, latency_ms=50)
    first = run_sync(every_user_pass(emulator))
    users = emulator.tenant.user_ids()
    new = {emulator.tenant.add_event(users[n % len(users)])["log_id"] for n in range(140)}
    emulator.reset_counters()

    second = run_sync(every_user_pass(emulator), state=first.final_state)

    assert_each_event_once(second, new)
    assert emulator.counters.peak_concurrency == 1
    # What a next run cost before the pool: the newest events and the user total (the
    # survey), the new events' pages (the first of them read by the survey), the empty page.
    assert len(search_reads(emulator)) == 1
    assert emulator.counters.requests(endpoint="users") == 1
    assert len(checkpoint_reads(emulator)) == pages_of(len(new)) + 1
    assert emulator.counters.requests() == 1 + 1 + pages_of(len(new)) + 1


def test_users_read_one_by_one_keep_more_than_four_requests_in_flight(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=80, events_per_user=(1, 6), seed=183),
        rate_limit=100,
        burst=100,
        latency_ms=100,
    )

    result = run_sync(tap_config(emulator, strategy="per_user"))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert emulator.counters.peak_concurrency > 4
    assert emulator.counters.requests(endpoint="user_logs") == 80
    assert emulator.counters.rate_limited == 0


def test_max_concurrency_bounds_a_pass_and_users_read_one_by_one(emulator_factory):
    # 100 a second at 50 ms pays for six in flight; the user allows two.
    bucket = {"rate_limit": 100, "burst": 100, "latency_ms": 50}
    emulator = emulator_factory(backlog_tenant(6000, hours=6, seed=189, users=30), **bucket)

    result = run_sync(every_user_pass(emulator, max_concurrency=2))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert emulator.counters.peak_concurrency == 2
    emulator.reset_counters()

    result = run_sync(tap_config(emulator, strategy="per_user", max_concurrency=2))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert emulator.counters.peak_concurrency == 2


def test_a_log_busier_than_its_start_is_still_read_by_several_readers(emulator_factory):
    # Three weeks of a few users' events, then six busy hours: the survey sees a quiet start
    # (its first page spans days) and a busy end. Slices sized from the quiet start alone
    # would never be cut, and one reader would read the busy hours a round trip at a time.
    quiet_then_busy = dataclasses.replace(
        backlog_tenant(6000, hours=6, seed=190), users=20, events_per_user=5, history_days=20
    )
    emulator = emulator_factory(quiet_then_busy, rate_limit=50, burst=50, latency_ms=50)

    result = run_sync(every_user_pass(emulator))

    assert_each_event_once(result, emulator.tenant.expected_log_ids())
    assert len(slice_starts(emulator)) > 1
    assert emulator.counters.peak_concurrency > 1
