"""`--test`: one cheap request per capability the settings need, each answered in one line.

What a first run needs to know before it starts: can the tenant be reached, are the
credentials accepted, and does the token hold the scopes (and the tenant the plan) that this
configuration will use? Nothing is extracted and nothing is written to stdout.
"""

from __future__ import annotations

import logging
import socket
import typing as t
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from urllib.parse import urlsplit

from requests.utils import select_proxy

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.credentials import ClientCredentialsAuthenticator
from tap_auth0_userlogs.auth0.errors import (
    LOG_SCOPES,
    ClientError,
    TapUserError,
    auth0_message,
    names_a_plan,
    unreachable_line,
)

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.auth0.session import TenantSession
    from tap_auth0_userlogs.settings import Settings

# No tenant has this user. Auth0 checks the token's scopes first, then answers an unknown
# user's log with [], so reading it proves the scope without a user id to hand.
PROBE_USER_ID = "auth0|tap-auth0-userlogs-connection-test"


class Verdict(Enum):
    """How one capability fared; only FAILED fails the test."""

    OK = "ok"
    FAILED = "FAILED"
    UNAVAILABLE = "unavailable"  # the tap works without it, in a lesser way


@dataclass(frozen=True)
class Outcome:
    """One capability's verdict, printed as one line."""

    capability: str
    verdict: Verdict
    detail: str

    @property
    def line(self) -> str:
        """`Connection test: users: ok (...)`, or `... FAILED, <what is missing>`."""
        head = f"Connection test: {self.capability}: {self.verdict.value}"
        if self.verdict is Verdict.OK:
            return f"{head} ({self.detail})"
        return f"{head}, {self.detail}"


@dataclass(frozen=True)
class Probe:
    """One capability and the cheapest request that proves it."""

    capability: str
    path: str  # as printed: /api/v2/users/{id}/logs
    scope: str  # what a 403 says is missing
    why: str  # why these settings need it
    required: bool = True
    without: str = ""  # what the tap does when an optional capability is missing
    instead: str = ""  # a setting that makes the capability unnecessary
    rejected: str = ""  # the setting to check when Auth0 rejects the request (400)


class _Stop(Exception):
    """A failure that makes every further request pointless (no connection, no credentials)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.line)
        self.outcome = outcome


def run_connection_test(
    settings: Settings,
    session: TenantSession,
    logger: logging.Logger,
    *,
    no_user_events: bool = False,
) -> bool:
    """Log one line per capability the settings need; True when none of them failed.

    `no_user_events`: the catalog selects `tenant_logs`, read only through the tenant's log.
    """
    outcomes = ConnectionTest(settings, session, no_user_events=no_user_events).outcomes()
    for outcome in outcomes:
        level = {
            Verdict.OK: logging.INFO,
            Verdict.UNAVAILABLE: logging.WARNING,
            Verdict.FAILED: logging.ERROR,
        }[outcome.verdict]
        logger.log(level, "%s", outcome.line)
    return all(outcome.verdict is not Verdict.FAILED for outcome in outcomes)


class ConnectionTest:
    """The capabilities one configuration needs, each checked with one request."""

    def __init__(
        self, settings: Settings, session: TenantSession, *, no_user_events: bool = False
    ) -> None:
        self._settings = settings
        self._no_user_events = no_user_events
        self._api = session.api
        self._base_url = session.base_url
        self._static_token = not self._api.authenticator.can_refresh
        self._credentials: Outcome | None = None

    def outcomes(self) -> list[Outcome]:
        """Every capability's verdict; just one line when the tenant or credentials fail."""
        results: list[Outcome] = []
        try:
            self._check_host()
            if not self._static_token:
                self._credentials = self._fetch_token()
            user_id = self._settings.user_ids[0] if self._settings.user_ids else None
            if user_id is None:
                found, outcome = self._users()
                results.append(outcome)
                user_id = found or PROBE_USER_ID
            results.append(self._user_logs(user_id))
            strategy = self._settings.strategy
            if strategy != "per_user" or self._no_user_events:
                results.append(self._tenant_log(strategy))
        except _Stop as stop:
            return [stop.outcome]
        return [self._credentials_outcome(), *results]

    # ------------------------------------------------------------------ the capabilities

    def _users(self) -> tuple[str | None, Outcome]:
        query = self._settings.user_query
        params: dict[str, t.Any] = {
            "page": 0,
            "per_page": 1,
            "fields": "user_id",
            "include_fields": "true",
        }
        if query:
            params |= {"q": query, "search_engine": "v3"}
        probe = Probe(
            "users",
            "/api/v2/users",
            "read:users",
            "to discover users, as 'user_ids' is not set",
            instead="or list the users in 'user_ids'",
            rejected="check 'user_query' (Lucene syntax of user search v3)" if query else "",
        )
        outcome, body = self._probe(probe, endpoints.USERS, params)
        found = body[0].get("user_id") if isinstance(body, list) and body else None
        return (found if isinstance(found, str) else None), outcome

    def _user_logs(self, user_id: str) -> Outcome:
        probe = Probe("user logs", "/api/v2/users/{id}/logs", LOG_SCOPES, "to read each user's log")
        outcome, _ = self._probe(probe, endpoints.user_logs(user_id), {"page": 0, "per_page": 1})
        return outcome

    def _tenant_log(self, strategy: str) -> Outcome:
        uses = [f"strategy '{strategy}'"] if strategy != "per_user" else []
        if self._no_user_events:
            uses.append("the stream tenant_logs (the events of no user)")
        probe = Probe(
            "tenant log",
            endpoints.LOGS,
            "read:logs",
            f"used by {' and '.join(uses)}",
            required=strategy == "tenant_scan" or self._no_user_events,
            without=(
                "without it, strategy 'auto' reads every user one by one, and cannot read a "
                "user's events past the 1,000 newest"
            ),
            instead="or set 'strategy' to 'per_user'",
        )
        params = {"page": 0, "per_page": 1, "fields": "log_id", "include_fields": "true"}
        outcome, _ = self._probe(probe, endpoints.LOGS, params)
        return outcome

    # ------------------------------------------------------------------ one request each

    def _probe(self, probe: Probe, path: str, params: dict[str, t.Any]) -> tuple[Outcome, t.Any]:
        """Send the probe's request; its outcome and the decoded body (None on failure)."""
        try:
            reply = self._api.get(
                f"{self._base_url}{path}", params, endpoint="connection_test", scopes=probe.scope
            )
        except ClientError as error:
            return self._refusal(probe, error), None
        except TapUserError as error:
            # Auth0 never answered usably (unreachable, TLS, 5xx or 429 throughout).
            raise _Stop(Outcome("connection", Verdict.FAILED, str(error))) from None
        self._accepted()
        return self._granted(probe), reply.payload

    def _granted(self, probe: Probe) -> Outcome:
        detail = f"GET {probe.path} with {probe.scope}, {probe.why}"
        return Outcome(probe.capability, Verdict.OK, detail)

    def _refusal(self, probe: Probe, error: ClientError) -> Outcome:
        status = error.reply.status_code
        message = auth0_message(error.reply)
        if status == HTTPStatus.UNAUTHORIZED:
            raise _Stop(self._refused_credentials(message))
        self._accepted()
        if status == HTTPStatus.NOT_FOUND:
            # Only a user that no longer exists answers 404: the request itself was allowed.
            return self._granted(probe)
        if status == HTTPStatus.FORBIDDEN and names_a_plan(message):
            missing = f"not included in the tenant's Auth0 plan (403: {message})"
            fix = probe.instead
        elif status == HTTPStatus.FORBIDDEN:
            missing = f"missing scope {probe.scope} (403: {message})"
            fix = " ".join(
                part
                for part in (
                    "grant it to the application in Auth0 (APIs > Auth0 Management API > "
                    "Machine to Machine Applications)",
                    probe.instead,
                )
                if part
            )
        else:
            missing = f"Auth0 answered {status} to GET {probe.path} ({message})"
            fix = probe.rejected if status == HTTPStatus.BAD_REQUEST else ""
        if not probe.required:
            return Outcome(probe.capability, Verdict.UNAVAILABLE, f"{missing}: {probe.without}")
        return Outcome(probe.capability, Verdict.FAILED, f"{missing}: {fix}" if fix else missing)

    # ------------------------------------------------------------------ tenant and credentials

    def _check_host(self) -> None:
        """A name that does not resolve ends the test before a token is requested for it."""
        parts = urlsplit(self._base_url)
        if not parts.hostname or select_proxy(self._base_url, self._api.session.proxies):
            return  # a proxy resolves the name, not this machine
        try:
            socket.getaddrinfo(parts.hostname, parts.port or 443)
        except socket.gaierror as error:
            if error.errno == socket.EAI_AGAIN:
                return  # a resolver hiccup: the request will retry it
            reason = f"the name {parts.hostname} does not resolve ({error.strerror})"
            raise _Stop(
                Outcome("connection", Verdict.FAILED, unreachable_line(self._base_url, reason))
            ) from None

    def _fetch_token(self) -> Outcome:
        authenticator = self._api.authenticator
        if not isinstance(authenticator, ClientCredentialsAuthenticator):
            msg = "a token is fetched only with client credentials"
            raise TypeError(msg)
        try:
            authenticator.update_access_token()
        except TapUserError as error:
            raise _Stop(Outcome("credentials", Verdict.FAILED, str(error))) from None
        client_id = self._settings.client_id
        return Outcome(
            "credentials", Verdict.OK, f"client_id {client_id!r} got a Management API token"
        )

    def _accepted(self) -> None:
        """Auth0 answered a request with something other than 401: the token is good."""
        if self._credentials is None:
            self._credentials = Outcome(
                "credentials", Verdict.OK, "Auth0 accepted the 'access_token'"
            )

    def _credentials_outcome(self) -> Outcome:
        return self._credentials or Outcome("credentials", Verdict.OK, "not used")

    def _refused_credentials(self, message: str) -> Outcome:
        if self._static_token:
            fix = "check 'access_token' (it is invalid or expired; Management API tokens expire)"
            what = "the 'access_token'"
        else:
            fix = (
                "check 'audience' and that the application is authorized for this tenant's "
                "Management API"
            )
            what = f"the token of client_id {self._settings.client_id!r}"
        return Outcome(
            "credentials", Verdict.FAILED, f"Auth0 refused {what} (401: {message}): {fix}"
        )
