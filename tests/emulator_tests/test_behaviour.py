"""Knobs for what Auth0 leaves undocumented: defaults, validation, changes while serving."""

from __future__ import annotations

import pytest

from tests.emulator import Emulator
from tests.emulator.behaviour import Behaviour
from tests.emulator_tests.api import get, user_logs_path


def test_defaults_are_the_documented_or_likeliest_readings():
    assert Behaviour() == Behaviour(
        cap_user_totals=True,
        ratelimit_reset="next_token",
        retry_after=False,
        deleted_user_logs="empty",
        expired_checkpoint="400",
        late_log_id_seconds=0,
        refuse_checkpoints=False,
        refuse_checkpoints_from=None,
    )


@pytest.mark.parametrize(
    "knob",
    [
        {"ratelimit_reset": "whenever"},
        {"deleted_user_logs": "410"},
        {"expired_checkpoint": "skip"},
        {"retry_after": "yes"},
        {"late_log_id_seconds": -1},
        {"late_log_id_seconds": "5"},
        {"refuse_checkpoints": "yes"},
    ],
)
def test_unknown_knob_values_are_refused(knob):
    with pytest.raises(ValueError, match=next(iter(knob))):
        Emulator(None, **knob)


def test_knobs_can_change_while_serving(emulator):
    user_id = emulator.tenant.user_ids()[0]
    emulator.tenant.delete_user(user_id)
    assert get(emulator, user_logs_path(user_id)).status_code == 200
    emulator.set_behaviour(deleted_user_logs="404")
    assert get(emulator, user_logs_path(user_id)).status_code == 404
    assert emulator.behaviour.deleted_user_logs == "404"


def test_changing_a_knob_to_an_unknown_value_keeps_the_old_one(emulator):
    with pytest.raises(ValueError, match="expired_checkpoint"):
        emulator.set_behaviour(expired_checkpoint="maybe")
    assert emulator.behaviour.expired_checkpoint == "400"


def test_each_knob_is_an_attribute_that_changes_the_behaviour(emulator):
    emulator.retry_after = True
    emulator.expired_checkpoint = "oldest"
    assert (emulator.retry_after, emulator.expired_checkpoint) == (True, "oldest")
    assert emulator.behaviour == Behaviour(retry_after=True, expired_checkpoint="oldest")
