"""The tap quiets singer-sdk's per-user sort warning, and only once a tap exists."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.tap_support import REPO_ROOT, run_sync, tap_config

SORT_WARNING = "Stream is assumed to be unsorted, progress is not resumable if interrupted"


def test_importing_the_tap_adds_no_filter_to_singer_sdk_logging():
    # A fresh interpreter: this one has made taps already.
    probe = (
        "import logging, tap_auth0_userlogs.tap; "
        "print(len(logging.getLogger('singer_sdk').filters))"
    )

    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert completed.stdout.strip() == "0"


def test_a_tap_drops_only_the_sort_warning_from_singer_sdk(caplog):
    TapAuth0UserLogs(
        config={"domain": "acme.auth0.com", "access_token": "x", "user_ids": ["auth0|a"]},
        validate_config=True,
    )
    sdk = logging.getLogger("singer_sdk")

    with caplog.at_level(logging.WARNING):
        sdk.warning(SORT_WARNING)
        sdk.warning("Another singer-sdk warning")

    assert [r.getMessage() for r in caplog.records] == ["Another singer-sdk warning"]


def test_an_in_process_sync_of_many_users_logs_no_sort_warning(emulator, caplog):
    assert len(emulator.tenant.user_ids()) > 1

    with caplog.at_level(logging.WARNING):
        result = run_sync(tap_config(emulator))

    assert result.log_ids()
    assert not [r for r in caplog.records if "assumed to be unsorted" in r.getMessage()]


def test_a_command_line_sync_of_many_users_logs_no_sort_warning(emulator, tmp_path):
    assert len(emulator.tenant.user_ids()) > 1
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(emulator)), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TAP_AUTH0_USERLOGS")}

    completed = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", "--config", str(config)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert '"type":"RECORD"' in completed.stdout.replace(" ", "")
    assert "assumed to be unsorted" not in completed.stderr
