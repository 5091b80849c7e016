"""A pass read by several slices at once, killed at random points, then resumed.

Like test_reliability_pass.py, but over a tenant and a bucket where the pool reads several
slices at once (50 requests a second, 50 ms a round trip: four in flight), so a kill leaves
slices unfinished before others that are done. Each resume starts from the last STATE the
target received, as Meltano would. What must hold:

- nothing is lost, whether the killed pass is resumed by a pass or by a run read user by user
  (which trusts the bookmarks: a bookmark past an unfinished slice would skip its events);
- in every STATE, no user's bookmark is past the newest date of that user's events at or
  before the STATE's `log_checkpoint` (or the bookmark the run started from);
- a resume sends again only events beyond the `log_checkpoint` it started from and outside
  every stored `log_checkpoint_spans` span: at most what each slice in flight read after the
  last STATE.

With `tenant_logs` selected too, the same holds for the events of no user, against that
stream's own position and spans; a run read user by user reads them with a pass of its own.
"""

from __future__ import annotations

import copy
import signal

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from tests.emulator import Emulator
from tests.pool_support import (
    NewestDates,
    backlog_tenant,
    bookmarks_past_the_position,
    log_checkpoint,
    order,
    states_of,
    stored_spans,
)
from tests.reliability_support import FIGURES, KeyedTarget, run_tap_process
from tests.tap_support import catalog_of, tap_config

pytest_plugins = ["tests.reliability_support"]

# Four hours of a busy tenant's log, 40 users: a pass of 60 pages in four slices.
TENANT = backlog_tenant(6000, hours=4, seed=187, users=40)
BUCKET = {"rate_limit": 50, "burst": 50, "latency_ms": 50}


def stream_of(record: dict) -> str:
    return "user_logs" if record.get("user_id") else "tenant_logs"


def covered_by(state: dict | None, record: dict) -> bool:
    """Whether `state` says the event is out: at or before its stream's position, or in one of
    that stream's stored spans."""
    log_id, stream = record["log_id"], stream_of(record)
    if order(log_id) <= order(log_checkpoint(state, stream)):
        return True
    spans = stored_spans(state, stream)
    return any(order(after) < order(log_id) <= order(upto) for after, upto in spans)


def resent_within(again: list[dict], state: dict | None) -> list[str]:
    return [r["log_id"] for r in again if covered_by(state, r)]


# Records sent before each SIGKILL, drawn evenly over the pass (small integers would be drawn
# far more often, and kill before a second slice starts).
KILL_POINTS = st.sampled_from(range(1, 4500, 37))


@pytest.mark.parametrize("streams", [("user_logs",), ("user_logs", "tenant_logs")])
@given(kills=st.lists(KILL_POINTS, min_size=1, max_size=3))
# Killed three times while several slices are out: spans beyond the position in STATE for sure.
@example(kills=[2000, 1200, 600])
@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    database=None,
    # A failing example is reported as drawn: shrinking would rerun the tap for minutes.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_pool_killed_at_random_points_loses_nothing_and_resends_only_what_state_lacks(
    streams, kills, tmp_path_factory, transcript
):
    folder = tmp_path_factory.mktemp("pool-kills")
    with Emulator(TENANT, **BUCKET) as emulator:
        transcript.watch(emulator)
        emulator.start()
        every = emulator.tenant.all_events()
        expected = emulator.tenant.expected_log_ids()
        if "tenant_logs" in streams:
            expected |= {e["log_id"] for e in every if not e.get("user_id")}
        newest = NewestDates(every)
        config = tap_config(emulator, user_ids=None, strategy="tenant_scan")
        catalog = catalog_of(config, *streams)
        target = KeyedTarget(streams=streams)
        spans_seen = 0
        for stop_after in kills:
            started_from = copy.deepcopy(target.state)
            run = run_tap_process(
                folder,
                config,
                state=started_from,
                catalog=catalog,
                stop_after_records=stop_after,
                stop_signal=signal.SIGKILL,
            )
            run.record_into(transcript)
            assert "Traceback" not in run.stderr
            again = target.receive(run.messages)
            states = states_of(run.messages)
            spans_seen += sum(1 for state in states if stored_spans(state))

            assert bookmarks_past_the_position(states, started_from, newest) == []
            assert resent_within(again, started_from) == [], "a resume sent again what was out"
        killed_state = copy.deepcopy(target.state)
        event(f"a killed run stored spans beyond its position: {spans_seen > 0}")
        event(f"kills: {kills}")

        # Read user by user from the killed pass's state: the bookmarks must skip nothing.
        per_user = copy.deepcopy(target)
        users = sorted(emulator.tenant.user_ids())
        one_by_one = tap_config(emulator, user_ids=users, strategy="per_user")
        run = run_tap_process(folder, one_by_one, state=killed_state, catalog=catalog)
        run.record_into(transcript)
        per_user.receive(run.messages)
        assert run.returncode == 0, run.stderr[-2000:]
        FIGURES.count_outcome(expected, set(per_user.rows))
        assert expected - set(per_user.rows) == set(), "a run user by user skipped events"

        # Or resume the pass: nothing lost, nothing the STATE holds sent again.
        run = run_tap_process(folder, config, state=killed_state, catalog=catalog)
        run.record_into(transcript)
        again = target.receive(run.messages)
        assert run.returncode == 0, run.stderr[-2000:]
        assert bookmarks_past_the_position(states_of(run.messages), killed_state, newest) == []
        assert resent_within(again, killed_state) == []
        FIGURES.count_outcome(expected, set(target.rows))
        assert set(target.rows) == expected
        assert all(stored_spans(target.state, stream) == [] for stream in streams)
        assert max(target.deliveries.values()) <= len(kills) + 1
