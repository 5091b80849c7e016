"""The marts find exactly what the planted scenario put in a tenant, on DuckDB and PostgreSQL.

The emulator serves tests/emulator/planted.py's tenant: four weeks of ordinary people with a
credential-stuffing burst, a signup flood, MFA push fatigue, impossible travel, dormant users,
breached passwords, a brute-force block and its release, Auth0 risk assessments and refresh
tokens used from many IPs planted in it. The real tap reads it through Meltano with both event
streams selected (every user, so a pass over the tenant's log), target-duckdb and
target-postgres load it, and `dbt build` runs on each. Every figure asserted comes from the
scenario's PlantedTruth or from the thresholds in transform/dbt_project.yml, none from the
events again. DuckDB then takes a second run with new events, as a scheduled pipeline would:
the file dbt wrote is loaded into again and built incrementally, and the findings still hold.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.analytics.dbt_runner import PROJECT_DIR, Dbt, RunResults
from tests.analytics.marts import (
    INCREMENTAL_MODEL,
    DuckDBMarts,
    Marts,
    PostgresMarts,
    Row,
    only,
    snapshot,
)
from tests.e2e.meltano_cli import Meltano
from tests.e2e.pipeline import connection_settings, duckdb_settings, postgres_settings
from tests.e2e.postgres import ThrowawayCluster
from tests.emulator import Emulator, PlantedTruth, planted_tenant

SEED = 3
EVENT_STREAMS = ["user_logs.*", "log_event_types.*", "tenant_logs.*"]
ROLE, PASSWORD, DATABASE = "planted", "planted-password", "planted"
BUILDS = ("duckdb", "duckdb-next-run", "postgres")
THRESHOLDS: dict[str, Any] = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


@dataclass
class Build:
    """One warehouse after the tap, its loader and `dbt build`."""

    results: RunResults
    whole: dict[str, list[tuple[Any, ...]]]  # every mart and staging, as snapshot() reads them

    @cached_property
    def marts(self) -> dict[str, list[Row]]:
        """Mart or staging model -> its rows, column -> value."""
        return {name: [dict(row) for row in found] for name, found in self.whole.items()}


@dataclass
class Planted:
    truth: PlantedTruth
    builds: dict[str, Build]
    new_log_ids: set[str]  # the events the second DuckDB run added

    def __getitem__(self, build: str) -> Build:
        return self.builds[build]


def dormancy_vars(truth: PlantedTruth) -> str:
    """The project's thresholds, but dormant after the scenario's dormancy: its history holds
    28 days, fewer than the default's 30."""
    return json.dumps({"auth0_dormant_after_days": int(truth.dormant_for_days)})


@dataclass
class Warehouse:
    loader: str
    pipeline: Meltano
    dbt: Dbt
    marts: Marts

    def run(self, truth: PlantedTruth) -> Build:
        self.pipeline.run(self.loader)
        results = self.dbt("build", "--vars", dormancy_vars(truth))
        return Build(results, snapshot(self.marts))


def tap_settings(emulator: Emulator) -> dict[str, Any]:
    """Every user of the tenant (no user_ids), both event streams selected."""
    return {**connection_settings(emulator), "TAP_AUTH0_USERLOGS__SELECT": EVENT_STREAMS}


def warehouse(
    loader: str, adapter: str, meltano: Meltano, work: Path, settings: dict[str, Any], marts: Marts
) -> Warehouse:
    pipeline = meltano.pipeline(work / "meltano.db", **settings)
    return Warehouse(loader, pipeline, Dbt(adapter, work, settings), marts)


@pytest.fixture(scope="module")
def planted(
    meltano: Meltano, postgres_cluster: ThrowawayCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Planted]:
    tenant, truth = planted_tenant(SEED)
    database = postgres_cluster.create_database(ROLE, PASSWORD, DATABASE)
    duckdb_work = tmp_path_factory.mktemp("planted-duckdb")
    postgres_work = tmp_path_factory.mktemp("planted-postgres")
    duckdb_path = duckdb_work / "warehouse.duckdb"
    try:
        with Emulator(tenant) as emulator:
            tap = tap_settings(emulator)
            warehouses = {
                "duckdb": warehouse(
                    "target-duckdb", "duckdb", meltano, duckdb_work,
                    {**tap, **duckdb_settings(duckdb_path)}, DuckDBMarts(duckdb_path),
                ),
                "postgres": warehouse(
                    "target-postgres", "postgres", meltano, postgres_work,
                    {**tap, **postgres_settings(database)}, PostgresMarts(database),
                ),
            }  # fmt: skip
            # One after the other: Meltano runs of one extractor share its files in .meltano/.
            builds = {name: w.run(truth) for name, w in warehouses.items()}
            new = _ordinary_new_events(emulator, truth)
            builds["duckdb-next-run"] = warehouses["duckdb"].run(truth)
        yield Planted(truth, builds, new)
    finally:
        postgres_cluster.drop_database(DATABASE, owner=ROLE)


def _ordinary_new_events(emulator: Emulator, truth: PlantedTruth) -> set[str]:
    """Events after the first run that change no finding: a logout of an ordinary user and a
    machine client's token exchange (an event of no user)."""
    planted_users = {
        truth.mfa_fatigue.user_id,
        truth.impossible_travel.user_id,
        truth.brute_force.user_id,
        truth.refresh_tokens.user_id,
        *truth.stuffing.targeted_user_ids,
        *(d.user_id for d in truth.dormant),
    }
    ordinary = next(u for u in emulator.tenant.user_ids() if u not in planted_users)
    added = [emulator.tenant.add_event(ordinary, type="slo"), emulator.tenant.add_event(None)]
    return {event["log_id"] for event in added}


def naive(moment: datetime) -> datetime:
    """A truth's UTC time as the marts return it."""
    return moment.replace(tzinfo=None)


@pytest.fixture(params=BUILDS)
def build(request: pytest.FixtureRequest, planted: Planted) -> Build:
    return planted[request.param]


def test_every_build_is_green(build):
    assert not build.results.with_status("error")
    assert not build.results.with_status("fail")
    assert not build.results.with_status("skipped")


def test_staging_holds_every_event_of_the_tenant_once(planted, build):
    truth = planted.truth
    staged = build.marts[INCREMENTAL_MODEL]
    extra = len(planted.new_log_ids) if build is planted["duckdb-next-run"] else 0
    assert len({r["log_id"] for r in staged}) == len(staged) == truth.events + extra
    no_user = [r for r in staged if r["user_id"] is None]
    assert len(no_user) == truth.events_without_user + (extra and 1)
    assert {r["source_stream"] for r in no_user} == {"tenant_logs"}


def test_the_stuffing_burst_is_one_ip_in_one_hour_ending_in_its_block(planted, build):
    stuffing = planted.truth.stuffing
    flagged = [r for r in build.marts["auth0__ip_activity_hourly"] if r["is_credential_stuffing"]]
    assert [(r["ip"], r["event_hour"]) for r in flagged] == [(stuffing.ip, naive(stuffing.hour))]
    (burst,) = flagged
    assert burst["failed_logins"] == stuffing.failed_logins
    assert burst["blocks"] == stuffing.counts["limit_mu"] == 1
    assert burst["country_code"] == stuffing.country_code
    threats = only(build.marts["auth0__threats_hourly"], event_hour=naive(stuffing.hour))
    assert threats["credential_stuffing_events"] == sum(stuffing.counts.values())
    assert threats["credential_stuffing_share"] == 1.0  # the burst has its hour to itself
    block = only(
        build.marts["auth0__attack_protection_daily"],
        event_date=stuffing.hour.date(),
        type="limit_mu",
    )
    assert (block["protection"], block["events"], block["distinct_ips"]) == ("ip_block", 1, 1)


def test_the_signup_flood_is_found_per_ip_and_as_a_threat_class(planted, build):
    flood = planted.truth.signup_flood
    per_hour = THRESHOLDS["auth0_signup_flood_per_hour"]
    flooding = {ip for ip, counts in flood.counts_by_ip.items() if sum(counts.values()) >= per_hour}
    assert flooding, "the flood must cross the project's threshold from some IP"
    flagged = [r for r in build.marts["auth0__ip_activity_hourly"] if r["is_signup_flood"]]
    assert {(r["ip"], r["event_hour"]) for r in flagged} == {
        (ip, naive(flood.hour)) for ip in flooding
    }
    for ip, counts in flood.counts_by_ip.items():
        row = only(build.marts["auth0__ip_activity_hourly"], ip=ip, event_hour=naive(flood.hour))
        assert row["signup_attempts"] == sum(counts.values())
    threats = only(build.marts["auth0__threats_hourly"], event_hour=naive(flood.hour))
    assert threats["signup_attack_events"] == flood.counts["fs"]
    assert threats["signups"] == flood.counts["ss"]


def test_mfa_push_fatigue_is_the_days_worst_user_hour(planted, build):
    fatigue = planted.truth.mfa_fatigue
    background = planted.truth.background.max_mfa_challenges_per_user_hour
    mfa = build.marts["auth0__mfa_daily"]
    day = only(mfa, event_date=fatigue.hour.date())
    assert day["max_push_or_sms_one_user_hour"] == fatigue.sends
    assert day["fatigue_users"] == 1
    others = [r for r in mfa if r["event_date"] != fatigue.hour.date()]
    assert max(r["max_push_or_sms_one_user_hour"] for r in others) == background
    assert sum(r["fatigue_users"] for r in others) == 0
    threats = only(build.marts["auth0__threats_hourly"], event_hour=naive(fatigue.hour))
    assert threats["mfa_bypass_events"] == fatigue.sends + fatigue.rejects


def test_suspicious_logins_are_the_impossible_trip_and_the_risky_ratings(planted, build):
    truth = planted.truth
    travel = truth.impossible_travel
    risky = {r.log_id: r for r in truth.risk_assessed if r.low_confidence}
    found = {r["log_id"]: r for r in build.marts["auth0__suspicious_logins"]}
    assert set(found) == {travel.second.log_id, *risky}
    trip = found[travel.second.log_id]
    assert trip["is_impossible_travel"]
    assert trip["is_new_country"]
    assert (trip["country_code"], trip["previous_country_code"]) == (
        travel.second.country_code,
        travel.first.country_code,
    )
    assert trip["previous_login_at"] == naive(travel.first.date)
    assert math.isclose(trip["distance_km"], travel.distance_km, rel_tol=1e-6)
    assert math.isclose(trip["travel_speed_kmh"], travel.speed_kmh, rel_tol=1e-6)
    assert [r for r in found.values() if r["is_impossible_travel"]] == [trip]
    assert [r for r in found.values() if r["is_new_country"]] == [trip]
    for log_id, rating in risky.items():
        row = found[log_id]
        assert row["risk_confidence"] == rating.confidence
        assert {
            "NewDevice": row["is_risk_new_device"],
            "ImpossibleTravel": row["is_risk_impossible_travel"],
            "UntrustedIP": row["is_risk_untrusted_ip"],
        } == {name: name in rating.low_confidence for name in rating.codes}


def test_breached_passwords_by_day(planted, build):
    breached = planted.truth.breached
    found = {
        (r["event_date"], r["type"]): r["events"]
        for r in build.marts["auth0__attack_protection_daily"]
        if r["protection"] == "breached_password_detection"
    }
    assert found == {
        (day, code): n for day, counts in breached.by_day.items() for code, n in counts.items()
    }
    overview = build.marts["auth0__daily_overview"]
    assert sum(r["breached_passwords"] for r in overview) == sum(breached.counts.values())


def test_the_brute_force_block_and_its_release(planted, build):
    brute = planted.truth.brute_force
    ips = build.marts["auth0__ip_activity_hourly"]
    flagged = [r for r in ips if r["is_brute_force"]]
    assert [(r["ip"], r["event_hour"]) for r in flagged] == [(brute.ip, naive(brute.hour))]
    assert flagged[0]["max_failures_one_user_name"] == brute.failures
    protection = build.marts["auth0__attack_protection_daily"]
    block = only(protection, event_date=brute.blocked_at.date(), type="limit_wc")
    release = only(protection, event_date=brute.released_at.date(), type="ublkdu")
    assert (block["protection"], block["events"], block["distinct_users"]) == (
        "brute_force_protection", 1, 1,
    )  # fmt: skip
    assert (release["protection"], release["events"]) == ("block_released", 1)
    users = only(build.marts["auth0__users"], user_id=brute.user_id)
    assert users["failed_logins"] >= brute.failures


def test_refresh_tokens_from_too_many_ips_are_one_users_one_app(planted, build):
    spread = planted.truth.refresh_tokens
    used = build.marts["auth0__refresh_token_use_daily"]
    mine = [r for r in used if (r["user_id"], r["client_id"]) == (spread.user_id, spread.client_id)]
    assert sum(r["exchanges"] for r in mine) == spread.events
    flagged = [r for r in used if r["is_too_many_ips"]]
    assert flagged, "the spread must cross auth0_refresh_token_max_ips on some day"
    assert {(r["user_id"], r["client_id"]) for r in flagged} == {(spread.user_id, spread.client_id)}
    assert all(r["distinct_ips"] > THRESHOLDS["auth0_refresh_token_max_ips"] for r in flagged)


def test_dormant_users_are_exactly_the_planted_ones(planted, build):
    users = build.marts["auth0__users"]
    dormant = {r["user_id"]: r for r in users if r["is_dormant"]}
    assert set(dormant) == {d.user_id for d in planted.truth.dormant}
    for planted_user in planted.truth.dormant:
        row = dormant[planted_user.user_id]
        last_login = planted_user.last_login
        assert row["last_login_at"] == (None if last_login is None else naive(last_login))
        assert row["last_event_at"] == naive(planted_user.last_event)


def test_hostile_values_are_stored_as_typed(planted, build):
    hostile = planted.truth.hostile
    staged = {r["log_id"]: r for r in build.marts[INCREMENTAL_MODEL]}
    for field, log_id in hostile.log_ids.items():
        assert staged[log_id][field] == getattr(hostile, field)


def test_both_warehouses_find_the_same(planted):
    duckdb, postgres = planted["duckdb"].whole, planted["postgres"].whole
    assert sorted(duckdb) == sorted(postgres)
    for table, found in duckdb.items():
        assert postgres[table] == found, f"{table} differs"


def test_the_next_run_adds_its_events_once(planted):
    staged = planted["duckdb-next-run"].marts[INCREMENTAL_MODEL]
    assert planted.new_log_ids <= {r["log_id"] for r in staged}
