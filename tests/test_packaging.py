"""What a release carries stays true: the version and the changelog.

The Hub definition is checked in tests/test_hub_definition.py; the built wheel and sdist, and
the Hub definition, are exercised for real (a clean venv, Meltano) in tests/e2e/test_release.py.
"""

from __future__ import annotations

import re

from tests.tap_support import REPO_ROOT
from tests.test_readme import load_script

PYPROJECT = (REPO_ROOT / "pyproject.toml").read_text()
VERSION = re.search(r'^version = "([^"]+)"$', PYPROJECT, re.MULTILINE).group(1)


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
