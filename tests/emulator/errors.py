"""Management API error answers, in Auth0's ``{statusCode, error, message, errorCode}`` shape."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
MAX_RESULTS = 1000  # Auth0 lets paging reach at most this many results


class ApiError(Exception):
    """Raised by a handler to answer with an Auth0-shaped error."""

    def __init__(self, status: int, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_code = error_code

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message, self.error_code)


def error_body(status: int, message: str, error_code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
    }
    if error_code is not None:
        body["errorCode"] = error_code
    return body


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def bad_query(message: str) -> ApiError:
    return ApiError(400, f"Query validation error: {message}", "invalid_query_string")


def paging_cap(page: int) -> ApiError:
    return ApiError(
        400,
        f"Requesting page {page + 1} exceeds the allowed maximum of {MAX_RESULTS} records",
        "invalid_paging",
    )


def insufficient_scope(expected: tuple[str, ...]) -> ApiError:
    return ApiError(
        403, f"Insufficient scope, expected any of: {','.join(expected)}", "insufficient_scope"
    )


def checkpoint_refused(start: str | None) -> ApiError:
    # Auth0 documents no wording for refusing a checkpoint; a 400 is all a client may rely on.
    position = f"log_id {start}" if start else "the oldest event"
    return ApiError(
        400,
        f"Checkpoint reads (from, take) are not available from {position}; "
        "search with q, page and per_page instead",
        "invalid_query",
    )


def inexistent_user() -> ApiError:
    return ApiError(404, "The user does not exist.", "inexistent_user")


def feature_not_on_plan(plan_name: str) -> ApiError:
    # Auth0 documents only that the feature is missing from the plan, not the answer's shape.
    return ApiError(
        403,
        f"This feature is not available on the {plan_name} plan. "
        "Upgrade your subscription to use bulk user exports.",
        "operation_not_supported",
    )


def rate_limited() -> dict[str, Any]:
    return error_body(429, "Global limit has been reached", "too_many_requests")


def too_many_concurrent() -> dict[str, Any]:
    # Private Cloud caps requests in flight per tenant; the wording of its 429 is undocumented.
    return error_body(429, "Too many concurrent requests", "too_many_requests")


SERVER_ERRORS: dict[int, tuple[str, str]] = {
    500: ("Internal error, please retry", "internal_error"),
    502: ("Upstream service did not answer", "bad_gateway"),
    503: ("Service temporarily unavailable, please retry", "service_unavailable"),
    504: ("Upstream service timed out", "gateway_timeout"),
}

PROXY_502_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>edge-proxy</center>\r\n"
    "</body>\r\n</html>\r\n"
)
