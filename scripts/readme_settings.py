"""Regenerate the settings table in README.md from `tap-auth0-userlogs --about`.

Run `python scripts/readme_settings.py` after changing a setting; the test suite fails while
the README's table differs from what this prints.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
ENV_PREFIX = "TAP_AUTH0_USERLOGS_"


def settings_table() -> str:
    """The tap's settings as a Markdown table with each one's environment variable."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = ["| Setting | Environment variable | Required | Default | Description |",
            "|:--|:--|:--:|:--:|:--|"]  # fmt: skip
    for line in about.splitlines():
        match = re.match(r"^\| ([a-z_]+) \| (True|False) \| (.*?) \| (.*) \|$", line)
        if not match:
            continue  # the header, and the SDK's nested (dotted) settings
        name, required, default, description = match.groups()
        required = "yes" if required == "True" else ""
        default = "" if default == "None" else f"`{default}`"
        rows.append(
            f"| `{name}` | `{ENV_PREFIX}{name.upper()}` | {required} | {default} | {description} |"
        )
    return "\n".join(rows)


def render(readme: str) -> str:
    """`readme` with the table between the markers replaced by the current one."""
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{settings_table()}\n{END}{after}"


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
