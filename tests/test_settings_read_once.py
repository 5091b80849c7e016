"""Settings are read once, into one typed `Settings`; nothing else reads the raw config."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import tap_auth0_userlogs
from tap_auth0_userlogs.settings import Settings
from tap_auth0_userlogs.tap import TapAuth0UserLogs

PACKAGE = Path(tap_auth0_userlogs.__file__).parent
# The two modules that read the config as the user wrote it: to check it, and to type it.
READERS = {PACKAGE / "settings.py", PACKAGE / "inputs.py"}
TOKEN = "eyJ.static-token-never-printed"
SECRET = "client-secret-never-printed"


def test_every_setting_is_typed_with_its_default():
    settings = TapAuth0UserLogs(
        config={"domain": "https://Acme.us.auth0.com/", "access_token": TOKEN},
        validate_config=True,
    ).settings

    assert settings.tenant_domain == "acme.us.auth0.com"
    assert settings.base_url == "https://acme.us.auth0.com"
    assert settings.audience == "https://acme.us.auth0.com/api/v2/"
    assert settings.every_user
    assert settings.page_size == 100
    assert settings.lookback == datetime.timedelta(minutes=15)
    assert settings.log_id_margin == datetime.timedelta(0)
    assert settings.kept_types is None
    assert settings.max_requests_per_second is None
    assert (settings.strategy, settings.user_discovery) == ("auto", "auto")


def test_given_values_are_typed():
    settings = Settings.from_config(
        {
            "domain": "acme.us.auth0.com",
            "api_url": "http://127.0.0.1:8080/",
            "client_id": "cid",
            "client_secret": SECRET,
            "user_ids": ["auth0|a", "auth0|b"],
            "start_date": "2026-01-01T00:00:00Z",
            "lookback_minutes": 5,
            "event_types": ["s", "f"],
            "log_id_margin_seconds": 2.5,
            "max_requests_per_second": 3,
        }
    )

    assert settings.base_url == "http://127.0.0.1:8080"
    assert settings.tenant_domain == "acme.us.auth0.com"
    assert settings.user_ids == ("auth0|a", "auth0|b")
    assert not settings.every_user
    assert settings.start_date == datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert settings.lookback == datetime.timedelta(minutes=5)
    assert settings.kept_types == frozenset({"s", "f"})
    assert settings.log_id_margin == datetime.timedelta(seconds=2.5)
    assert settings.max_requests_per_second == 3.0


def test_secrets_stay_out_of_the_settings_printed_form():
    with_token = Settings.from_config({"domain": "acme.us.auth0.com", "access_token": TOKEN})
    with_secret = Settings.from_config(
        {"domain": "acme.us.auth0.com", "client_id": "cid", "client_secret": SECRET}
    )

    assert TOKEN not in repr(with_token)
    assert SECRET not in repr(with_secret)
    assert "cid" in repr(with_secret)


def test_no_module_reads_the_raw_config_but_the_two_that_check_and_type_it():
    reads = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path in READERS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if _reads_config(node):
                reads.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert reads == []


def _reads_config(node: ast.AST) -> bool:
    """`config.get(...)`, `config[...]` (also on `self.config`) or a `setting(...)` call."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"setting", "_setting"}:
            return True
        return isinstance(func, ast.Attribute) and func.attr == "get" and _is_config(func.value)
    return isinstance(node, ast.Subscript) and _is_config(node.value)


def _is_config(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return name in {"config", "_config"}
