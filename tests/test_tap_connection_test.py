"""`--test` answers in one line per capability the settings need, and never with a traceback.

Each test runs `tap-auth0-userlogs --config FILE --test` as a process, as Meltano or a user at
a shell would, against the emulator; the emulator's counters prove what it cost.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.tap_support import REPO_ROOT, client_credentials, run_sync, tap_config

PREFIX = "Connection test: "
LINE = re.compile(r"\| (INFO|WARNING|ERROR) +\| [\w.-]+ +\| (.*)$")


@dataclass
class CheckRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> dict[str, tuple[str, str]]:
        """Capability -> (log level, the rest of its line)."""
        found = {}
        for raw in self.stderr.splitlines():
            match = LINE.search(raw)
            if match and match.group(2).startswith(PREFIX):
                capability, rest = match.group(2)[len(PREFIX) :].split(": ", 1)
                found[capability] = (match.group(1), rest)
        return found

    @property
    def errors(self) -> list[str]:
        return [
            m.group(2)
            for m in map(LINE.search, self.stderr.splitlines())
            if m and m.group(1) == "ERROR"
        ]


def connection_test(tmp_path, config: dict, *args: str, before: tuple[str, ...] = ()) -> CheckRun:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_AUTH0_USERLOGS_")}
    started = time.monotonic()
    command = ["--config", str(path), *before, "--test", *args]
    done = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", *command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    run = CheckRun(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def discovering(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "user_ids"}


def test_good_token_passes_with_one_ok_line_per_capability(emulator, tmp_path):
    run = connection_test(tmp_path, discovering(tap_config(emulator)))

    assert run.returncode == 0, run.stderr
    assert list(run.lines) == ["credentials", "users", "user logs", "tenant log"]
    assert all(level == "INFO" and rest.startswith("ok (") for level, rest in run.lines.values())
    # One cheap request each, and nothing extracted.
    assert emulator.counters.requests(endpoint="users") == 1
    assert emulator.counters.requests(endpoint="user_logs") == 1
    assert emulator.counters.requests(endpoint="logs") == 1
    assert emulator.counters.requests(endpoint="jobs") == 0
    assert run.stdout == ""


def test_listed_users_need_no_user_discovery(emulator, tmp_path):
    run = connection_test(tmp_path, tap_config(emulator))

    assert run.returncode == 0, run.stderr
    assert list(run.lines) == ["credentials", "user logs", "tenant log"]
    assert emulator.counters.requests(endpoint="users") == 0


def test_client_credentials_pass_with_one_token_request(emulator, tmp_path):
    run = connection_test(tmp_path, client_credentials(emulator))

    assert run.returncode == 0, run.stderr
    assert run.lines["credentials"][1].startswith(f"ok (client_id {emulator.client_id!r}")
    assert emulator.counters.requests(endpoint="token") == 1


def test_wrong_token_fails_with_one_line_naming_access_token(emulator, tmp_path):
    run = connection_test(tmp_path, tap_config(emulator, access_token="not-a-token-at-all"))

    assert run.returncode == 1
    assert list(run.lines) == ["credentials"]
    (error,) = run.errors
    assert "FAILED" in error
    assert "401" in error
    assert "'access_token'" in error
    assert "not-a-token-at-all" not in run.stderr + run.stdout


def test_rejected_client_secret_fails_with_one_line(emulator, tmp_path):
    secret = "wrong-secret-0123456789"
    run = connection_test(tmp_path, client_credentials(emulator, client_secret=secret))

    assert run.returncode == 1
    (error,) = run.errors
    assert error.startswith(f"{PREFIX}credentials: FAILED")
    assert "'client_secret'" in error
    assert secret not in run.stderr + run.stdout


def test_missing_users_scope_is_named_and_fails(emulator, tmp_path):
    token = emulator.issue_token(scopes=["read:logs"])
    run = connection_test(tmp_path, discovering(tap_config(emulator, access_token=token)))

    assert run.returncode == 1
    level, rest = run.lines["users"]
    assert level == "ERROR"
    assert rest.startswith("FAILED, missing scope read:users (403: ")
    assert rest.endswith("or list the users in 'user_ids'")
    assert run.lines["user logs"][1].startswith("ok")
    assert run.lines["tenant log"][1].startswith("ok")
    assert token not in run.stderr


def test_a_user_query_auth0_rejects_is_named(emulator, tmp_path):
    config = discovering(tap_config(emulator, user_query="created_at:[2020 TO"))

    run = connection_test(tmp_path, config)

    assert run.returncode == 1
    rest = run.lines["users"][1]
    assert rest.startswith("FAILED, Auth0 answered 400 to GET /api/v2/users (")
    assert rest.endswith("check 'user_query' (Lucene syntax of user search v3)")


def test_token_without_a_log_scope_fails_on_user_logs(emulator, tmp_path):
    token = emulator.issue_token(scopes=["read:users"])
    run = connection_test(tmp_path, tap_config(emulator, access_token=token))

    assert run.returncode == 1
    assert run.lines["user logs"][1].startswith(
        "FAILED, missing scope read:logs or read:logs_users (403: "
    )


def test_per_user_strategy_needs_only_read_logs_users(emulator, tmp_path):
    token = emulator.issue_token(scopes=["read:logs_users"])
    config = tap_config(emulator, access_token=token, strategy="per_user")

    run = connection_test(tmp_path, config)

    assert run.returncode == 0, run.stderr
    assert list(run.lines) == ["credentials", "user logs"]
    assert emulator.counters.requests(endpoint="logs") == 0


def test_tenant_scan_without_read_logs_fails(emulator, tmp_path):
    token = emulator.issue_token(scopes=["read:logs_users"])
    config = tap_config(emulator, access_token=token, strategy="tenant_scan")

    run = connection_test(tmp_path, config)

    assert run.returncode == 1
    assert run.lines["tenant log"][0] == "ERROR"
    assert run.lines["tenant log"][1].startswith("FAILED, missing scope read:logs (403: ")


def test_auto_strategy_without_read_logs_warns_and_passes(emulator, tmp_path):
    # strategy auto falls back to reading users one by one when the tenant log is refused.
    token = emulator.issue_token(scopes=["read:logs_users"])
    run = connection_test(tmp_path, tap_config(emulator, access_token=token))

    assert run.returncode == 0, run.stderr
    level, rest = run.lines["tenant log"]
    assert level == "WARNING"
    assert rest.startswith("unavailable, missing scope read:logs")
    assert "one by one" in rest


def test_unresolvable_domain_fails_at_once_naming_domain(tmp_path):
    config = {"domain": "nosuch.invalid", "access_token": "a-token-for-nowhere"}

    run = connection_test(tmp_path, config)

    assert run.returncode == 1
    (error,) = run.errors
    assert error.startswith(
        f"{PREFIX}connection: FAILED, Cannot reach Auth0 at https://nosuch.invalid"
    )
    assert "does not resolve" in error
    assert "'domain'" in error
    assert run.seconds < 10


def test_unresolvable_domain_with_client_credentials_fails_before_the_token_request(tmp_path):
    config = {"domain": "nosuch.invalid", "client_id": "abc", "client_secret": "s3cret-value"}

    run = connection_test(tmp_path, config)

    assert run.returncode == 1
    (error,) = run.errors
    assert "does not resolve" in error
    assert "s3cret-value" not in run.stderr


def non_loopback_address() -> str | None:
    """This machine's address on its outward interface (no packet is sent), if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def closed_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def test_refused_connection_to_a_remote_host_fails_at_once_naming_api_url(tmp_path):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    api_url = f"https://{address}:{closed_port(address)}"
    config = {"domain": "acme.us.auth0.com", "api_url": api_url, "access_token": "a-token"}

    run = connection_test(tmp_path, config)

    assert run.returncode == 1
    (error,) = run.errors
    assert f"Cannot reach Auth0 at {api_url}: {address} refused the connection" in error
    assert "'api_url'" in error
    assert run.seconds < 10


def test_invalid_settings_end_the_test_with_one_line(tmp_path):
    run = connection_test(tmp_path, {"domain": "acme.us.auth0.com"})

    assert run.returncode == 1
    assert len(run.errors) >= 1
    assert any("access_token" in line for line in run.errors)


def test_schema_test_is_still_singer_sdks(emulator, tmp_path):
    run = connection_test(tmp_path, tap_config(emulator), "--test=schema")

    assert run.returncode == 0, run.stderr
    streams = {json.loads(line)["stream"] for line in run.stdout.splitlines()}
    assert streams == {"user_logs", "log_event_types", "tenant_logs"}
    assert emulator.counters.requests() == 0


@pytest.mark.parametrize(
    "credentials",
    [{"access_token": "a-token"}, {"client_id": "abc", "client_secret": "s3cret-value"}],
    ids=["token", "client-credentials"],
)
def test_a_sync_against_an_unresolvable_domain_fails_at_once_without_retrying(
    tmp_path, credentials
):
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps({"domain": "nosuch.invalid", "user_ids": ["auth0|1"], **credentials})
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tap_auth0_userlogs.tap", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=REPO_ROOT,
    )

    assert done.returncode == 1
    assert time.monotonic() - started < 10
    assert "Retrying" not in done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1
    assert "nosuch.invalid does not resolve" in errors[0]
    assert "'domain'" in errors[0]


@pytest.mark.parametrize("kind", ["503", "reset", "html", "truncated"])
def test_retry_warnings_are_one_short_line_without_the_query_string(
    emulator, fast_retries, caplog, kind
):
    emulator.faults.add(kind, endpoint="user_logs", count=2)

    with caplog.at_level(logging.WARNING, logger="tap-auth0-userlogs.api"):
        run_sync(tap_config(emulator, page_size=5))

    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 2
    for line in retries:
        assert re.match(
            r"^Retrying GET /api/v2/users/[^/?\s]+/logs in \d+\.\ds \(try \d of 6", line
        )
        assert "?" not in line
        assert "per_page" not in line
        assert "\n" not in line
        assert len(line) < 250, line


def with_tenant_logs_selected(tmp_path, config: dict) -> CheckRun:
    """`--test` with a catalog that selects tenant_logs, given before `--test`."""
    catalog = TapAuth0UserLogs(config=config, setup_mapper=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = True
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    return connection_test(tmp_path, config, before=("--catalog", str(tmp_path / "catalog.json")))


def test_tenant_logs_selected_needs_the_tenant_log_whatever_the_strategy(emulator, tmp_path):
    token = emulator.issue_token(scopes=["read:logs_users"])
    config = tap_config(emulator, access_token=token, strategy="per_user")

    run = with_tenant_logs_selected(tmp_path, config)

    assert run.returncode == 1, run.stderr
    level, line = run.lines["tenant log"]
    assert level == "ERROR"
    assert "FAILED" in line
    assert "read:logs" in line


def test_tenant_logs_selected_and_granted(emulator, tmp_path):
    run = with_tenant_logs_selected(tmp_path, tap_config(emulator, strategy="per_user"))

    assert run.returncode == 0, run.stderr
    level, line = run.lines["tenant log"]
    assert level == "INFO"
    assert "tenant_logs" in line
