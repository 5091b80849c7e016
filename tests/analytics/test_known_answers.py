"""The marts find exactly what the fixture plants (tests/analytics/data/raw_events.jsonl).

Read from DuckDB after the incremental build; test_warehouses_agree.py shows PostgreSQL holds
the same rows. Every expected figure follows from the planted events: the counts are theirs,
the distances come from their coordinates.
"""

from __future__ import annotations

import datetime
import math

import pytest

from tests.analytics.marts import STAGING_SCHEMA, Row, only, rows
from tests.analytics.raw_events import distinct_events, named

ACME = "acme.eu.auth0.com"
GLOBEX = "globex.us.auth0.com"
ALICE = named("alice_last_login")["user_id"]
BOB = named("bob_tokyo")["user_id"]
CAROL = "auth0|65f0a1c2e4b0a1b2c3d4e5f7"
DAVE = "samlp|acme-saml|dave@acme.example"
ERIN = "auth0|65f0a1c2e4b0a1b2c3d4e5f8"
FRANK = named("late_user_event")["user_id"]
GRACE = named("grace_risky")["user_id"]
WEB = "AcmeWebQ8k2L0pZr7Tn4Vb6Xc1Yd3Fg5"
IOS = "AcmeIosH4j6K8m0N2p4R6t8V0x2Z4b6"
DATABASE = "Username-Password-Authentication"


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def hour(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text)


def pick(row: Row, *columns: str) -> dict[str, object]:
    return {c: row[c] for c in columns}


@pytest.fixture(scope="module")
def mart(duckdb_fixture):
    return lambda table: rows(duckdb_fixture.marts, table)


def test_staging_holds_every_event_once(duckdb_fixture):
    staged = rows(duckdb_fixture.marts, "stg_auth0__log_events", STAGING_SCHEMA)
    assert {(r["tenant_domain"], r["log_id"]) for r in staged} == distinct_events()
    assert len(staged) == len(distinct_events())
    # Events found in both tables are kept from user_logs, even when the tenant_logs copy came
    # a run later; events of no user come from tenant_logs.
    for name in ("duplicate_across_streams", "duplicate_of_an_earlier_run"):
        kept = only(staged, tenant_domain=ACME, log_id=named(name)["log_id"])
        assert kept["source_stream"] == "user_logs", name
    assert {r["source_stream"] for r in staged if r["user_id"] is None} == {"tenant_logs"}


def test_tenants_sharing_a_user_id_and_a_log_id_stay_apart(duckdb_fixture):
    staged = rows(duckdb_fixture.marts, "stg_auth0__log_events", STAGING_SCHEMA)
    shared_log_id = named("globex_login")["log_id"]
    assert {r["tenant_domain"] for r in staged if r["log_id"] == shared_log_id} == {ACME, GLOBEX}
    users = [r for r in rows(duckdb_fixture.marts, "auth0__users") if r["user_id"] == ALICE]
    assert {r["tenant_domain"]: r["logins"] for r in users} == {ACME: 2, GLOBEX: 1}


def test_staging_types_location_login_method_and_risk(duckdb_fixture):
    staged = rows(duckdb_fixture.marts, "stg_auth0__log_events", STAGING_SCHEMA)
    tokyo = only(staged, log_id=named("bob_tokyo")["log_id"])
    assert pick(tokyo, "login_method", "country_code", "continent_code", "latitude") == {
        "login_method": "google-oauth2",
        "country_code": "JP",
        "continent_code": "AS",
        "latitude": 35.6762,
    }
    assert tokyo["event_at"] == hour("2026-03-02T11:00:00")
    risky = only(staged, log_id=named("grace_risky")["log_id"])
    assert pick(risky, "risk_confidence", "risk_untrusted_ip_code", "is_risk_untrusted_ip") == {
        "risk_confidence": "low",
        "risk_untrusted_ip_code": "found_on_deny_list",
        "is_risk_untrusted_ip": True,
    }
    assert risky["is_risk_new_device"] is False  # rated medium, not low


def test_daily_overview_counts_failed_logins_as_the_activity_page_and_broadly(mart):
    overview = mart("auth0__daily_overview")
    web = only(overview, tenant_domain=ACME, event_date=day("2026-03-02"), client_id=WEB)
    assert pick(
        web,
        "connection",
        "events",
        "successful_logins",
        "failed_logins_activity_page",
        "failed_logins",
        "breached_passwords",
        "distinct_users",
        "users_logged_in",
    ) == {
        "connection": DATABASE,
        "events": 31,
        "successful_logins": 2,  # carol and grace
        "failed_logins_activity_page": 1,  # the one `f`
        "failed_logins": 13,  # that `f` and twelve `fu` of unknown usernames
        "breached_passwords": 1,
        "distinct_users": 3,
        "users_logged_in": 2,
    }
    signup_day = only(overview, tenant_domain=ACME, event_date=day("2026-03-01"), client_id=WEB)
    assert pick(signup_day, "events", "signups", "failed_logins", "successful_logins") == {
        "events": 14,
        "signups": 1,
        "failed_logins": 10,
        "successful_logins": 1,
    }
    machine = only(overview, tenant_domain=ACME, event_date=day("2026-03-02"), connection="(none)")
    assert machine["client_name"] == "Nightly Sync (M2M)"
    released = only(overview, tenant_domain=ACME, event_date=day("2026-03-01"), client_id="(none)")
    assert released["events"] == 1


def test_active_users_follow_the_billing_code_set_over_trailing_windows(mart):
    active = mart("auth0__active_users_daily")
    acme = {r["activity_date"]: r for r in active if r["tenant_domain"] == ACME}
    # Every day from dave's first login (20 January) to the newest event (3 March).
    assert min(acme) == day("2026-01-20")
    assert max(acme) == day("2026-03-03")
    assert len(acme) == 43
    figures = ("daily_active_users", "active_users_7d", "active_users_30d")
    assert {d: tuple(acme[day(d)][f] for f in figures) for d in ("2026-02-18", "2026-02-19")} == {
        "2026-02-18": (0, 0, 1),  # dave, 29 days back, still in the 30-day window
        "2026-02-19": (0, 0, 0),
    }
    assert tuple(acme[day("2026-03-02")][f] for f in figures) == (3, 5, 5)
    assert tuple(acme[day("2026-03-03")][f] for f in figures) == (2, 6, 6)
    # Failed logins and unknown types make nobody active: on 1 March alice only failed.
    assert acme[day("2026-03-01")]["daily_active_users"] == 1  # erin


def test_monthly_active_users_cover_the_whole_calendar_month(mart):
    active = {
        r["activity_date"]: r
        for r in mart("auth0__active_users_daily")
        if r["tenant_domain"] == ACME
    }
    assert {active[day(d)]["monthly_active_users"] for d in ("2026-02-01", "2026-02-28")} == {3}
    assert active[day("2026-03-01")]["monthly_active_users"] == 6
    assert active[day("2026-01-31")]["monthly_active_users"] == 1
    month_to_date = {
        d: active[day(d)]["month_to_date_active_users"] for d in ("2026-03-01", "2026-03-03")
    }
    assert month_to_date == {"2026-03-01": 1, "2026-03-03": 6}


def test_users_record_logins_mfa_deletion_and_dormancy(mart):
    users = {r["user_id"]: r for r in mart("auth0__users") if r["tenant_domain"] == ACME}
    assert set(users) == {ALICE, BOB, CAROL, DAVE, ERIN, FRANK, GRACE}
    assert pick(users[ALICE], "logins", "failed_logins", "last_ip", "last_country_code") == {
        "logins": 2,
        "failed_logins": 10,
        "last_ip": "81.10.20.30",
        "last_country_code": "DE",
    }
    assert users[ALICE]["last_active_at"] == hour("2026-03-03T23:30:00")  # a silent auth
    assert pick(users[BOB], "login_method", "logins", "last_country_code") == {
        "login_method": "google-oauth2",
        "logins": 3,
        "last_country_code": "JP",
    }
    assert {u for u, r in users.items() if r["is_mfa_enrolled"]} == {CAROL}
    assert users[CAROL]["mfa_enrolled_at"] == hour("2026-02-28T08:00:30")
    assert pick(users[ERIN], "signed_up_at", "last_password_changed_at", "deleted_at") == {
        "signed_up_at": hour("2026-03-01T07:00:00"),
        "last_password_changed_at": hour("2026-03-01T22:00:00"),
        "deleted_at": hour("2026-03-03T10:00:00"),
    }
    assert {u for u, r in users.items() if r["is_deleted"]} == {ERIN}
    assert pick(users[DAVE], "login_method", "days_inactive", "is_dormant") == {
        "login_method": "samlp",
        "days_inactive": 42,
        "is_dormant": True,
    }
    assert {u for u, r in users.items() if r["is_dormant"]} == {DAVE}
    assert users[FRANK]["logins"] == 0
    assert users[FRANK]["last_ip"] is None


def test_failure_reasons_by_type_and_description(mart):
    reasons = [r for r in mart("auth0__failure_reasons_daily") if r["tenant_domain"] == ACME]
    summary = {(r["event_date"].isoformat(), r["type"], r["reason"]): r["events"] for r in reasons}
    hostile = named("hostile")["description"]
    assert summary == {
        ("2026-03-01", "fp", "Wrong email or password."): 10,
        ("2026-03-02", "fu", "Wrong email or password."): 12,
        ("2026-03-02", "f", hostile): 1,
        ("2026-03-02", "gd_auth_rejected", "Push notification rejected by the user"): 5,
        ("2026-03-03", "fs", "The user already exists."): 10,
        ("2026-03-03", "fs", "Password is too weak"): 11,
    }
    unknown_users = only(reasons, type="fu")
    assert pick(unknown_users, "distinct_users", "distinct_user_names", "distinct_ips") == {
        "distinct_users": 0,
        "distinct_user_names": 12,
        "distinct_ips": 1,
    }
    assert unknown_users["type_description"] == "Failed login due to invalid username"


def test_ip_activity_flags_brute_force_stuffing_and_signup_flood(mart):
    activity = [r for r in mart("auth0__ip_activity_hourly") if r["tenant_domain"] == ACME]
    flagged = {
        (r["ip"], r["event_hour"]): (
            r["is_brute_force"],
            r["is_credential_stuffing"],
            r["is_signup_flood"],
        )
        for r in activity
        if r["is_brute_force"] or r["is_credential_stuffing"] or r["is_signup_flood"]
    }
    assert flagged == {
        ("198.51.100.7", hour("2026-03-01T20:00")): (True, False, False),
        ("203.0.113.66", hour("2026-03-02T03:00")): (False, True, False),
        ("192.0.2.50", hour("2026-03-03T05:00")): (False, False, True),
    }
    brute = only(activity, ip="198.51.100.7")
    assert pick(brute, "failed_logins", "max_failures_one_user_name", "blocks", "country_code") == {
        "failed_logins": 10,
        "max_failures_one_user_name": 10,
        "blocks": 1,
        "country_code": "NG",
    }
    stuffing = only(activity, ip="203.0.113.66")
    assert pick(stuffing, "events", "distinct_user_names_failed", "distinct_users", "blocks") == {
        "events": 13,
        "distinct_user_names_failed": 12,
        "distinct_users": 0,
        "blocks": 1,
    }
    flood = only(activity, ip="192.0.2.50")
    assert pick(flood, "signup_attempts", "breached_passwords", "last_user_name") == {
        "signup_attempts": 22,
        "breached_passwords": 1,
        "last_user_name": "bot021@mailinator.example",
    }


def test_threat_classes_per_hour_and_their_share(mart):
    threats = {
        r["event_hour"]: r
        for r in mart("auth0__threats_hourly")
        if r["tenant_domain"] == ACME and r["threat_events"]
    }
    classes = ("credential_stuffing_events", "signup_attack_events", "mfa_bypass_events")
    assert {h.isoformat(): tuple(r[c] for c in classes) for h, r in threats.items()} == {
        "2026-03-01T20:00:00": (11, 0, 0),  # ten fp and the limit_wc
        "2026-03-02T03:00:00": (13, 0, 0),  # twelve fu and the limit_mu
        "2026-03-02T05:00:00": (1, 0, 0),  # the `f`
        "2026-03-02T14:00:00": (0, 0, 11),  # six pushes, five rejections
        "2026-03-02T16:00:00": (1, 0, 0),  # pwd_leak
        "2026-03-03T05:00:00": (0, 21, 0),  # failed signups; signup_pwd_leak is not in the class
    }
    fatigue = threats[hour("2026-03-02T14:00")]
    assert fatigue["events"] == 14
    assert fatigue["mfa_bypass_share"] == pytest.approx(11 / 14)
    assert threats[hour("2026-03-03T05:00")]["signup_attack_share"] == pytest.approx(21 / 22)


def test_attack_protection_per_day_and_type(mart):
    protection = [r for r in mart("auth0__attack_protection_daily") if r["tenant_domain"] == ACME]
    assert {
        (r["event_date"].isoformat(), r["type"], r["protection"], r["events"]) for r in protection
    } == {
        ("2026-03-01", "limit_wc", "brute_force_protection", 1),
        ("2026-03-01", "ublkdu", "block_released", 1),
        ("2026-03-02", "limit_mu", "ip_block", 1),
        ("2026-03-02", "pwd_leak", "breached_password_detection", 1),
        ("2026-03-03", "signup_pwd_leak", "breached_password_detection", 1),
    }
    assert only(protection, type="limit_mu")["distinct_users"] == 0


def test_mfa_success_rate_and_push_fatigue(mart):
    mfa = {r["event_date"]: r for r in mart("auth0__mfa_daily") if r["tenant_domain"] == ACME}
    assert set(mfa) == {day("2026-02-28"), day("2026-03-02")}
    figures = ("challenges_started", "sends", "successes", "failures", "enrollments")
    assert tuple(mfa[day("2026-03-02")][f] for f in figures) == (1, 6, 1, 5, 0)
    assert mfa[day("2026-03-02")]["success_rate"] == pytest.approx(1 / 6)
    assert pick(mfa[day("2026-03-02")], "max_push_or_sms_one_user_hour", "fatigue_users") == {
        "max_push_or_sms_one_user_hour": 6,
        "fatigue_users": 1,
    }
    assert mfa[day("2026-02-28")]["enrollments"] == 1
    assert mfa[day("2026-02-28")]["success_rate"] is None


def haversine_km(a: dict, b: dict) -> float:
    lat1, lon1, lat2, lon2 = map(
        math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"])
    )
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def test_suspicious_logins_new_country_travel_and_risk(mart):
    suspicious = {r["log_id"]: r for r in mart("auth0__suspicious_logins")}
    tokyo, risky = named("bob_tokyo"), named("grace_risky")
    assert set(suspicious) == {tokyo["log_id"], risky["log_id"]}
    travel = suspicious[tokyo["log_id"]]
    distance = haversine_km(named("bob_berlin")["location_info"], tokyo["location_info"])
    assert distance > 8000
    assert pick(travel, "is_new_country", "is_impossible_travel", "previous_country_code") == {
        "is_new_country": True,
        "is_impossible_travel": True,
        "previous_country_code": "DE",
    }
    assert travel["distance_km"] == pytest.approx(distance, rel=1e-6)
    assert travel["hours_since_previous_login"] == 1.0
    assert travel["travel_speed_kmh"] == pytest.approx(distance, rel=1e-6)  # in one hour
    flags = suspicious[risky["log_id"]]
    assert pick(flags, "is_new_country", "is_impossible_travel", "is_risk_untrusted_ip") == {
        "is_new_country": False,  # her first login: nothing to compare with
        "is_impossible_travel": False,
        "is_risk_untrusted_ip": True,
    }


def test_refresh_tokens_from_more_ips_than_allowed(mart):
    use = {
        (r["user_id"], r["event_date"]): r
        for r in mart("auth0__refresh_token_use_daily")
        if r["tenant_domain"] == ACME
    }
    assert set(use) == {(ALICE, day("2026-02-27")), (FRANK, day("2026-03-03"))}
    frank = use[(FRANK, day("2026-03-03"))]
    # Five IPs, the fifth from an event that arrived late, inside the look-back.
    assert pick(frank, "client_id", "exchanges", "distinct_ips", "is_too_many_ips") == {
        "client_id": IOS,
        "exchanges": 6,
        "distinct_ips": 5,
        "is_too_many_ips": True,
    }
    assert use[(ALICE, day("2026-02-27"))]["is_too_many_ips"] is False
