"""Credentials for the Management API: a static token, or a client-credentials token kept fresh."""

from __future__ import annotations

import threading
import time
import typing as t

import requests
from singer_sdk.authenticators import BearerTokenAuthenticator, OAuthAuthenticator
from typing_extensions import override

from tap_auth0_userlogs.auth0.errors import (
    TapUserError,
    TransientAPIError,
    auth0_message,
    certificate_error_line,
    failure_reason,
    unreachable_line,
    unreachable_reason,
)
from tap_auth0_userlogs.auth0.reply import Reply
from tap_auth0_userlogs.auth0.retries import TRANSIENT_TRIES, retrying_transient_failures

if t.TYPE_CHECKING:
    from collections.abc import Callable

# Refresh this long before expiry (at most), so no request goes out with a dying token.
MAX_REFRESH_MARGIN_SECONDS = 300.0


class StaticTokenAuthenticator(BearerTokenAuthenticator):
    """A Management API token from the `access_token` setting; it cannot be refreshed."""

    can_refresh = False

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """The token's header, and nothing else: singer-sdk's also takes the URL apart and
        puts it together again, for query parameters a bearer token never adds."""
        request.headers.update(self.auth_headers)
        return request

    def invalidate(self, refused_header: str | None = None) -> None:
        """A static token cannot be renewed: nothing to do."""


class ClientCredentialsAuthenticator(OAuthAuthenticator):
    """Client-credentials grant against `/oauth/token`, cached and refreshed before expiry."""

    can_refresh = True

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        audience: str,
        session: requests.Session,
        timeout: float,
        on_request: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(auth_endpoint=token_url, client_id=client_id, client_secret=client_secret)
        self._audience = audience
        self._http = session
        self._timeout = timeout
        self._on_request = on_request
        self._lock = threading.Lock()
        self._expires_at = 0.0
        self._fetch_retrying = retrying_transient_failures(self._fetch_token)

    @property
    @override
    def oauth_request_body(self) -> dict[str, t.Any]:
        """The client-credentials grant body Auth0 expects."""
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "audience": self._audience,
        }

    @override
    def is_token_valid(self) -> bool:
        """True while the cached token has more than its refresh margin left."""
        return self.access_token is not None and time.monotonic() < self._expires_at

    def invalidate(self, refused_header: str | None = None) -> None:
        """Forget the cached token after Auth0 answered 401 to `refused_header`.

        Concurrent requests refused with the same token cause one refresh, not one each.
        """
        with self._lock:
            if refused_header is None or refused_header == f"Bearer {self.access_token}":
                self.access_token = None
                self._expires_at = 0.0

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Attach a fresh token, fetching one first when needed (once, across threads)."""
        with self._lock:
            if not self.is_token_valid():
                self.update_access_token()
            request.headers["Authorization"] = f"Bearer {self.access_token}"
        return request

    @override
    def update_access_token(self) -> None:
        """Fetch a new token; credentials Auth0 rejects end the run with one clear line."""
        self.logger.info("Requesting a Management API token for client_id %s", self.client_id)
        try:
            body, requested_at = self._fetch_retrying()
        except requests.exceptions.SSLError as exc:
            raise TapUserError(certificate_error_line(self.auth_endpoint, exc)) from None
        except (TransientAPIError, requests.RequestException) as exc:
            reason = unreachable_reason(exc)
            if reason:
                raise TapUserError(unreachable_line(self.auth_endpoint, reason)) from None
            msg = (
                f"Could not get a Management API token from {self.auth_endpoint} after "
                f"{TRANSIENT_TRIES} tries: {failure_reason(exc)}"
            )
            raise TapUserError(msg) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            msg = f"Auth0's token endpoint {self.auth_endpoint} answered without an access_token"
            raise TapUserError(msg)
        lifetime = float(body.get("expires_in") or 86400)
        self.access_token = token
        self.expires_in = int(lifetime)
        margin = min(MAX_REFRESH_MARGIN_SECONDS, lifetime * 0.1)
        self._expires_at = requested_at + lifetime - margin

    def _fetch_token(self) -> tuple[dict[str, t.Any], float]:
        requested_at = time.monotonic()
        self._on_request()
        reply = Reply.read(
            self._http.post(self.auth_endpoint, data=self.oauth_request_body, timeout=self._timeout)
        )
        if reply.status_code >= 500 or reply.status_code == 429:
            msg = f"{reply.status_code} {auth0_message(reply)}"
            raise TransientAPIError(msg, reply)
        if reply.status_code >= 400:
            msg = (
                f"Auth0 refused the client-credentials grant for client_id {self.client_id!r} "
                f"({reply.status_code}: {auth0_message(reply)}): check the settings "
                "'client_id', 'client_secret' and 'audience'"
            )
            raise TapUserError(msg)
        try:
            return reply.json(), requested_at
        except ValueError:
            msg = f"{reply.status_code} token reply is not JSON"
            raise TransientAPIError(msg, reply) from None
