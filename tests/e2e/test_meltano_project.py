"""meltano.yml describes the tap truthfully, and `meltano install` sets up every plugin in it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests import tap_support
from tests.e2e.meltano_cli import EXTRACTOR, REPO_ROOT, Meltano

# Meltano's own name for JSON schema types; `secret` settings must also be `sensitive`.
_KIND_OF_TYPE = {
    "string": {"string", "date_iso8601", "options"},
    "integer": {"integer"},
    "number": {"decimal"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())


@pytest.fixture(scope="module")
def extractor(project: dict[str, Any]) -> dict[str, Any]:
    (plugin,) = [p for p in project["plugins"]["extractors"] if p["name"] == EXTRACTOR]
    return plugin


@pytest.fixture(scope="module")
def advertised_settings() -> dict[str, Any]:
    """The settings the tap itself lists in `--about`."""
    return tap_support.advertised_settings()


def _json_type(prop: dict[str, Any]) -> str:
    types = prop.get("type") or ["object"]
    types = [types] if isinstance(types, str) else types
    (json_type,) = [t for t in types if t != "null"]
    return json_type


def test_project_requires_meltano_4(project: dict[str, Any]) -> None:
    assert project["requires_meltano"] == ">=4.0"
    assert project["default_environment"] in [e["name"] for e in project["environments"]]


def test_every_advertised_setting_is_declared_with_a_matching_kind(
    extractor: dict[str, Any], advertised_settings: dict[str, Any]
) -> None:
    declared = {s["name"]: s["kind"] for s in extractor["settings"]}
    assert set(declared) == set(advertised_settings)
    for name, prop in advertised_settings.items():
        assert declared[name] in _KIND_OF_TYPE[_json_type(prop)], name


def test_secrets_are_sensitive(
    extractor: dict[str, Any], advertised_settings: dict[str, Any]
) -> None:
    sensitive = {s["name"] for s in extractor["settings"] if s.get("sensitive")}
    secret = {name for name, prop in advertised_settings.items() if prop.get("secret")}
    assert sensitive == secret == {"access_token", "client_secret"}


def test_a_token_or_client_credentials_authenticate(extractor: dict[str, Any]) -> None:
    groups = [set(group) for group in extractor["settings_group_validation"]]
    assert groups == [{"domain", "access_token"}, {"domain", "client_id", "client_secret"}]


def test_both_streams_are_selected(extractor: dict[str, Any]) -> None:
    assert extractor["select"] == ["user_logs.*", "log_event_types.*"]


def test_loaders_and_dbt_pin_exact_versions(project: dict[str, Any]) -> None:
    plugins = project["plugins"]
    for plugin in [*plugins["loaders"], *plugins["utilities"]]:
        for requirement in plugin["pip_url"].split():
            assert "==" in requirement, (plugin["name"], requirement)


def test_meltano_install_sets_up_every_plugin(meltano: Meltano, project: dict[str, Any]) -> None:
    for plugin_type, plugins in project["plugins"].items():
        for plugin in plugins:
            executable = (
                REPO_ROOT / ".meltano" / plugin_type / plugin["name"] / "venv" / "bin"
            ) / plugin["executable"]
            assert executable.is_file(), executable
