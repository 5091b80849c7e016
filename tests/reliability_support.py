"""What the reliability suite shares: a keyed target, the tap as a real process, a secrets watch.

Test modules load this as a pytest plugin (``pytest_plugins = ["tests.reliability_support"]``),
which brings its fixtures and prints the suite's figures (what was tried, what was lost) at the
end of the run. They also import it first, so pytest cannot rewrite its asserts, which carry
their own messages instead (PYTEST_DONT_REWRITE).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import backoff
import pytest

from tap_auth0_userlogs.auth0 import ratelimit
from tap_auth0_userlogs.auth0.ratelimit import RateLimitGovernor
from tap_auth0_userlogs.events.dates import parse_date
from tests.tap_support import REPO_ROOT

# Every endpoint the tap has a reason to call (the emulator's names for them).
NEEDED_ENDPOINTS = frozenset({"token", "user_logs", "logs", "users", "user", "jobs", "export"})
# A process that has not finished by then is stuck; fail instead of hanging the suite.
PROCESS_TIMEOUT_SECONDS = 120
# An Authorization header or a bearer credential, in any of the ways a log could print one
# (not the words "JWT Bearer Assertion" of an event type's description).
HEADER_PATTERNS = {
    "an Authorization header": re.compile(r"""authorization['"]?\s*[:=]""", re.IGNORECASE),
    "a bearer credential": re.compile(r"Bearer\s+[\w\-.~+/]{16,}"),
}


# ------------------------------------------------------------------ figures


@dataclass
class Figures:
    """What the reliability suite tried and what it lost, summed over the whole run."""

    fault_schedules: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)
    syncs: int = 0
    interruptions: Counter[str] = field(default_factory=Counter)
    bad_inputs: int = 0
    events_expected: int = 0
    events_lost: int = 0
    output_bytes_checked: int = 0
    secrets_found: int = 0

    def count_faults(self, emulator: Any) -> None:
        """Add the faults the emulator injected, by kind."""
        self.faults_injected.update(r.fault for r in emulator.request_log if r.fault)

    def count_outcome(self, expected: set[str], received: set[str]) -> None:
        self.events_expected += len(expected)
        self.events_lost += len(expected - received)

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(self.faults_injected.items()))
        stops = ", ".join(f"{k} x{n}" for k, n in sorted(self.interruptions.items()))
        return [
            f"fault schedules: {self.fault_schedules}; faults injected: "
            f"{sum(self.faults_injected.values())} ({kinds or 'none'})",
            f"syncs run: {self.syncs}; interruptions: {sum(self.interruptions.values())} "
            f"({stops or 'none'}); bad inputs refused: {self.bad_inputs}",
            f"events expected: {self.events_expected}; events lost: {self.events_lost}",
            f"output checked for secrets: {self.output_bytes_checked:,} bytes; "
            f"secrets found: {self.secrets_found}",
        ]


FIGURES = Figures()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the figures when any reliability test ran."""
    if not FIGURES.syncs and not FIGURES.bad_inputs:
        return
    terminalreporter.section("reliability figures")
    for line in FIGURES.lines():
        terminalreporter.write_line(line)


# ------------------------------------------------------------------ secrets


class Transcript:
    """Everything the tap printed during one test, and the emulators whose secrets it knows."""

    def __init__(self, caplog: pytest.LogCaptureFixture | None = None) -> None:
        self._texts: list[str] = []
        self._emulators: list[Any] = []
        self._extra_secrets: set[str] = set()
        self._caplog = caplog

    def watch(self, emulator: Any) -> Any:
        """Treat every token `emulator` issues, and its client secret, as secrets."""
        if all(emulator is not known for known in self._emulators):
            self._emulators.append(emulator)
        return emulator

    def add_secret(self, secret: str) -> None:
        self._extra_secrets.add(secret)

    def record(self, *texts: Any) -> None:
        """Keep output to grep: strings as they are, anything else as JSON."""
        for text in texts:
            self._texts.append(text if isinstance(text, str) else json.dumps(text, default=str))

    def record_error(self, error: BaseException | None) -> None:
        """Keep an exception the way a crash would print it: message and traceback."""
        if error is not None:
            self._texts.append("".join(traceback.format_exception(error)))

    def secrets(self) -> dict[str, str]:
        """Each secret, labelled without revealing it."""
        found: dict[str, str] = {}
        for n, emulator in enumerate(self._emulators):
            found[f"client secret of emulator {n}"] = emulator.client_secret
            for i, token in enumerate(emulator.issued_tokens()):
                found[f"token {i} of emulator {n}"] = token
        for i, secret in enumerate(sorted(self._extra_secrets)):
            found[f"extra secret {i}"] = secret
        return found

    def leaks(self) -> list[str]:
        """Labels of the secrets (and header patterns) found in what was recorded or logged."""
        text = "\n".join([*self._texts, self._caplog.text if self._caplog else ""])
        leaked = [label for label, secret in self.secrets().items() if secret and secret in text]
        return leaked + [
            label for label, pattern in HEADER_PATTERNS.items() if pattern.search(text)
        ]

    @property
    def size(self) -> int:
        return sum(len(t) for t in self._texts) + len(self._caplog.text if self._caplog else "")


@pytest.fixture
def transcript(caplog: pytest.LogCaptureFixture):
    """Collects the test's output at DEBUG level; at teardown, no secret may be in it."""
    caplog.set_level(logging.DEBUG)
    watch = Transcript(caplog)
    yield watch
    leaks = watch.leaks()
    FIGURES.output_bytes_checked += watch.size
    FIGURES.secrets_found += len(leaks)
    assert not leaks, f"secrets in the tap's output: {leaks}"


# ------------------------------------------------------------------ quick waits in-process


@pytest.fixture
def fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry and rate-limit waits of milliseconds, for in-process runs under many faults."""
    expo = backoff.expo

    def brief_expo(*args: Any, factor: float = 1, **kwargs: Any) -> Any:
        return expo(*args, factor=factor / 50, **kwargs)

    # Both the requests' and the token's retries build their waits from backoff.expo.
    monkeypatch.setattr(backoff, "expo", brief_expo)
    # The rate-limit governor: every wait capped at 20 ms, and a bucket that refills at once.
    monkeypatch.setitem(RateLimitGovernor.__init__.__kwdefaults__, "max_wait", 0.02)
    monkeypatch.setattr(ratelimit, "ASSUMED_REFILL_PER_SECOND", 1000.0)


# ------------------------------------------------------------------ a keyed target


@dataclass
class KeyedTarget:
    """One row per log_id, as a warehouse keyed on log_id keeps them, and the last STATE.

    log_ids are unique across a tenant, so the rows of several event streams share one key.
    """

    rows: dict[str, dict] = field(default_factory=dict)
    deliveries: Counter[str] = field(default_factory=Counter)
    state: dict | None = None
    streams: tuple[str, ...] = ("user_logs",)

    def receive(self, messages: list[dict]) -> list[dict]:
        """Take one run's messages; returns the records that were already in the table."""
        again = []
        for message in messages:
            if message.get("type") == "STATE":
                self.state = message["value"]
            elif message.get("type") == "RECORD" and message.get("stream") in self.streams:
                record = message["record"]
                if record["log_id"] in self.rows:
                    again.append(record)
                self.rows[record["log_id"]] = record
                self.deliveries[record["log_id"]] += 1
        return again


def user_bookmarks(state: dict | None) -> dict[str, datetime]:
    """user_id -> bookmarked date, from the tap's per-user partitions."""
    partitions = ((state or {}).get("bookmarks", {}).get("user_logs") or {}).get("partitions", [])
    return {
        p["context"]["user_id"]: parse_date(p["replication_key_value"])
        for p in partitions
        if p.get("replication_key_value")
    }


def outside_lookback(
    again: list[dict], state: dict | None, lookback_minutes: int
) -> list[tuple[str, str]]:
    """Re-delivered records older than their user's bookmark minus the look-back.

    A user without a bookmark in `state` was never finished, so reading it whole again is
    expected; a bookmarked user may only be re-read from its bookmark minus the look-back.
    """
    marks = user_bookmarks(state)
    window = timedelta(minutes=lookback_minutes)
    return [
        (r["log_id"], r["date"])
        for r in again
        if r["user_id"] in marks and parse_date(r["date"]) < marks[r["user_id"]] - window
    ]


# ------------------------------------------------------------------ the tap as a process


def messages_of(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.strip()]


@dataclass
class TapProcess:
    """What one tap process wrote: stdout as a target receives it, stderr as a log collector."""

    lines: list[str]  # the whole lines a target took in: up to the first broken one
    output: str  # all of stdout
    stderr: str
    returncode: int
    interrupted_by: str | None = None  # the signal sent before the process ended on its own
    broken: list[str] = field(default_factory=list)  # lines that are not JSON messages

    @property
    def messages(self) -> list[dict]:
        return messages_of(self.lines)

    def log_ids(self) -> list[str]:
        return [
            m["record"]["log_id"]
            for m in self.messages
            if m["type"] == "RECORD" and m["stream"] == "user_logs"
        ]

    def error_lines(self) -> list[str]:
        """The stderr lines logged at ERROR level."""
        return [line for line in self.stderr.splitlines() if "| ERROR" in line]

    def record_into(self, transcript: Transcript) -> None:
        transcript.record(self.output, self.stderr)


def tap_environment(**extra: str) -> dict[str, str]:
    """This environment without the developer's own tap settings, logging at DEBUG."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_AUTH0_USERLOGS_")}
    env["TAP_AUTH0_USERLOGS_LOGLEVEL"] = "DEBUG"
    env.update(extra)
    return env


def _write_input(folder: Path, name: str, value: Any) -> Path:
    """A config, state or catalog file: text or bytes as given, anything else as JSON."""
    n = sum(1 for _ in folder.glob(f"{name}-*.json"))
    path = folder / f"{name}-{n}.json"
    if isinstance(value, bytes):
        path.write_bytes(value)
    else:
        path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


def run_tap_process(
    folder: Path,
    config: dict | str | bytes,
    *,
    state: dict | str | None = None,
    catalog: dict | str | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    stop_after_records: int | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    stall_seconds: float = 0.0,
    cwd: Path = REPO_ROOT,
) -> TapProcess:
    """`python -m tap_auth0_userlogs.tap`, its stdout read line by line as a target reads it.

    With `stop_after_records`, `stop_signal` is sent once that many user_logs records have
    arrived (after the reader stalls `stall_seconds`, as a slow target does, so that the tap
    is blocked writing); reading then goes on to the end of output, as a target's does.
    A target fails at a line that is not a JSON message: it takes in nothing from there on.
    A last line without its newline (cut off by SIGKILL) is dropped, as a target would fail it.
    """
    command = [sys.executable, "-m", "tap_auth0_userlogs.tap", "--config"]
    command.append(str(_write_input(folder, "config", config)))
    if state is not None:
        command += ["--state", str(_write_input(folder, "state", state))]
    if catalog is not None:
        command += ["--catalog", str(_write_input(folder, "catalog", catalog))]
    process = subprocess.Popen(
        [*command, *args],
        cwd=cwd,
        env=env or tap_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    stderr: list[str] = []
    drain = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)
    drain.start()
    timed_out = threading.Event()
    watchdog = threading.Timer(PROCESS_TIMEOUT_SECONDS, lambda: (timed_out.set(), process.kill()))
    watchdog.start()
    lines: list[str] = []
    output: list[str] = []
    broken: list[str] = []
    records = 0
    signalled = False
    try:
        for line in process.stdout:
            output.append(line)
            if not line.endswith("\n"):
                break
            try:
                message = json.loads(line)
            except ValueError:
                broken.append(line)
                continue
            if not broken:
                lines.append(line)
            if stop_after_records is None or signalled:
                continue
            if message.get("type") == "RECORD" and message.get("stream") == "user_logs":
                records += 1
            if records >= stop_after_records and process.poll() is None:
                time.sleep(stall_seconds)
                process.send_signal(stop_signal)
                signalled = True
        process.wait()
    finally:
        watchdog.cancel()
        drain.join(timeout=10)
    assert not timed_out.is_set(), f"the tap did not finish within {PROCESS_TIMEOUT_SECONDS}s"
    log = "".join(stderr)
    # The signal only counts if it reached the tap before the tap ended on its own: the tap
    # died of it, or handled it (exit 128 + signal, or singer-sdk's own handler's message).
    stopped = process.returncode in (-stop_signal, 128 + stop_signal) or (
        "Gracefully shutting down" in log
    )
    interrupted_by = stop_signal.name if signalled and stopped else None
    FIGURES.syncs += 1
    if interrupted_by:
        FIGURES.interruptions[interrupted_by] += 1
    return TapProcess(lines, "".join(output), log, process.returncode, interrupted_by, broken)


# ------------------------------------------------------------------ a server that is not Auth0


@dataclass
class Seen:
    """One request an `Upstream` received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]


class Upstream:
    """A small HTTP or HTTPS server on loopback: a proxy or tenant that misbehaves on purpose.

    `answer(seen)` gives each response. `connections` counts TCP connections accepted, TLS
    handshakes that failed included; `seen` lists the requests that got through.
    """

    def __init__(self, answer: Callable[[Seen], Answer], tls: ssl.SSLContext | None = None):
        self.seen: list[Seen] = []
        self.connections = 0
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Seen(self.command, self.path, dict(self.headers), self.rfile.read(length))
                upstream.seen.append(request)
                status, headers, body = answer(request)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, Any]:
                connection, address = self.socket.accept()
                upstream.connections += 1
                if tls is None:
                    return connection, address
                return tls.wrap_socket(connection, server_side=True), address

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a refused handshake is what some tests are about

        self._server = Server(("127.0.0.1", 0), Handler)
        scheme = "https" if tls else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Upstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def authorizations(self) -> list[str]:
        """Every Authorization header value received."""
        return [s.headers["Authorization"] for s in self.seen if "Authorization" in s.headers]


def self_signed_tls(folder: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (via openssl)."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
