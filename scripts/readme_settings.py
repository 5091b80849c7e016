"""Regenerate the settings table in README.md from `tap-auth0-userlogs --about`.

Run `python scripts/readme_settings.py` after changing a setting; the test suite fails while
the README's table differs from what this prints.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"
ENV_PREFIX = "TAP_AUTH0_USERLOGS_"


def own_settings() -> list[str]:
    """The settings the tap declares; `--about` adds the Singer SDK's (stream maps, ...).

    Read in a fresh interpreter: singer-sdk adds its own settings to the tap class's schema as
    soon as a tap is made, which a test run in this process may already have done.
    """
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from tap_auth0_userlogs.tap import TapAuth0UserLogs as tap; "
            "print(json.dumps(list(tap.config_jsonschema['properties'])))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return list(json.loads(out))


def settings_table() -> str:
    """The tap's settings as a Markdown table with each one's environment variable, then a line
    naming the settings every Singer SDK tap has."""
    own = own_settings()
    sdk: list[str] = []
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
        if name not in own:
            sdk.append(f"`{name}`")
            continue
        required = "yes" if required == "True" else ""
        default = "" if default == "None" else f"`{default}`"
        description = re.sub(r"(?<!\\)\|", r"\\|", description)  # a `|` would end the cell
        rows.append(
            f"| `{name}` | `{ENV_PREFIX}{name.upper()}` | {required} | {default} | {description} |"
        )
    if sdk:  # after a blank line, which ends the table
        rows += [
            "",
            f"The Singer SDK adds the settings every SDK tap has: {', '.join(sdk)} (variables "
            f"`{ENV_PREFIX}<NAME>` too; `tap-auth0-userlogs --about` describes them).",
        ]
    return "\n".join(rows)


def render(readme: str) -> str:
    """`readme` with the table between the markers replaced by the current one."""
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{settings_table()}\n{END}{after}"


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
