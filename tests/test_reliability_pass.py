"""A pass over the tenant's log killed at random points, several times in a row, then resumed.

Each resume starts from the last STATE the target received, as Meltano would: nothing may be
lost, a resume may send again only what the target holds beyond the position of its last STATE
(one STATE interval), and every killed run that got a STATE out after a record makes progress.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.emulator import Emulator, TenantSpec
from tests.reliability_support import FIGURES, KeyedTarget, run_tap_process
from tests.tap_support import tap_config

pytest_plugins = ["tests.reliability_support"]

TENANT = TenantSpec(users=60, events_per_user=(10, 60), seed=71)


def position(state: dict | None) -> tuple[int, str]:
    value = ((state or {}).get("bookmarks", {}).get("user_logs") or {}).get("log_checkpoint", "")
    return (len(value), value)


def state_after_a_record(messages: list[dict]) -> bool:
    seen_record = False
    for message in messages:
        if message["type"] == "RECORD" and message["stream"] == "user_logs":
            seen_record = True
        elif message["type"] == "STATE" and seen_record:
            return True
    return False


def beyond(state: dict | None, log_ids: Iterable[str]) -> int:
    """How many of `log_ids` lie after the position `state` holds: what it does not cover."""
    start = position(state)
    return sum(1 for log_id in log_ids if (len(log_id), log_id) > start)


@given(kills=st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=3))
@settings(
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_pass_killed_at_random_points_loses_nothing_and_makes_progress(
    kills, tmp_path_factory, transcript
):
    folder = tmp_path_factory.mktemp("pass-kills")
    with Emulator(TENANT) as emulator:
        transcript.watch(emulator)
        config = tap_config(emulator, user_ids=None, strategy="tenant_scan")
        expected = emulator.tenant.expected_log_ids()
        target = KeyedTarget()
        for stop_after in [*kills, None]:
            run = run_tap_process(
                folder,
                config,
                state=target.state,
                stop_after_records=stop_after,
                stop_signal=signal.SIGKILL,
            )
            run.record_into(transcript)
            started_from = target.state
            may_repeat = beyond(started_from, target.rows)
            again = target.receive(run.messages)
            FIGURES.syncs += 1
            assert len(again) <= may_repeat
            if stop_after is not None and state_after_a_record(run.messages):
                # A STATE that followed records moved the position on: the next run starts later.
                assert position(target.state) > position(started_from)
        FIGURES.count_outcome(expected, set(target.rows))
        assert set(target.rows) == expected
