"""Auth0 subscription plans as data: rate limits, log retention, and whether user exports exist.

Figures from Auth0's published rate-limit policy and retention table (auth0-api.md sections 5,
7 and 8). Free keeps logs 1 day: the retention table lists 1 day for the entry plan (it calls it
Starter). Essentials and Professional publish only per-endpoint limits (reading logs, reading
users), so they get no tenant-wide bucket here: other endpoints are not limited. Private Cloud
tiers publish a Management API limit whose burst equals its rate (Basic "100 RPS": 50/s,
Performance "500 RPS": 250/s); other rates are the Emulator's rate_limit and burst arguments.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bucket:
    rate: float  # tokens added per second
    burst: int  # bucket size


@dataclass(frozen=True)
class Plan:
    name: str  # as Auth0 writes it in messages, e.g. "Free"
    tenant: Bucket | None  # every Management API request
    logs: Bucket | None  # reading logs: /api/v2/logs and /api/v2/users/{id}/logs
    users: Bucket | None  # reading users: /api/v2/users and /api/v2/users/{id}
    retention_days: float
    user_exports: bool  # POST /api/v2/jobs/users-exports is available

    def rate_limits(self) -> dict[str, float | int | None]:
        """The plan's buckets as RateLimiter keyword arguments."""
        limits: dict[str, float | int | None] = {}
        for prefix, bucket in (("", self.tenant), ("logs_", self.logs), ("users_", self.users)):
            limits[f"{prefix}rate"] = bucket.rate if bucket else None
            limits[f"{prefix}burst"] = bucket.burst if bucket else None
        return limits


_READ_LOGS = Bucket(rate=100 / 60, burst=10)
_READ_USERS = Bucket(rate=500 / 60, burst=40)

PLANS: dict[str, Plan] = {
    "free": Plan("Free", Bucket(2, 2), None, None, retention_days=1, user_exports=False),
    "essentials": Plan("Essentials", None, _READ_LOGS, _READ_USERS, 5, user_exports=True),
    "professional": Plan("Professional", None, _READ_LOGS, _READ_USERS, 10, user_exports=True),
    "enterprise": Plan("Enterprise", Bucket(16, 50), None, None, 30, user_exports=True),
    "private-cloud-basic": Plan(
        "Private Cloud Basic", Bucket(50, 50), None, None, 30, user_exports=True
    ),
    "private-cloud-performance": Plan(
        "Private Cloud Performance", Bucket(250, 250), None, None, 30, user_exports=True
    ),
}


def plan_named(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise ValueError(f"unknown plan {name!r}; expected one of {', '.join(PLANS)}") from None
