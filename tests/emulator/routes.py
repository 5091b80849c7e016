"""The endpoints: which path is which, the scopes each needs, and the handlers answering them.

Paths are matched on the raw request path split into segments before percent-decoding, so a
user id containing ``%2F`` stays one segment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web

from tests.emulator import lucene
from tests.emulator.auth import TokenError
from tests.emulator.errors import (
    JSON_TYPE,
    MAX_RESULTS,
    ApiError,
    bad_query,
    checkpoint_refused,
    encode,
    feature_not_on_plan,
    inexistent_user,
)
from tests.emulator.jobs import DownloadExpired
from tests.emulator.log_ids import ingestion_time
from tests.emulator.params import (
    Paging,
    parse_bool,
    parse_fields,
    parse_int,
    parse_paging,
    parse_sort,
)
from tests.emulator.state import State

LOG_SORT_FIELDS = frozenset(
    {
        "date", "connection", "client_id", "client_name", "ip", "user_id", "user_name",
        "description", "user_agent", "type", "details", "strategy", "strategy_type",
    }
)  # fmt: skip
USER_SORT_FIELDS = frozenset(
    {
        "created_at", "updated_at", "last_login", "email", "name", "nickname", "user_id",
        "logins_count",
    }
)  # fmt: skip
_USER_LOGS_PARAMS = frozenset({"page", "per_page", "sort", "include_totals"})
_LOGS_PARAMS = frozenset(
    {"q", "page", "per_page", "sort", "fields", "include_fields", "include_totals", "from",
     "take", "search_engine"}
)  # fmt: skip
_USERS_PARAMS = frozenset(
    {"q", "page", "per_page", "sort", "fields", "include_fields", "include_totals",
     "search_engine", "connection", "primary_order"}
)  # fmt: skip


@dataclass
class Answer:
    """A handler's response before the pipeline adds rate-limit headers."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON_TYPE})

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Answer:
        return cls(status, encode(payload))


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    state: State
    request: web.BaseRequest
    query: Mapping[str, str]
    args: tuple[str, ...]  # decoded path segments the route captured


Handler = Callable[[Call], Awaitable[Answer]]


@dataclass(frozen=True)
class Route:
    endpoint: str  # the name counters, faults and rate limits know it by
    handler: Handler
    scopes: tuple[str, ...] | None  # any one of these; None: no token needed
    rate_limited: bool = True


def resolve(method: str, segments: list[str]) -> tuple[Route | None, tuple[str, ...]]:
    """The route for ``method`` and decoded path ``segments`` and the segments it captures."""
    match method, segments:
        case "POST", ["oauth", "token"]:
            return TOKEN, ()
        case "GET", ["api", "v2", "users", user_id, "logs"]:
            return USER_LOGS, (user_id,)
        case "GET", ["api", "v2", "logs"]:
            return LOGS, ()
        case "GET", ["api", "v2", "users"]:
            return USERS, ()
        case "GET", ["api", "v2", "users", user_id]:
            return USER, (user_id,)
        case "POST", ["api", "v2", "jobs", "users-exports"]:
            return CREATE_EXPORT, ()
        case "GET", ["api", "v2", "jobs", job_id]:
            return JOB, (job_id,)
        case "GET", ["exports", job_id, token, _]:
            return DOWNLOAD, (job_id, token)
    return None, ()


def split_path(raw_path: str) -> tuple[str, list[str]]:
    """(decoded path, decoded segments) of a raw request path, query string dropped."""
    path = raw_path.split("?", 1)[0]
    segments = [unquote(s, errors="replace") for s in path.split("/")[1:]]
    return unquote(path, errors="replace"), segments


def _reject_unknown(query: Mapping[str, str], allowed: frozenset[str]) -> None:
    extra = sorted(set(query) - allowed)
    if extra:
        raise bad_query(f"Additional properties not allowed: {','.join(extra)}")


def _page_body(items: list[bytes], paging: Paging, include_totals: bool, key: str) -> bytes:
    array = b"[" + b",".join(items) + b"]"
    if not include_totals:
        return array
    # Log Search v3: "total" is the length of this page, not the number of matches.
    head = (
        f'{{"start":{paging.start},"limit":{paging.per_page},'
        f'"length":{len(items)},"total":{len(items)},"{key}":'
    )
    return head.encode() + array + b"}"


def _project(record: dict[str, Any], fields: set[str] | None, include: bool) -> dict[str, Any]:
    if fields is None:
        return record
    return {k: v for k, v in record.items() if (k in fields) == include}


def _parse_query(text: str) -> lucene.Node | None:
    try:
        return lucene.parse(text)
    except lucene.QuerySyntaxError as error:
        raise bad_query(str(error)) from None


# --------------------------------------------------------------------------- handlers


async def issue_token(call: Call) -> Answer:
    request = call.request
    try:
        if request.content_type == "application/json":
            raw = await request.json()
            form = {k: str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        else:
            form = {k: str(v) for k, v in (await request.post()).items()}
    except (ValueError, UnicodeDecodeError):
        form = {}
    try:
        return Answer.json(call.state.authority.exchange(form))
    except TokenError as refusal:
        return Answer.json(refusal.body(), refusal.status)


async def user_logs(call: Call) -> Answer:
    _reject_unknown(call.query, _USER_LOGS_PARAMS)
    paging = parse_paging(call.query, paging_needs_per_page=True)
    field_name, descending = parse_sort(call.query, LOG_SORT_FIELDS, ("date", True))
    include_totals = parse_bool(call.query, "include_totals")
    (user_id,) = call.args
    if call.state.behaviour.deleted_user_logs == "404" and not call.state.tenant.has_user(user_id):
        raise inexistent_user()
    items = call.state.tenant.user_log_page(
        user_id, field_name, descending, paging.start, paging.limit
    )
    return Answer(200, _page_body(items, paging, include_totals, "logs"))


def _checkpoint_mode(query: Mapping[str, str]) -> bool:
    return "from" in query or "take" in query


def is_checkpoint_read(route: Route | None, query: Mapping[str, str]) -> bool:
    """Whether a request is /api/v2/logs in checkpoint mode (``from`` or ``take`` given)."""
    return route is LOGS and _checkpoint_mode(query)


async def logs(call: Call) -> Answer:
    _reject_unknown(call.query, _LOGS_PARAMS)
    if _checkpoint_mode(call.query):
        return _logs_checkpoint(call)
    paging = parse_paging(call.query, paging_needs_per_page=True)
    field_name, descending = parse_sort(call.query, LOG_SORT_FIELDS, ("date", True))
    include_totals = parse_bool(call.query, "include_totals")
    fields, include_fields = parse_fields(call.query)
    node = _parse_query(call.query.get("q", ""))
    found = call.state.tenant.search_events(
        lucene.matcher(node),
        lucene.exact_values(node, "user_id"),
        field_name,
        descending,
        lucene.date_window(node),
        limit=paging.start + paging.limit,
    )
    page = found[paging.start :]
    if fields is None:
        items = [e.body for e in page]
    else:
        items = [encode(_project(e.data, fields, include_fields)) for e in page]
    return Answer(200, _page_body(items, paging, include_totals, "logs"))


def _logs_checkpoint(call: Call) -> Answer:
    """Checkpoint mode: events after ``from`` in log_id order; every other parameter ignored."""
    take = parse_int(call.query, "take", 50, 1, 100)
    start = call.query.get("from") or None
    tenant = call.state.tenant
    if start is not None:
        try:
            ingestion_time(start)
        except ValueError:
            raise ApiError(400, f"from must be a log_id, got {start!r}", "invalid_query") from None
    if call.state.behaviour.refuses_checkpoint(start):
        raise checkpoint_refused(start)
    if start is not None and tenant.checkpoint_too_old(start):
        if call.state.behaviour.expired_checkpoint == "400":
            raise ApiError(
                400,
                f"The checkpoint is too old: log_id {start} is beyond the tenant's log "
                f"retention of {tenant.retention_days:g} days",
                "invalid_query",
            )
        start = None  # serve from the oldest retained event instead
    events = tenant.events_after(start, take)
    base = call.state.base_url
    if events:
        next_url = f"{base}/api/v2/logs?from={quote(events[-1].log_id)}&take={take}"
    else:
        next_url = base + call.request.raw_path
    answer = Answer(200, b"[" + b",".join(e.body for e in events) + b"]")
    answer.headers["Link"] = f'<{next_url}>; rel="next"'
    return answer


async def users(call: Call) -> Answer:
    _reject_unknown(call.query, _USERS_PARAMS)
    paging = parse_paging(call.query, paging_needs_per_page=False)
    field_name, descending = parse_sort(call.query, USER_SORT_FIELDS, ("created_at", False))
    include_totals = parse_bool(call.query, "include_totals")
    fields, include_fields = parse_fields(call.query)
    text = call.query.get("q", "")
    if text and call.query.get("search_engine") != "v3":
        raise bad_query("q needs search_engine=v3")
    node = _parse_query(text)
    found = call.state.tenant.search_users(lucene.matcher(node))
    connection = call.query.get("connection")
    if connection:
        found = [u for u in found if connection in lucene.values_at(u, "identities.connection")]
    found.sort(key=lambda u: _user_sort_key(u, field_name), reverse=descending)
    page = [
        _project(u, fields, include_fields)
        for u in found[paging.start : paging.start + paging.limit]
    ]
    if not include_totals:
        return Answer.json(page)
    total = len(found)
    if call.state.behaviour.cap_user_totals:
        total = min(total, MAX_RESULTS)  # a real tenant's 1,000 means "1,000 or more"
    return Answer.json(
        {
            "start": paging.start,
            "limit": paging.per_page,
            "length": len(page),
            "total": total,
            "users": page,
        }
    )


def _user_sort_key(user: dict[str, Any], field_name: str) -> tuple[Any, ...]:
    value = user.get(field_name)
    if value is None:
        return (0, "", user["user_id"])
    if isinstance(value, int | float):
        return (1, value, user["user_id"])
    return (2, str(value), user["user_id"])


async def user(call: Call) -> Answer:
    (user_id,) = call.args
    found = call.state.tenant.user(user_id)
    if found is None:
        raise inexistent_user()
    return Answer.json(found)


async def create_export(call: Call) -> Answer:
    plan = call.state.plan
    if plan is not None and not plan.user_exports:
        raise feature_not_on_plan(plan.name)
    try:
        body = await call.request.json()
    except ValueError:
        raise ApiError(400, "Payload validation error: invalid JSON", "invalid_body") from None
    return Answer.json(call.state.jobs.create(body, call.state.base_url), 201)


async def job(call: Call) -> Answer:
    (job_id,) = call.args
    return Answer.json(call.state.jobs.poll(job_id, call.state.tenant, call.state.base_url))


async def download(call: Call) -> Answer:
    job_id, token = call.args
    xml = {"Content-Type": "application/xml"}
    try:
        content = call.state.jobs.download(job_id, token)
    except DownloadExpired:
        body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        return Answer(403, body, xml)
    if content is None:
        return Answer(404, b"<Error><Code>NoSuchKey</Code></Error>", xml)
    return Answer(200, content, {"Content-Type": "application/gzip"})


TOKEN = Route("token", issue_token, None, rate_limited=False)
USER_LOGS = Route("user_logs", user_logs, ("read:logs", "read:logs_users"))
LOGS = Route("logs", logs, ("read:logs",))
USERS = Route("users", users, ("read:users",))
USER = Route("user", user, ("read:users",))
CREATE_EXPORT = Route("jobs", create_export, ("read:users",))
JOB = Route("jobs", job, ("read:users",))
DOWNLOAD = Route("export", download, None, rate_limited=False)
