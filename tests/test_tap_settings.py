"""Settings: every mistake ends before any request, with one line naming the setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.tap_support import REPO_ROOT, tap_config


def problems_of(config: dict) -> list[str]:
    with pytest.raises(ConfigValidationError) as failure:
        TapAuth0UserLogs(config=config, validate_config=True)
    return failure.value.errors


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"domain": "acme.auth0.com/api/v2"}, "domain"),
        ({"domain": "acme.auth0.com?x=1"}, "domain"),
        ({"domain": "user@acme.auth0.com"}, "domain"),
        ({"domain": "http://acme.auth0.com"}, "domain"),
        ({"domain": "not a host"}, "domain"),
        ({"domain": ""}, "domain"),
        ({"api_url": "http://auth0-proxy.example.com"}, "api_url"),
        ({"api_url": "ftp://127.0.0.1"}, "api_url"),
        ({"api_url": "https://user:pw@proxy.example.com"}, "api_url"),
        ({"access_token": None}, "access_token"),
        ({"access_token": None, "client_id": "abc"}, "client_secret"),
        ({"access_token": None, "client_secret": "s3cr3t"}, "client_id"),
        ({"client_id": "abc", "client_secret": "s3cr3t"}, "access_token"),
        ({"user_query": "email:*"}, "user_query"),
        ({"user_discovery": "magic"}, "user_discovery"),
        ({"user_ids": []}, "user_ids"),
        ({"user_ids": ["auth0|a", "auth0|a"]}, "user_ids"),
        ({"user_ids": [".."]}, "user_ids"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"lookback_minutes": -1}, "lookback_minutes"),
        ({"start_date": "last tuesday"}, "start_date"),
        ({"request_timeout": 0}, "request_timeout"),
    ],
)
def test_bad_setting_is_rejected_before_any_request(emulator, overrides, setting):
    problems = problems_of(tap_config(emulator, **overrides))

    assert any(setting in p for p in problems), problems
    assert all("\n" not in p for p in problems)
    assert emulator.counters.requests() == 0


def test_https_prefix_on_the_domain_is_tolerated(emulator):
    tap = TapAuth0UserLogs(
        config=tap_config(emulator, domain=f"https://{emulator.domain}/"), validate_config=True
    )
    assert tap.settings.base_url == emulator.base_url


def test_default_base_url_is_https_on_the_domain():
    tap = TapAuth0UserLogs(
        config={"domain": "acme.us.auth0.com", "access_token": "x", "user_ids": ["auth0|a"]},
        validate_config=True,
    )
    assert tap.settings.base_url == "https://acme.us.auth0.com"


def test_cli_exits_non_zero_naming_the_setting(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"domain": "acme.auth0.com", "user_ids": ["auth0|a"]}))

    completed = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode != 0
    assert "'access_token'" in completed.stderr
    assert completed.stdout == ""


def test_settings_are_read_from_the_environment(emulator, monkeypatch):
    config = tap_config(emulator)
    monkeypatch.setenv("TAP_AUTH0_USERLOGS_DOMAIN", config["domain"])
    monkeypatch.setenv("TAP_AUTH0_USERLOGS_API_URL", config["api_url"])
    monkeypatch.setenv("TAP_AUTH0_USERLOGS_ACCESS_TOKEN", config["access_token"])
    monkeypatch.setenv("TAP_AUTH0_USERLOGS_USER_IDS", json.dumps(config["user_ids"]))
    monkeypatch.setenv("TAP_AUTH0_USERLOGS_PAGE_SIZE", "25")

    tap = TapAuth0UserLogs(config=None, parse_env_config=True, validate_config=True)

    assert tap.config["user_ids"] == config["user_ids"]
    assert tap.config["page_size"] == 25


def test_settings_are_read_from_the_working_directorys_dotenv(emulator, tmp_path):
    # Meltano runs the tap in its project, whose .env may hold the secrets.
    config = tap_config(emulator)
    (tmp_path / ".env").write_text(
        f"TAP_AUTH0_USERLOGS_ACCESS_TOKEN={config.pop('access_token')}\n"
        f"TAP_AUTH0_USERLOGS_USER_IDS='{json.dumps(config.pop('user_ids')[:1])}'\n",
        encoding="utf-8",
    )
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TAP_AUTH0_USERLOGS")}

    completed = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", "--config", "config.json",
         "--config", "ENV"],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr[-2000:]
    user_ids = {
        message["record"]["user_id"]
        for message in map(json.loads, completed.stdout.splitlines())
        if message["type"] == "RECORD" and message["stream"] == "user_logs"
    }
    assert user_ids == {emulator.tenant.user_ids()[0]}
