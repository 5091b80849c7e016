"""What every request goes through: counting, latency, faults, rate limit, token, then the route."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from typing import Any

from aiohttp import web

from tests.emulator import routes
from tests.emulator.auth import TokenStatus
from tests.emulator.counters import RequestRecord
from tests.emulator.errors import (
    PROXY_502_HTML,
    SERVER_ERRORS,
    ApiError,
    checkpoint_refused,
    error_body,
    insufficient_scope,
    rate_limited,
    too_many_concurrent,
)
from tests.emulator.faults import Fault
from tests.emulator.ratelimit import RateDecision
from tests.emulator.state import State

log = logging.getLogger(__name__)

_UNAUTHORIZED = {
    TokenStatus.MISSING: ApiError(401, "Missing authentication"),
    TokenStatus.INVALID: ApiError(401, "Invalid token", "invalid_token"),
    TokenStatus.EXPIRED: ApiError(
        401, "Expired token received for JSON Web Token validation", "invalid_token"
    ),
}
_NOT_FOUND = routes.Answer.json(error_body(404, "Not Found"), 404)


class ConnectionDropped(Exception):
    """The 'reset' fault aborted the connection; there is no response to send."""


class Pipeline:
    """The aiohttp request handler of one emulator."""

    def __init__(self, state: State) -> None:
        self.state = state

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        state = self.state
        task = asyncio.current_task()
        if task is not None:
            state.tasks.add(task)
        path, segments = routes.split_path(request.raw_path)
        route, args = routes.resolve(request.method, segments)
        endpoint = route.endpoint if route else "other"
        record = RequestRecord(
            method=request.method,
            endpoint=endpoint,
            raw_path=request.raw_path,
            path=path,
            query=dict(request.query),
            started=time.monotonic(),
            user_id=args[0] if endpoint == "user_logs" else None,
        )
        state.counters.begin(record)
        status: int | None = None
        size = 0
        try:
            response = await self._serve(request, route, args, record)
            status, size = response.status, response.content_length or 0
            return response
        except ConnectionDropped:
            raise asyncio.CancelledError from None
        finally:
            state.counters.finish(record, status, size, time.monotonic())
            if task is not None:
                state.tasks.discard(task)

    async def _serve(
        self,
        request: web.BaseRequest,
        route: routes.Route | None,
        args: tuple[str, ...],
        record: RequestRecord,
    ) -> web.Response:
        state = self.state
        limited = route is not None and route.rate_limited
        # Counted from arrival: a request waiting out its latency is in flight at Auth0 too.
        admitted = not limited or state.concurrency.enter()
        try:
            return await self._answer(request, route, args, record, limited, admitted)
        finally:
            if limited and admitted:
                state.concurrency.leave()

    async def _answer(
        self,
        request: web.BaseRequest,
        route: routes.Route | None,
        args: tuple[str, ...],
        record: RequestRecord,
        limited: bool,
        admitted: bool,
    ) -> web.Response:
        state = self.state
        delay = state.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        fault = None
        if admitted:  # a refused request is no request a scripted fault counts
            checkpoint = routes.is_checkpoint_read(route, record.query)
            fault = state.faults.pick(record.endpoint, record.user_id, checkpoint=checkpoint)
        record.fault = fault.kind if fault else None
        if limited and admitted:
            decision = state.limiter.take(record.endpoint)
        else:
            decision = state.limiter.peek(record.endpoint)
        call = routes.Call(state, request, record.query, args)
        if not admitted:
            answer = routes.Answer.json(too_many_concurrent(), 429)
        elif fault is not None:
            answer = await self._fault(fault, call, route, decision)
            if fault.kind == "429":
                soon = int(time.time()) + 1
                decision = RateDecision(False, decision.limit, 0, soon, soon, 1.0)
        elif not decision.allowed:
            answer = routes.Answer.json(rate_limited(), 429)
        else:
            answer = await self._route(call, route)
        behaviour = state.behaviour
        headers = {**answer.headers, **decision.headers(behaviour.ratelimit_reset)}
        if answer.status == 429 and behaviour.retry_after:
            headers["Retry-After"] = str(decision.retry_after())
        return web.Response(status=answer.status, body=answer.body, headers=headers)

    async def _route(self, call: routes.Call, route: routes.Route | None) -> routes.Answer:
        if route is None:
            return _NOT_FOUND
        try:
            if route.scopes is not None:
                check = self.state.authority.check(call.request.headers.get("Authorization"))
                if check.status is not TokenStatus.VALID:
                    raise _UNAUTHORIZED[check.status]
                if check.scopes.isdisjoint(route.scopes):
                    raise insufficient_scope(route.scopes)
            return await route.handler(call)
        except ApiError as error:
            return routes.Answer.json(error.body(), error.status)
        except Exception:
            log.exception("emulator handler failed for %s", call.request.raw_path)
            return routes.Answer.json(error_body(500, "Internal error"), 500)

    async def _fault(
        self,
        fault: Fault,
        call: routes.Call,
        route: routes.Route | None,
        decision: RateDecision,
    ) -> routes.Answer:
        kind = fault.kind
        if kind == "429":
            return routes.Answer.json(rate_limited(), 429)
        if kind.isdigit():
            message, code = SERVER_ERRORS[int(kind)]
            return routes.Answer.json(error_body(int(kind), message, code), int(kind))
        if kind == "refuse_checkpoint":
            error = checkpoint_refused(call.query.get("from") or None)
            return routes.Answer.json(error.body(), error.status)
        if kind == "html":
            return routes.Answer(502, PROXY_502_HTML.encode(), {"Content-Type": "text/html"})
        if kind == "reset":
            _reset(call.request)
            raise ConnectionDropped
        if kind == "hang":
            await asyncio.sleep(fault.hang_seconds)
        elif kind == "revoke_token":
            return self._revoke(call, route)
        elif kind == "delete_user" and route is routes.USER_LOGS:
            self.state.tenant.delete_user(call.args[0])
        answer = await self._route(call, route) if decision.allowed else _too_many()
        if kind == "truncated":
            return routes.Answer(200, answer.body[: len(answer.body) // 2], answer.headers)
        if kind == "invalid_json":
            return routes.Answer(200, b"upstream cache: object not ready", answer.headers)
        return answer

    def _revoke(self, call: routes.Call, route: routes.Route | None) -> routes.Answer:
        check = self.state.authority.check(call.request.headers.get("Authorization"))
        if check.token is not None:
            self.state.authority.revoke(check.token)
        if route is routes.TOKEN:
            return routes.Answer.json(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                401,
            )
        error = _UNAUTHORIZED[TokenStatus.INVALID]
        return routes.Answer.json(error.body(), error.status)


def _too_many() -> routes.Answer:
    return routes.Answer.json(rate_limited(), 429)


def _reset(request: web.BaseRequest) -> None:
    """Drop the connection with a TCP RST, as a crashed proxy would."""
    transport: Any = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
