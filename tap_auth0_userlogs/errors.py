"""What can go wrong talking to Auth0, as exceptions whose message is one actionable line."""

from __future__ import annotations

import typing as t

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


def auth0_message(response: requests.Response) -> str:
    """Auth0's own words from an error response, from either of its two error shapes."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or "no message").strip()
    if not isinstance(body, dict):
        return (response.reason or "no message").strip()
    # Management API errors carry message/errorCode; /oauth/token errors error/error_description.
    message = body.get("message") or body.get("error_description") or body.get("error")
    code = body.get("errorCode") or (body.get("error") if body.get("error_description") else None)
    text = str(message or response.reason or "no message").strip()
    return f"{text} ({code})" if code else text


def describe_request(response: requests.Response) -> str:
    """`GET /api/v2/...` without the query string (which never holds secrets, but is noise)."""
    request = response.request
    path = (request.path_url if request is not None else "").split("?", 1)[0]
    method = request.method if request is not None else "GET"
    return f"{method} {path}"
