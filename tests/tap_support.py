"""Running the tap in-process against the emulator and reading what it wrote."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tap_auth0_userlogs.tap import TapAuth0UserLogs

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class SyncResult:
    """The Singer messages one sync wrote to stdout."""

    messages: list[dict]
    error: BaseException | None = None

    def records(self, stream: str = "user_logs") -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def log_ids(self) -> list[str]:
        return [record["log_id"] for record in self.records()]

    @property
    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict:
        return self.states[-1]


def tap_config(emulator, **overrides) -> dict:
    """A config for the emulator's tenant: every current user, the static token."""
    config = {
        "domain": emulator.domain,
        "api_url": emulator.base_url,
        "access_token": emulator.static_token,
        "user_ids": emulator.tenant.user_ids(),
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


def catalog_of(config: dict, *selected: str) -> dict:
    """The tap's catalog with exactly `selected` streams selected."""
    catalog = TapAuth0UserLogs(config=config, setup_mapper=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in selected
    return catalog


def client_credentials(emulator, **overrides) -> dict:
    """A config for the emulator's tenant that authenticates with its default client."""
    credentials = {
        "access_token": None,
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
    }
    return tap_config(emulator, **{**credentials, **overrides})


def run_sync(
    config: dict,
    state: dict | None = None,
    catalog: dict | None = None,
    *,
    allow_failure: bool = False,
) -> SyncResult:
    """One whole sync, in this process, over real HTTP.

    With `allow_failure`, a failing sync returns what it wrote before failing, and the error.
    """
    tap = TapAuth0UserLogs(config=config, state=state, catalog=catalog, validate_config=True)
    out = io.StringIO()
    error: BaseException | None = None
    with redirect_stdout(out):
        try:
            tap.sync_all()
        except Exception as exc:
            if not allow_failure:
                raise
            error = exc
    messages = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return SyncResult(messages, error)


def bookmarks(state: dict) -> dict[str, str]:
    """user_id -> bookmarked date, from the SDK's partitioned state."""
    partitions = state["bookmarks"]["user_logs"].get("partitions", [])
    return {p["context"]["user_id"]: p.get("replication_key_value") for p in partitions}


def advertised_settings() -> dict[str, Any]:
    """The settings `tap-auth0-userlogs --about --format=json` lists, by name."""
    about = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return json.loads(about.stdout)["settings"]["properties"]
