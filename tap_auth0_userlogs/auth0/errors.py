"""What can go wrong talking to Auth0, as exceptions whose message is one actionable line."""

from __future__ import annotations

import http.client
import json
import re
import socket
import typing as t
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError

from tap_auth0_userlogs.settings import is_loopback

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.auth0.reply import Reply

LOG_SCOPES = "read:logs or read:logs_users"


class TapUserError(FatalAPIError):
    """A failure the user must fix (credentials, scopes, settings); retrying will not help."""


class RetryableError(Exception):
    """A request worth sending again; `reply` is Auth0's answer, when there was one."""

    def __init__(self, message: str, reply: Reply | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class RateLimitedError(RetryableError):
    """Auth0 answered 429: wait for the rate-limit bucket to refill, then retry."""


class TransientAPIError(RetryableError):
    """A 5xx, a connection problem or an unreadable body: retry with exponential backoff."""


REDACTED = "[redacted]"
# A 403 for a feature the tenant's subscription lacks (export jobs on the Free plan) names the
# plan; a missing scope does not.
_PLAN = re.compile(r"(?i)\b(plan|subscription)\b")
_BEARER = re.compile(r"(?i)\bbearer\s+[^\s\"',;]+")


def secrets_sent(request: requests.PreparedRequest | None) -> list[str]:
    """The credentials a request carried: its Authorization header and any client_secret."""
    if request is None:
        return []
    found: list[str] = []
    authorization = request.headers.get("Authorization")
    if authorization:
        found += [authorization, authorization.split(" ", 1)[-1]]
    body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
    fields = dict(parse_qsl(body))
    if not fields and body.startswith("{"):
        try:
            fields = json.loads(body)
        except ValueError:
            fields = {}
    secret = fields.get("client_secret") if isinstance(fields, dict) else None
    if isinstance(secret, str) and secret:
        found += [secret, quote(secret, safe=""), quote_plus(secret)]
    return found


def redact(text: str, secrets: t.Iterable[str]) -> str:
    """`text` without any of `secrets`, nor anything that looks like a bearer token."""
    for secret in sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(f"Bearer {REDACTED}", text)


def auth0_message(reply: Reply) -> str:
    """Auth0's own words from an error reply, without any credential the request carried.

    Auth0 never quotes credentials, but a proxy in between may echo the request back.
    """
    try:
        body = reply.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        # Management API errors carry message/errorCode; /oauth/token ones error_description.
        message = body.get("message") or body.get("error_description") or body.get("error")
        code = body.get("errorCode") or (
            body.get("error") if body.get("error_description") else None
        )
        text = str(message or reply.reason or "no message").strip()
        text = f"{text} ({code})" if code else text
    else:
        text = (reply.reason or "no message").strip()
    return redact(" ".join(text.split()), secrets_sent(reply.request))


def describe_request(reply: Reply) -> str:
    """`GET /api/v2/...` without the query string (which never holds secrets, but is noise)."""
    request = reply.request
    path = (request.path_url if request is not None else "").split("?", 1)[0]
    method = request.method if request is not None else "GET"
    return f"{method} {path}"


def names_a_plan(message: str) -> bool:
    """Whether Auth0's refusal is about the tenant's plan rather than the token's scopes."""
    return _PLAN.search(message) is not None


class ClientError(TapUserError):
    """Auth0 answered 4xx (other than 429): the request itself is wrong or not allowed."""

    def __init__(self, message: str, reply: Reply) -> None:
        super().__init__(message)
        self.reply = reply


def is_certificate_error(exc: BaseException) -> bool:
    """A TLS failure: the certificate will not verify on the next try either."""
    return isinstance(exc, requests.exceptions.SSLError)


def certificate_error_line(url: str, exc: BaseException) -> str:
    """One line for a TLS failure, naming the host and the verifier's reason."""
    host = urlsplit(url).hostname or url
    reason = (
        "certificate verify failed" if "certificate verify failed" in str(exc) else one_line(exc)
    )
    return (
        f"The TLS certificate of {host} did not verify ({reason}): check 'domain' and "
        "'api_url'; behind a proxy that re-signs TLS, point REQUESTS_CA_BUNDLE at its CA"
    )


def fails_at_once(exc: BaseException) -> bool:
    """A failure the next try would meet too, so retrying only delays the one-line error."""
    return is_certificate_error(exc) or unreachable_reason(exc) is not None


def unreachable_reason(exc: BaseException) -> str | None:
    """Why the host cannot be reached at all, or None for a failure worth retrying.

    A name that does not resolve, or a remote host that refuses connections, is a mistyped
    `domain` or `api_url`. A refusal on loopback is a local server (re)starting, and a
    temporary DNS failure (EAI_AGAIN) a resolver hiccup: both are retried.
    """
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ProxyError | requests.exceptions.SSLError
    ):
        return None
    request = getattr(exc, "request", None)
    host = urlsplit(getattr(request, "url", None) or "").hostname or ""
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror) and cause.errno != socket.EAI_AGAIN:
            return f"the name {host} does not resolve ({cause.strerror or 'DNS lookup failed'})"
        if isinstance(cause, ConnectionRefusedError) and host and not is_loopback(host):
            return f"{host} refused the connection"
    return None


def unreachable_line(url: str, reason: str) -> str:
    """One line for a host that cannot be reached, naming the settings that chose it."""
    parts = urlsplit(url)
    return (
        f"Cannot reach Auth0 at {parts.scheme}://{parts.netloc}: {reason}; "
        "check the setting 'domain' (or 'api_url', which replaces it when set)"
    )


def failure_reason(exc: BaseException | None) -> str:
    """Why one try failed, in a few words: never a URL's query string."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, TransientAPIError) and exc.reply is not None:
        # "503 from GET /api/v2/...: <Auth0's message>": the request is named already.
        text = str(exc).replace(f" from {describe_request(exc.reply)}", "", 1)
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        text = "no answer within 'request_timeout'"
    elif isinstance(exc, requests.exceptions.ChunkedEncodingError):
        text = "the answer was cut off"
    elif isinstance(exc, requests.exceptions.ContentDecodingError):
        text = "the answer could not be decoded"
    else:
        text = unreachable_reason(exc) or _connection_failure(exc)
    return _QUERY_STRING.sub("", " ".join(text.split()))[:160]


def _connection_failure(exc: BaseException) -> str:
    for cause in _causes(exc):
        for kind, words in _CONNECTION_FAILURES:
            if isinstance(cause, kind):
                return words
    return one_line(exc)


# Most specific first: a ConnectionResetError is also a ConnectionError.
_CONNECTION_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (socket.gaierror, "DNS lookup failed"),
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    (http.client.RemoteDisconnected, "connection closed without an answer"),
    (requests.exceptions.ConnectTimeout, "connecting timed out"),
    (TimeoutError, "timed out"),
)
_QUERY_STRING = re.compile(r"\?[^\s'\")]*")


def _causes(exc: BaseException) -> t.Iterator[BaseException]:
    """`exc` and what it wraps: requests wraps urllib3's errors, which wrap the socket's."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        cause = pending.pop(0)
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        pending += [cause.__cause__, cause.__context__, getattr(cause, "reason", None)]
        pending += [arg for arg in cause.args if isinstance(arg, BaseException)]


def one_line(exc: BaseException | None) -> str:
    """An exception as one short line."""
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
