"""``python -m tests.emulator``: serve a generated tenant until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

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

    tenant = parser.add_argument_group("tenant")
    tenant.add_argument("--users", type=int, default=10, help="users (default: %(default)s)")
    tenant.add_argument(
        "--events-per-user",
        type=event_count,
        default=20,
        metavar="N|MIN-MAX",
        help="log events per user, fixed or drawn from a range (default: %(default)s)",
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
        default=20,
        help="events are dated within this many days before now (default: %(default)s)",
    )
    tenant.add_argument(
        "--retention-days",
        type=float,
        default=30,
        help="events older than this are invisible everywhere (default: %(default)s)",
    )

    behaviour = parser.add_argument_group("behaviour")
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
        help="tenant-wide rate limit in requests per second (default: none)",
    )
    behaviour.add_argument(
        "--burst", type=int, help="tenant-wide bucket size (default: the rate, rounded up)"
    )
    behaviour.add_argument(
        "--logs-rate-limit",
        type=float,
        metavar="PER_SECOND",
        help="separate rate limit for reading logs (default: none)",
    )
    behaviour.add_argument("--logs-burst", type=int, help="bucket size for reading logs")
    behaviour.add_argument(
        "--users-rate-limit",
        type=float,
        metavar="PER_SECOND",
        help="separate rate limit for reading users (default: none)",
    )
    behaviour.add_argument("--users-burst", type=int, help="bucket size for reading users")
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
    return parser


def spec_from(args: argparse.Namespace) -> TenantSpec:
    return TenantSpec(
        users=args.users,
        events_per_user=args.events_per_user,
        seed=args.seed,
        now=parse_time(args.now) if args.now else None,
        history_days=args.history_days,
        heavy_users={0: args.heavy_user_events} if args.heavy_user_events else {},
    )


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tenant = Tenant.generate(spec_from(args))
    emulator = Emulator(
        tenant,
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
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    emulator.start()
    try:
        if args.write_env:
            args.write_env.write_text("\n".join(env_lines(emulator)) + "\n")
        print(f"base_url: {emulator.base_url}")
        print(f"domain: {emulator.domain}")
        print(f"audience: {emulator.audience}")
        print(f"token: {emulator.static_token}")
        print(f"client_id: {emulator.client_id}")
        print(f"client_secret: {emulator.client_secret}")
        print(f"users: {len(tenant.user_ids())}")
        print(f"events: {tenant.event_count}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0
