"""The Management API's paths, and the caps Auth0 puts on paging through them."""

from __future__ import annotations

from urllib.parse import quote

# The tenant's log: checkpoint mode (from/take) and search (q/page/per_page).
LOGS = "/api/v2/logs"
USERS = "/api/v2/users"
USERS_EXPORTS = "/api/v2/jobs/users-exports"
OAUTH_TOKEN = "/oauth/token"  # noqa: S105 (a path, not a secret)

# Results per request on every listing Auth0 pages (logs, users).
MAX_PAGE_SIZE = 100
# Auth0 answers 400 to any page that reaches past the 1,000th result of a listing.
RESULT_CAP = 1000


def user(user_id: str) -> str:
    """One user: its id percent-encoded as one path segment (`|` and `/` included)."""
    return f"{USERS}/{quote(user_id, safe='')}"


def user_logs(user_id: str) -> str:
    """One user's log."""
    return f"{user(user_id)}/logs"


def job(job_id: str) -> str:
    """One job, such as a users export."""
    return f"/api/v2/jobs/{quote(job_id, safe='')}"


def last_page_within_cap(page_size: int) -> int:
    """The highest 0-based page whose every result lies within the cap."""
    return RESULT_CAP // page_size - 1
