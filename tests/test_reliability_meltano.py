"""Resuming through Meltano itself: `meltano run` picks up where a killed or failed run stopped.

The tap runs under `meltano run tap-auth0-userlogs target-duckdb` against the emulator, with
its own Meltano system database and DuckDB file. The first run is cut short (the tap is killed
with SIGKILL in the middle of the users, or Auth0 starts refusing its token); the second is the
same command. The warehouse, keyed on log_id, must then hold exactly the emulator's events,
once each, and the second run must have started from the state Meltano kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.meltano_cli import EXTRACTOR, REPO_ROOT, Meltano, MeltanoFailed, find_meltano
from tests.e2e.pipeline import duckdb_settings, tap_settings
from tests.e2e.warehouses import DuckDBWarehouse
from tests.emulator import TenantSpec
from tests.reliability_support import FIGURES, user_bookmarks

pytest_plugins = ["tests.reliability_support"]

LOADER = "target-duckdb"
TENANT = TenantSpec(users=6, events_per_user=(40, 80), seed=29)
# One user at a time, and requests that take this long, so that a STATE follows the first
# users (the tap spends at most a small share of its time writing STATE).
LATENCY_MS = 40
PAGE_SIZE = 10
TAP = REPO_ROOT / ".meltano/extractors/tap-auth0-userlogs/venv/bin/tap-auth0-userlogs"
TARGET = REPO_ROOT / ".meltano/loaders/target-duckdb/venv/bin/target-duckdb"
INSTALL_TIMEOUT_SECONDS = 600
RUN_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def meltano() -> Meltano:
    """Meltano with this project's extractor and target-duckdb installed."""
    try:
        command = Meltano(find_meltano())
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    # The extractor is installed from this work tree; new dependencies need a reinstall.
    if (
        not TAP.is_file()
        or subprocess.run([TAP, "--about"], capture_output=True, check=False).returncode
    ):
        command("install", "--plugin-type", "extractor", EXTRACTOR, timeout=INSTALL_TIMEOUT_SECONDS)
    if not TARGET.is_file():
        command("install", "--plugin-type", "loader", LOADER, timeout=INSTALL_TIMEOUT_SECONDS)
    return command


def pipeline(meltano: Meltano, emulator, folder: Path, **settings) -> Meltano:
    return meltano.pipeline(
        folder / "meltano.db",
        **{
            **tap_settings(emulator, emulator.tenant.user_ids()),
            "TAP_AUTH0_USERLOGS_PAGE_SIZE": PAGE_SIZE,
            "TAP_AUTH0_USERLOGS_MAX_CONCURRENCY": 1,
            **duckdb_settings(folder / "warehouse.duckdb"),
            **settings,
        },
    )


def warehouse(folder: Path) -> DuckDBWarehouse:
    return DuckDBWarehouse(folder / "warehouse.duckdb")


def tap_process_of(meltano_run: subprocess.Popen) -> int | None:
    """The pid of the extracting tap Meltano started (not its --discover run), if running."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        session = int(stat.rsplit(")", 1)[1].split()[3])
        is_tap = any(part.endswith(EXTRACTOR.encode()) for part in command)
        if session == meltano_run.pid and is_tap and b"--catalog" in command:
            return int(entry.name)
    return None


@dataclass
class KilledRun:
    exit_code: int
    log: str


def run_and_kill_the_tap(pipe: Meltano, emulator, after_requests: int) -> KilledRun:
    """`meltano run`, with its tap killed by SIGKILL after that many user_logs requests."""
    with tempfile.TemporaryFile(mode="w+") as log:
        exit_code = _kill_the_tap(pipe, emulator, after_requests, log)
        log.seek(0)
        return KilledRun(exit_code, log.read())


def _kill_the_tap(pipe: Meltano, emulator, after_requests: int, log: t.IO[str]) -> int:
    run = subprocess.Popen(
        [str(pipe.executable), "run", EXTRACTOR, LOADER],
        cwd=REPO_ROOT,
        env=pipe.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    try:
        while emulator.counters.requests(endpoint="user_logs") < after_requests:
            assert run.poll() is None, "meltano run ended before the tap could be killed"
            assert time.monotonic() < deadline, "the tap sent too few requests in time"
            time.sleep(0.02)
        pid = tap_process_of(run)
        assert pid is not None, "the tap process was not found"
        os.kill(pid, signal.SIGKILL)
        FIGURES.interruptions["SIGKILL under Meltano"] += 1
        return run.wait(timeout=RUN_TIMEOUT_SECONDS)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def full_sync_requests(emulator) -> int:
    """user_logs requests a sync from scratch needs: each user's pages and a last short one."""
    return sum(
        len(emulator.tenant.events_for(u)) // PAGE_SIZE + 1 for u in emulator.tenant.user_ids()
    )


def test_meltano_resumes_after_the_tap_is_killed(meltano, emulator_factory, tmp_path, transcript):
    emulator = transcript.watch(emulator_factory(TENANT, latency_ms=LATENCY_MS))
    pipe = pipeline(meltano, emulator, tmp_path)
    every_request = full_sync_requests(emulator)

    killed = run_and_kill_the_tap(pipe, emulator, after_requests=every_request * 2 // 3)
    kept = user_bookmarks(pipe.state(LOADER)["singer_state"])
    emulator.reset_counters()
    transcript.record(killed.log, pipe.run(LOADER))

    FIGURES.syncs += 2
    expected = emulator.tenant.expected_log_ids()
    loaded = warehouse(tmp_path)
    FIGURES.count_outcome(expected, loaded.log_ids())
    assert killed.exit_code != 0
    assert 0 < len(kept) < TENANT.users  # Meltano kept the users finished before the kill
    assert loaded.log_ids() == expected
    assert loaded.row_count("user_logs") == len(expected)
    # Users bookmarked before the kill cost one request each in the second run.
    assert emulator.counters.requests(endpoint="user_logs") < every_request


def test_meltano_resumes_after_a_permanent_failure(meltano, emulator_factory, tmp_path, transcript):
    emulator = transcript.watch(emulator_factory(TENANT, latency_ms=LATENCY_MS))
    emulator.faults.add(
        "revoke_token", endpoint="user_logs", after=full_sync_requests(emulator) * 2 // 3
    )
    failing = pipeline(meltano, emulator, tmp_path)

    with pytest.raises(MeltanoFailed, match="'access_token'") as failure:
        failing.run(LOADER)
    kept = user_bookmarks(failing.state(LOADER)["singer_state"])
    fixed = pipeline(
        meltano, emulator, tmp_path, TAP_AUTH0_USERLOGS_ACCESS_TOKEN=emulator.issue_token()
    )
    transcript.record(str(failure.value), fixed.run(LOADER))

    FIGURES.syncs += 2
    expected = emulator.tenant.expected_log_ids()
    loaded = warehouse(tmp_path)
    FIGURES.count_outcome(expected, loaded.log_ids())
    assert 0 < len(kept) < TENANT.users
    assert loaded.log_ids() == expected
    assert loaded.row_count("user_logs") == len(expected)
