"""Auth0's dates: ISO-8601 with milliseconds in UTC (`2026-01-01T00:00:00.000Z`)."""

from __future__ import annotations

import datetime

# Auth0 writes every date as YYYY-MM-DDThh:mm:ss.sssZ, which sorts as text.
AUTH0_DATE_LENGTH = len("2026-01-01T00:00:00.000Z")


def parse_date(value: str) -> datetime.datetime:
    """An Auth0 ISO-8601 timestamp (`...Z`) as an aware datetime."""
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def is_later(date: str, than: str) -> bool:
    """Whether the timestamp `date` comes after `than`: as text when both are Auth0's format."""
    if len(date) == len(than) == AUTH0_DATE_LENGTH and date[-1] == than[-1] == "Z":
        return date > than
    return parse_date(date) > parse_date(than)


def auth0_date(moment: datetime.datetime) -> str:
    """`moment` in Auth0's own date format, which orders as text."""
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def utc_now() -> datetime.datetime:
    """The current time, aware, in UTC."""
    return datetime.datetime.now(datetime.timezone.utc)
