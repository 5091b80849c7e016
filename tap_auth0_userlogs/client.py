"""The base stream for the Management API: the SDK's REST stream over the tap's connection."""

from __future__ import annotations

import typing as t

from singer_sdk.streams import RESTStream

from tap_auth0_userlogs.errors import LOG_SCOPES, TapUserError, describe_request
from tap_auth0_userlogs.management_api import payload

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_auth0_userlogs.connection import Auth0Connection


class Auth0Stream(RESTStream):
    """A Management API stream sharing the tap's session, credentials and rate-limit view."""

    # Names the endpoint in request counters and the end-of-run summary.
    endpoint_name = "management_api"
    # The scopes a 403 answer says the token needs.
    required_scopes = LOG_SCOPES

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
        return self.connection.api.authenticator

    @property
    def requests_session(self) -> requests.Session:
        """The shared session, so every stream reuses the same connections."""
        return self.connection.api.session

    @property
    def timeout(self) -> float:  # type: ignore[override]
        """Seconds to wait for one answer (`request_timeout`)."""
        return self.connection.api.timeout

    def request_decorator(self, func: Callable) -> Callable:
        """No extra layer: `ManagementAPI.send` already paces and retries."""
        return func

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        return self.connection.api.send(
            prepared_request, endpoint=self.endpoint_name, scopes=self.required_scopes
        )

    def parse_response(self, response: requests.Response) -> Iterable[dict]:
        """Events (or objects) from a body that is a JSON array."""
        body = payload(response)
        if not isinstance(body, list):
            kind = type(body).__name__
            msg = f"expected a JSON array from {describe_request(response)}, got {kind}"
            raise TapUserError(msg)
        yield from body
