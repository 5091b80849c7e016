"""Running and measuring: the emulator, tap and baseline processes, and the figures they yield.

Every measured process is started by ``benchmarks.launch``, a small process that waits for it
with ``os.wait4`` so that its peak RSS and CPU time are its own (started from this process, it
would be charged with this one's peak memory). Requests, 429s, concurrency and rates are
counted by the emulator; events and the final state are read from the tap's stdout, the sync
time from its ``Sync finished:`` line on stderr.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, TypeVar

from benchmarks import completeness
from tests.emulator.plans import plan_named

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SUMMARY = re.compile(
    r"Sync finished: (?P<done>\d+)/(?P<users>\d+) users, (?P<events>\d+) events, "
    r"(?P<requests>\d+) requests.*?(?P<elapsed>[\d.]+)s elapsed"
)
# The line `benchmarks.sdk_defaults` writes to stderr, naming the hooks it put back.
RESTORED_PREFIX = "singer-sdk defaults restored: "
MESSAGE_TYPE = re.compile(rb'"type"\s*:\s*"(\w+)"')
FIRST_RECORD = re.compile(rb'"type"\s*:\s*"RECORD"\s*,\s*"stream"\s*:\s*"user_logs"')
# The exit code of a tap stopped with SIGTERM (128 + 15): it wrote its state and ended.
STOPPED = 143
T = TypeVar("T")


# --------------------------------------------------------------------------- processes


@dataclass
class ProcessRun:
    """How one child process ran."""

    returncode: int
    wall: float  # seconds from start to exit
    cpu: float  # user + system seconds
    peak_rss_mb: float
    timed_out: bool = False
    stopped: bool = False  # sent SIGTERM after its ``stop_after`` seconds, as planned
    # time.monotonic() when the first line matching ``watch`` reached us (None: never)
    first_match: float | None = None


class StdoutCopier:
    """Copies a child's stdout pipe to a file, noting when ``pattern`` first shows in it.

    Reading the pipe as a target would (rather than letting the child write a file) is what
    makes the time honest: a line counts once the child has written it out.
    """

    CHUNK = 1 << 20
    TAIL = 200  # bytes kept from one chunk to the next, so a match may straddle them

    def __init__(self, pipe: IO[bytes], out: IO[bytes], pattern: re.Pattern[bytes]) -> None:
        self.pipe, self.out, self.pattern = pipe, out, pattern
        self.first_match: float | None = None
        self.thread = threading.Thread(target=self._copy, daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        tail = b""
        while chunk := os.read(self.pipe.fileno(), self.CHUNK):
            if self.first_match is None:
                if self.pattern.search(tail + chunk):
                    self.first_match = time.monotonic()
                tail = chunk[-self.TAIL :]
            self.out.write(chunk)


def run_measured(
    command: list[str],
    *,
    stdout: Path | None,
    stderr: Path,
    timeout: float,
    stop_after: float | None = None,
    watch: re.Pattern[bytes] | None = None,
) -> ProcessRun:
    """Run ``command`` from the repository root; stdout to a file or to /dev/null.

    ``stop_after``: send SIGTERM after that many seconds (a run measured on a time budget).
    ``watch``: read stdout through a pipe and note when a line matching it first arrives.
    The command runs under ``benchmarks.launch``, so that its peak RSS is its own, in a
    process group of its own, so that a timeout kills both.
    """
    out_target = stdout if stdout is not None else Path(os.devnull)
    usage_path = stderr.with_name("usage.json")
    usage_path.unlink(missing_ok=True)
    with out_target.open("wb") as out, stderr.open("wb") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [PYTHON, "-m", "benchmarks.launch", str(usage_path), *command],
            stdout=subprocess.PIPE if watch else out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        copier = StdoutCopier(process.stdout, out, watch) if watch and process.stdout else None
        ended: list[tuple[float, int, Any]] = []

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            ended.append((time.monotonic(), status, usage))

        reaper = threading.Thread(target=reap, daemon=True)
        reaper.start()
        stopped = False
        if stop_after is not None and stop_after < timeout:
            reaper.join(stop_after)
            stopped = reaper.is_alive()
            if stopped:
                process.terminate()
        reaper.join(timeout - (stop_after or 0) if stopped else timeout)
        timed_out = reaper.is_alive()
        if timed_out:
            os.killpg(process.pid, signal.SIGKILL)
            reaper.join()
        if copier is not None and process.stdout is not None:
            copier.thread.join()  # the pipe ends with the process
            process.stdout.close()
    finished, status, usage = ended[0]
    process.returncode = os.waitstatus_to_exitcode(status)
    # Killed on its timeout, the launcher wrote nothing: its own figures, the command's within.
    own = (
        json.loads(usage_path.read_text())
        if usage_path.exists()
        else {"cpu": usage.ru_utime + usage.ru_stime, "peak_rss_kb": usage.ru_maxrss}
    )
    return ProcessRun(
        returncode=process.returncode,
        wall=finished - started,
        cpu=own["cpu"],
        peak_rss_mb=own["peak_rss_kb"] / 1024,  # kilobytes on Linux
        timed_out=timed_out,
        stopped=stopped,
        first_match=copier.first_match if copier else None,
    )


def tap_command(module: str | None = None) -> list[str]:
    """The tap's console script, or ``python -m module`` for a variant of it."""
    if module is not None:
        return [PYTHON, "-m", module]
    script = Path(PYTHON).with_name("tap-auth0-userlogs")
    if script.exists():
        return [str(script)]
    return [PYTHON, "-c", "from tap_auth0_userlogs.tap import TapAuth0UserLogs as T; T.cli()"]


def tap_settings() -> dict[str, Any]:
    """The tap's settings as `--about --format=json` lists them now (the lead adds some)."""
    about = subprocess.run(
        [*tap_command(), "--about", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return json.loads(about.stdout)["settings"]["properties"]


def offers(settings: dict[str, Any], name: str, value: str | None = None) -> bool:
    """Whether the tap has setting ``name`` (accepting ``value``, when given)."""
    if name not in settings:
        return False
    return value is None or json.dumps(value) in json.dumps(settings[name])


# --------------------------------------------------------------------------- emulator


@dataclass(frozen=True)
class Bucket:
    """One of the emulator's token buckets, and the endpoints that draw from it."""

    name: str
    rate: float  # per second
    burst: int
    endpoints: frozenset[str]

    def describe(self) -> str:
        # Auth0 publishes the Essentials buckets per minute (100/min), the others per second.
        rate = f"{self.rate:g}/s" if float(self.rate).is_integer() else f"{self.rate * 60:g}/min"
        return f"{self.name} {rate} (burst {self.burst})"


# Which endpoints draw from which bucket, as tests/emulator/ratelimit.py has it; the token
# endpoint and export downloads draw from none.
TENANT_ENDPOINTS = frozenset({"user_logs", "logs", "users", "user", "jobs"})
LOGS_ENDPOINTS = frozenset({"user_logs", "logs"})
USERS_ENDPOINTS = frozenset({"users", "user"})


@dataclass(frozen=True)
class Conditions:
    """What the emulator does to every request during a measured run.

    ``rate_limit`` is the tenant-wide bucket; the ``logs_`` and ``users_`` ones are the
    per-endpoint buckets of Auth0's Essentials and Professional plans. None: no such bucket.
    """

    latency_ms: float = 0
    rate_limit: float | None = None
    burst: int | None = None
    logs_rate_limit: float | None = None
    logs_burst: int | None = None
    users_rate_limit: float | None = None
    users_burst: int | None = None

    @classmethod
    def of_plan(cls, plan: str, latency_ms: float = 0) -> Conditions:
        """The buckets of an Auth0 plan as the emulator has them."""
        limits = plan_named(plan).rate_limits()
        return cls(
            latency_ms=latency_ms,
            rate_limit=limits["rate"],
            burst=_int_or_none(limits["burst"]),
            logs_rate_limit=limits["logs_rate"],
            logs_burst=_int_or_none(limits["logs_burst"]),
            users_rate_limit=limits["users_rate"],
            users_burst=_int_or_none(limits["users_burst"]),
        )

    def buckets(self) -> list[Bucket]:
        found = []
        for name, rate, burst, endpoints in (
            ("tenant", self.rate_limit, self.burst, TENANT_ENDPOINTS),
            ("logs", self.logs_rate_limit, self.logs_burst, LOGS_ENDPOINTS),
            ("users", self.users_rate_limit, self.users_burst, USERS_ENDPOINTS),
        ):
            if rate is not None:
                # The emulator's default bucket size, when none is given.
                found.append(Bucket(name, rate, burst or max(1, math.ceil(rate)), endpoints))
        return found

    def describe(self) -> str:
        latency = f"{self.latency_ms:g} ms latency" if self.latency_ms else "no latency"
        buckets = self.buckets()
        if not buckets:
            return f"{latency}, no rate limit"
        if [b.name for b in buckets] == ["tenant"]:
            return f"{latency}, {self.rate_limit:g}/s limit (burst {self.burst})"
        return f"{latency}, rate limits: " + ", ".join(b.describe() for b in buckets)


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


class EmulatorProcess:
    """``benchmarks.emulator_server`` as a child process, driven by JSON lines."""

    def __init__(self, **spec: Any) -> None:
        self.spec = spec
        self._process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> EmulatorProcess:
        self._process = subprocess.Popen(
            [PYTHON, "-m", "benchmarks.emulator_server", json.dumps(self.spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        self.info = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is None:
            return
        try:
            self._send({"op": "stop"})
            process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()

    def _send(self, command: dict[str, Any]) -> None:
        stdin = self._process.stdin if self._process else None
        if stdin is None:
            raise RuntimeError("the emulator process is not running")
        stdin.write(json.dumps(command) + "\n")
        stdin.flush()

    def _read(self) -> dict[str, Any]:
        process = self._process
        line = process.stdout.readline() if process and process.stdout else ""
        if not line:
            code = process.wait() if process else None
            raise RuntimeError(f"the emulator process ended (exit code {code})")
        return json.loads(line)

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Send one command and return its answer."""
        self._send({"op": op, **arguments})
        return self._read()

    def restart(self, plan: str | None, **behaviour: Any) -> None:
        """Serve the same tenant anew on ``plan``: a new URL and token, no re-seeding."""
        self.info = self.call("restart", plan=plan, behaviour=behaviour)

    @property
    def user_ids(self) -> list[str]:
        return self.info["user_ids"]

    def tap_config(self, user_ids: list[str] | None, **settings: Any) -> dict[str, Any]:
        """A tap config for ``user_ids`` of this tenant (None: the tap discovers them)."""
        config = {
            "domain": self.info["domain"],
            "api_url": self.info["base_url"],
            "access_token": self.info["token"],
            **settings,
        }
        if user_ids is not None:
            config["user_ids"] = user_ids
        return config


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    """One run's figures: a column of a scenario's table."""

    label: str
    users: int | None = None
    events: int | None = None
    requests: int | None = None
    minimum: int | None = None
    wall: float | None = None  # process start to exit
    sync: float | None = None  # the sync itself (tap: its summary line; naive: its loop)
    # The emulator's request log: requests it holds (it is bounded) and their time span.
    logged: int | None = None
    span: float | None = None
    limit_share: float | None = None  # see the function `limit_share`
    busiest_10s: float | None = None
    rate_limited: int | None = None
    peak_concurrency: int | None = None
    peak_rss_mb: float | None = None
    cpu: float | None = None
    final_state: dict[str, Any] | None = None
    by_endpoint: dict[str, int] | None = None  # requests per emulator endpoint
    logs_searches: int | None = None  # of the /logs requests, those that searched (q=...)
    bucket_shares: dict[str, float] | None = None  # bucket name -> share, see `bucket_shares`
    # The emulator's `compare` answer: users found, events delivered against those expected.
    completeness: dict[str, Any] | None = None
    # time.monotonic() (on Linux one clock for every process) when the first user_logs
    # RECORD reached the benchmark, and when the emulator answered the first /logs page of
    # any kind and the first of a pass (checkpoint mode); see `measure_tap(first_record=...)`.
    first_record_at: float | None = None
    first_logs_answer: float | None = None
    first_pass_answer: float | None = None
    stopped_after: float | None = None  # the time budget the run was stopped at, if it was
    in_flight_mean: float | None = None  # requests in flight on average (emulator side)
    server_cpu: float | None = None  # the emulator process's CPU seconds during the run
    versus: Figures | None = None  # the baseline this run is set against
    status: str = "ok"  # or "not available yet", "failed: ..."
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def events_per_s(self) -> float | None:
        if self.events is None or not self.sync:
            return None
        return self.events / self.sync

    @property
    def events_per_cpu_s(self) -> float | None:
        """Events per second of the process's CPU time: its speed on one core."""
        if self.events is None or not self.cpu:
            return None
        return self.events / self.cpu

    @property
    def first_record_delay(self) -> float | None:
        """Seconds from the emulator answering the first page of a pass to the first record."""
        if self.first_record_at is None or self.first_pass_answer is None:
            return None
        return self.first_record_at - self.first_pass_answer

    @property
    def requests_per_s(self) -> float | None:
        """Emulator side, from the first request to the last answer."""
        if self.logged is None or not self.span:
            return None
        return self.logged / self.span


def limit_share(report: dict[str, Any], conditions: Conditions) -> float | None:
    """The share of the bucket that binds: the highest of ``bucket_shares``."""
    shares = bucket_shares(report, conditions)
    return max(shares.values()) if shares else None


def bucket_shares(report: dict[str, Any], conditions: Conditions) -> dict[str, float]:
    """Per bucket, requests answered (not 429) as a share of what it could give meanwhile.

    A token bucket allows ``burst + rate x time`` requests in ``time``: a client using all of
    that scores 100 %, however short the run; 429s are requests the bucket refused. The time
    is from the first request drawing on the bucket to the last answer of one: a bucket the
    run only starts on late (the logs bucket after user discovery) is not charged for it.
    """
    shares = {}
    for bucket in conditions.buckets():
        seen = [v for k, v in report["endpoints"].items() if k in bucket.endpoints]
        if not seen:
            continue
        span = max(v["last"] for v in seen) - min(v["first"] for v in seen)
        answered = sum(v["logged"] - v["rate_limited"] for v in seen)
        if span > 0:
            shares[bucket.name] = answered / (bucket.burst + bucket.rate * span)
    return shares


def unavailable(label: str, setting: str) -> Figures:
    """The column of a run whose setting the tap does not have yet."""
    return Figures(label, status="not available yet", notes=[f"the tap has no '{setting}' yet"])


# How big every scenario runs: the figures (full), a look in about two minutes (quick), or a
# check that each scenario still runs to its report, in seconds (tiny: `make test` runs it).
SIZES = ("full", "quick", "tiny")


@dataclass
class Options:
    """How big to run and where to write: what every scenario is given."""

    size: str  # one of SIZES
    baseline_seconds: float
    workspace: Workspace

    def pick(self, full: T, quick: T, tiny: T) -> T:
        """The value for this run's size."""
        return {"full": full, "quick": quick, "tiny": tiny}[self.size]

    @property
    def full(self) -> bool:
        return self.size == "full"

    def scaled(self, what: str) -> str:
        """The note of a run smaller than the full one, e.g. ``quick: 20 users instead of 100``."""
        return f"{self.size}: {what}"


@dataclass
class Workspace:
    """Where runs write configs and outputs; removed afterwards unless kept."""

    root: Path
    timeout: float
    keep: bool = False
    _count: int = 0

    def run_dir(self, label: str) -> Path:
        self._count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        path = self.root / f"{self._count:02d}-{slug}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self, path: Path) -> None:
        if not self.keep:
            shutil.rmtree(path, ignore_errors=True)


def observed_figures(
    label: str, users: int, report: dict[str, Any], process: ProcessRun, conditions: Conditions
) -> Figures:
    """What the emulator counted and the process used, for any client's run."""
    return Figures(
        label,
        users=users,
        logged=report["logged"],
        span=report["span"],
        limit_share=limit_share(report, conditions),
        bucket_shares=bucket_shares(report, conditions),
        by_endpoint=report["by_endpoint"],
        logs_searches=report["logs_searches"],
        busiest_10s=report["busiest_10s"],
        rate_limited=report["rate_limited"],
        peak_concurrency=report["peak_concurrency"],
        peak_rss_mb=process.peak_rss_mb,
        cpu=process.cpu,
        in_flight_mean=report["in_flight_mean"],
        server_cpu=report["cpu"],
    )


def measure_tap(
    emulator: EmulatorProcess,
    workspace: Workspace,
    label: str,
    config: dict[str, Any],
    conditions: Conditions,
    *,
    state: dict[str, Any] | None = None,
    minimum: int | None = None,
    to_devnull: bool = False,
    module: str | None = None,
    check_events: bool = False,
    first_record: bool = False,
    stop_after: float | None = None,
    on_output: Callable[[Path], None] | None = None,
) -> Figures:
    """One tap sync under ``conditions``, starting with a full bucket and zeroed counters.

    ``check_events``: compare the events and users delivered with the tenant's (see
    ``benchmarks.completeness``). Without ``user_ids`` in ``config`` the tap discovers them.
    ``first_record``: read the tap's stdout through a pipe and time its first record against
    the emulator's first /logs answer. ``stop_after``: stop the tap with SIGTERM after that
    many seconds (a run on a time budget; figures are then of the part it ran).
    ``on_output``: given the tap's stdout file of a finished run, before it is removed.
    """
    folder = workspace.run_dir(label)
    config_path = folder / "config.json"
    config_path.write_text(json.dumps(config))
    command = [*tap_command(module), "--config", str(config_path)]
    if state is not None:
        state_path = folder / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    emulator.call("configure", **conditions.__dict__)
    emulator.call("reset")
    configured = config.get("user_ids")
    users = "users discovered" if configured is None else f"{len(configured):,} users"
    print(f"   .. {label}: {users}", flush=True)
    stdout = None if to_devnull else folder / "stdout.jsonl"
    stderr = folder / "stderr.log"
    process = run_measured(
        command,
        stdout=stdout,
        stderr=stderr,
        timeout=workspace.timeout,
        stop_after=stop_after,
        watch=FIRST_RECORD if first_record and stdout is not None else None,
    )
    report = emulator.call("report")
    figures = observed_figures(
        label, len(configured) if configured is not None else None, report, process, conditions
    )
    figures.requests, figures.minimum, figures.wall = report["requests"], minimum, process.wall
    figures.first_record_at = process.first_match
    figures.first_logs_answer = report["first_logs_answer"]
    figures.first_pass_answer = report["first_pass_answer"]
    # A tap stopped on its time budget ends as after any SIGTERM: state written, exit 143.
    finished = process.returncode == 0 or (process.stopped and process.returncode == STOPPED)
    if process.stopped:
        figures.stopped_after = stop_after
    log = stderr.read_text(errors="replace")
    summaries = list(SUMMARY.finditer(log))
    if summaries:
        figures.events = int(summaries[-1]["events"])
        figures.sync = float(summaries[-1]["elapsed"])
    if stdout is not None:
        records, figures.final_state = read_singer_output(stdout)
        figures.events = records
        # A killed tap may have left half a line: only a finished run (or one stopped on its
        # budget, which writes its state and ends) is compared.
        if check_events and finished and not process.timed_out:
            figures.completeness = completeness.of_tap(emulator.call, stdout, folder)
            figures.users = figures.completeness.get("users_found")
        if on_output is not None and finished and not process.timed_out:
            on_output(stdout)
    if figures.sync is None:
        figures.sync = process.wall
        if not process.stopped:
            figures.notes.append("no 'Sync finished:' line; sync time is the process's")
    if module == "benchmarks.sdk_defaults":
        restored = [line for line in log.splitlines() if line.startswith(RESTORED_PREFIX)]
        figures.notes.extend(
            f"restored {line.removeprefix(RESTORED_PREFIX)}" for line in restored[:1]
        )
    if process.timed_out:
        figures.status = f"failed: killed after {workspace.timeout:.0f} s"
    elif process.stopped and process.returncode == -signal.SIGTERM:
        # SIGTERM ends a tap still starting up before it can write its state.
        figures.status = f"failed: stopped after {stop_after:g} s, still starting: budget too short"
    elif not finished:
        figures.status = f"failed: exit {process.returncode}: {last_error(log)}"
    workspace.discard(folder)
    return figures


def read_singer_output(path: Path) -> tuple[int, dict[str, Any] | None]:
    """RECORD messages of `user_logs` in a tap's stdout, and its last STATE."""
    records = 0
    last_state: bytes | None = None
    with path.open("rb") as lines:
        for line in lines:
            kind = MESSAGE_TYPE.search(line, 0, 40)
            if kind is None:
                continue
            if kind[1] == b"RECORD" and b'"user_logs"' in line[:80]:
                records += 1
            elif kind[1] == b"STATE":
                last_state = line
    return records, json.loads(last_state)["value"] if last_state else None


def last_error(log: str) -> str:
    """The line of a tap's stderr that best says why it failed."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "CRITICAL" in line]
    line = (errors or lines or ["no output"])[-1]
    return line[:200]


def bookmarks(state: dict[str, Any] | None) -> dict[str, str]:
    """user_id -> bookmarked date in a tap's state."""
    partitions = ((state or {}).get("bookmarks", {}).get("user_logs") or {}).get("partitions", [])
    return {
        p["context"]["user_id"]: p["replication_key_value"]
        for p in partitions
        if p.get("replication_key_value")
    }


# --------------------------------------------------------------------------- naive baseline


def naive_baseline(
    emulator: EmulatorProcess,
    options: Options,
    user_ids: list[str],
    conditions: Conditions,
    minimum: dict[str, Any],
) -> Figures:
    """The naive baseline for a scenario: its users, its time budget, its minimum counts."""
    return measure_naive(
        emulator,
        options.workspace,
        user_ids,
        conditions,
        budget=options.baseline_seconds,
        naive_requests=minimum["naive"],
        events=minimum["events"],
    )


def measure_naive(
    emulator: EmulatorProcess,
    workspace: Workspace,
    user_ids: list[str],
    conditions: Conditions,
    *,
    budget: float,
    naive_requests: int,
    events: int,
) -> Figures:
    """The naive sequential baseline over ``user_ids`` (or as many as ``budget`` seconds
    allow, extrapolated to all by requests: ``naive_requests`` for all of them)."""
    label = "naive sequential"
    folder = workspace.run_dir(label)
    job = {
        "base_url": emulator.info["base_url"],
        "token": emulator.info["token"],
        "user_ids": user_ids,
        "per_page": 100,
        "budget_seconds": budget,
    }
    (folder / "job.json").write_text(json.dumps(job))
    emulator.call("configure", **conditions.__dict__)
    emulator.call("reset")
    print(f"   .. {label}: up to {budget:g} s of {len(user_ids):,} users", flush=True)
    command = [PYTHON, "-m", "benchmarks.naive", str(folder / "job.json"), str(folder / "out")]
    process = run_measured(
        command, stdout=None, stderr=folder / "stderr.log", timeout=budget + workspace.timeout
    )
    report = emulator.call("report")
    figures = observed_figures(label, len(user_ids), report, process, conditions)
    if process.returncode != 0:
        figures.status = f"failed: exit {process.returncode}"
        return figures
    done = json.loads((folder / "out").read_text())
    workspace.discard(folder)
    figures.events = done["events"]
    figures.requests = done["requests"]
    figures.sync = done["seconds"]
    figures.wall = process.wall
    if done["users"] < len(user_ids) and done["requests"]:
        scale = naive_requests / done["requests"]
        figures.notes.append(
            f"measured on the first {done['users']:,} of {len(user_ids):,} users "
            f"({done['requests']:,} requests in {done['seconds']:.1f} s); requests, events and "
            f"times extrapolated by requests (x{scale:.1f})"
        )
        figures = replace(
            figures,
            events=events,
            requests=naive_requests,
            sync=done["seconds"] * scale,
            wall=process.wall - done["seconds"] + done["seconds"] * scale,
            rate_limited=round(report["rate_limited"] * scale),
        )
    return figures


def measure_tenant_log(
    emulator: EmulatorProcess, workspace: Workspace, conditions: Conditions
) -> Figures:
    """The tenant-log baseline (``benchmarks.naive_tenant_log``), every event it delivers
    compared with the tenant's. It has no time budget: it costs a request per 100 events."""
    label = "naive tenant log"
    folder = workspace.run_dir(label)
    delivered = folder / "delivered.tsv"
    job = {
        "base_url": emulator.info["base_url"],
        "token": emulator.info["token"],
        "delivered": str(delivered),
    }
    (folder / "job.json").write_text(json.dumps(job))
    emulator.call("configure", **conditions.__dict__)
    emulator.call("reset")
    print(f"   .. {label}", flush=True)
    command = [
        PYTHON, "-m", "benchmarks.naive_tenant_log", str(folder / "job.json"), str(folder / "out")
    ]  # fmt: skip
    process = run_measured(
        command, stdout=None, stderr=folder / "stderr.log", timeout=workspace.timeout
    )
    report = emulator.call("report")
    figures = observed_figures(label, 0, report, process, conditions)
    figures.requests, figures.wall = report["requests"], process.wall
    if process.returncode != 0 or process.timed_out:
        figures.status = f"failed: exit {process.returncode}"
        return figures
    done = json.loads((folder / "out").read_text())
    figures.events, figures.sync = done["events"], done["seconds"]
    if done["outcome"] != "ok":
        figures.status = done["outcome"]
    figures.completeness = completeness.of_log_reader(emulator.call, delivered)
    figures.users = figures.completeness.get("users_found")
    if done["retry_wait"]:
        figures.notes.append(f"slept {done['retry_wait']:.1f} s in blind retries after 429s")
    workspace.discard(folder)
    return figures


def at_rate(requests: int | None, rate: float) -> str:
    """The least time ``requests`` take at ``rate`` per second, for notes."""
    if requests is None:
        return "?"
    return f"{math.ceil(requests / rate):,} s"
