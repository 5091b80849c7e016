"""The planted scenario: what its truth states is what the emulator serves, over real HTTP."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import Emulator
from tests.emulator.planted import great_circle_km, planted_tenant
from tests.emulator.planted_truth import Login, PlantedTruth
from tests.emulator.timestamps import parse_time
from tests.emulator_tests.api import get, read_checkpoint_events, user_logs_path

SEED = 5
REPO_ROOT = Path(__file__).resolve().parents[2]
AIRLINER_KMH = 1000  # faster than any airliner flies
NO_USER_CODES = {"fu", "fs", "signup_pwd_leak", "limit_mu", "seccft"}
LOGIN_CODES = {"s", "ssa", "ss"}
FAILED_LOGIN_CODES = {"f", "fp", "fu"}
TOKEN_CODES = {"seacft", "sertft"}

Events = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def planted():
    return planted_tenant(seed=SEED)


@pytest.fixture(scope="module")
def truth(planted) -> PlantedTruth:
    return planted[1]


@pytest.fixture(scope="module")
def served(planted):
    with Emulator(planted[0]) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def events(served) -> Events:
    """Every event of the tenant, read in checkpoint mode over HTTP, by log_id."""
    read = read_checkpoint_events(served)
    by_log_id = {event["log_id"]: event for event in read}
    assert len(by_log_id) == len(read)  # none served twice
    return by_log_id


def hour_of(event: dict[str, Any]) -> datetime:
    return parse_time(event["date"]).replace(minute=0, second=0, microsecond=0)


def per_ip_hour(events: Events, codes: set[str]) -> Counter[tuple[str, datetime]]:
    return Counter((e["ip"], hour_of(e)) for e in events.values() if e["type"] in codes)


def planted_log_ids(truth: PlantedTruth) -> set[str]:
    """Every log_id the truth names."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and len(value) == 56 and value.startswith("900"):
            found.add(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(truth.as_dict())
    return found


# ----------------------------------------------------------------- every event, every endpoint


def test_checkpoint_reads_serve_every_event_of_the_truth(truth, events):
    assert len(events) == truth.events
    assert planted_log_ids(truth) <= set(events)
    assert sum(1 for e in events.values() if "user_id" not in e) == truth.events_without_user


def test_events_of_no_user_have_no_user_id_field_at_all(events):
    for event in events.values():
        if event["type"] in NO_USER_CODES:
            assert "user_id" not in event, event
        else:
            assert event["user_id"], event


def test_search_by_day_windows_serves_every_event(served, truth, events):
    found: set[str] = set()
    day = (truth.now - timedelta(days=29)).replace(hour=0, minute=0, second=0)
    while day <= truth.now:
        window = f"date:[{day:%Y-%m-%dT%H:%M:%S} TO {day + timedelta(days=1):%Y-%m-%dT%H:%M:%S}}}"
        for page in range(10):
            response = get(served, "/api/v2/logs", q=window, page=page, per_page=100)
            assert response.status_code == 200
            found |= {e["log_id"] for e in response.json()}
            if len(response.json()) < 100:
                break
        day += timedelta(days=1)
    assert found == set(events)


def test_each_users_log_serves_every_event_of_that_user(served, events):
    expected: dict[str, set[str]] = defaultdict(set)
    for event in events.values():
        if "user_id" in event:
            expected[event["user_id"]].add(event["log_id"])
    users = get(served, "/api/v2/users", per_page=100).json()
    assert set(expected) <= {u["user_id"] for u in users}
    for user_id, log_ids in expected.items():
        response = get(served, user_logs_path(user_id), per_page=100)
        assert {e["log_id"] for e in response.json()} == log_ids


def test_log_ids_follow_ingestion_close_to_the_event_date(events):
    for event in events.values():
        ingested = datetime.strptime(event["log_id"][3:17], "%Y%m%d%H%M%S")
        lag = ingested.replace(tzinfo=timezone.utc) - parse_time(event["date"])
        assert timedelta(seconds=-1) <= lag <= timedelta(minutes=5)
        assert event["_id"] == event["log_id"]


def test_locations_carry_numeric_coordinates_and_codes(events):
    for event in events.values():
        place = event["location_info"]
        assert isinstance(place["latitude"], float)
        assert isinstance(place["longitude"], float)
        assert len(place["country_code"]) == 2
        assert len(place["continent_code"]) == 2


# ----------------------------------------------------------------- the planted patterns


def test_quiet_hours_hold_planted_events_only(truth, events):
    planted = planted_log_ids(truth)
    quiet = set(truth.background.quiet_hours)
    assert {truth.stuffing.hour, truth.signup_flood.hour, truth.mfa_fatigue.hour} <= quiet
    in_quiet = {e["log_id"] for e in events.values() if hour_of(e) in quiet}
    assert in_quiet
    assert in_quiet <= planted


def test_credential_stuffing_is_one_ip_in_one_hour_ending_in_an_ip_block(truth, events):
    stuffing = truth.stuffing
    burst = [e for e in events.values() if e["ip"] == stuffing.ip]
    assert {e["log_id"] for e in burst} == set(stuffing.log_ids)
    assert Counter(e["type"] for e in burst) == stuffing.counts
    assert {hour_of(e) for e in burst} == {stuffing.hour}
    assert sum(1 for e in burst if "user_id" not in e) == stuffing.events_without_user
    assert sorted({e["user_id"] for e in burst if "user_id" in e}) == list(
        stuffing.targeted_user_ids
    )
    last = max(burst, key=lambda e: e["date"])
    assert (last["log_id"], last["type"]) == (stuffing.block_log_id, "limit_mu")
    assert {e["location_info"]["country_code"] for e in burst} == {stuffing.country_code}


def test_only_the_planted_ips_fail_more_logins_in_an_hour_than_ordinary_ones(truth, events):
    failed = per_ip_hour(events, FAILED_LOGIN_CODES)
    busy = {
        key: n for key, n in failed.items() if n > truth.background.max_failed_logins_per_ip_hour
    }
    assert busy == {
        (truth.stuffing.ip, truth.stuffing.hour): truth.stuffing.failed_logins,
        (truth.brute_force.ip, truth.brute_force.hour): truth.brute_force.failures,
    }


def test_search_by_ip_finds_the_stuffing_burst(served, truth):
    found = []
    for page in range(3):
        response = get(
            served, "/api/v2/logs", q=f'ip:"{truth.stuffing.ip}"', page=page, per_page=100
        )
        found += response.json()
    assert len(found) == sum(truth.stuffing.counts.values())


def test_signup_flood_counts_per_ip_and_its_new_users_exist(served, truth, events):
    flood = truth.signup_flood
    signups = [e for e in events.values() if e["type"] in ("ss", "fs", "signup_pwd_leak")]
    by_ip: dict[str, Counter[str]] = defaultdict(Counter)
    for event in signups:
        if event["ip"] in flood.ips:
            by_ip[event["ip"]][event["type"]] += 1
            assert hour_of(event) == flood.hour
            assert ("user_id" in event) == (event["type"] == "ss")
    assert by_ip == flood.counts_by_ip
    assert sum(flood.counts.values()) == len(flood.log_ids)
    many = per_ip_hour(events, {"ss", "fs", "signup_pwd_leak"})
    assert {ip for (ip, _), n in many.items() if n > truth.background.max_signups_per_ip_hour} == (
        set(flood.ips)
    )
    for user_id in flood.new_user_ids:
        assert get(served, f"/api/v2/users/{user_id}").status_code == 200


def test_mfa_fatigue_user_gets_more_pushes_in_an_hour_than_anyone(truth, events):
    fatigue = truth.mfa_fatigue
    challenges = Counter(
        (e["user_id"], hour_of(e))
        for e in events.values()
        if e["type"] in ("gd_send_pn", "gd_send_sms")
    )
    worst, sends = challenges.most_common(1)[0]
    assert (worst, sends) == ((fatigue.user_id, fatigue.hour), fatigue.sends)
    others = [n for key, n in challenges.items() if key != worst]
    assert max(others) <= truth.background.max_mfa_challenges_per_user_hour
    in_hour = Counter(
        e["type"]
        for e in events.values()
        if e.get("user_id") == fatigue.user_id and hour_of(e) == fatigue.hour
    )
    assert (in_hour["gd_auth_rejected"], in_hour["gd_auth_succeed"]) == (
        fatigue.rejects,
        fatigue.successes,
    )
    assert events[fatigue.login_log_id]["type"] == "s"


def consecutive_login_speeds(events: Events) -> list[tuple[float, dict, dict]]:
    """(km/h, earlier, later) for each user's consecutive successful logins."""
    logins: dict[str, list[dict]] = defaultdict(list)
    for event in sorted(events.values(), key=lambda e: e["date"]):
        if event["type"] in LOGIN_CODES and "user_id" in event:
            logins[event["user_id"]].append(event)
    speeds = []
    for series in logins.values():
        for earlier, later in itertools.pairwise(series):
            a, b = (place(e) for e in (earlier, later))
            hours = (parse_time(later["date"]) - parse_time(earlier["date"])).total_seconds() / 3600
            speeds.append((great_circle_km(a, b) / max(hours, 1e-9), earlier, later))
    return speeds


def place(event: dict[str, Any]) -> Login:
    info = event["location_info"]
    return Login(
        event["log_id"], parse_time(event["date"]), event["ip"], info["city_name"],
        info["country_code"], info["continent_code"], info["latitude"], info["longitude"],
    )  # fmt: skip


def test_one_pair_of_logins_implies_a_speed_no_airliner_reaches(truth, events):
    travel = truth.impossible_travel
    too_fast = [(s, a, b) for s, a, b in consecutive_login_speeds(events) if s > AIRLINER_KMH]
    assert [(a["log_id"], b["log_id"]) for _, a, b in too_fast] == [
        (travel.first.log_id, travel.second.log_id)
    ]
    speed, first, second = too_fast[0]
    assert math.isclose(speed, travel.speed_kmh, rel_tol=1e-4)
    assert travel.first == place(first)
    assert travel.second == place(second)
    assert travel.first.continent_code != travel.second.continent_code
    assert travel.hours == 1.0


def test_dormant_users_have_been_silent_since_their_last_event(truth, events):
    last: dict[str, datetime] = {}
    for event in events.values():
        if "user_id" in event:
            moment = parse_time(event["date"])
            last[event["user_id"]] = max(last.get(event["user_id"], moment), moment)
    for dormant in truth.dormant:
        assert last.pop(dormant.user_id) == dormant.last_event
        assert truth.now - dormant.last_event >= timedelta(days=truth.dormant_for_days)
    assert len(truth.dormant) == 3
    oldest = min(last.values())
    assert truth.now - oldest <= timedelta(days=truth.background.active_within_days)
    assert truth.background.active_within_days < 3


def test_breached_password_events_by_code_and_day(truth, events):
    breached = truth.breached
    codes = set(breached.counts)
    found = [e for e in events.values() if e["type"] in codes]
    assert Counter(e["type"] for e in found) == breached.counts
    by_day: dict[Any, Counter[str]] = defaultdict(Counter)
    for event in found:
        by_day[parse_time(event["date"]).date()][event["type"]] += 1
    assert by_day == breached.by_day
    for code, log_ids in breached.log_ids.items():
        assert {e["log_id"] for e in found if e["type"] == code} == set(log_ids)
    with_user = {e["user_id"] for e in found if "user_id" in e}
    assert with_user == set(breached.user_ids)
    assert all("user_id" not in e for e in found if e["type"] == "signup_pwd_leak")


def test_brute_force_block_and_its_release(truth, events):
    block = truth.brute_force
    own = [e for e in events.values() if e.get("user_id") == block.user_id]
    blocks = [e for e in own if e["type"] == "limit_wc"]
    releases = [e for e in own if e["type"] == "ublkdu"]
    assert [e["log_id"] for e in blocks] == [block.block_log_id]
    assert [e["log_id"] for e in releases] == [block.release_log_id]
    assert parse_time(blocks[0]["date"]) == block.blocked_at < block.released_at
    assert blocks[0]["ip"] == block.ip
    failures = [e for e in own if e["type"] == "fp" and e["ip"] == block.ip]
    assert len(failures) == block.failures
    assert all(parse_time(e["date"]) < block.blocked_at for e in failures)


def test_auth0_risk_assessments_are_exactly_the_planted_ones(truth, events):
    assessed = {
        e["log_id"]: e["details"]["riskAssessment"]
        for e in events.values()
        if isinstance(e.get("details"), dict) and "riskAssessment" in e["details"]
    }
    assert list(assessed) == sorted(assessed)  # read in log_id order
    assert set(assessed) == {r.log_id for r in truth.risk_assessed}
    for risk in truth.risk_assessed:
        served = assessed[risk.log_id]
        assert served["confidence"] == risk.confidence
        assert {k: v["code"] for k, v in served["assessments"].items()} == risk.codes
        low = tuple(k for k, v in served["assessments"].items() if v["confidence"] == "low")
        assert low == risk.low_confidence
    flagged = {r.log_id for r in truth.risk_assessed if "ImpossibleTravel" in r.low_confidence}
    assert flagged == {truth.impossible_travel.second.log_id}
    assert all("risk_assessment" not in e for e in events.values())


def test_refresh_tokens_of_one_user_and_app_come_from_more_ips_than_any_others(truth, events):
    spread = truth.refresh_tokens
    ips: dict[tuple[str, str], set[str]] = defaultdict(set)
    for event in events.values():
        if event["type"] in TOKEN_CODES:
            ips[(event["user_id"], event["client_id"])].add(event["ip"])
    assert tuple(sorted(ips.pop((spread.user_id, spread.client_id)))) == spread.ips
    assert len(spread.ips) == 10
    assert max(map(len, ips.values())) <= truth.background.max_token_ips_per_user_client


def test_hostile_values_are_served_verbatim(served, truth):
    hostile = truth.hostile
    for field, log_id in hostile.log_ids.items():
        response = get(served, "/api/v2/logs", q=f'log_id:"{log_id}"')
        (event,) = response.json()
        assert event[field] == getattr(hostile, field)
        assert "user_id" not in event
    raw = get(served, "/api/v2/logs", q=f'log_id:"{hostile.log_ids["user_name"]}"').content
    assert b"<script>alert(1)</script>" in raw  # not \u003c-escaped


# ----------------------------------------------------------------- the scenario itself


def test_same_seed_and_now_give_the_same_tenant_and_truth():
    now = datetime(2026, 3, 1, 12, 30, 15, tzinfo=timezone.utc)
    first_tenant, first_truth = planted_tenant(seed=9, now=now)
    second_tenant, second_truth = planted_tenant(seed=9, now=now)
    assert first_truth == second_truth
    assert first_tenant.all_events() == second_tenant.all_events()
    assert first_tenant.users() == second_tenant.users()
    other_tenant, other_truth = planted_tenant(seed=10, now=now)
    assert other_truth.stuffing.log_ids != first_truth.stuffing.log_ids
    assert other_tenant.user_ids() != first_tenant.user_ids()


def test_the_scenario_is_the_same_in_another_process():
    """An emulator started as a process of its own serves what a test built in its own."""
    script = (
        "import hashlib, json, sys; from datetime import datetime, timezone; "
        "from tests.emulator import planted_tenant; "
        "t, truth = planted_tenant(3, datetime(2026, 4, 1, 9, 15, tzinfo=timezone.utc)); "
        "print(hashlib.sha256(json.dumps([t.all_events(), t.users(), truth.as_dict()], "
        "sort_keys=True).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_planted_hours_are_fixed_before_now():
    now = datetime(2026, 3, 1, 12, 30, 15, tzinfo=timezone.utc)
    _, truth = planted_tenant(seed=1, now=now)
    top = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    assert truth.stuffing.hour == top - timedelta(hours=74)
    assert truth.signup_flood.hour == top - timedelta(hours=40)
    assert truth.mfa_fatigue.hour == top - timedelta(hours=26)


@pytest.mark.parametrize("seed", range(12))
def test_every_seed_keeps_the_planted_signals_apart_from_ordinary_activity(seed):
    now = datetime(2026, 5, 17, 8, 5, tzinfo=timezone.utc) + timedelta(hours=7 * seed)
    _, truth = planted_tenant(seed=seed, now=now)  # raises if ordinary activity trips one
    assert truth.background.max_failed_logins_per_ip_hour <= 1
    assert truth.stuffing.counts == {"fu": 120, "fp": 12, "f": 3, "limit_mu": 1}


def test_truth_is_json(truth):
    data = json.loads(json.dumps(truth.as_dict()))
    assert data["stuffing"]["ip"] == truth.stuffing.ip
    assert data["stuffing"]["hour"] == truth.stuffing.hour.strftime("%Y-%m-%dT%H:00:00.000Z")
    assert data["breached"]["counts"] == {"pwd_leak": 4, "signup_pwd_leak": 8, "reset_pwd_leak": 2}


# A tenant whose dormant users include one whose newest login-like event is a silent auth.
SILENT_LAST = (3, datetime(2026, 12, 6, 5, 37, tzinfo=timezone.utc))


@pytest.mark.parametrize("seed_and_now", [None, SILENT_LAST], ids=["default", "silent-last"])
def test_a_dormant_users_last_login_is_their_newest_successful_login(seed_and_now, planted):
    # Auth0's successful logins: not silent authentication (ssa), not a signup (ss).
    tenant, truth = planted if seed_and_now is None else planted_tenant(*seed_and_now)
    for dormant in truth.dormant:
        logins = [
            parse_time(e["date"])
            for e in tenant.all_events()
            if e.get("user_id") == dormant.user_id and e["type"] in ("s", "scoa", "sens")
        ]
        assert dormant.last_login == max(logins, default=None)
