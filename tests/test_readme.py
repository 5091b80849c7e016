"""The README stays true to the tap: its settings table and its two commands; the module map
lives in ARCHITECTURE.md alone."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_table_matches_the_taps_about_output():
    readme = (ROOT / "README.md").read_text()

    assert load_script("readme_settings").render(readme) == readme


def test_first_screen_gives_exactly_the_two_commands():
    first_screen = (ROOT / "README.md").read_text().split("---", 1)[0]

    commands = [
        line.split("#")[0].strip() for line in first_screen.splitlines() if line.startswith("make ")
    ]
    assert commands == ["make demo", "make test"]


def test_ci_runs_exactly_the_readme_test_command():
    lines = (ROOT / ".ci" / "run").read_text().split("\n")

    assert [line for line in lines if line.strip()][-1] == "make test"


def test_the_module_map_lives_only_in_architecture_md():
    package = ROOT / "tap_auth0_userlogs"
    modules = {p.name for p in package.rglob("*.py")} - {"__init__.py", "__main__.py"}
    # A module named bare (`plan.py`) or by its path in the package, not a file elsewhere.
    mention = re.compile(
        r"tap_auth0_userlogs/|(?<![\w/.-])(" + "|".join(map(re.escape, modules)) + r")\b"
    )
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        found = sorted({m.group(0) for m in mention.finditer(page.read_text())})
        assert found == [], f"{page.name} names modules; ARCHITECTURE.md lists them"
    for page in [ROOT / "README.md", ROOT / "docs" / "development.md"]:
        assert "ARCHITECTURE.md)" in page.read_text(), f"{page.name} links ARCHITECTURE.md"
