"""meltano-hub.yml is what Meltano Hub accepts, and says what the tap says of itself.

The Hub checks a plugin definition two ways: a JSON schema (Draft 7) and yamllint with
`key-ordering` enabled. The facts below are taken from the Hub's repository (meltano/hub):

- schemas/common/common.schema.json: required `name`, `namespace`, `variant`;
  `supported_python_versions` items match `^3\\.\\d+$`;
- schemas/plugin_definitions/extractors.schema.json: required `quality`, and the only
  top-level keys an extractor may have (`additionalProperties: false`);
- schemas/plugin_definitions/hub_metadata.schema.json: the values of `quality`;
- schemas/common/extractors_specific.schema.json: the values of `capabilities`;
- schemas/common/base_setting.schema.json: a setting's required `name`, its allowed keys
  (`additionalProperties: false`) and the values of `kind`;
- .yamllint.yaml: `key-ordering: enable` (every mapping's keys in alphabetical order).

The end-to-end test (tests/e2e/test_release.py) adds the extractor to a Meltano project from
this file and extracts with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from tests.test_readme import load_script

REQUIRED_KEYS = ["name", "namespace", "quality", "variant"]
EXTRACTOR_KEYS = [
    "capabilities", "commands", "definition", "description", "docs", "domain_url",
    "executable", "hidden", "keywords", "label", "log_parser", "logo_url",
    "maintenance_status", "metadata", "name", "namespace", "next_steps", "pip_url", "prereq",
    "python", "quality", "repo", "requires", "schema", "select", "settings",
    "settings_group_validation", "settings_preamble", "supported_python_versions", "usage",
    "variant",
]  # fmt: skip
QUALITIES = ["gold", "silver", "bronze", "unknown"]
CAPABILITIES = [
    "properties", "catalog", "discover", "state", "about", "stream-maps", "schema-flattening",
    "activate-version", "batch", "test", "log-based", "structured-logging",
]  # fmt: skip
SETTING_KEYS = [
    "name", "aliases", "label", "value", "placeholder", "kind", "description", "tooltip",
    "documentation", "env", "value_processor", "value_post_processor", "oauth", "options",
    "docs", "hidden", "sensitive",
]  # fmt: skip
KINDS = [
    "oauth", "hidden", "password", "date_iso8601", "file", "email", "integer", "options",
    "object", "array", "boolean", "string", "decimal",
]  # fmt: skip
# A minimal schema of the Hub's rules above, for what this definition uses.
HUB_EXTRACTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": REQUIRED_KEYS,
    "additionalProperties": False,
    "properties": {
        **{key: {} for key in EXTRACTOR_KEYS},
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "variant": {"type": "string"},
        "quality": {"enum": QUALITIES},
        "capabilities": {"type": "array", "items": {"enum": CAPABILITIES}},
        "supported_python_versions": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^3\.\d+$"},
        },
        "settings_group_validation": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}},
        },
        "settings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    **{key: {} for key in SETTING_KEYS},
                    "kind": {"enum": KINDS},
                    "sensitive": {"type": "boolean"},
                    "options": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"value": {"type": "string"}}},
                    },
                },
            },
        },
    },
}
# The Meltano kinds a setting of each JSON schema type can take.
KINDS_OF_JSON_TYPE = {
    "string": {"string", "options", "date_iso8601", "password", "email", "file", "hidden"},
    "integer": {"integer", "options"},
    "number": {"decimal"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}


@pytest.fixture(scope="module")
def hub():
    return load_script("hub_definition")


@pytest.fixture(scope="module")
def about(hub) -> dict[str, Any]:
    return hub.about()


@pytest.fixture(scope="module")
def published() -> dict[str, Any]:
    """meltano-hub.yml as the Hub reads it, keys in the file's order."""
    return yaml.safe_load(load_script("hub_definition").HUB_FILE.read_text())


def unsorted_mappings(node: Any, path: str = "") -> Iterator[str]:
    """The path of every mapping, at any depth, whose keys are not in alphabetical order."""
    if isinstance(node, dict):
        if list(node) != sorted(node):
            yield path or "(top level)"
        for key, value in node.items():
            yield from unsorted_mappings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from unsorted_mappings(item, f"{path}[{index}]")


def json_type(prop: dict[str, Any]) -> str:
    types = prop.get("type") or ["object"]
    (named,) = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    return named


def test_hub_definition_matches_the_taps_about_output(hub):
    assert hub.render() == hub.HUB_FILE.read_text(), (
        "meltano-hub.yml is stale: run `python scripts/hub_definition.py`"
    )


def test_the_hub_schema_accepts_the_definition(published):
    errors = [
        f"{'.'.join(map(str, error.absolute_path)) or '(top level)'}: {error.message}"
        for error in Draft7Validator(HUB_EXTRACTOR_SCHEMA).iter_errors(published)
    ]

    assert errors == []
    assert published["quality"] == "unknown"  # no usage data yet: the honest rating


def test_the_schema_check_refuses_a_definition_without_variant_or_quality(published):
    stripped = {k: v for k, v in published.items() if k not in {"variant", "quality"}}

    messages = {e.message for e in Draft7Validator(HUB_EXTRACTOR_SCHEMA).iter_errors(stripped)}

    assert messages == {"'variant' is a required property", "'quality' is a required property"}


def test_every_mapping_has_its_keys_in_alphabetical_order(published):
    assert list(unsorted_mappings(published)) == []


def test_the_order_check_finds_an_unsorted_mapping_at_any_depth():
    definition = {"a": 1, "settings": [{"name": "x", "kind": "string"}], "z": {"b": 1, "a": 2}}

    assert list(unsorted_mappings(definition)) == ["settings[0]", "z"]


def test_settings_match_the_taps_about_output(published, about):
    advertised = about["settings"]["properties"]
    settings = published["settings"]

    assert [s["name"] for s in settings] == list(advertised)  # the tap's order
    for setting in settings:
        prop = advertised[setting["name"]]
        assert setting["kind"] in KINDS_OF_JSON_TYPE[json_type(prop)], setting["name"]
        assert bool(setting.get("sensitive")) == bool(prop.get("secret")), setting["name"]
        assert setting["description"] == " ".join(prop["description"].split()), setting["name"]
        if prop.get("format") == "date-time":
            assert setting["kind"] == "date_iso8601", setting["name"]
        if prop.get("enum"):
            assert setting["kind"] == "options", setting["name"]
            assert [o["value"] for o in setting["options"]] == prop["enum"], setting["name"]
    assert {s["name"] for s in settings if s.get("sensitive")} == {"access_token", "client_secret"}


def test_python_versions_and_capabilities_are_the_taps(published, about):
    assert published["supported_python_versions"] == about["supported_python_versions"]
    assert published["capabilities"] == about["capabilities"]
    assert published["name"] == published["pip_url"] == published["executable"] == about["name"]
    assert published["namespace"] == "tap_auth0_userlogs"
