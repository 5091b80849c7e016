"""tenant_logs: the events of no user, read by the pass that reads user_logs or by its own.

Every event of the tenant lands once across the two streams: a user's in user_logs, one of no
user (a failed login of an unknown username, a client-credentials exchange) in tenant_logs.
"""

from __future__ import annotations

import logging

import pytest

from tap_auth0_userlogs.auth0.errors import TapUserError
from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.emulator import TenantSpec
from tests.tap_support import catalog_of, run_sync, tap_config

# A busy tenant: a tenth of its events are client-credentials exchanges, of no user.
BUSY = TenantSpec.busy(users=40, events_per_minute=6, history_hours=6, seed=91)


def log_ids(result, stream: str) -> list[str]:
    return [record["log_id"] for record in result.records(stream)]


def events(emulator) -> tuple[set[str], set[str]]:
    """The log_ids of every event of a user, and of every event of no user."""
    every = emulator.tenant.all_events()
    return (
        {e["log_id"] for e in every if e.get("user_id")},
        {e["log_id"] for e in every if not e.get("user_id")},
    )


@pytest.fixture
def busy(emulator_factory):
    return emulator_factory(BUSY)


def test_a_pass_serves_both_streams_each_event_once_at_no_extra_request(busy):
    config = tap_config(busy, user_ids=None, strategy="tenant_scan")
    with_user, no_user = events(busy)
    assert no_user  # the tenant has events of no user

    alone = run_sync(config, catalog=catalog_of(config, "user_logs"))
    requests_alone = busy.counters.requests()
    busy.reset_counters()
    both = run_sync(config, catalog=catalog_of(config, "user_logs", "tenant_logs"))

    assert sorted(log_ids(both, "user_logs")) == sorted(with_user)
    assert sorted(log_ids(both, "tenant_logs")) == sorted(no_user)
    assert not any(r.get("user_id") for r in both.records("tenant_logs"))
    assert sorted(log_ids(alone, "user_logs")) == sorted(with_user)
    assert log_ids(alone, "tenant_logs") == []
    # One more request at most: where the events of no user start, when it is not stored.
    assert busy.counters.requests() <= requests_alone + 1


def test_with_tenant_logs_selected_auto_reads_the_log_once_for_both(busy):
    config = tap_config(busy, strategy="auto")  # forty listed users

    result = run_sync(config, catalog=catalog_of(config, "user_logs", "tenant_logs"))

    with_user, no_user = events(busy)
    assert sorted(log_ids(result, "tenant_logs")) == sorted(no_user)
    assert sorted(log_ids(result, "user_logs")) == sorted(with_user)
    assert busy.counters.requests(endpoint="user_logs") == 0


def test_users_read_one_by_one_and_tenant_logs_read_through_the_log(busy, caplog):
    config = tap_config(busy, strategy="per_user")

    with caplog.at_level(logging.INFO):
        result = run_sync(config, catalog=catalog_of(config, "user_logs", "tenant_logs"))

    with_user, no_user = events(busy)
    assert sorted(log_ids(result, "tenant_logs")) == sorted(no_user)
    assert sorted(log_ids(result, "user_logs")) == sorted(with_user)
    assert busy.counters.requests(endpoint="user_logs") >= len(busy.tenant.user_ids())
    said = [r.getMessage() for r in caplog.records if "stream tenant_logs" in r.getMessage()]
    assert len(said) == 1
    assert "requests" in said[0]
    assert "read:logs" in said[0]


def test_tenant_logs_alone(busy):
    config = tap_config(busy, user_ids=None)

    result = run_sync(config, catalog=catalog_of(config, "tenant_logs"))

    _, no_user = events(busy)
    assert sorted(log_ids(result, "tenant_logs")) == sorted(no_user)
    assert log_ids(result, "user_logs") == []
    assert busy.counters.requests(endpoint="users") == 0  # no user is listed


def test_deselected_by_default_nothing_changes(busy):
    config = tap_config(busy, user_ids=None, strategy="tenant_scan")

    result = run_sync(config)

    assert result.records("tenant_logs") == []
    assert "tenant_logs" not in {m.get("stream") for m in result.messages}
    assert "tenant_logs" not in result.final_state["bookmarks"]


def test_a_next_run_reads_only_what_is_new_for_tenant_logs(busy):
    config = tap_config(busy, user_ids=None)
    catalog = catalog_of(config, "tenant_logs")
    first = run_sync(config, catalog=catalog)
    stored = first.final_state["bookmarks"]["tenant_logs"]
    assert stored["log_checkpoint"]
    new = [busy.tenant.add_event(None, type="seccft") for _ in range(3)]
    new.append(busy.tenant.add_event(None, type="fu"))
    busy.reset_counters()

    second = run_sync(config, state=first.final_state, catalog=catalog)

    assert sorted(log_ids(second, "tenant_logs")) == sorted(e["log_id"] for e in new)
    # The newest events to size the pass, its page and the empty page that ends it.
    assert busy.counters.requests(endpoint="logs") <= 3


def test_a_stream_newly_selected_reads_back_as_a_first_run_would(busy):
    config = tap_config(busy, user_ids=None, strategy="tenant_scan")
    first = run_sync(config, catalog=catalog_of(config, "user_logs"))
    busy.reset_counters()

    second = run_sync(
        config, state=first.final_state, catalog=catalog_of(config, "user_logs", "tenant_logs")
    )

    _, no_user = events(busy)
    assert sorted(log_ids(second, "tenant_logs")) == sorted(no_user)
    assert log_ids(second, "user_logs") == []  # nothing new, and nothing twice


@pytest.mark.parametrize(
    ("stored", "named"),
    [
        ({"log_checkpoint": 12}, "log_checkpoint"),
        ({"log_checkpoint_spans": [["a"]]}, "log_checkpoint_spans"),
        ({"partitions": []}, "partitions"),
    ],
)
def test_a_tenant_logs_state_this_tap_never_wrote_is_refused_in_one_line(stored, named):
    config = {"domain": "acme.us.auth0.com", "access_token": "x" * 20}
    state = {"bookmarks": {"tenant_logs": stored}}

    with pytest.raises(TapUserError) as refused:
        TapAuth0UserLogs(config=config, state=state, validate_config=True)

    assert named in str(refused.value)
    assert "\n" not in str(refused.value)
