"""What a release carries stays true: the Hub definition, the version and the changelog.

The built wheel and the Hub definition are exercised for real (a clean venv, Meltano) in
tests/e2e/test_release.py.
"""

from __future__ import annotations

import re

from tests.tap_support import REPO_ROOT
from tests.test_readme import load_script

PYPROJECT = (REPO_ROOT / "pyproject.toml").read_text()
VERSION = re.search(r'^version = "([^"]+)"$', PYPROJECT, re.MULTILINE).group(1)
# Meltano's setting kinds.
MELTANO_KINDS = {"string", "integer", "decimal", "boolean", "date_iso8601", "array", "object",
                 "options"}  # fmt: skip


def test_hub_definition_matches_the_taps_about_output():
    hub = load_script("hub_definition")

    assert hub.render() == hub.HUB_FILE.read_text(), (
        "meltano-hub.yml is stale: run `python scripts/hub_definition.py`"
    )


def test_hub_definition_marks_the_secrets_sensitive_and_every_kind_is_meltanos():
    hub = load_script("hub_definition")
    definition = hub.definition(hub.about())

    sensitive = {s["name"] for s in definition["settings"] if s.get("sensitive")}
    assert sensitive == {"access_token", "client_secret"}
    assert {s["kind"] for s in definition["settings"]} <= MELTANO_KINDS
    assert all(s["description"] for s in definition["settings"])
    assert definition["pip_url"] == "tap-auth0-userlogs"


def test_about_reports_the_version_of_pyproject():
    assert load_script("hub_definition").about()["version"] == VERSION


def test_the_version_is_written_only_in_pyproject():
    files = [
        *(REPO_ROOT / "tap_auth0_userlogs").glob("*.py"),
        *(REPO_ROOT / "scripts").glob("*.py"),
        *REPO_ROOT.glob("*.yml"),
        *REPO_ROOT.glob("*.json"),
    ]
    for path in files:
        text = path.read_text()
        assert "__version__" not in text, path
        assert not re.search(rf"""['"]{re.escape(VERSION)}['"]""", text), path


def test_changelog_has_an_unreleased_section_and_one_for_this_version():
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.MULTILINE)

    assert headings[0] == "Unreleased"
    assert VERSION in headings
