"""The base stream for the Management API: a stream over the tap's connection.

Requests do not go through singer-sdk's request loop: the sources (`sources/`) read through
`ManagementAPI`, which paces, retries and explains failures for every endpoint.
"""

from __future__ import annotations

import typing as t

from tap_auth0_userlogs.singer.sdk_compat import StreamHooks

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.auth0.session import TenantSession


class Auth0Stream(StreamHooks):
    """A Management API stream sharing the tap's session, credentials and rate-limit view."""

    @property
    def tenant_session(self) -> TenantSession:
        """The tap-wide connection to the tenant."""
        return t.cast("TenantSession", self.owning_tap.tenant_session)  # type: ignore[attr-defined]

    @property
    def url_base(self) -> str:
        """`https://{domain}` or the `api_url` override."""
        return self.tenant_session.base_url
