"""``python -m tests.emulator``: its help, its start-up lines, its env file and its shutdown."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.emulator.cli import build_parser, event_count

REPO_ROOT = Path(__file__).resolve().parents[2]
KNOBS = [
    "--port",
    "--host",
    "--users",
    "--events-per-user",
    "--seed",
    "--now",
    "--history-days",
    "--latency-ms",
    "--jitter-ms",
    "--rate-limit",
    "--burst",
    "--logs-rate-limit",
    "--logs-burst",
    "--users-rate-limit",
    "--users-burst",
    "--fault-rate",
    "--retention-days",
    "--token-ttl",
    "--domain",
    "--heavy-user-events",
    "--job-pending-polls",
    "--write-env",
]


def run_module(*args: str, **kwargs) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.emulator", *args]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, **kwargs)


def test_help_documents_every_knob():
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    missing = [knob for knob in KNOBS if knob not in result.stdout]
    assert missing == []
    documented = {a.option_strings[0] for a in build_parser()._actions if a.option_strings}
    assert documented - {"-h"} == set(KNOBS)


@pytest.mark.parametrize(("text", "value"), [("25", 25), ("5-40", (5, 40))])
def test_events_per_user_takes_a_count_or_a_range(text, value):
    assert event_count(text) == value


def test_started_emulator_prints_its_settings_serves_and_stops_on_sigterm(tmp_path):
    env_file = tmp_path / "emulator.env"
    args = ("--port", "0", "--users", "4", "--seed", "3", "--write-env", str(env_file))
    with run_module(*args) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline().strip() for _ in range(8)]
            values = dict(line.split(": ", 1) for line in lines)
            assert {"base_url", "domain", "token", "client_id", "client_secret"} <= set(values)
            headers = {"Authorization": f"Bearer {values['token']}"}
            users = requests.get(f"{values['base_url']}/api/v2/users", headers=headers, timeout=5)
            assert len(users.json()) == 4
            pairs = (line.split("=", 1) for line in env_file.read_text().splitlines())
            settings = {key: shlex.split(value)[0] for key, value in pairs}
            assert settings["AUTH0_EMULATOR_URL"] == values["base_url"]
            assert settings["AUTH0_EMULATOR_TOKEN"] == values["token"]
            assert settings["AUTH0_EMULATOR_CLIENT_SECRET"] == values["client_secret"]
            user_ids = [u["user_id"] for u in users.json()]
            assert json.loads(settings["AUTH0_EMULATOR_USER_IDS"]) == user_ids
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
