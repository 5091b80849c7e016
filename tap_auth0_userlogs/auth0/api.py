"""Sending one Management API request the way Auth0 wants it: paced, retried, and explained."""

from __future__ import annotations

import dataclasses
import logging
import typing as t
from http import HTTPStatus
from urllib.parse import urlencode

import backoff
import requests
from requests.adapters import HTTPAdapter
from requests.hooks import default_hooks
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri
from typing_extensions import override

from tap_auth0_userlogs.auth0.errors import (
    ClientError,
    RateLimitedError,
    TapUserError,
    TransientAPIError,
    auth0_message,
    certificate_error_line,
    describe_request,
    failure_reason,
    names_a_plan,
    unreachable_line,
    unreachable_reason,
)
from tap_auth0_userlogs.auth0.reply import Reply
from tap_auth0_userlogs.auth0.retries import (
    TRANSIENT_EXCEPTIONS,
    TRANSIENT_TRIES,
    retrying_transient_failures,
)
from tap_auth0_userlogs.json_codec import loads

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_auth0_userlogs.auth0.credentials import (
        ClientCredentialsAuthenticator,
        StaticTokenAuthenticator,
    )
    from tap_auth0_userlogs.auth0.ratelimit import RateLimitGovernor
    from tap_auth0_userlogs.progress import SyncProgress

# 429s: each wait is bounded by the governor; this bounds how many in a row we accept.
RATE_LIMITED_TRIES = 20

logger = logging.getLogger("tap-auth0-userlogs.api")


class Transport(HTTPAdapter):
    """requests' adapter, without work on every request that one tenant never needs.

    Every answer went through cookie extraction (a parse of the headers through the
    standard library's cookie jar) and a guess of its text encoding, and every request
    through a parse of its URL to find its proxy and connection pool: together a fifth of the
    CPU a request cost. Auth0's Management API sets no cookies, every body is read as bytes,
    and without a proxy the pool of a host is the same for every request.
    """

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self._pools: dict[tuple[str, str, t.Any], t.Any] = {}

    @override
    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: bool | str | None,
        proxies: t.Mapping[str, str] | None = None,
        cert: t.Any = None,
    ) -> t.Any:
        if proxies or cert:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        scheme, _, host, *_ = (request.url or "").split("/", 3)
        key = (scheme, host, verify)
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # `pool` None: closed, when its manager is
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            self._pools[key] = pool
        return pool

    @override
    def request_url(
        self, request: requests.PreparedRequest, proxies: t.Mapping[str, str] | None
    ) -> str:
        if proxies:
            return super().request_url(request, proxies)
        return request.path_url

    @override
    def build_response(self, req: requests.PreparedRequest, resp: t.Any) -> requests.Response:
        response = requests.Response()
        response.status_code = resp.status
        response.headers = resp.headers  # urllib3's are case-insensitive already
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url or ""
        response.request = req
        response.connection = self
        return response


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
        # The session's headers, taken once rather than for every request.
        self._headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(
            {name: str(value) for name, value in session.headers.items()}
        )
        # Built once: transient failures backed off, 429s waited out as the governor says.
        self._send_retrying = backoff.on_exception(
            backoff.runtime,
            RateLimitedError,
            value=self._wait_for_reset,
            max_tries=RATE_LIMITED_TRIES,
            jitter=None,
            logger=None,
        )(retrying_transient_failures(self._send_once, on_retry=_log_retry))

    def _wait_for_reset(self, exc: RateLimitedError) -> float:
        reply = t.cast("Reply", exc.reply)
        wait = self.governor.wait_after_429(reply.headers, reply.seq)
        self.governor.record_wait(wait)
        return wait

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
        try:
            return self._send_retrying(prepared, endpoint, scopes, decode)
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
        # Built by hand: requests' prepare() parses and rebuilds the URL, which cost a tenth
        # of a pass's CPU. The URL is the tenant's (a validated setting, or a link Auth0 gave
        # for the same host); the session keeps no cookies, auth or hooks to merge.
        prepared = requests.PreparedRequest()
        prepared.prepare_method("GET")
        query = f"{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}" if params else ""
        prepared.url = requote_uri(url + query)
        prepared.headers = self._headers.copy()
        prepared.body = None
        prepared.hooks = default_hooks()
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
        reply = self._transmit(prepared, endpoint)
        if reply.status_code == HTTPStatus.UNAUTHORIZED and self.authenticator.can_refresh:
            logger.info("Auth0 answered 401; refreshing the Management API token once")
            self.authenticator.invalidate(reply.request.headers.get("Authorization"))
            reply = self._transmit(prepared, endpoint)
        return self._check(reply, scopes, decode)

    def _transmit(self, prepared: requests.PreparedRequest, endpoint: str) -> Reply:
        authenticated = self.authenticator(prepared)
        seq = self.governor.acquire()
        self.progress.count_request(endpoint)
        session = self.session
        try:
            # The adapter itself: the session's send adds cookies, hooks and redirects,
            # none of which a Management API request uses, at a cost on every request.
            response = session.get_adapter(authenticated.url or "").send(
                authenticated,
                stream=True,
                timeout=self.timeout,
                verify=True if session.verify is None else session.verify,
                proxies=session.proxies,
            )
        except BaseException:
            self.governor.unanswered(seq)
            raise
        self.governor.observe(response.headers, seq)
        return Reply.read(response, seq)

    def _check(self, reply: Reply, scopes: str, decode: Callable[[bytes], t.Any]) -> Reply:
        """Sort Auth0's answer into retry-later, fail-with-a-clear-line, or a decoded body."""
        status = reply.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            raise RateLimitedError(auth0_message(reply), reply)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            msg = f"{status} from {describe_request(reply)}: {auth0_message(reply)}"
            raise TransientAPIError(msg, reply)
        if status >= HTTPStatus.MULTIPLE_CHOICES:
            raise ClientError(self._client_error_line(reply, scopes), reply)
        try:
            decoded = decode(reply.content)
        except ValueError:
            msg = (
                f"{status} from {describe_request(reply)} with a body that is not JSON "
                f"({reply.headers.get('content-type', 'no content type')})"
            )
            raise TransientAPIError(msg, reply) from None
        return dataclasses.replace(reply, payload=decoded)

    def _client_error_line(self, reply: Reply, scopes: str) -> str:
        status = reply.status_code
        request = describe_request(reply)
        message = auth0_message(reply)
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
