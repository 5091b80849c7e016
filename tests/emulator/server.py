"""The Emulator: an aiohttp server for one tenant, run on its own event loop in a thread."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import socket
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.emulator.auth import DEFAULT_SCOPES, Authority, Client
from tests.emulator.behaviour import Behaviour, DeletedUserLogs, ExpiredCheckpoint, RatelimitReset
from tests.emulator.counters import Counters, RequestRecord
from tests.emulator.faults import FaultPlan
from tests.emulator.jobs import ExportJobs
from tests.emulator.pipeline import Pipeline
from tests.emulator.plans import Plan, plan_named
from tests.emulator.ratelimit import ConcurrencyCap, RateLimiter
from tests.emulator.state import State
from tests.emulator.tenant import Tenant, TenantSpec

DEFAULT_DOMAIN = "tenant.emulator.auth0.local"
DEFAULT_RETENTION_DAYS = 30.0


class _Knob:
    """An Emulator attribute reading and setting one undocumented behaviour, while serving too."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, emulator: Emulator | None, owner: type | None = None) -> Any:
        return self if emulator is None else getattr(emulator.behaviour, self.name)

    def __set__(self, emulator: Emulator, value: Any) -> None:
        emulator.set_behaviour(**{self.name: value})


class Emulator:
    """A local Auth0 Management API serving ``tenant``; ``start()`` returns its base URL.

    ``plan`` (a key of ``plans.PLANS``: free, essentials, professional, enterprise,
    private-cloud-basic, private-cloud-performance) sets the rate limits, log retention and
    export availability of that Auth0 plan; explicit rate-limit and retention arguments override
    the plan's. Without a plan nothing is rate limited and logs are kept 30 days.
    ``max_concurrent_requests`` answers 429 to Management API requests beyond that many in
    flight, as Private Cloud's per-tenant cap does.
    The remaining keywords are Auth0's undocumented behaviours, see ``behaviour.Behaviour``;
    each is also an attribute that can be changed while serving. A backlog of the tenant log
    for benchmarks is part of the tenant: ``TenantSpec(backlog_events=1_000_000)``.
    """

    cap_user_totals = _Knob()
    ratelimit_reset = _Knob()
    retry_after = _Knob()
    deleted_user_logs = _Knob()
    expired_checkpoint = _Knob()
    late_log_id_seconds = _Knob()
    refuse_checkpoints = _Knob()
    refuse_checkpoints_from = _Knob()

    def __init__(
        self,
        tenant: Tenant | TenantSpec | None = None,
        *,
        plan: str | None = None,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        rate_limit: float | None = None,
        burst: int | None = None,
        logs_rate_limit: float | None = None,
        logs_burst: int | None = None,
        users_rate_limit: float | None = None,
        users_burst: int | None = None,
        fault_rate: float = 0.0,
        seed: int = 0,
        retention_days: float | None = None,
        token_ttl: float = 86400,
        domain: str = DEFAULT_DOMAIN,
        host: str = "127.0.0.1",
        port: int = 0,
        job_pending_polls: int = 1,
        export_link_ttl: float = 60.0,
        cap_user_totals: bool = True,
        ratelimit_reset: RatelimitReset = "next_token",
        retry_after: bool = False,
        deleted_user_logs: DeletedUserLogs = "empty",
        expired_checkpoint: ExpiredCheckpoint = "400",
        late_log_id_seconds: float = 0,
        refuse_checkpoints: bool = False,
        refuse_checkpoints_from: tuple[str, str] | None = None,
        max_concurrent_requests: int | None = None,
    ) -> None:
        self.plan: Plan | None = plan_named(plan) if plan is not None else None
        explicit_limits = {
            "rate": rate_limit,
            "burst": burst,
            "logs_rate": logs_rate_limit,
            "logs_burst": logs_burst,
            "users_rate": users_rate_limit,
            "users_burst": users_burst,
        }
        limits: dict[str, Any] = self.plan.rate_limits() if self.plan else {}
        limits |= {name: value for name, value in explicit_limits.items() if value is not None}
        if retention_days is None:
            retention_days = self.plan.retention_days if self.plan else DEFAULT_RETENTION_DAYS
        if not isinstance(tenant, Tenant):
            tenant = Tenant.generate(tenant)
        tenant.retention_days = retention_days
        self.tenant = tenant
        self.domain = domain
        self.host = host
        self.port = port
        self.retention_days = retention_days
        self.faults = FaultPlan()
        if fault_rate:
            self.faults.random(fault_rate, seed=seed)
        self._authority = Authority(domain, token_ttl, seed)
        self.static_token = self._authority.issue(DEFAULT_SCOPES, subject="static@clients")
        self._state = State(
            tenant=tenant,
            authority=self._authority,
            limiter=RateLimiter(**limits),
            faults=self.faults,
            counters=Counters(),
            jobs=ExportJobs(job_pending_polls, export_link_ttl),
            plan=self.plan,
            concurrency=ConcurrencyCap(max_concurrent_requests),
            behaviour=Behaviour(
                cap_user_totals=cap_user_totals,
                ratelimit_reset=ratelimit_reset,
                retry_after=retry_after,
                deleted_user_logs=deleted_user_logs,
                expired_checkpoint=expired_checkpoint,
                late_log_id_seconds=late_log_id_seconds,
                refuse_checkpoints=refuse_checkpoints,
                refuse_checkpoints_from=refuse_checkpoints_from,
            ),
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            rng=random.Random(seed),
        )
        tenant.late_log_id_seconds = late_log_id_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self.base_url = ""

    # ----------------------------------------------------------------- knobs and probes

    @property
    def client_id(self) -> str:
        return self._authority.default_client.client_id

    @property
    def client_secret(self) -> str:
        return self._authority.default_client.client_secret

    @property
    def audience(self) -> str:
        return self._authority.audience

    @property
    def counters(self) -> Counters:
        return self._state.counters

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every request served since the last reset, oldest first (a snapshot)."""
        return self._state.counters.log()

    @property
    def latency_ms(self) -> float:
        return self._state.latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        self._state.latency_ms = value

    @property
    def jitter_ms(self) -> float:
        return self._state.jitter_ms

    @jitter_ms.setter
    def jitter_ms(self, value: float) -> None:
        self._state.jitter_ms = value

    @property
    def max_concurrent_requests(self) -> int | None:
        """Management API requests in flight at once beyond which Auth0 answers 429 (None: no
        cap); Private Cloud caps them per tenant."""
        return self._state.concurrency.limit

    @max_concurrent_requests.setter
    def max_concurrent_requests(self, value: int | None) -> None:
        self._state.concurrency.limit = value

    @property
    def token_ttl(self) -> float:
        return self._authority.token_ttl

    @token_ttl.setter
    def token_ttl(self, value: float) -> None:
        self._authority.token_ttl = value

    @property
    def behaviour(self) -> Behaviour:
        """The undocumented behaviours in force."""
        return self._state.behaviour

    def set_behaviour(self, **changes: Any) -> Behaviour:
        """Change undocumented behaviours while serving: ``set_behaviour(retry_after=True)``."""
        self._state.behaviour = dataclasses.replace(self._state.behaviour, **changes)
        # The tenant gives added events their log_ids, so it holds its own copy of this one.
        self.tenant.late_log_id_seconds = self._state.behaviour.late_log_id_seconds
        return self._state.behaviour

    def set_rate_limit(
        self, rate_limit: float | None, burst: int | None = None, **kwargs: Any
    ) -> None:
        """Replace the buckets (full again); kwargs as RateLimiter's logs_*/users_* ones."""
        self._state.limiter = RateLimiter(rate_limit, burst, **kwargs)

    def issue_token(
        self, scopes: str | Iterable[str] = DEFAULT_SCOPES, ttl: float | None = None
    ) -> str:
        """A Management API token with ``scopes``, valid ``ttl`` seconds (None: never expires)."""
        return self._authority.issue(scopes, ttl)

    def add_client(self, client_id: str, client_secret: str, scopes: str | Iterable[str]) -> Client:
        """An application that may get tokens with ``scopes`` from /oauth/token."""
        return self._authority.add_client(client_id, client_secret, scopes)

    def issued_tokens(self) -> list[str]:
        """Every token this emulator has issued, the static one included."""
        return self._authority.issued()

    def revoke_token(self, token: str) -> None:
        self._authority.revoke(token)

    def reset_counters(self) -> None:
        self._state.counters.reset()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Serve from a background thread; returns the base URL once it accepts connections."""
        if self._thread is not None:
            return self.base_url
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._state.base_url = self.base_url
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            server = web.Server(Pipeline(self._state), access_log=None)
            self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=0.5)
            await self._runner.setup()
            await web.SockSite(self._runner, sock, backlog=1024).start()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as error:
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"auth0-emulator-{self.port}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise RuntimeError("the Auth0 emulator failed to start") from failure[0]
        return self.base_url

    def stop(self) -> None:
        """Stop serving; requests in flight (hung ones too) are cancelled, not awaited."""
        if self._thread is None or self._loop is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            for task in list(self._state.tasks):
                task.cancel()
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
