"""``python -m tests.emulator``: serve a generated tenant until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from tests.emulator.behaviour import CHOICES
from tests.emulator.plans import PLANS
from tests.emulator.planted import planted_tenant
from tests.emulator.planted_truth import PlantedTruth
from tests.emulator.server import DEFAULT_DOMAIN, Emulator
from tests.emulator.tenant import Tenant, TenantSpec
from tests.emulator.timestamps import parse_time


def event_count(text: str) -> int | tuple[int, int]:
    """``N`` or ``MIN-MAX`` events per user."""
    low, sep, high = text.partition("-")
    try:
        if not sep:
            return int(low)
        bounds = (int(low), int(high))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or MIN-MAX, got {text!r}") from None
    if bounds[0] > bounds[1]:
        raise argparse.ArgumentTypeError(f"MIN is above MAX in {text!r}")
    return bounds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator",
        description="A local Auth0 Management API serving a generated tenant (users and their "
        "log events). Prints its base URL, a static token and a client id/secret, then serves "
        "until interrupted (SIGINT or SIGTERM).",
    )
    server = parser.add_argument_group("server")
    server.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    server.add_argument(
        "--port", type=int, default=8080, help="port, 0 for any free one (default: %(default)s)"
    )
    server.add_argument(
        "--domain",
        default=DEFAULT_DOMAIN,
        help="tenant domain; tokens need audience https://DOMAIN/api/v2/ (default: %(default)s)",
    )
    server.add_argument(
        "--token-ttl",
        type=float,
        default=86400,
        metavar="SECONDS",
        help="lifetime of client-credentials tokens (default: %(default)s)",
    )
    server.add_argument(
        "--write-env",
        type=Path,
        metavar="FILE",
        help="also write the AUTH0_EMULATOR_* settings to FILE as KEY=value lines",
    )

    tenant = parser.add_argument_group(
        "tenant", "Flags given with --profile override the profile's values."
    )
    shape = tenant.add_mutually_exclusive_group()
    shape.add_argument(
        "--scenario",
        choices=("planted",),
        help="planted: 28 days of a few dozen users' ordinary activity with known attacks and "
        "habits planted at known times (credential stuffing, a signup flood, MFA push "
        "fatigue, impossible travel, dormant users, breached passwords, a brute-force block, "
        "risk assessments, refresh tokens from many IPs, markup in logged fields); only "
        "--seed and --now shape it (see docs/emulator.md)",
    )
    tenant.add_argument(
        "--write-truth",
        type=Path,
        metavar="FILE",
        help="with --scenario: write what it planted to FILE as JSON",
    )
    shape.add_argument(
        "--profile",
        choices=("busy",),
        help="busy: 3,000 users, 40 events a minute tenant-wide over 24 hours, most users "
        "with few events or none, three with more than 1,000, a tenth of events with no user",
    )
    tenant.add_argument("--users", type=int, help="users (default: 10; busy: 3000)")
    tenant.add_argument(
        "--events-per-user",
        type=event_count,
        metavar="N|MIN-MAX",
        help="log events per user, fixed or drawn from a range (default: 20; busy: 0)",
    )
    tenant.add_argument(
        "--events-per-minute",
        type=float,
        metavar="RATE",
        help="tenant-wide events a minute over the history, shared out unevenly among users "
        "(default: 0; busy: 40)",
    )
    tenant.add_argument(
        "--heavy-user-events",
        type=int,
        metavar="N",
        help="give the first user N events, e.g. past the 1,000-result paging cap",
    )
    tenant.add_argument(
        "--seed", type=int, default=0, help="seed of the tenant and faults (default: %(default)s)"
    )
    tenant.add_argument(
        "--now", metavar="ISO_TIME", help="generate the tenant as of this time (default: now)"
    )
    tenant.add_argument(
        "--history-days",
        type=float,
        help="events are dated within this many days before now (default: 20; busy: 1)",
    )
    tenant.add_argument(
        "--backlog-events",
        type=int,
        metavar="N",
        help="a backlog of N more events in the tenant log, derived from their index rather "
        "than stored, for benchmarks: a million take seconds to seed (default: none)",
    )
    tenant.add_argument(
        "--backlog-users",
        type=int,
        metavar="N",
        help="the backlog's events belong to N more users (default: 5000)",
    )
    tenant.add_argument(
        "--backlog-hours",
        type=float,
        metavar="HOURS",
        help="the backlog is ingested evenly over the HOURS before now (default: 24)",
    )
    tenant.add_argument(
        "--retention-days",
        type=float,
        help="events older than this are invisible everywhere (default: the plan's, else 30)",
    )

    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument(
        "--plan",
        choices=tuple(PLANS),
        help="an Auth0 plan's rate limits, log retention and export availability (free: "
        "2/s burst 2, 1 day, no user exports; essentials/professional: logs 100/min burst 10, "
        "users 500/min burst 40, 5/10 days; enterprise: 16/s burst 50, 30 days; "
        "private-cloud-basic: 50/s burst 50, private-cloud-performance: 250/s burst 250, both "
        "30 days); rate-limit and retention flags override it, so --rate-limit N gives any "
        "rate with burst N (default: none: no rate limit, 30 days)",
    )
    behaviour.add_argument(
        "--latency-ms", type=float, default=0, help="added to every request (default: %(default)s)"
    )
    behaviour.add_argument(
        "--jitter-ms",
        type=float,
        default=0,
        help="random +/- variation of the latency (default: %(default)s)",
    )
    behaviour.add_argument(
        "--rate-limit",
        type=float,
        metavar="PER_SECOND",
        help="tenant-wide rate limit in requests per second (default: the plan's, else none)",
    )
    behaviour.add_argument(
        "--burst",
        type=int,
        help="tenant-wide bucket size (default: the plan's, else the rate rounded up)",
    )
    behaviour.add_argument(
        "--logs-rate-limit",
        type=float,
        metavar="PER_SECOND",
        help="separate rate limit for reading logs (default: the plan's, else none)",
    )
    behaviour.add_argument("--logs-burst", type=int, help="bucket size for reading logs")
    behaviour.add_argument(
        "--users-rate-limit",
        type=float,
        metavar="PER_SECOND",
        help="separate rate limit for reading users (default: the plan's, else none)",
    )
    behaviour.add_argument("--users-burst", type=int, help="bucket size for reading users")
    behaviour.add_argument(
        "--max-concurrent-requests",
        type=int,
        metavar="N",
        help="answer 429 to Management API requests beyond N in flight at once, as Private "
        "Cloud's per-tenant cap (200 to 1,200 by tier) does (default: no cap)",
    )
    behaviour.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="chance per request of a random transient fault: 429, 500/502/503/504, an HTML "
        "502 or a connection reset (default: %(default)s)",
    )
    behaviour.add_argument(
        "--job-pending-polls",
        type=int,
        default=1,
        help="polls a users-export job answers pending before completing (default: %(default)s)",
    )

    undocumented = parser.add_argument_group(
        "undocumented Auth0 behaviour", "What Auth0 does not document; defaults are the likeliest."
    )
    undocumented.add_argument(
        "--true-user-totals",
        action="store_true",
        help="/api/v2/users?include_totals=true reports the true total (default: at most 1000)",
    )
    undocumented.add_argument(
        "--ratelimit-reset",
        choices=CHOICES["ratelimit_reset"],
        default="next_token",
        help="x-ratelimit-reset is the epoch second the next token is added, or the one the "
        "bucket is full again (default: %(default)s)",
    )
    undocumented.add_argument(
        "--retry-after",
        action="store_true",
        help="429 answers carry Retry-After: whole seconds until a token, at least 1 "
        "(default: no Retry-After)",
    )
    undocumented.add_argument(
        "--deleted-user-logs",
        choices=CHOICES["deleted_user_logs"],
        default="empty",
        help="/api/v2/users/{id}/logs of a deleted or unknown user answers 200 [] or 404 "
        "(default: %(default)s)",
    )
    undocumented.add_argument(
        "--expired-checkpoint",
        choices=CHOICES["expired_checkpoint"],
        default="400",
        help="/api/v2/logs?from=<log_id past retention> answers 400, or 200 from the oldest "
        "retained event (default: %(default)s)",
    )
    undocumented.add_argument(
        "--late-log-id-seconds",
        type=float,
        default=0,
        metavar="SECONDS",
        help="events added while serving get a log_id up to SECONDS earlier than due, so it "
        "can sort below log_ids a client already read (default: %(default)s: never below)",
    )
    undocumented.add_argument(
        "--refuse-checkpoints",
        action="store_true",
        help="/api/v2/logs in checkpoint mode (from, take) answers 400 every time, while "
        "search (q, page, per_page, sort) works (default: checkpoint reads are served)",
    )
    undocumented.add_argument(
        "--refuse-checkpoints-from",
        nargs=2,
        metavar=("FIRST_LOG_ID", "LAST_LOG_ID"),
        help="checkpoint reads whose from is a log_id within these two (inclusive) answer "
        "400, a refusal in the middle of a pass (default: none)",
    )
    return parser


def spec_from(args: argparse.Namespace) -> TenantSpec:
    """The tenant the flags describe: the profile's (or the default) with given flags on top."""
    now = parse_time(args.now) if args.now else None
    if args.profile == "busy":
        busy: dict[str, Any] = {"users": args.users, "events_per_minute": args.events_per_minute}
        if args.history_days is not None:
            busy["history_hours"] = args.history_days * 24
        spec = TenantSpec.busy(
            seed=args.seed, now=now, **{k: v for k, v in busy.items() if v is not None}
        )
    else:
        spec = TenantSpec(seed=args.seed, now=now)
    given = {
        "users": args.users,
        "events_per_user": args.events_per_user,
        "events_per_minute": args.events_per_minute,
        "history_days": args.history_days,
        "heavy_users": {0: args.heavy_user_events} if args.heavy_user_events else None,
        "backlog_events": args.backlog_events,
        "backlog_users": args.backlog_users,
        "backlog_hours": args.backlog_hours,
    }
    return dataclasses.replace(spec, **{k: v for k, v in given.items() if v is not None})


def tenant_from(args: argparse.Namespace) -> tuple[Tenant, PlantedTruth | None]:
    """The tenant the flags describe, and the truth of what its scenario planted, if any."""
    if args.scenario == "planted":
        return planted_tenant(args.seed, parse_time(args.now) if args.now else None)
    return Tenant.generate(spec_from(args)), None


def env_lines(emulator: Emulator) -> list[str]:
    values = {
        "AUTH0_EMULATOR_URL": emulator.base_url,
        "AUTH0_EMULATOR_DOMAIN": emulator.domain,
        "AUTH0_EMULATOR_TOKEN": emulator.static_token,
        "AUTH0_EMULATOR_CLIENT_ID": emulator.client_id,
        "AUTH0_EMULATOR_CLIENT_SECRET": emulator.client_secret,
        "AUTH0_EMULATOR_USER_IDS": json.dumps(emulator.tenant.user_ids()),
    }
    return [f"{key}={shlex.quote(value)}" for key, value in values.items()]


def emulator_from(args: argparse.Namespace, tenant: Tenant | None = None) -> Emulator:
    """The (unstarted) emulator the flags describe, serving ``tenant`` or the one they describe."""
    return Emulator(
        tenant or tenant_from(args)[0],
        plan=args.plan,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        rate_limit=args.rate_limit,
        burst=args.burst,
        logs_rate_limit=args.logs_rate_limit,
        logs_burst=args.logs_burst,
        users_rate_limit=args.users_rate_limit,
        users_burst=args.users_burst,
        fault_rate=args.fault_rate,
        seed=args.seed,
        retention_days=args.retention_days,
        token_ttl=args.token_ttl,
        domain=args.domain,
        host=args.host,
        port=args.port,
        job_pending_polls=args.job_pending_polls,
        cap_user_totals=not args.true_user_totals,
        ratelimit_reset=args.ratelimit_reset,
        retry_after=args.retry_after,
        deleted_user_logs=args.deleted_user_logs,
        expired_checkpoint=args.expired_checkpoint,
        late_log_id_seconds=args.late_log_id_seconds,
        refuse_checkpoints=args.refuse_checkpoints,
        refuse_checkpoints_from=tuple(args.refuse_checkpoints_from)
        if args.refuse_checkpoints_from
        else None,
        max_concurrent_requests=args.max_concurrent_requests,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.write_truth and not args.scenario:
        parser.error("--write-truth needs --scenario")
    tenant, truth = tenant_from(args)
    emulator = emulator_from(args, tenant)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    emulator.start()
    try:
        if args.write_env:
            args.write_env.write_text("\n".join(env_lines(emulator)) + "\n")
        if args.write_truth and truth is not None:
            args.write_truth.write_text(json.dumps(truth.as_dict(), indent=1) + "\n")
        print(f"base_url: {emulator.base_url}")
        print(f"domain: {emulator.domain}")
        print(f"audience: {emulator.audience}")
        print(f"token: {emulator.static_token}")
        print(f"client_id: {emulator.client_id}")
        print(f"client_secret: {emulator.client_secret}")
        print(f"users: {len(tenant.user_ids())}")
        print(f"events: {tenant.event_count}")
        if tenant.backlog is not None:
            backlog = tenant.backlog
            print(f"backlog: {backlog.count} {backlog.first_log_id} {backlog.last_log_id}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0
