"""A state that holds `log_checkpoint_spans` (a pass killed while several slices were out)
resumes by reading only the gaps between them, and a finished pass writes the released shape.

The state is written by the tap itself: a pass read by several slices at once, run as a real
process and killed mid-way with SIGKILL; the target keeps the last STATE it received. The
resume runs in this process, so the emulator's request log shows what it read.
"""

from __future__ import annotations

import signal

import pytest

from tests.emulator import Emulator
from tests.pool_support import (
    backlog_tenant,
    checkpoint_reads,
    is_made_position,
    log_checkpoint,
    order,
    pages_of,
    stored_spans,
)
from tests.reliability_support import KeyedTarget, run_tap_process
from tests.tap_support import run_sync, tap_config
from tests.test_state_compat import assert_in_the_released_shape

pytest_plugins = ["tests.reliability_support"]

# Four hours of a busy tenant's log: four slices at 50 requests a second and 50 ms.
TENANT = backlog_tenant(6000, hours=4, seed=188, users=40)
# Records the target takes in before the kill: half the pass, every slice under way (readers
# double each 0.2 s while the caller waits: at a third, only two had read often enough).
KILLED_AFTER = 3000


def within(log_id: str, after: str, upto: str | None) -> bool:
    return order(after) < order(log_id) and (upto is None or order(log_id) <= order(upto))


def gaps_of(state: dict) -> list[tuple[str, str | None]]:
    """What the state says is still to read: between its position and spans, and after."""
    spans = stored_spans(state)
    ends = [log_checkpoint(state), *(upto for _, upto in spans)]
    starts: list[str | None] = [after for after, _ in spans]
    return list(zip(ends, [*starts, None], strict=True))


@pytest.mark.parametrize("who", ["every user", "listed users"])
def test_a_state_with_spans_resumes_reading_only_the_gaps(who, tmp_path, transcript):
    with Emulator(TENANT, rate_limit=50, burst=50, latency_ms=50) as emulator:
        transcript.watch(emulator)
        emulator.start()
        users = emulator.tenant.user_ids() if who == "listed users" else None
        config = tap_config(emulator, user_ids=users, strategy="tenant_scan")
        target = KeyedTarget()
        killed = run_tap_process(
            tmp_path, config, stop_after_records=KILLED_AFTER, stop_signal=signal.SIGKILL
        )
        killed.record_into(transcript)
        target.receive(killed.messages)
        state = target.state
        assert killed.interrupted_by == "SIGKILL"
        assert len(stored_spans(state)) >= 2, "the kill left fewer than two slices beyond"

        gaps = gaps_of(state)
        events = emulator.tenant.all_events()
        in_gaps = [e for e in events if any(within(e["log_id"], a, u) for a, u in gaps)]
        emulator.reset_counters()
        resumed = run_sync(config, state=state)

        # Every event the state does not hold, and not one it does.
        delivered = resumed.log_ids()
        assert len(delivered) == len(set(delivered))
        assert set(delivered) == {e["log_id"] for e in in_gaps if e.get("user_id")}
        assert set(target.rows) | set(delivered) == emulator.tenant.expected_log_ids()
        # No checkpoint read starts inside a span the state holds.
        reads = checkpoint_reads(emulator)
        starts = [r.query["from"] for r in reads]
        for after, upto in stored_spans(state):
            assert not [s for s in starts if order(after) <= order(s) < order(upto)]
        # Each gap: its pages, and the one that crosses its end (the last: the empty page);
        # each new cut, one more.
        per_gap = [sum(1 for e in in_gaps if within(e["log_id"], a, u)) for a, u in gaps]
        cuts = sum(1 for s in set(starts) if is_made_position(s))
        assert len(reads) <= sum(pages_of(n) + 1 for n in per_gap) + cuts
        assert len(reads) < pages_of(len(events))
        # A finished pass stores no spans: the shape released versions read.
        final = resumed.final_state
        assert "log_checkpoint_spans" not in final["bookmarks"]["user_logs"]
        assert_in_the_released_shape(final, every_user=who == "every user")
        assert log_checkpoint(final) == events[-1]["log_id"]


def test_a_user_listed_after_a_killed_pass_gets_its_events_in_the_stored_spans(
    tmp_path, transcript
):
    # The killed pass read its spans for the users listed then; a user listed now is read one
    # by one up to the position, and the spans beyond it hold that user's events too.
    with Emulator(TENANT, rate_limit=50, burst=50, latency_ms=50) as emulator:
        transcript.watch(emulator)
        emulator.start()
        users = sorted(emulator.tenant.user_ids())
        earlier, added = users[:30], users[30:]
        target = KeyedTarget()
        killed = run_tap_process(
            tmp_path,
            tap_config(emulator, user_ids=earlier, strategy="tenant_scan"),
            stop_after_records=KILLED_AFTER,
            stop_signal=signal.SIGKILL,
        )
        killed.record_into(transcript)
        target.receive(killed.messages)
        spans = stored_spans(target.state)
        assert len(spans) >= 2, "the kill left fewer than two slices beyond"

        resumed = run_sync(
            tap_config(emulator, user_ids=users, strategy="tenant_scan"), state=target.state
        )
        target.receive(resumed.messages)

        missing = emulator.tenant.expected_log_ids(added) - set(target.rows)
        in_spans = [m for m in missing if any(within(m, a, u) for a, u in spans)]
        assert missing == set(), f"{len(missing)} events missing, {len(in_spans)} in the spans"
