"""The late_log_id_seconds knob: an event indexed late whose log_id sorts below ones served."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.emulator.log_ids import format_log_id, ingestion_time
from tests.emulator_tests.api import read_checkpoints

LATE = 600


def margin(log_id: str, seconds: int) -> str:
    """A checkpoint ``seconds`` before ``log_id``, as a client with a look-back builds one."""
    return format_log_id(ingestion_time(log_id) - timedelta(seconds=seconds), 0)


def test_by_default_an_added_event_sorts_above_every_log_id_served(emulator):
    served = read_checkpoints(emulator)
    added = emulator.tenant.add_event(emulator.tenant.user_ids()[0])
    assert added["log_id"] > served[-1]
    assert read_checkpoints(emulator, **{"from": served[-1]}) == [added["log_id"]]


def test_with_the_knob_a_client_resuming_from_its_last_log_id_misses_the_late_event(
    emulator_factory,
):
    emulator = emulator_factory(None, late_log_id_seconds=LATE)
    served = read_checkpoints(emulator)
    late = emulator.tenant.add_event(emulator.tenant.user_ids()[0])
    assert late["log_id"] < served[-1]
    assert read_checkpoints(emulator, **{"from": served[-1]}) == []


def test_with_the_knob_a_client_resuming_a_margin_earlier_gets_the_late_event(emulator_factory):
    emulator = emulator_factory(None, late_log_id_seconds=LATE)
    served = read_checkpoints(emulator)
    late = emulator.tenant.add_event(emulator.tenant.user_ids()[0])
    assert late["log_id"] in read_checkpoints(emulator, **{"from": margin(served[-1], LATE)})


def test_late_log_ids_lie_at_most_the_knobs_seconds_before_their_due_time(emulator_factory):
    emulator = emulator_factory(None, late_log_id_seconds=LATE)
    newest = ingestion_time(emulator.tenant.all_events()[-1]["log_id"])
    added = emulator.tenant.add_events(emulator.tenant.user_ids()[1], 30)
    due = max(newest, datetime.now(timezone.utc))  # what an event indexed on time would get
    floor = newest - timedelta(seconds=LATE)
    assert all(floor <= ingestion_time(e["log_id"]) <= due for e in added)


def test_late_log_ids_stay_unique_and_the_log_stays_in_log_id_order(emulator_factory):
    emulator = emulator_factory(None, late_log_id_seconds=LATE)
    user_ids = emulator.tenant.user_ids()
    added = emulator.tenant.add_events_bulk({user_ids[0]: 40, user_ids[1]: 40, None: 20})
    served = read_checkpoints(emulator)
    assert len(set(added)) == 100
    assert served == sorted(served)
    assert len(served) == len(set(served)) == emulator.tenant.event_count
    assert set(added) <= set(served)


def test_the_knob_can_be_turned_on_while_serving(emulator):
    served = read_checkpoints(emulator)
    emulator.late_log_id_seconds = LATE
    late = emulator.tenant.add_event(emulator.tenant.user_ids()[0])
    assert emulator.behaviour.late_log_id_seconds == LATE
    assert late["log_id"] < served[-1]
