"""Counters and the request log: what a test reads as proof of the tap's behaviour."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from tests.emulator_tests.api import get, user_logs_path


def test_requests_are_counted_by_endpoint_and_status(emulator):
    user_id = emulator.tenant.user_ids()[0]
    get(emulator, user_logs_path(user_id))
    get(emulator, user_logs_path(user_id), per_page=0)
    get(emulator, "/api/v2/users")
    assert emulator.counters.requests() == 3
    assert emulator.counters.requests("user_logs") == 2
    assert emulator.counters.requests("user_logs", status=400) == 1
    assert emulator.counters.requests(status=200) == 2
    assert emulator.counters.by_endpoint() == {"user_logs": 2, "users": 1}


def test_request_log_records_the_request_but_not_the_token(emulator):
    user_id = emulator.tenant.user_ids()[0]
    get(emulator, user_logs_path(user_id), page=1, per_page=5)
    (record,) = emulator.request_log
    assert record.method == "GET"
    assert record.endpoint == "user_logs"
    assert record.user_id == user_id
    assert record.path == f"/api/v2/users/{user_id}/logs"
    assert "%7C" in record.raw_path
    assert record.query == {"page": "1", "per_page": "5"}
    assert record.status == 200
    assert record.finished >= record.started
    assert emulator.static_token not in repr(record.as_dict())


def test_bytes_served_adds_up_body_sizes(emulator):
    sizes = [len(get(emulator, "/api/v2/users").content) for _ in range(2)]
    assert emulator.counters.bytes_served == sum(sizes)


def test_latency_is_served_in_parallel(emulator_factory):
    emulator = emulator_factory(None, latency_ms=300)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: get(emulator, "/api/v2/users").status_code, range(10)))
    elapsed = time.monotonic() - started
    assert codes == [200] * 10
    assert 0.3 <= elapsed < 1.5
    assert emulator.counters.peak_concurrency == 10


def test_sequential_requests_never_overlap(emulator):
    for _ in range(5):
        get(emulator, "/api/v2/users")
    assert emulator.counters.peak_concurrency == 1


def test_jitter_varies_latency_around_its_mean(emulator_factory):
    emulator = emulator_factory(None, latency_ms=60, jitter_ms=50)
    for _ in range(8):
        get(emulator, "/api/v2/users")
    durations = [r.finished - r.started for r in emulator.request_log]
    assert min(durations) < 0.05 < 0.07 < max(durations)


def test_reset_counters_starts_from_zero(emulator):
    get(emulator, "/api/v2/users")
    emulator.reset_counters()
    assert emulator.counters.requests() == 0
    assert emulator.request_log == []
    assert emulator.counters.bytes_served == 0
    get(emulator, "/api/v2/users")
    assert emulator.counters.requests("users") == 1
