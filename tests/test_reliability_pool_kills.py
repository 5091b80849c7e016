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
"""

from __future__ import annotations

import copy
import signal

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
from tests.tap_support import tap_config

pytest_plugins = ["tests.reliability_support"]

# Four hours of a busy tenant's log, 40 users: a pass of 60 pages in four slices.
TENANT = backlog_tenant(6000, hours=4, seed=187, users=40)
BUCKET = {"rate_limit": 50, "burst": 50, "latency_ms": 50}


def covered_by(state: dict | None, log_id: str) -> bool:
    """Whether `state` says the event is out: at or before its position, or in a stored span."""
    if order(log_id) <= order(log_checkpoint(state)):
        return True
    return any(order(after) < order(log_id) <= order(upto) for after, upto in stored_spans(state))


# Records sent before each SIGKILL, drawn evenly over the pass (small integers would be drawn
# far more often, and kill before a second slice starts).
KILL_POINTS = st.sampled_from(range(1, 4500, 37))


@given(kills=st.lists(KILL_POINTS, min_size=1, max_size=3))
# Killed three times while several slices are out: spans beyond the position in STATE for sure.
@example(kills=[2000, 1200, 600])
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    # A failing example is reported as drawn: shrinking would rerun the tap for minutes.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_a_pool_killed_at_random_points_loses_nothing_and_resends_only_what_state_lacks(
    kills, tmp_path_factory, transcript
):
    folder = tmp_path_factory.mktemp("pool-kills")
    with Emulator(TENANT, **BUCKET) as emulator:
        transcript.watch(emulator)
        emulator.start()
        expected = emulator.tenant.expected_log_ids()
        newest = NewestDates(emulator.tenant.all_events())
        config = tap_config(emulator, user_ids=None, strategy="tenant_scan")
        target = KeyedTarget()
        spans_seen = 0
        for stop_after in kills:
            started_from = copy.deepcopy(target.state)
            run = run_tap_process(
                folder,
                config,
                state=started_from,
                stop_after_records=stop_after,
                stop_signal=signal.SIGKILL,
            )
            run.record_into(transcript)
            assert "Traceback" not in run.stderr
            again = target.receive(run.messages)
            states = states_of(run.messages)
            spans_seen += sum(1 for state in states if stored_spans(state))

            assert bookmarks_past_the_position(states, started_from, newest) == []
            resent_within = [r["log_id"] for r in again if covered_by(started_from, r["log_id"])]
            assert resent_within == [], "a resume sent again what its STATE said was out"
        killed_state = copy.deepcopy(target.state)
        event(f"a killed run stored spans beyond its position: {spans_seen > 0}")
        event(f"kills: {kills}")

        # Read user by user from the killed pass's state: the bookmarks must skip nothing.
        per_user = copy.deepcopy(target)
        users = sorted(emulator.tenant.user_ids())
        run = run_tap_process(
            folder, tap_config(emulator, user_ids=users, strategy="per_user"), state=killed_state
        )
        run.record_into(transcript)
        per_user.receive(run.messages)
        assert run.returncode == 0, run.stderr[-2000:]
        FIGURES.count_outcome(expected, set(per_user.rows))
        assert expected - set(per_user.rows) == set(), "a run user by user skipped events"

        # Or resume the pass: nothing lost, nothing the STATE holds sent again.
        run = run_tap_process(folder, config, state=killed_state)
        run.record_into(transcript)
        again = target.receive(run.messages)
        assert run.returncode == 0, run.stderr[-2000:]
        assert bookmarks_past_the_position(states_of(run.messages), killed_state, newest) == []
        assert [r["log_id"] for r in again if covered_by(killed_state, r["log_id"])] == []
        FIGURES.count_outcome(expected, set(target.rows))
        assert set(target.rows) == expected
        assert stored_spans(target.state) == []
        assert max(target.deliveries.values()) <= len(kills) + 1
