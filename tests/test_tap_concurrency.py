"""Several users at once under one rate-limit budget, with the same output as one at a time.

These are about reading user by user, so they ask for it (`strategy: per_user`).
"""

from __future__ import annotations

import json

from tests.emulator import TenantSpec
from tests.tap_support import run_sync, tap_config


def records_and_bookmarks(result) -> tuple[list[str], dict]:
    return result.log_ids(), result.final_state


def test_output_is_the_same_whatever_the_concurrency(emulator_factory):
    emulator = emulator_factory(
        TenantSpec(users=12, events_per_user=(0, 250), heavy_users={3: 1400}, seed=31),
        latency_ms=20,
        jitter_ms=20,
    )
    sequential = run_sync(tap_config(emulator, strategy="per_user", max_concurrency=1))
    concurrent = run_sync(tap_config(emulator, strategy="per_user", max_concurrency=8))

    assert concurrent.log_ids() == sequential.log_ids()  # same records, same order
    # The same state, but for the log position, which stands for each run's start time.
    assert json.dumps(without_position(concurrent.final_state), sort_keys=True) == json.dumps(
        without_position(sequential.final_state), sort_keys=True
    )


def without_position(state: dict) -> dict:
    stream = state["bookmarks"]["user_logs"]
    partitions = [
        {k: v for k, v in p.items() if k != "log_checkpoint"} for p in stream["partitions"]
    ]
    return {**stream, "log_checkpoint": None, "partitions": partitions}


def test_users_are_fetched_in_parallel(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=16, events_per_user=3, seed=32), latency_ms=150)

    run_sync(tap_config(emulator, strategy="per_user", max_concurrency=8))

    assert emulator.counters.peak_concurrency >= 4


def test_one_at_a_time_when_max_concurrency_is_1(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=6, events_per_user=3, seed=33), latency_ms=30)

    run_sync(tap_config(emulator, strategy="per_user", max_concurrency=1))

    assert emulator.counters.peak_concurrency == 1


def test_max_requests_per_second_is_never_exceeded(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=30, events_per_user=2, seed=34), latency_ms=10)

    run_sync(
        tap_config(emulator, strategy="per_user", max_concurrency=8, max_requests_per_second=20)
    )

    starts = sorted(r.started for r in emulator.request_log if r.endpoint == "user_logs")
    assert len(starts) == 30
    # Paced one every 50 ms: no second holds more than 20 + 1 requests.
    for i, start in enumerate(starts):
        within_a_second = sum(1 for s in starts[i:] if s - start < 1.0)
        assert within_a_second <= 21
    assert starts[-1] - starts[0] >= 29 / 20 * 0.9


def test_a_failed_user_keeps_its_old_bookmark_while_others_advance(emulator_factory, fast_retries):
    emulator = emulator_factory(TenantSpec(users=6, events_per_user=20, seed=35), latency_ms=5)
    first = run_sync(tap_config(emulator, strategy="per_user", max_concurrency=4))
    users = emulator.tenant.user_ids()
    for user_id in users:
        emulator.tenant.add_event(user_id)
    emulator.faults.add("503", endpoint="user_logs", user_id=users[4], count=None)

    second = run_sync(
        tap_config(emulator, strategy="per_user", max_concurrency=4),
        state=first.final_state,
        allow_failure=True,
    )

    assert second.error is not None
    before = {
        p["context"]["user_id"]: p.get("replication_key_value")
        for p in first.final_state["bookmarks"]["user_logs"]["partitions"]
    }
    after = {
        p["context"]["user_id"]: p.get("replication_key_value")
        for p in second.final_state["bookmarks"]["user_logs"]["partitions"]
    }
    assert after[users[4]] == before[users[4]]
    assert after[users[5]] == before[users[5]]  # not reached: never emitted, never advanced


def test_the_first_requests_wait_for_the_tenants_rate_limit_headers(emulator_factory):
    # A Free tenant's bucket holds 2 requests. Before the first answer says so, the tap knows
    # nothing of it: four workers sending at once would take it all and draw 429s.
    emulator = emulator_factory(
        TenantSpec(users=8, events_per_user=3, seed=35), latency_ms=50, rate_limit=2, burst=2
    )

    result = run_sync(tap_config(emulator, strategy="per_user", max_concurrency=4))

    assert len(result.log_ids()) == 24
    assert emulator.counters.rate_limited == 0
