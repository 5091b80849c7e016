"""``python -m tests.emulator.throughput``: how many requests per second the emulator serves.

By default it hammers /api/v2/users/{id}/logs?per_page=1 on loopback from a concurrent aiohttp
client for a few seconds. ``--backlog N`` instead serves a tenant with a backlog of N events
and reads it in checkpoint mode (take=100, following Link, one request at a time, as a tap
does), reporting pages and events per second. By default the emulator runs in this process,
as it does under pytest (the client then shares the interpreter with it); ``--subprocess``
runs it as ``python -m tests.emulator``.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import aiohttp

from tests.emulator import Emulator, Tenant, TenantSpec

PAGE = 100  # events per checkpoint page, the most Auth0 serves


async def hammer(url: str, token: str, seconds: float, concurrency: int) -> int:
    """Requests answered 200 within ``seconds`` by ``concurrency`` looping clients."""
    done = 0
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"emulator answered {response.status}")
                done += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def follow(base_url: str, token: str, seconds: float) -> tuple[int, int]:
    """(pages, events) read in checkpoint mode within ``seconds`` or until an empty page."""
    pages = events = 0
    deadline = time.monotonic() + seconds
    url = f"{base_url}/api/v2/logs?take={PAGE}"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        while time.monotonic() < deadline:
            async with session.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"emulator answered {response.status}")
                url = response.links["next"]["url"]
            # Counted, not decoded: decoding is the reader's cost, not the emulator's.
            found = body.count(b'"log_id"')
            if not found:
                break
            pages += 1
            events += found
    return pages, events


@contextmanager
def in_process(backlog: int) -> Iterator[tuple[str, str, str]]:
    spec = TenantSpec(users=3, events_per_user=25, seed=7, backlog_events=backlog)
    tenant = Tenant.generate(spec)
    with Emulator(tenant) as emulator:
        yield emulator.base_url, emulator.static_token, tenant.user_ids()[0]


@contextmanager
def in_subprocess(backlog: int) -> Iterator[tuple[str, str, str]]:
    command = [sys.executable, "-m", "tests.emulator", "--port", "0", "--users", "3"]
    if backlog:
        command += ["--backlog-events", str(backlog)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        values: dict[str, str] = {}
        while "events" not in values:
            key, _, value = process.stdout.readline().partition(": ")
            values[key] = value.strip()
        try:
            user_ids = _first_user(values["base_url"], values["token"])
            yield values["base_url"], values["token"], user_ids
        finally:
            process.terminate()


def _first_user(base_url: str, token: str) -> str:
    async def fetch() -> str:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.get(f"{base_url}/api/v2/users?per_page=1") as response,
        ):
            return (await response.json())[0]["user_id"]

    return asyncio.run(fetch())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator.throughput")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to hammer")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument(
        "--subprocess", action="store_true", help="run the emulator in its own process"
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        metavar="EVENTS",
        help="read a backlog of EVENTS in checkpoint mode instead (--concurrency is ignored)",
    )
    args = parser.parse_args()
    serve = in_subprocess if args.subprocess else in_process
    with serve(args.backlog) as (base_url, token, user_id):
        started = time.monotonic()
        if args.backlog:
            done, events = asyncio.run(follow(base_url, token, args.seconds))
        else:
            url = f"{base_url}/api/v2/users/{quote(user_id, safe='')}/logs?per_page=1"
            done = asyncio.run(hammer(url, token, args.seconds, args.concurrency))
        elapsed = time.monotonic() - started
    where = "own process" if args.subprocess else "same process as the client"
    if args.backlog:
        print(
            f"{done} checkpoint pages ({events} events) in {elapsed:.2f} s: "
            f"{done / elapsed:.0f} pages/s, {events / elapsed:.0f} events/s ({where})"
        )
    else:
        print(f"{done} requests in {elapsed:.2f} s: {done / elapsed:.0f} requests/s ({where})")


if __name__ == "__main__":
    main()
