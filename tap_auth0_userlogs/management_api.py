"""Sending one Management API request the way Auth0 wants it: paced, retried, and explained."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import ipaddress
import logging
import re
import socket
import typing as t
from http import HTTPStatus
from urllib.parse import urlsplit

import backoff
import requests

from tap_auth0_userlogs.errors import (
    RateLimitedError,
    TapUserError,
    TransientAPIError,
    auth0_message,
    describe_request,
    names_a_plan,
)
from tap_auth0_userlogs.json_codec import loads

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_auth0_userlogs.auth import ClientCredentialsAuthenticator, StaticTokenAuthenticator
    from tap_auth0_userlogs.progress import SyncProgress
    from tap_auth0_userlogs.ratelimit import RateLimitGovernor

# Transient failures (5xx, resets, timeouts, bodies that are not JSON): waits of about
# 0.5, 1, 2, 4 and 8 s with full jitter, then the run fails with one line.
TRANSIENT_TRIES = 6
TRANSIENT_BACKOFF_FACTOR = 0.5
# 429s: each wait is bounded by the governor; this bounds how many in a row we accept.
RATE_LIMITED_TRIES = 20

TRANSIENT_EXCEPTIONS = (
    TransientAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

logger = logging.getLogger("tap-auth0-userlogs.api")


@dataclasses.dataclass(frozen=True)
class Reply:
    """Auth0's answer to one request: its body read whole, and decoded once it proved usable."""

    request: requests.PreparedRequest
    status_code: int
    reason: str
    headers: t.Mapping[str, str]
    links: dict[str, dict[str, str]]
    content: bytes
    # The request's place in the governor's sending order.
    seq: int
    payload: t.Any = None

    def json(self) -> t.Any:
        """The body as JSON; raises ValueError when it is not."""
        return loads(self.content)


class ManagementAPI:
    """Sends requests to one tenant with shared credentials, pacing, retries and counters."""

    def __init__(
        self,
        *,
        session: requests.Session,
        authenticator: StaticTokenAuthenticator | ClientCredentialsAuthenticator,
        governor: RateLimitGovernor,
        progress: SyncProgress,
        timeout: float,
    ) -> None:
        self.session = session
        self.authenticator = authenticator
        self.governor = governor
        self.progress = progress
        self.timeout = timeout

    def send(
        self,
        prepared: requests.PreparedRequest,
        *,
        endpoint: str,
        scopes: str,
        decode: Callable[[bytes], t.Any] = loads,
    ) -> Reply:
        """Send `prepared` until Auth0 answers usably; raise TapUserError when it never does.

        `endpoint` names the request in counters; `scopes` is what a 403 says is missing;
        `decode` turns a 2xx body into the reply's payload (ValueError: retried as unusable).
        """
        governor = self.governor

        def wait_for_reset(exc: RateLimitedError) -> float:
            wait = governor.wait_after_429(exc.response.headers, exc.response.seq)
            governor.record_wait(wait)
            return wait

        transient = backoff.on_exception(
            backoff.expo,
            TRANSIENT_EXCEPTIONS,
            max_tries=TRANSIENT_TRIES,
            factor=TRANSIENT_BACKOFF_FACTOR,
            max_value=30,
            jitter=backoff.full_jitter,
            giveup=fails_at_once,
            on_backoff=_log_retry,
            logger=None,
        )(self._send_once)
        rate_limited = backoff.on_exception(
            backoff.runtime,
            RateLimitedError,
            value=wait_for_reset,
            max_tries=RATE_LIMITED_TRIES,
            jitter=None,
            logger=None,
        )(transient)
        try:
            return rate_limited(prepared, endpoint, scopes, decode)
        except requests.exceptions.SSLError as exc:
            raise TapUserError(certificate_error_line(prepared.url or "", exc)) from None
        except RateLimitedError:
            msg = (
                f"Auth0 kept answering 429 (rate limit) to {prepared.method} {_path(prepared)} "
                f"after {RATE_LIMITED_TRIES} tries: the tenant's rate limit is exhausted by "
                "other clients; run again later"
            )
            raise TapUserError(msg) from None
        except TRANSIENT_EXCEPTIONS as exc:
            reason = unreachable_reason(exc)
            if reason:
                raise TapUserError(unreachable_line(prepared.url or "", reason)) from None
            msg = (
                f"Auth0 did not answer {prepared.method} {_path(prepared)} usably after "
                f"{TRANSIENT_TRIES} tries: {failure_reason(exc)}"
            )
            raise TapUserError(msg) from None

    def get(
        self,
        url: str,
        params: dict[str, t.Any],
        *,
        endpoint: str,
        scopes: str,
        decode: Callable[[bytes], t.Any] = loads,
    ) -> Reply:
        """A GET through `send`."""
        prepared = self.session.prepare_request(requests.Request("GET", url, params=params))
        return self.send(prepared, endpoint=endpoint, scopes=scopes, decode=decode)

    def post_json(self, url: str, body: dict[str, t.Any], *, endpoint: str, scopes: str) -> Reply:
        """A POST of a JSON body through `send`."""
        prepared = self.session.prepare_request(requests.Request("POST", url, json=body))
        return self.send(prepared, endpoint=endpoint, scopes=scopes)

    def _send_once(
        self,
        prepared: requests.PreparedRequest,
        endpoint: str,
        scopes: str,
        decode: Callable[[bytes], t.Any],
    ) -> Reply:
        response = self._transmit(prepared, endpoint)
        if response.status_code == HTTPStatus.UNAUTHORIZED and self.authenticator.can_refresh:
            logger.info("Auth0 answered 401; refreshing the Management API token once")
            self.authenticator.invalidate(response.request.headers.get("Authorization"))
            response = self._transmit(prepared, endpoint)
        return self._check(response, scopes, decode)

    def _transmit(self, prepared: requests.PreparedRequest, endpoint: str) -> Reply:
        authenticated = self.authenticator(prepared)
        seq = self.governor.acquire()
        self.progress.count_request(endpoint)
        try:
            response = self.session.send(
                authenticated, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except BaseException:
            self.governor.unanswered()
            raise
        self.governor.observe(response.headers, seq)
        with contextlib.closing(response):
            # One read of the whole body: `.content` reads it 10 KB at a time, which cost as
            # much CPU as decoding a page of 100 events.
            content = b"".join(response.iter_content(chunk_size=None))
        return Reply(
            request=response.request,
            status_code=response.status_code,
            reason=response.reason or "",
            headers=response.headers,
            links=response.links,
            content=content,
            seq=seq,
        )

    def _check(self, response: Reply, scopes: str, decode: Callable[[bytes], t.Any]) -> Reply:
        """Sort Auth0's answer into retry-later, fail-with-a-clear-line, or a decoded body."""
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            raise RateLimitedError(auth0_message(response), response)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            msg = f"{status} from {describe_request(response)}: {auth0_message(response)}"
            raise TransientAPIError(msg, response)
        if status >= HTTPStatus.MULTIPLE_CHOICES:
            raise ClientError(self._client_error_line(response, scopes), response)
        try:
            decoded = decode(response.content)
        except ValueError:
            msg = (
                f"{status} from {describe_request(response)} with a body that is not JSON "
                f"({response.headers.get('content-type', 'no content type')})"
            )
            raise TransientAPIError(msg, response) from None
        return dataclasses.replace(response, payload=decoded)

    def _client_error_line(self, response: Reply, scopes: str) -> str:
        status = response.status_code
        request = describe_request(response)
        message = auth0_message(response)
        if status == HTTPStatus.UNAUTHORIZED:
            setting = (
                "'client_id'/'client_secret' (the token was refreshed and still refused)"
                if self.authenticator.can_refresh
                else "'access_token' (it is invalid or expired; Management API tokens expire)"
            )
            return f"Auth0 refused the token for {request} (401: {message}): check {setting}"
        if status == HTTPStatus.FORBIDDEN and names_a_plan(message):
            return (
                f"Auth0 refused {request} (403: {message}): "
                "the tenant's Auth0 plan does not include this"
            )
        if status == HTTPStatus.FORBIDDEN:
            return f"Auth0 refused {request} (403: {message}): the token needs the scope {scopes}"
        if status == HTTPStatus.NOT_FOUND:
            return f"Auth0 answered 404 for {request} ({message})"
        return f"Auth0 rejected {request} ({status}: {message})"


class ClientError(TapUserError):
    """Auth0 answered 4xx (other than 429): the request itself is wrong or not allowed."""

    def __init__(self, message: str, response: Reply) -> None:
        super().__init__(message)
        self.response = response


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
        if isinstance(cause, ConnectionRefusedError) and host and not _is_loopback(host):
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
    if isinstance(exc, TransientAPIError) and exc.response is not None:
        # "503 from GET /api/v2/...: <Auth0's message>": the request is named already.
        text = str(exc).replace(f" from {describe_request(exc.response)}", "", 1)
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


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _log_retry(details: t.Any) -> None:
    prepared = details["args"][0]
    logger.warning(
        "Retrying %s %s in %.1fs (try %d of %d failed): %s",
        prepared.method,
        _path(prepared),
        details["wait"],
        details["tries"],
        TRANSIENT_TRIES,
        failure_reason(details.get("exception")),
    )


def _path(prepared: requests.PreparedRequest) -> str:
    return (prepared.path_url or "").split("?", 1)[0]


def one_line(exc: BaseException | None) -> str:
    """An exception as one short line."""
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
