"""One per tap: the session, credentials, rate-limit view and counters every stream shares."""

from __future__ import annotations

import logging
import typing as t

import requests

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.api import ManagementAPI, Transport
from tap_auth0_userlogs.auth0.credentials import (
    ClientCredentialsAuthenticator,
    StaticTokenAuthenticator,
)
from tap_auth0_userlogs.auth0.ratelimit import RateLimitGovernor
from tap_auth0_userlogs.progress import SyncProgress

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.settings import Settings


class TenantSession:
    """Everything about talking to one Auth0 tenant that outlives a single request."""

    def __init__(self, settings: Settings, logger: logging.Logger) -> None:
        self.base_url = settings.base_url
        timeout = settings.request_timeout
        # One request until the first answer gives the bucket's size: the tenant's own apps
        # share it, and on a Free tenant it holds only two.
        self.governor = RateLimitGovernor(
            max_per_second=settings.max_requests_per_second, before_first_answer=1
        )
        self.progress = SyncProgress(logger)
        authenticator: StaticTokenAuthenticator | ClientCredentialsAuthenticator
        if settings.access_token:
            authenticator = StaticTokenAuthenticator(token=settings.access_token)
        else:
            # Settings checked: without a token, both of these are set.
            assert settings.client_id is not None
            assert settings.client_secret is not None
            authenticator = ClientCredentialsAuthenticator(
                token_url=f"{self.base_url}{endpoints.OAUTH_TOKEN}",
                client_id=settings.client_id,
                client_secret=settings.client_secret,
                audience=settings.audience,
                # Its own session: the shared one authenticates every request it sends.
                session=requests.Session(),
                timeout=timeout,
                on_request=lambda: self.progress.count_request("token"),
            )
        session = requests.Session()
        # One pooled connection per concurrent worker, plus the token and discovery requests.
        adapter = Transport(pool_maxsize=settings.max_concurrency + 2)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        # Read proxy and CA-bundle variables once, not on every request (it showed in profiles);
        # certificates are still verified (`verify` is True or the bundle's path).
        environment = session.merge_environment_settings(self.base_url, {}, None, True, None)
        session.proxies, session.verify = environment["proxies"], environment["verify"]
        session.trust_env = False
        self.api = ManagementAPI(
            session=session,
            authenticator=authenticator,
            governor=self.governor,
            progress=self.progress,
            timeout=timeout,
        )

    def report_progress(self) -> None:
        """Log a progress line if it is time for one."""
        self.progress.maybe_report(self.governor.waited_seconds, self.governor.rate_limited)

    def summary(self) -> str:
        """The end-of-sync line."""
        return self.progress.summary(self.governor.waited_seconds, self.governor.rate_limited)
