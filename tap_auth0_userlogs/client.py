"""The base stream for the Management API: requests, retries, rate limits and Auth0's errors."""

from __future__ import annotations

import typing as t
from http import HTTPStatus

import backoff
import requests
from singer_sdk.streams import RESTStream

from tap_auth0_userlogs.errors import (
    LOG_SCOPES,
    RateLimitedError,
    TapUserError,
    TransientAPIError,
    auth0_message,
    describe_request,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from singer_sdk.helpers.types import Context

    from tap_auth0_userlogs.connection import Auth0Connection

# Transient failures (5xx, resets, timeouts, bodies that are not JSON): waits of about
# 0.5, 1, 2, 4 and 8 s with full jitter, then the run fails with one line.
TRANSIENT_TRIES = 6
TRANSIENT_BACKOFF_FACTOR = 0.5
# 429s: each wait is bounded by the governor; this bounds how many in a row we accept.
RATE_LIMITED_TRIES = 20

_TRANSIENT_EXCEPTIONS = (
    TransientAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

PAYLOAD_ATTRIBUTE = "auth0_payload"


def payload(response: requests.Response) -> t.Any:
    """The JSON body already decoded (once) when the response was validated."""
    return getattr(response, PAYLOAD_ATTRIBUTE)


class Auth0Stream(RESTStream):
    """A Management API stream sharing the tap's session, credentials and rate-limit view."""

    # Endpoint name used in request counters and the end-of-run summary.
    endpoint_name = "management_api"

    @property
    def connection(self) -> Auth0Connection:
        """The tap-wide connection to the tenant."""
        return self._tap.connection  # type: ignore[attr-defined]

    @property
    def url_base(self) -> str:
        """`https://{domain}` or the `api_url` override."""
        return self.connection.base_url

    @property
    def authenticator(self) -> t.Any:
        """The shared static-token or client-credentials authenticator."""
        return self.connection.authenticator

    @property
    def requests_session(self) -> requests.Session:
        """The shared session, so every stream reuses the same connections."""
        return self.connection.session

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds to wait for one answer (`request_timeout`)."""
        return self.connection.timeout

    def request_decorator(self, func: Callable) -> Callable:
        """Retry 429s after the rate-limit reset and transient failures with backoff.

        When retries run out the run ends with one line naming the request and Auth0's answer.
        """
        governor = self.connection.governor

        def wait_for_reset(exc: RateLimitedError) -> float:
            wait = governor.wait_after_429(exc.response.headers)
            governor.record_wait(wait)
            return wait

        transient = backoff.on_exception(
            backoff.expo,
            _TRANSIENT_EXCEPTIONS,
            max_tries=TRANSIENT_TRIES,
            factor=TRANSIENT_BACKOFF_FACTOR,
            max_value=30,
            jitter=backoff.full_jitter,
            on_backoff=self._log_retry,
            logger=None,
        )(func)
        rate_limited = backoff.on_exception(
            backoff.runtime,
            RateLimitedError,
            value=wait_for_reset,
            max_tries=RATE_LIMITED_TRIES,
            jitter=None,
            logger=None,
        )(transient)

        def request(prepared: requests.PreparedRequest, context: Context | None) -> t.Any:
            try:
                return rate_limited(prepared, context)
            except RateLimitedError:
                msg = (
                    f"Auth0 kept answering 429 (rate limit) to {prepared.method} "
                    f"{_path(prepared)} after {RATE_LIMITED_TRIES} tries: the tenant's rate "
                    "limit is exhausted by other clients; run again later"
                )
                raise TapUserError(msg) from None
            except _TRANSIENT_EXCEPTIONS as exc:
                msg = (
                    f"Auth0 did not answer {prepared.method} {_path(prepared)} usably after "
                    f"{TRANSIENT_TRIES} tries: {_one_line(exc)}"
                )
                raise TapUserError(msg) from None

        return request

    def _log_retry(self, details: t.Any) -> None:
        self.logger.warning(
            "Retrying in %.1fs (try %d of %d): %s",
            details["wait"],
            details["tries"],
            TRANSIENT_TRIES,
            _one_line(details.get("exception")),
        )

    def _send(self, prepared: requests.PreparedRequest) -> requests.Response:
        connection = self.connection
        connection.governor.before_request()
        authenticated = self.authenticator(prepared)
        connection.progress.count_request(self.endpoint_name)
        response = self.requests_session.send(
            authenticated, timeout=self.timeout, allow_redirects=False
        )
        connection.governor.observe(response.headers)
        return response

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """Send one request; on 401 with a refreshable token, refresh it and send once more."""
        response = self._send(prepared_request)
        if response.status_code == HTTPStatus.UNAUTHORIZED and self.authenticator.can_refresh:
            self.logger.info("Auth0 answered 401; refreshing the Management API token once")
            self.authenticator.invalidate()
            response = self._send(prepared_request)
        self.validate_response(response)
        return response

    def validate_response(self, response: requests.Response) -> None:
        """Sort Auth0's answer into retry-later, fail-with-a-clear-line, or a decoded body."""
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            raise RateLimitedError(auth0_message(response), response)
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            msg = f"{status} from {describe_request(response)}: {auth0_message(response)}"
            raise TransientAPIError(msg, response)
        if status >= HTTPStatus.BAD_REQUEST or status >= HTTPStatus.MULTIPLE_CHOICES:
            raise TapUserError(self._client_error_line(response))
        try:
            decoded = response.json()
        except ValueError:
            msg = (
                f"{status} from {describe_request(response)} with a body that is not JSON "
                f"({response.headers.get('content-type', 'no content type')})"
            )
            raise TransientAPIError(msg, response) from None
        setattr(response, PAYLOAD_ATTRIBUTE, decoded)

    def _client_error_line(self, response: requests.Response) -> str:
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
        if status == HTTPStatus.FORBIDDEN:
            return (
                f"Auth0 refused {request} (403: {message}): the token needs the scope "
                f"{self.required_scopes}"
            )
        if status == HTTPStatus.NOT_FOUND:
            return (
                f"Auth0 answered 404 for {request} ({message}): check the settings 'domain' "
                "and 'api_url'"
            )
        return f"Auth0 rejected {request} ({status}: {message})"

    # The scopes named in a 403 error.
    required_scopes = LOG_SCOPES

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Events (or objects) from a body that is a JSON array."""
        body = payload(response)
        if not isinstance(body, list):
            kind = type(body).__name__
            msg = f"expected a JSON array from {describe_request(response)}, got {kind}"
            raise TapUserError(msg)
        yield from body


def _path(prepared: requests.PreparedRequest) -> str:
    return (prepared.path_url or "").split("?", 1)[0]


def _one_line(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
