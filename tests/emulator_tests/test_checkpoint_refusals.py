"""Auth0 refusing checkpoint reads (400): always, from a range of log_ids, or on the Nth read."""

from __future__ import annotations

import pytest

from tests.emulator import Emulator, TenantSpec
from tests.emulator.behaviour import Behaviour
from tests.emulator_tests.api import follow, get, log_ids, next_url

SPEC = TenantSpec(users=3, events_per_user=20, seed=11)


def assert_refused(response) -> None:
    assert response.status_code == 400
    body = response.json()
    assert (body["statusCode"], body["error"], body["errorCode"]) == (
        400,
        "Bad Request",
        "invalid_query",
    )
    assert "Checkpoint reads" in body["message"]


def test_refused_checkpoints_answer_400_to_every_checkpoint_read(emulator_factory):
    emulator = emulator_factory(SPEC, refuse_checkpoints=True)
    first = emulator.tenant.all_events()[0]["log_id"]
    assert_refused(get(emulator, "/api/v2/logs", take=10))
    assert_refused(get(emulator, "/api/v2/logs", **{"from": first, "take": 100}))
    assert_refused(get(emulator, "/api/v2/logs", **{"from": "900" + "20990101000000" + "0" * 39}))


def test_search_keeps_working_while_checkpoints_are_refused(emulator_factory):
    emulator = emulator_factory(SPEC, refuse_checkpoints=True)
    user_id = emulator.tenant.user_ids()[0]
    response = get(
        emulator,
        "/api/v2/logs",
        q=f'user_id:"{user_id}"',
        page=0,
        per_page=100,
        sort="date:1",
    )
    assert response.status_code == 200
    assert sorted(log_ids(response)) == sorted(emulator.tenant.expected_log_ids([user_id]))
    assert len(log_ids(response)) == 20


def test_checkpoint_reads_from_within_the_refused_range_answer_400_mid_pass(emulator_factory):
    emulator = emulator_factory(SPEC)
    everything = [e["log_id"] for e in emulator.tenant.all_events()]
    emulator.refuse_checkpoints_from = (everything[29], everything[39])
    response = get(emulator, "/api/v2/logs", take=10)
    read: list[str] = []
    while response.status_code == 200 and log_ids(response):
        read += log_ids(response)
        response = follow(emulator, next_url(response))
    assert read == everything[:30]  # the page from everything[29] was refused
    assert_refused(response)
    after = get(emulator, "/api/v2/logs", **{"from": everything[40], "take": 10})
    assert log_ids(after) == everything[41:51]


def test_a_range_refusal_spares_a_read_without_from(emulator_factory):
    emulator = emulator_factory(SPEC)
    everything = [e["log_id"] for e in emulator.tenant.all_events()]
    emulator.refuse_checkpoints_from = (everything[0], everything[-1])
    assert log_ids(get(emulator, "/api/v2/logs", take=5)) == everything[:5]
    assert_refused(get(emulator, "/api/v2/logs", **{"from": everything[0], "take": 5}))


def test_refusal_can_be_switched_on_and_off_while_serving(emulator):
    assert get(emulator, "/api/v2/logs", take=5).status_code == 200
    emulator.refuse_checkpoints = True
    assert_refused(get(emulator, "/api/v2/logs", take=5))
    emulator.set_behaviour(refuse_checkpoints=False)
    assert get(emulator, "/api/v2/logs", take=5).status_code == 200


def test_knobs_reach_the_emulator_from_a_plain_dict_as_a_json_spec_gives_them(emulator_factory):
    first, last = ("900" + "20260101000000" + "0" * 39, "900" + "20260102000000" + "0" * 39)
    knobs = {"refuse_checkpoints": True, "refuse_checkpoints_from": [first, last]}
    assert Behaviour(**knobs).refuse_checkpoints_from == (first, last)
    emulator = emulator_factory(SPEC, **knobs)
    assert emulator.behaviour == Behaviour(
        refuse_checkpoints=True, refuse_checkpoints_from=(first, last)
    )


@pytest.mark.parametrize(
    "value",
    [
        ("not-a-log-id", "900" + "0" * 53),
        ("900" + "20260102000000" + "0" * 39, "900" + "20260101000000" + "0" * 39),
        ["900" + "0" * 53],
        "900" + "0" * 53,
    ],
)
def test_a_refused_range_must_be_two_ordered_log_ids(value):
    with pytest.raises(ValueError, match="refuse_checkpoints_from"):
        Emulator(None, refuse_checkpoints_from=value)


def test_the_nth_checkpoint_read_is_refused_by_a_fault_search_requests_not_counted(emulator):
    everything = [e["log_id"] for e in emulator.tenant.all_events()]
    emulator.faults.add("refuse_checkpoint", endpoint="logs_checkpoint", after=2)
    served = [get(emulator, "/api/v2/logs", take=10).status_code]
    served.append(get(emulator, "/api/v2/logs", q="type:s", per_page=5).status_code)  # search
    served.append(get(emulator, "/api/v2/logs", **{"from": everything[9], "take": 10}).status_code)
    third = get(emulator, "/api/v2/logs", **{"from": everything[19], "take": 10})
    assert_refused(third)
    assert everything[19] in third.json()["message"]
    fourth = get(emulator, "/api/v2/logs", **{"from": everything[19], "take": 10})
    assert served == [200, 200, 200]
    assert log_ids(fourth) == everything[20:30]  # count=1: the retry is served


def test_the_refuse_checkpoint_fault_is_only_for_checkpoint_reads(emulator):
    with pytest.raises(ValueError, match="logs_checkpoint"):
        emulator.faults.add("refuse_checkpoint", endpoint="logs")
