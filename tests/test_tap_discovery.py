"""Discovery: every user of the tenant, each once, proven complete past Auth0's caps."""

from __future__ import annotations

import datetime
import logging

import pytest

from tap_auth0_userlogs.auth0.errors import TapUserError
from tap_auth0_userlogs.auth0.session import TenantSession
from tap_auth0_userlogs.settings import Settings
from tap_auth0_userlogs.sources.users import UserDiscovery
from tests.emulator import TenantSpec
from tests.tap_support import bookmarks, run_sync, tap_config

UTC = datetime.timezone.utc


def discovered(emulator, **settings) -> list[str]:
    config = tap_config(emulator, user_ids=None, **settings)
    connection = TenantSession(Settings.from_config(config), logging.getLogger("test"))
    return (
        UserDiscovery(
            connection.api,
            connection.base_url,
            user_query=settings.get("user_query"),
            method=settings.get("user_discovery", "auto"),
        )
        .discover()
        .user_ids
    )


def free_plan(emulator_factory, spec: TenantSpec):
    """A Free-plan tenant (no export jobs) without its 2/s bucket, which test_ratelimit covers."""
    emulator = emulator_factory(spec, plan="free")
    emulator.set_rate_limit(None)
    return emulator


def summary_of(caplog) -> str:
    return next(r.getMessage() for r in caplog.records if "Sync finished" in r.getMessage())


def test_absent_user_ids_means_every_user_of_the_tenant(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=30, events_per_user=(0, 4), seed=12))

    result = run_sync(tap_config(emulator, user_ids=None, strategy="per_user"))

    assert set(bookmarks(result.final_state)) == set(emulator.tenant.user_ids())
    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()
    assert emulator.counters.requests(endpoint="users") == 1


def test_user_query_narrows_the_users(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=60, events_per_user=2, seed=13))
    admins = {u["user_id"] for u in emulator.tenant.users() if u["app_metadata"]["role"] == "admin"}
    assert admins

    result = run_sync(tap_config(emulator, user_ids=None, user_query='app_metadata.role:"admin"'))

    assert set(bookmarks(result.final_state)) == admins
    assert {r["user_id"] for r in result.records()} <= admins


@pytest.mark.parametrize(("method", "max_requests"), [("search", 65), ("export", 5)])
def test_5000_users_are_discovered_each_exactly_once(emulator_factory, method, max_requests):
    emulator = emulator_factory(TenantSpec(users=5000, events_per_user=0, seed=14))

    found = discovered(emulator, user_discovery=method)

    assert len(found) == 5000
    assert set(found) == set(emulator.tenant.user_ids())
    assert emulator.counters.requests(status=400) == 0
    assert emulator.counters.requests() <= max_requests


@pytest.mark.parametrize("capped", [True, False], ids=["total-capped", "true-total"])
def test_a_search_past_1000_users_finds_all_whether_or_not_total_is_capped(
    emulator_factory, capped
):
    emulator = emulator_factory(
        TenantSpec(users=2500, events_per_user=0, seed=17), cap_user_totals=capped
    )

    found = discovered(emulator, user_discovery="search")

    assert sorted(found) == sorted(emulator.tenant.user_ids())
    assert emulator.counters.requests(status=400) == 0
    # 2,500 users in four created_at windows of about 625: 7 pages each, and 3 to split.
    assert emulator.counters.requests(endpoint="users") <= 35


def test_a_total_at_the_cap_is_read_as_1000_or_more(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1000, events_per_user=0, seed=18))
    emulator.tenant.add_user()  # the 1,001st: a total of 1,000 must not end the listing

    assert sorted(discovered(emulator, user_discovery="search")) == sorted(
        emulator.tenant.user_ids()
    )


def test_auto_exports_a_tenant_whose_total_is_at_the_cap(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1500, events_per_user=0, seed=15))

    assert sorted(discovered(emulator)) == sorted(emulator.tenant.user_ids())
    assert emulator.counters.requests(endpoint="jobs") >= 2


def test_a_user_query_past_1000_matches_is_searched_in_windows(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1500, events_per_user=0, seed=15))

    found = discovered(emulator, user_query="logins_count:[0 TO *]")

    assert sorted(found) == sorted(emulator.tenant.user_ids())
    assert emulator.counters.requests(endpoint="jobs") == 0


@pytest.mark.parametrize("method", ["auto", "export"])
def test_a_plan_without_export_jobs_falls_back_to_search_with_one_info_line(
    emulator_factory, caplog, method
):
    emulator = free_plan(emulator_factory, TenantSpec(users=1500, events_per_user=0, seed=19))
    caplog.set_level(logging.INFO)

    found = discovered(emulator, user_discovery=method)

    assert sorted(found) == sorted(emulator.tenant.user_ids())
    fallback = [r for r in caplog.records if "instead" in r.getMessage()]
    assert len(fallback) == 1
    assert fallback[0].levelno == logging.INFO
    assert "plan does not include" in fallback[0].getMessage()
    assert "scope" not in fallback[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_missing_read_users_scope_is_still_named_as_a_scope(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=5, events_per_user=0))
    token = emulator.issue_token(scopes=["read:logs"])

    with pytest.raises(TapUserError, match=r"needs the scope read:users"):
        discovered(emulator, access_token=token)


def test_1000_users_created_in_one_second_end_the_run_with_one_line(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=0))
    moment = datetime.datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    for _ in range(1000):
        emulator.tenant.add_user(created_at=moment)

    with pytest.raises(TapUserError, match=r"within the second 2026-03-01T12:00:00.*'export'"):
        discovered(emulator, user_discovery="search")


def test_window_bounds_are_whole_seconds(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=1200, events_per_user=0, seed=20))

    discovered(emulator, user_discovery="search")

    queries = [
        r.query["q"] for r in emulator.request_log if r.endpoint == "users" and "q" in r.query
    ]
    assert queries
    assert not [q for q in queries if "." in q]


def test_the_summary_says_how_many_users_were_found_and_how(emulator_factory, caplog):
    emulator = free_plan(emulator_factory, TenantSpec(users=1100, events_per_user=0, seed=21))
    caplog.set_level(logging.INFO)

    run_sync(tap_config(emulator, user_ids=None, strategy="per_user"))

    summary = summary_of(caplog)
    assert "1100/1100 users" in summary
    assert "users listed by user search (2 created_at windows)" in summary


def test_users_appearing_and_vanishing_between_runs(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=5, events_per_user=3, seed=16))
    first = run_sync(tap_config(emulator, user_ids=None))
    gone = emulator.tenant.user_ids()[0]
    emulator.tenant.delete_user(gone)
    newcomer = emulator.tenant.add_user()["user_id"]
    emulator.tenant.add_event(newcomer)

    second = run_sync(tap_config(emulator, user_ids=None), state=first.final_state)

    marks = bookmarks(second.final_state)
    assert marks[gone] == bookmarks(first.final_state)[gone]  # kept, untouched
    assert marks[newcomer]
    assert newcomer in {r["user_id"] for r in second.records()}


def test_a_user_query_matching_nobody_is_an_empty_successful_run(emulator_factory, caplog):
    emulator = emulator_factory(TenantSpec(users=3, events_per_user=2, seed=22))
    caplog.set_level(logging.INFO)

    result = run_sync(tap_config(emulator, user_ids=None, user_query='email:"nobody@x.test"'))

    assert result.records() == []
    said = [r.getMessage() for r in caplog.records if "nothing to extract" in r.getMessage()]
    assert said == ["No user matches the user_query 'email:\"nobody@x.test\"': nothing to extract"]
    assert emulator.counters.requests(endpoint="user_logs") == 0
