"""Killing the tap at random points and resuming from the last STATE the target received.

The tap runs as a real process; its stdout is read line by line, as a target reads it. After a
random number of events it gets SIGTERM or SIGKILL, and the next run starts from the last STATE
that arrived before it ended, as Meltano would start it. The target is keyed on log_id.
"""

from __future__ import annotations

import random
import signal

import pytest

from tests.emulator import TenantSpec
from tests.reliability_support import (
    FIGURES,
    KeyedTarget,
    outside_lookback,
    run_tap_process,
)
from tests.tap_support import tap_config

pytest_plugins = ["tests.reliability_support"]

# Two days of events and a two-hour look-back: every resume re-reads some events, so the
# check that re-reads stay inside the window has something to check.
TENANT = TenantSpec(users=6, events_per_user=(20, 70), seed=23, history_days=2)
LOOKBACK_MINUTES = 120
LAGGED_TENANT = TenantSpec(users=8, events_per_user=(60, 90), seed=19)
KILLS_PER_SCENARIO = 3


def interrupted_syncs(emulator, folder, transcript, *, stop_signal, seed: int):
    """Syncs killed at random points, each resumed from the last STATE, then one to the end.

    Returns the keyed target, how many runs were really interrupted, and every record that
    was delivered again outside its user's look-back window.
    """
    rng = random.Random(seed)
    config = tap_config(emulator, page_size=10, lookback_minutes=LOOKBACK_MINUTES)
    expected = emulator.tenant.expected_log_ids()
    target = KeyedTarget()
    interrupted = 0
    misplaced = []
    for attempt in range(KILLS_PER_SCENARIO + 1):
        last = attempt == KILLS_PER_SCENARIO
        missing = max(len(expected - set(target.rows)), 1)
        run = run_tap_process(
            folder,
            config,
            state=target.state,
            stop_after_records=None if last else rng.randint(1, missing),
            stop_signal=stop_signal,
        )
        run.record_into(transcript)
        state_it_started_from = target.state
        again = target.receive(run.messages)
        misplaced += outside_lookback(again, state_it_started_from, LOOKBACK_MINUTES)
        interrupted += run.interrupted_by is not None
        if last:
            assert run.returncode == 0, run.stderr[-3000:]
            assert run.broken == []
    FIGURES.count_outcome(expected, set(target.rows))
    return target, interrupted, misplaced


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"]
)
def test_killed_and_resumed_syncs_lose_no_event(
    emulator_factory, tmp_path, transcript, stop_signal, seed
):
    emulator = transcript.watch(emulator_factory(TENANT, latency_ms=10))

    target, interrupted, _ = interrupted_syncs(
        emulator, tmp_path, transcript, stop_signal=stop_signal, seed=seed
    )

    assert interrupted >= 2
    assert set(target.rows) == emulator.tenant.expected_log_ids()


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"]
)
def test_events_delivered_twice_are_inside_the_lookback_window(
    emulator_factory, tmp_path, transcript, stop_signal
):
    emulator = transcript.watch(emulator_factory(TENANT, latency_ms=10))

    target, _, misplaced = interrupted_syncs(
        emulator, tmp_path, transcript, stop_signal=stop_signal, seed=7
    )

    assert max(target.deliveries.values()) > 1  # the resumes did re-read something
    assert misplaced == []


def test_kills_under_transient_faults_lose_no_event(emulator_factory, tmp_path, transcript):
    emulator = transcript.watch(emulator_factory(TENANT, latency_ms=10))
    emulator.faults.random(0.04, kinds=("500", "503", "reset", "truncated"), seed=5)

    target, interrupted, misplaced = interrupted_syncs(
        emulator, tmp_path, transcript, stop_signal=signal.SIGKILL, seed=11
    )

    FIGURES.count_faults(emulator)
    assert interrupted >= 2
    assert set(target.rows) == emulator.tenant.expected_log_ids()
    assert misplaced == []


def test_sigterm_exit_code_says_the_sync_did_not_finish(emulator_factory, tmp_path, transcript):
    emulator = transcript.watch(emulator_factory(TENANT, latency_ms=10))

    stopped = run_tap_process(tmp_path, tap_config(emulator, page_size=10), stop_after_records=40)

    stopped.record_into(transcript)
    assert stopped.interrupted_by == "SIGTERM"
    assert stopped.returncode != 0


def test_sigterm_while_the_target_lags_leaves_every_line_whole(
    emulator_factory, tmp_path, transcript
):
    # Far more output than a pipe holds, and a target that stops reading for a while. Whether
    # the handler's write lands inside the blocked one is a race: a few tries settle it.
    emulator = transcript.watch(emulator_factory(LAGGED_TENANT))
    runs = []
    for _ in range(3):
        runs.append(
            run_tap_process(
                tmp_path, tap_config(emulator, page_size=10), stop_after_records=1, stall_seconds=2
            )
        )
        if runs[-1].broken:
            break

    for run in runs:
        run.record_into(transcript)
        assert run.interrupted_by == "SIGTERM"
        assert run.broken == []
