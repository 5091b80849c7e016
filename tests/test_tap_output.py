"""What the tap prints: --about, --discover, the reference stream, and never a secret."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

from tap_auth0_userlogs.events.fields import normalize_event
from tap_auth0_userlogs.events.type_codes import CATEGORIES, category_of, load_event_types
from tests.emulator import TenantSpec
from tests.tap_support import run_sync, tap_config


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def test_about_lists_every_setting_and_marks_secrets():
    about = json.loads(run_cli("--about", "--format=json").stdout)

    settings = about["settings"]["properties"]
    for name in (
        "domain",
        "access_token",
        "client_id",
        "client_secret",
        "audience",
        "user_ids",
        "start_date",
        "page_size",
        "lookback_minutes",
        "event_types",
        "request_timeout",
        "api_url",
    ):
        assert name in settings
    assert settings["access_token"]["secret"] is True
    assert settings["client_secret"]["secret"] is True
    assert "domain" in about["settings"]["required"]


def test_about_markdown_has_a_settings_table():
    markdown = run_cli("--about", "--format=markdown").stdout

    assert "| domain |" in markdown
    assert "| lookback_minutes |" in markdown


def test_discover_describes_every_stream(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"domain": "acme.auth0.com", "access_token": "placeholder"}))

    catalog = json.loads(run_cli("--config", str(config), "--discover").stdout)

    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == {"user_logs", "log_event_types", "tenant_logs"}
    user_logs = streams["user_logs"]
    # The events of no user: the same schema and key, and read only when asked for.
    tenant_logs = streams["tenant_logs"]
    assert tenant_logs["schema"] == user_logs["schema"]
    assert tenant_logs["key_properties"] == ["tenant_domain", "log_id"]
    top = next(m["metadata"] for m in tenant_logs["metadata"] if not m["breadcrumb"])
    assert top["selected-by-default"] is False
    # log_id is unique only within a tenant; the tenant's domain keeps tenants apart.
    assert user_logs["key_properties"] == ["tenant_domain", "log_id"]
    assert user_logs["replication_key"] == "date"
    assert {"tenant_domain", "log_id"} <= set(user_logs["schema"]["required"])
    properties = user_logs["schema"]["properties"]
    assert properties["tenant_domain"]["type"] == ["string"]
    assert "domain" in properties["tenant_domain"]["description"]
    assert streams["log_event_types"]["key_properties"] == ["code"]
    assert "tenant_domain" not in streams["log_event_types"]["schema"]["properties"]
    assert properties["date"]["format"] == "date-time"
    assert "number" in properties["location_info"]["properties"]["latitude"]["type"]
    assert "object" in properties["details"]["type"]
    assert properties["scope"]["type"] == ["array", "null"]


def test_event_types_stream_ships_every_reference_code(emulator):
    result = run_sync(tap_config(emulator))

    rows = result.records("log_event_types")
    assert len(rows) == len(load_event_types()) == 185
    assert {r["category"] for r in rows} <= set(CATEGORIES)
    by_code = {r["code"]: r for r in rows}
    assert by_code["s"]["category"] == "login_success"
    assert by_code["fp"]["category"] == "login_failure"
    assert by_code["gd_auth_succeed"]["category"] == "mfa"
    assert by_code["ss"]["category"] == "signup"
    assert by_code["seccft"]["category"] == "token_exchange"
    assert by_code["mgmt_api_read"]["category"] == "management_api"
    assert by_code["api_limit"]["category"] == "rate_limit"


def test_no_description_runs_a_title_into_its_note():
    # "Failed Login This is only emitted ...": a note starts a sentence of its own.
    run_on = re.compile(r"[a-z] (This|Only) ")

    assert [t["code"] for t in load_event_types() if run_on.search(t["description"])] == []
    assert {t["code"]: t["description"] for t in load_event_types()}["f"].startswith(
        "Failed Login. This is only emitted"
    )


def test_every_event_names_its_tenant_by_the_configured_domain(emulator):
    # The domain as configured, prefix and case included; api_url points elsewhere.
    config = tap_config(emulator, domain=f"https://{emulator.domain.upper()}/")

    result = run_sync(config)

    records = result.records()
    assert records
    assert {r["tenant_domain"] for r in records} == {emulator.domain}
    assert all("tenant_domain" not in r for r in result.records("log_event_types"))


def test_a_field_named_tenant_domain_from_auth0_cannot_change_the_tenant():
    event = {"log_id": "900", "date": "2026-11-01T00:00:00.000Z", "tenant_domain": "other"}

    record = normalize_event(event, "acme.us.auth0.com")

    assert record["tenant_domain"] == "acme.us.auth0.com"


def test_unknown_type_code_is_categorised_other():
    assert category_of("zz_brand_new_type") == "other"


def test_secrets_never_appear_in_any_output(emulator_factory, caplog, fast_retries):
    emulator = emulator_factory(TenantSpec(users=3, events_per_user=30, seed=8))
    emulator.faults.add("503", endpoint="user_logs", count=1)
    emulator.faults.add("revoke_token", endpoint="user_logs", count=1, after=2)
    emulator.faults.add("429", endpoint="user_logs", count=1, after=4)
    caplog.set_level(logging.DEBUG)
    config = tap_config(
        emulator,
        access_token=None,
        client_id=emulator.client_id,
        client_secret=emulator.client_secret,
    )

    result = run_sync(config)
    bad = run_sync({**config, "client_secret": "not-" + emulator.client_secret}, allow_failure=True)

    assert bad.error is not None
    printed = json.dumps(result.messages) + json.dumps(bad.messages) + str(bad.error) + caplog.text
    tokens = emulator.issued_tokens()
    assert tokens
    for secret in (emulator.client_secret, *tokens):
        assert secret not in printed
    assert "Bearer " not in caplog.text
