"""What can go wrong talking to Auth0, as exceptions whose message is one actionable line."""

from __future__ import annotations

import json
import re
import typing as t
from urllib.parse import parse_qsl, quote, quote_plus

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

if t.TYPE_CHECKING:
    import requests

LOG_SCOPES = "read:logs or read:logs_users"


class TapUserError(FatalAPIError):
    """A failure the user must fix (credentials, scopes, settings); retrying will not help."""


class RateLimitedError(RetriableAPIError):
    """Auth0 answered 429: wait for the rate-limit bucket to refill, then retry."""


class TransientAPIError(RetriableAPIError):
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


def auth0_message(response: requests.Response) -> str:
    """Auth0's own words from an error response, without any credential the request carried.

    Auth0 never quotes credentials, but a proxy in between may echo the request back.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        # Management API errors carry message/errorCode; /oauth/token ones error_description.
        message = body.get("message") or body.get("error_description") or body.get("error")
        code = body.get("errorCode") or (
            body.get("error") if body.get("error_description") else None
        )
        text = str(message or response.reason or "no message").strip()
        text = f"{text} ({code})" if code else text
    else:
        text = (response.reason or "no message").strip()
    return redact(" ".join(text.split()), secrets_sent(response.request))


def describe_request(response: requests.Response) -> str:
    """`GET /api/v2/...` without the query string (which never holds secrets, but is noise)."""
    request = response.request
    path = (request.path_url if request is not None else "").split("?", 1)[0]
    method = request.method if request is not None else "GET"
    return f"{method} {path}"


def names_a_plan(message: str) -> bool:
    """Whether Auth0's refusal is about the tenant's plan rather than the token's scopes."""
    return _PLAN.search(message) is not None
